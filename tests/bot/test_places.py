"""bot.places against the real Kemendagri data: one index, built once into a temporary directory."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.places import Gazetteer, dotted
from dialogs.model import REGION_LEVELS, Place


@pytest.fixture(scope="module")
def gazetteer(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    return Gazetteer.open(tmp_path_factory.mktemp("places"))


def codes(place: Place) -> tuple[str | None, ...]:
    """(province, regency, district, village) codes, None for a level not known."""
    return tuple(None if (entry := place.region[level]) is None else entry["code"].replace(".", "")
                 for level in REGION_LEVELS)


# text -> the (province, regency, district, village) codes of every Place, best first
RESOLVED = [
    ("Jl. Merdeka 10, Kec. Coblong, Kota Bandung", [("32", "3273", "327302", None)]),
    ("desa Sukamaju kabupaten Garut", [("32", "3205", "320513", "3205132005"), ("32", "3205", "320519", "3205192014"), ("32", "3205", "320537", "3205372001")]),
    ("kel. Cihapit, Bandung Wetan, Kota Bandung", [("32", "3273", "327309", "3273091001")]),
    ("Kota Bandung", [("32", "3273", None, None)]),
    ("Bandung", [("32", "3204", None, None), ("32", "3273", None, None)]),
    ("Garut", [("32", "3205", None, None)]),
    ("desa Xyzabc, Kab. Garut", [("32", "3205", None, None)]),
    ("Jl. Merdeka No. 10, Bandung", [("32", "3204", None, None), ("32", "3273", None, None)]),
    ("KOTA BANDUNG", [("32", "3273", None, None)]),
    ("kab garut", [("32", "3205", None, None)]),
    ("Kab.Garut", [("32", "3205", None, None)]),
    ("kot. bandung", [("32", "3273", None, None)]),
    ("kec coblong kota bandung", [("32", "3273", "327302", None)]),
    ("Kabupaten Bandung Barat", [("32", "3217", None, None)]),
    ("Provinsi Jawa Barat", [("32", None, None, None)]),
    ("prov. jabar", [("32", None, None, None)]),
    ("desa sukamaju kec cilawu garut", [("32", "3205", "320519", "3205192014")]),
    ("Cibatu, Garut", [("32", "3205", "320512", None)]),
    ("Gambir, Jakarta", [("31", "3171", "317101", None)]),
    ("Kota Adm. Jakarta Pusat", [("31", "3171", None, None)]),
    ("Jakarta Pusat", [("31", "3171", None, None)]),
    ("RT 03/RW 05, Kel. Cihapit", [("32", "3273", "327309", "3273091001")]),
    ("kel/desa cihapit", [("32", "3273", "327309", "3273091001")]),
    ("Bandung 40132", [("32", "3204", None, None), ("32", "3273", None, None)]),
    ("di pasar, Garut", [("32", "3205", None, None)]),
    ("Buah Batu, Bandung", [("32", "3273", "327322", None)]),
    ("Kep. Seribu", [("31", "3101", None, None)]),
    ("desa Abadijaya", [("32", "3276", "327605", "3276051003"), ("74", "7413", "741306", "7413062004")]),
    # more Sukamaju villages in Jawa Barat than a choice can list: the province named around them
    ("desa Sukamaju, Jawa Barat", [("32", None, None, None)]),
]


@pytest.mark.parametrize(("text", "expected"), RESOLVED, ids=[text for text, _ in RESOLVED])
def test_find_text_resolves(gazetteer: Gazetteer, text: str, expected: list[tuple[str | None, ...]]) -> None:
    assert [codes(place) for place in gazetteer.find_text(text)] == expected


NOTHING = [
    "depan pasar",
    "rumah pak RT",
    "jalan rusak",
    "Jl. Merdeka 10",
    "jln sukajadi no 5",
    "gang mawar",
    "RT 03/RW 05",
    "depan SD Negeri 3",
    "lubang besar di jalan sudah sebulan",
    "pasar",  # a village name somewhere, but not a place on its own
    "Coblong",  # an unmarked district name counts only beside a regency, a province or a marked name
    "desa Sukamaju",  # 65 villages: too vague to ask
    "desa Xyzabc",
    "",
    " , ; ",
]


@pytest.mark.parametrize("text", NOTHING)
def test_find_text_recognises_nothing(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.find_text(text) == ()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("kel. Cihapit, Kota Bandung", "Cihapit, Kec. Bandung Wetan, Kota Bandung"),
        ("desa sukamaju kec cilawu garut", "Sukamaju, Kec. Cilawu, Kab. Garut"),
        ("Kec. Coblong, Kota Bandung", "Kec. Coblong, Kota Bandung"),
        ("Kota Bandung", "Kota Bandung, Jawa Barat"),
        ("Kabupaten Bandung Barat", "Kab. Bandung Barat, Jawa Barat"),
        ("Jawa Barat", "Jawa Barat"),
        ("Jakarta Pusat", "Kota Adm. Jakarta Pusat, DKI Jakarta"),
        ("Kepulauan Seribu", "Kab. Adm. Kepulauan Seribu, DKI Jakarta"),
    ],
)
def test_labels(gazetteer: Gazetteer, text: str, label: str) -> None:
    (place,) = gazetteer.find_text(text)
    assert place.label == label


def test_region_names_are_the_datas(gazetteer: Gazetteer) -> None:
    (place,) = gazetteer.find_text("kel. Cihapit, Bandung Wetan, Kota Bandung")
    assert place.region == {
        "province": {"code": "32", "name": "Jawa Barat"},
        "regency": {"code": "32.73", "name": "Kota Bandung"},
        "district": {"code": "32.73.09", "name": "Bandung Wetan"},
        "village": {"code": "32.73.09.1001", "name": "Cihapit"},
    }


def test_ambiguous_places_are_told_apart_by_their_labels(gazetteer: Gazetteer) -> None:
    places = gazetteer.find_text("desa Sukamaju kabupaten Garut")
    assert [place.label for place in places] == [
        "Sukamaju, Kec. Kersamanah, Kab. Garut",
        "Sukamaju, Kec. Cilawu, Kab. Garut",
        "Sukamaju, Kec. Talegong, Kab. Garut",
    ]
    assert all(place.region[level] is not None for place in places for level in REGION_LEVELS)


def test_more_candidates_than_the_limit_give_the_region_named_around_them(gazetteer: Gazetteer) -> None:
    assert [codes(place) for place in gazetteer.find_text("desa Sukamaju kabupaten Garut", limit=2)] == [
        ("32", "3205", None, None)
    ]
    assert gazetteer.find_text("Bandung", limit=1) == ()  # Kota and Kabupaten: nothing named around both


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (-6.8915, 107.6107, ("32", "3273", "327302", "3273021006")),  # ITB: Lebak Siliwangi, Kec. Coblong
        (-6.1754, 106.8272, ("31", "3171", "317101", "3171011001")),  # Monas: Gambir, Kec. Gambir
    ],
)
def test_find_point(gazetteer: Gazetteer, latitude: float, longitude: float, expected: tuple[str, ...]) -> None:
    place = gazetteer.find_point(latitude, longitude)
    assert place is not None
    assert codes(place) == expected


def test_find_point_label(gazetteer: Gazetteer) -> None:
    place = gazetteer.find_point(-6.1754, 106.8272)
    assert place is not None
    assert place.label == "Gambir, Kec. Gambir, Kota Adm. Jakarta Pusat"


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (-9.5, 100.0),  # the Indian Ocean: inside the bounding box, hundreds of km from any village
        (3.14, 101.69),  # Kuala Lumpur: inside the box too
        (-8.556, 125.578),  # Dili: 60 km from the nearest village centroid (on Alor)
        (0.0, 0.0),
        (-6.2, 200.0),
    ],
)
def test_find_point_outside_indonesia(gazetteer: Gazetteer, latitude: float, longitude: float) -> None:
    assert gazetteer.find_point(latitude, longitude) is None


def test_regions_lists_a_level_within_a_parent(gazetteer: Gazetteer) -> None:
    provinces = gazetteer.regions("province")
    assert len(provinces) == 38
    assert ("32", "Jawa Barat") in provinces
    assert provinces == sorted(provinces, key=lambda region: region[1])
    regencies = gazetteer.regions("regency", "32")
    assert len(regencies) == 27
    assert ("32.73", "Kota Bandung") in regencies
    assert [name for _, name in gazetteer.regions("village", "327309")][:2] == ["Cihapit", "Citarum"]
    with pytest.raises(ValueError, match="level must be one of"):
        gazetteer.regions("kabupaten")


def test_close_closes_this_threads_connection_only_until_the_next_lookup(gazetteer: Gazetteer) -> None:
    gazetteer.close()
    gazetteer.close()
    assert [place.label for place in gazetteer.find_text("Kota Bandung")] == ["Kota Bandung, Jawa Barat"]


def test_second_open_reuses_the_index(gazetteer: Gazetteer) -> None:
    before = gazetteer.path.stat().st_mtime_ns
    again = Gazetteer.open(gazetteer.path.parent)
    assert again.path == gazetteer.path
    assert again.path.stat().st_mtime_ns == before
    assert sorted(path.name for path in gazetteer.path.parent.iterdir()) == [gazetteer.path.name]  # no partial file


def test_open_removes_stale_indexes(gazetteer: Gazetteer) -> None:
    stale = gazetteer.path.parent / "regions-0123456789abcdef.sqlite"
    stale.write_bytes(b"an index of another version")
    Gazetteer.open(gazetteer.path.parent)
    assert not stale.exists()
    assert gazetteer.path.exists()


def test_a_file_that_is_no_index_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "regions-0123456789abcdef.sqlite"
    path.write_bytes(b"not a database at all, just some bytes" * 200)
    with pytest.raises(sqlite3.DatabaseError):
        Gazetteer(path)


def test_threads_get_the_same_answers(gazetteer: Gazetteer) -> None:
    texts = [text for text, _ in RESOLVED] + NOTHING
    expected = [gazetteer.find_text(text) for text in texts]
    start = threading.Barrier(8)
    answers: list[list[tuple[Place, ...]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            for _ in range(5):
                answers.append([gazetteer.find_text(text) for text in texts])
        except BaseException as error:  # reported below: an exception in a thread would pass unseen
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answers == [expected] * 40


def test_codes_are_written_as_kemendagri_writes_them() -> None:
    assert [dotted(code) for code in ("32", "3273", "327302", "3273021006")] == [
        "32", "32.73", "32.73.02", "32.73.02.1006"]


@pytest.mark.parametrize(("text", "labels"), [
    ("Gang Melati, Yogyakarta", ["Kota Yogyakarta, DI Yogyakarta"]),  # the city, not its province
    ("Jambi", ["Kota Jambi, Jambi"]),
    ("Gorontalo", ["Kab. Gorontalo, Gorontalo", "Kota Gorontalo, Gorontalo"]),  # still two places
])
def test_a_name_of_a_province_and_of_a_city_in_it_means_the_city(gazetteer: Gazetteer, text: str,
                                                                   labels: list[str]) -> None:
    assert [place.label for place in gazetteer.find_text(text)] == labels
