"""Who handles a report: agency rules by category and region, the categories' local agencies,
and the national fallback, as config.yaml says (bot.agencies), and the checks at start-up."""
from __future__ import annotations

import pytest
from tests_support import ROOT, make_settings

from bot.agencies import agency_for, region_code
from bot.config import ConfigError
from bot.settings import load_settings

JABAR = {"code": "32", "name": "Jawa Barat"}
KOTA_BANDUNG = {"province": JABAR, "regency": {"code": "32.73", "name": "Kota Bandung"},
                "district": {"code": "32.73.02", "name": "Coblong"}, "village": None}
GARUT = {"province": JABAR, "regency": {"code": "32.05", "name": "Kabupaten Garut"}, "district": None,
         "village": None}
JAKARTA = {"province": {"code": "31", "name": "DKI Jakarta"},
           "regency": {"code": "31.71", "name": "Kota Administrasi Jakarta Pusat"}, "district": None, "village": None}
ONLY_PROVINCE = {"province": JABAR, "regency": None, "district": None, "village": None}


@pytest.fixture(scope="module")
def settings():
    return make_settings("sqlite://")


@pytest.mark.parametrize(("category", "region", "agency"), [
    ("infrastructure", KOTA_BANDUNG, "Pemerintah Kota Bandung"),  # roads in a city: that city's government
    ("health", GARUT, "Dinas Kesehatan Kabupaten Garut"),
    ("education", KOTA_BANDUNG, "Dinas Pendidikan Kota Bandung"),
    ("infrastructure", JAKARTA, "Pemerintah Provinsi DKI Jakarta"),  # the rule for Jakarta wins
    ("health", JAKARTA, "Pemerintah Provinsi DKI Jakarta"),
    ("infrastructure", {}, "Kementerian Pekerjaan Umum dan Perumahan Rakyat"),  # no region: the national agency
    ("infrastructure", ONLY_PROVINCE, "Kementerian Pekerjaan Umum dan Perumahan Rakyat"),  # {regency} unknown
    ("other", {}, None),
    ("other", GARUT, "Pemerintah Kabupaten Garut"),
])
def test_the_default_config_routes_reports(settings, category, region, agency) -> None:
    assert agency_for(settings, category, region) == agency


def test_rules_apply_in_file_order_by_code_prefix_and_category(tmp_path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text() + """
  - {category: health, region: "32.73", agency: "Dinas Kesehatan Kota Bandung (khusus)"}
  - {category: infrastructure, region: "32", agency: "Dinas Bina Marga {province}"}
""", encoding="utf-8")
    settings = load_settings({"LAPOR_CONFIG": str(config), "LAPOR_DATA_KEY": "k", "LAPOR_SECRET_KEY": "s"})
    assert agency_for(settings, "health", KOTA_BANDUNG) == "Dinas Kesehatan Kota Bandung (khusus)"
    assert agency_for(settings, "health", GARUT) == "Dinas Kesehatan Kabupaten Garut"
    assert agency_for(settings, "infrastructure", GARUT) == "Dinas Bina Marga Jawa Barat"
    assert agency_for(settings, "education", GARUT) == "Dinas Pendidikan Kabupaten Garut"


@pytest.mark.parametrize(("rules", "message"), [
    ('  - {region: "3x", agency: "A"}', "agency_rules[0].region: expected a Kemendagri region code"),
    ('  - {region: "32"}', "agency_rules[0].agency: name the agency"),
    ('  - {category: roads, region: "32", agency: "A"}', "agency_rules[0].category: 'roads' is not one of"),
    ('  - {region: "32", agency: "Dinas {kota}"}', "agency_rules[0].agency: {kota} is not one of"),
    ('  - {region: "32", agency: "A", wilayah: "x"}', "agency_rules[0].wilayah: unknown key"),
])
def test_wrong_rules_stop_the_start_with_the_key(tmp_path, rules: str, message: str) -> None:
    config = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text()
    config.write_text(text[:text.index("agency_rules:")] + "agency_rules:\n" + rules + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("[", r"\[").replace("(", r"\(")):
        load_settings({"LAPOR_CONFIG": str(config), "LAPOR_DATA_KEY": "k", "LAPOR_SECRET_KEY": "s"})


def test_region_code_is_the_most_specific_without_dots() -> None:
    assert region_code(KOTA_BANDUNG) == "327302"
    assert region_code(ONLY_PROVINCE) == "32"
    assert region_code({}) == ""
