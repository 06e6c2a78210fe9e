"""A first message that holds the complaint: what dialogs.prefill reads from it (pure, with
the interpretation given as an interpreter would give it)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dialogs.loader import load_script
from dialogs.model import Inbound, Interpretation, MediaRef
from dialogs.prefill import detect_language, prefill

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"
SCRIPT = load_script(SCRIPT_PATH.read_text(encoding="utf-8"), str(SCRIPT_PATH), version=1)
NOW = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)  # Monday 20 May 2024, 10:00 in Jakarta
TODAY = date(2024, 5, 20)
REPORT = Interpretation("report", 0.9, "infrastructure", 0.8)


def read(text: str, meaning: Interpretation | None = REPORT, language: str = "id", **extra):
    return prefill(SCRIPT, Inbound(text, NOW, meaning=meaning, **extra), language, TODAY)


def test_the_whole_complaint_fills_type_title_description_place_and_date_and_proposes_the_category() -> None:
    filled = read("sy mau lapor, jln rusak parah bgt di desa sukamaju sejak 2 minggu lalu")
    assert filled is not None
    assert filled.answers["report_type"] == "complaint"
    assert filled.answers["title"] == "Jln rusak parah bgt" == filled.title
    assert filled.answers["description"] == "sy mau lapor, jln rusak parah bgt di desa sukamaju sejak 2 minggu lalu"
    assert filled.answers["location"]["text"] == "desa sukamaju"
    assert filled.answers["incident_date"] == "2024-05-06"
    assert filled.proposals == {"category": "infrastructure"}
    assert "category" not in filled.answers and "name" not in filled.answers
    assert filled.steps == ("report_type", "title", "description", "location", "incident_date")


@pytest.mark.parametrize(("text", "place"), [
    ("Lampu jalan mati di Jl. Merdeka No. 10, sudah seminggu gelap", "Jl. Merdeka No. 10"),
    ("Sampah menumpuk depan SD Negeri 3 Cibeunying yang bau sekali", "SD Negeri 3 Cibeunying"),
    ("The street light near the Kosambi market is broken", "Kosambi market"),
    ("Jalan berlubang di Bandung dan sudah ada korban jatuh", "Bandung"),
])
def test_a_place_after_di_depan_or_near_is_read_up_to_where_it_ends(text: str, place: str) -> None:
    assert read(text).answers["location"]["text"] == place


@pytest.mark.parametrize("text", [
    "bantuan PKH tidak cair padahal sudah terdaftar di DTKS sejak lama",  # an acronym is no place
    "sudah di laporkan berkali kali tapi jalan tetap rusak parah",  # "di" + a verb
    "jalan depan rumah saya rusak parah sekali tolong diperbaiki",  # "rumah saya" is too vague to skip asking
])
def test_no_place_is_guessed_from_words_that_name_none(text: str) -> None:
    assert "location" not in read(text).answers


@pytest.mark.parametrize(("text", "when"), [
    ("Jalan di desa kami rusak sejak kemarin, motor jatuh", "2024-05-19"),
    ("Listrik padam total 3 hari yang lalu dan belum menyala", "2024-05-17"),
    ("Kejadian tanggal 12/05/2024 di kantor kelurahan, petugas minta uang", "2024-05-12"),
])
def test_a_date_phrase_anywhere_is_read(text: str, when: str) -> None:
    assert read(text).answers["incident_date"] == when


def test_a_future_date_is_not_taken() -> None:
    assert "incident_date" not in read("Jalan akan ditutup besok tanpa pemberitahuan kepada warga").answers


@pytest.mark.parametrize(("text", "kind"), [
    ("Saya mau kasih saran supaya lampu jalan di gang kami ditambah", "aspiration"),
    ("mau tanya syarat bikin KTP baru itu apa saja ya min", "information_request"),
    ("Jalan rusak parah di depan pasar, banyak yang jatuh", "complaint"),
])
def test_the_report_type_is_the_one_the_message_names(text: str, kind: str) -> None:
    filled = read(text)
    assert filled.answers["report_type"] == kind
    if kind != "complaint":  # no "when did it happen" for an aspiration or a question
        assert "incident_date" not in filled.answers


def test_a_photo_sent_with_the_complaint_is_its_attachment() -> None:
    photo = MediaRef("https://example.test/p.jpg", "image/jpeg")
    filled = read("Jembatan kayu di dusun Krajan patah, anak sekolah terpaksa memutar jauh", media=(photo,))
    assert filled.answers["attachment"] == [{"url": photo.url, "content_type": "image/jpeg"}]


@pytest.mark.parametrize(("text", "meaning"), [
    ("halo", Interpretation("greet", 0.9)),
    ("sy mau lapor", REPORT),  # a report, but no description yet: the dialog asks for it
    ("Jalan rusak parah sekali di desa kami", None),  # no interpreter ran
    ("Puskesmas tutup padahal jam buka masih lama", Interpretation("help", 0.8)),
])
def test_a_message_that_describes_no_problem_fills_nothing(text: str, meaning: Interpretation | None) -> None:
    assert read(text, meaning) is None


def test_no_category_is_proposed_when_the_interpreter_has_none() -> None:
    assert read("Pelayanan di kantor kecamatan lambat sekali", Interpretation("report", 0.8)).proposals == {}


def test_the_language_of_a_first_message_is_recognised_only_when_clear() -> None:
    assert detect_language("The road in front of my house has been broken for a week", ("id", "en")) == "en"
    assert detect_language("Jalan di depan rumah saya sudah rusak seminggu", ("id", "en")) == "id"
    assert detect_language("halo", ("id", "en")) is None
    assert detect_language("The road in front of my house is broken", ("id",)) is None
