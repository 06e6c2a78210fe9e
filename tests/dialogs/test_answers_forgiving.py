"""Forgiving answers on the real default script: menu numbers in words, ambiguity, approximate
dates, "nothing to attach", yes/no with politeness, names and long texts, a readable summary."""
from __future__ import annotations

import dataclasses
import string
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.answers import parse_answer
from dialogs.answers.date_answer import period_of
from dialogs.answers.yes_no import meaning
from dialogs.display import SUMMARY_CUT_MARK, display_value, shorten
from dialogs.loader import load_script
from dialogs.model import AnswerType, Inbound, Interpretation, MediaRef, Parsed, Step
from dialogs.normalize import cut_at_word, normalize, strip_politeness

PATH = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"
SCRIPT = load_script(PATH.read_text(encoding="utf-8"), str(PATH), version=1)
TODAY = date(2024, 5, 20)  # a Monday
NOW = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)

REPORT_TYPE = SCRIPT.steps["report_type"]  # 1 complaint, 2 aspiration, 3 information_request
CATEGORY = SCRIPT.steps["category"]  # 1 infrastructure, 2 health, 3 education, ...
PRIVACY = SCRIPT.steps["privacy"]  # strict: 1 public, 2 anonymous, 3 confidential, 4 both
TITLE = SCRIPT.steps["title"]  # 5-150
DESCRIPTION = SCRIPT.steps["description"]  # 20-3000
NAME = SCRIPT.steps["name"]  # fills reporter_name
LOCATION = SCRIPT.steps["location"]
DATE = dataclasses.replace(SCRIPT.steps["incident_date"], optional=False)  # max 3650 days ago
OPTIONAL_DATE = dataclasses.replace(DATE, optional=True)
FUTURE_DATE = dataclasses.replace(DATE, allow_future=True)
MEDIA = dataclasses.replace(SCRIPT.steps["attachment"], optional=True)
REQUIRED_MEDIA = dataclasses.replace(MEDIA, optional=False)
YES_NO = Step(id="ok", type=AnswerType.YES_NO, prompt={"id": "Benar?", "en": "Right?"})


def parse(step: Step, text: str, language: str = "id", today: date = TODAY, **extra: Any) -> Parsed:
    return parse_answer(SCRIPT, step, Inbound(text=text, received_at=NOW, **extra), language, today)


def accepted(parsed: Parsed) -> Any:
    assert parsed.hint is None, parsed.hint
    return parsed.value


def hint(key: str, language: str = "id", **params: Any) -> str:
    return SCRIPT.text(key, language, **params)


def choice_hint(step: Step, language: str = "id") -> str:
    numbers = {"id": " atau ", "en": " or "}[language].join(
        [", ".join(str(o.number) for o in step.options[:-1]), str(step.options[-1].number)])
    return hint("hint_choice", language, numbers=numbers)


# ---------------------------------------------------------------------------- menus


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", "complaint"),
        ("1.", "complaint"),
        ("(1)", "complaint"),
        ("1)", "complaint"),
        ("satu", "complaint"),
        ("Satu", "complaint"),
        ("pertama", "complaint"),
        ("kesatu", "complaint"),
        ("yang pertama", "complaint"),
        ("one", "complaint"),
        ("first", "complaint"),
        ("the first one", "complaint"),
        ("1st", "complaint"),
        ("dua", "aspiration"),
        ("kedua", "aspiration"),
        ("yg kedua", "aspiration"),
        ("yang ke-2", "aspiration"),
        ("ke 2", "aspiration"),
        ("two", "aspiration"),
        ("second", "aspiration"),
        ("tiga", "information_request"),
        ("ketiga", "information_request"),
        ("three", "information_request"),
        ("third", "information_request"),
        ("yg 1", "complaint"),
        ("yang 2", "aspiration"),
        ("no 3", "information_request"),
        ("no. 3", "information_request"),
        ("nomor 2", "aspiration"),
        ("nomer 2", "aspiration"),
        ("pilih 2", "aspiration"),
        ("saya pilih nomor 2", "aspiration"),
        ("opsi 1", "complaint"),
        ("option 3", "information_request"),
        ("pilihan ketiga", "information_request"),
        ("2 pak", "aspiration"),
        ("2 aja", "aspiration"),
        ("yang 2 ya bu", "aspiration"),
        ("2 2", "aspiration"),
        ("1. Pengaduan", "complaint"),  # the menu line copied
        ("1 pengaduan", "complaint"),
        ("2 saran", "aspiration"),
        ("pengaduan pak", "complaint"),
        ("info", "information_request"),
        ("mau komplain", "complaint"),
        ("pengaduan", "complaint"),
        ("pengadaun", "complaint"),
    ],
)
def test_menu_numbers_words_and_ordinals(text: str, value: str) -> None:
    assert accepted(parse(REPORT_TYPE, text)) == value


@pytest.mark.parametrize(
    ("step", "text", "language", "expected"),
    [
        (REPORT_TYPE, "1 atau 3", "id", "Maksud Anda 1 atau 3? Balas satu nomor saja."),
        (REPORT_TYPE, "3 atau 1", "id", "Maksud Anda 1 atau 3? Balas satu nomor saja."),
        (REPORT_TYPE, "1 dan 2", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),
        (REPORT_TYPE, "1, 3", "id", "Maksud Anda 1 atau 3? Balas satu nomor saja."),
        (REPORT_TYPE, "1/3", "id", "Maksud Anda 1 atau 3? Balas satu nomor saja."),
        (REPORT_TYPE, "nomor 1 atau nomor 2", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),
        (REPORT_TYPE, "satu atau dua", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),
        (REPORT_TYPE, "1 2 3", "id", "Maksud Anda 1, 2 atau 3? Balas satu nomor saja."),
        (REPORT_TYPE, "1 aspirasi", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),  # number and label disagree
        (REPORT_TYPE, "pengaduan atau saran", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),
        (REPORT_TYPE, "1 or 3", "en", "Did you mean 1 or 3? Reply with one number."),
        (CATEGORY, "sekolah dan puskesmas", "id", "Maksud Anda 2 atau 3? Balas satu nomor saja."),
        (PRIVACY, "1 atau 2", "id", "Maksud Anda 1 atau 2? Balas satu nomor saja."),
    ],
)
def test_ambiguous_menu_answers_name_the_candidates(step: Step, text: str, language: str, expected: str) -> None:
    assert parse(step, text, language).hint == expected


@pytest.mark.parametrize(
    ("step", "text"),
    [
        (REPORT_TYPE, "4"),
        (REPORT_TYPE, "empat"),
        (REPORT_TYPE, "keempat"),
        (REPORT_TYPE, "1 atau 9"),  # one of the two is no option
        (REPORT_TYPE, "2 tolong"),  # a number with words that name nothing is not guessed
        (REPORT_TYPE, "nomor"),
        (PRIVACY, "anonm"),  # strict: no typos
        (PRIVACY, "saya mau anonim"),  # strict: no phrases
        (PRIVACY, "ya"),
    ],
)
def test_menu_answers_not_taken(step: Step, text: str) -> None:
    assert parse(step, text).hint == choice_hint(step)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", "anonymous"),
        ("dua", "anonymous"),
        ("kedua", "anonymous"),
        ("yang ketiga", "confidential"),
        ("nomor 4", "anonymous_confidential"),
        ("anonim ya", "anonymous"),
        ("anonim pak", "anonymous"),
        ("2. Anonim: nama disembunyikan", "anonymous"),
        ("Anonim dan rahasia", "anonymous_confidential"),  # the longer phrase, not "anonim" and "rahasia"
    ],
)
def test_strict_menus_take_number_words_and_exact_labels(text: str, value: str) -> None:
    assert accepted(parse(PRIVACY, text)) == value


HEALTH = Interpretation(intent="report", intent_confidence=0.9, category="health", category_confidence=0.8)


@pytest.mark.parametrize(
    ("step", "text", "meaning_", "expected"),
    [
        (CATEGORY, "anak saya sakit tidak dilayani", HEALTH, "health"),  # nothing matched: the interpretation
        (CATEGORY, "jalan rusak", HEALTH, "infrastructure"),  # a word of an option wins
        (CATEGORY, "2", Interpretation(category="education", category_confidence=0.9), "health"),
        (CATEGORY, "bingung", Interpretation(category="no_such_category", category_confidence=0.9), None),
        (CATEGORY, "bingung", Interpretation(category="health", category_confidence=0.0), None),
        (CATEGORY, "bingung", Interpretation(), None),
        (CATEGORY, "bingung", None, None),
        (REPORT_TYPE, "bingung", Interpretation(category="complaint", category_confidence=0.9), None),  # not category
    ],
)
def test_a_confident_interpretation_picks_the_category(step: Step, text: str, meaning_: Interpretation | None,
                                                       expected: str | None) -> None:
    parsed = parse(step, text, meaning=meaning_)
    assert (parsed.value, parsed.hint) == ((expected, None) if expected else (None, choice_hint(step)))


def test_ambiguity_is_never_settled_by_the_interpretation() -> None:
    parsed = parse(CATEGORY, "sekolah dan puskesmas", meaning=HEALTH)
    assert parsed.hint == "Maksud Anda 2 atau 3? Balas satu nomor saja."


# ---------------------------------------------------------------------------- dates

@pytest.mark.parametrize(
    ("text", "value"),
    [
        # weekdays: the last one up to today (today is a Monday); "lalu"/"kemarin": before today
        ("senin", "2024-05-20"),
        ("hari senin", "2024-05-20"),
        ("senin kemarin", "2024-05-13"),
        ("senin lalu", "2024-05-13"),
        ("minggu", "2024-05-19"),
        ("hari minggu", "2024-05-19"),
        ("hari minggu kemarin", "2024-05-19"),
        ("selasa lalu", "2024-05-14"),
        ("rabu", "2024-05-15"),
        ("kamis kemarin", "2024-05-16"),
        ("jumat", "2024-05-17"),
        ("Jum'at", "2024-05-17"),
        ("sabtu", "2024-05-18"),
        ("sabtu minggu lalu", "2024-05-18"),
        ("senin minggu lalu", "2024-05-13"),
        ("monday", "2024-05-20"),
        ("last monday", "2024-05-13"),
        ("last friday", "2024-05-17"),
        ("on tuesday", "2024-05-14"),
        ("senin pagi", "2024-05-20"),
        # days
        ("kmrn", "2024-05-19"),
        ("kemaren", "2024-05-19"),
        ("kemarin", "2024-05-19"),
        ("kmarin", "2024-05-19"),
        ("hr ini", "2024-05-20"),
        ("hari ini", "2024-05-20"),
        ("td pagi", "2024-05-20"),
        ("tadi pagi", "2024-05-20"),
        ("tadi siang", "2024-05-20"),
        ("tadi malam", "2024-05-19"),
        ("semalam", "2024-05-19"),
        ("kemarin sore", "2024-05-19"),
        ("kemarin malam", "2024-05-19"),
        ("kemarin jam 3 sore", "2024-05-19"),
        ("lusa kemarin", "2024-05-18"),
        ("kemarin lusa", "2024-05-18"),
        ("minggu lalu", "2024-05-13"),
        ("minggu kemarin", "2024-05-13"),
        ("2 hari kemarin", "2024-05-18"),
        ("kemarin pak", "2024-05-19"),
        ("kemarin, bu", "2024-05-19"),
        ("sekitar 3 hari lalu", "2024-05-17"),
        ("kira-kira seminggu lalu", "2024-05-13"),
        ("12 mei pak", "2024-05-12"),
        # months
        ("bulan lalu", "2024-04"),
        ("bulan kemarin", "2024-04"),
        ("sebulan lalu", "2024-04"),
        ("last month", "2024-04"),
        ("3 bulan yang lalu", "2024-02"),
        ("2 bln lalu", "2024-03"),
        ("tiga bulan lalu", "2024-02"),
        ("6 months ago", "2023-11"),
        ("Mei 2024", "2024-05"),
        ("mei 24", "2024-05"),
        ("bulan mei 2024", "2024-05"),
        ("Agustus 2023", "2023-08"),
        ("agt 23", "2023-08"),
        ("05/2024", "2024-05"),
        ("5/2024", "2024-05"),
        ("2024-05", "2024-05"),
        ("mei", "2024-05"),
        ("bulan mei", "2024-05"),
        ("juni", "2023-06"),  # June of this year is still ahead
        ("sekitar bulan maret", "2024-03"),
        ("awal bulan lalu", "2024-04"),
        # years
        ("tahun lalu", "2023"),
        ("last year", "2023"),
        ("2 tahun lalu", "2022"),
        ("2023", "2023"),
        ("tahun 2023", "2023"),
        ("thn 23", "2023"),
        ("awal 2023", "2023"),
        ("tahun ini", "2024"),
        # what worked before
        ("12/05/2024", "2024-05-12"),
        ("12 Mei 2024", "2024-05-12"),
        ("3 hari lalu", "2024-05-17"),
        ("May 12, 2024", "2024-05-12"),
        ("may 12", "2024-05-12"),  # an English month name: month and day
    ],
)
def test_dates_exact_and_approximate(text: str, value: str) -> None:
    assert accepted(parse(DATE, text)) == value


def test_month_and_two_digits_in_english_is_a_day() -> None:
    assert accepted(parse(DATE, "april 20", "en")) == "2024-04-20"
    assert accepted(parse(DATE, "april 20", "id")) == "2020-04"  # Indonesian: April 2020


@pytest.mark.parametrize(
    "text",
    ["besok", "bsk", "lusa", "minggu depan", "bulan depan", "tahun depan", "tomorrow", "next week", "3 hari lagi",
     "2025", "Juni 2024", "06/2024", "21/05/2024"],
)  # fmt: skip
def test_the_future_has_not_happened_yet(text: str) -> None:
    assert parse(DATE, text).hint == hint("hint_date_future")


@pytest.mark.parametrize(("text", "value"), [("besok", "2024-05-21"), ("lusa", "2024-05-22"),
                                             ("bulan depan", "2024-06"), ("tahun depan", "2025")])
def test_the_future_where_allowed(text: str, value: str) -> None:
    assert accepted(parse(FUTURE_DATE, text)) == value


@pytest.mark.parametrize(("text", "key"), [("2013", "hint_date_too_old"), ("Mei 2014", None),
                                           ("11 tahun lalu", "hint_date_too_old"), ("1899", "hint_date"),
                                           ("besok lusa", "hint_date"), ("beberapa waktu", "hint_date")])
def test_old_and_unknown_periods(text: str, key: str | None) -> None:
    parsed = parse(DATE, text)
    if key is None:
        assert accepted(parsed) == "2014-05"  # its last day is within the 3650 days
    else:
        assert parsed.hint == hint(key, days=3650)


DONT_KNOW = ["tidak tahu", "tdk tahu", "gak tau", "ga tau", "gatau", "nggak tahu", "lupa", "saya lupa", "entah",
             "don't know", "dont know", "not sure", "gak tau pak", "tidak ingat", "lupa tanggalnya", "i forgot",
             "kurang tahu bu"]  # fmt: skip


@pytest.mark.parametrize("text", DONT_KNOW)
def test_not_knowing_skips_an_optional_date(text: str) -> None:
    assert parse(OPTIONAL_DATE, text) == Parsed(value=None)


@pytest.mark.parametrize("text", DONT_KNOW)
def test_not_knowing_asks_for_an_estimate_on_a_required_date(text: str) -> None:
    assert parse(DATE, text).hint == "Tidak apa-apa, perkiraan saja: misalnya bulan lalu, Mei 2024, atau 2023."


def test_estimate_hint_in_english() -> None:
    assert parse(DATE, "no idea", "en").hint == "That is fine, an estimate will do: for example last month, May 2024 or 2023."


@pytest.mark.parametrize(
    ("value", "language", "shown"),
    [("2024-05", "id", "Mei 2024"), ("2024-05", "en", "May 2024"), ("2023-12", "id", "Desember 2023"),
     ("2023", "id", "2023"), ("2023", "en", "2023"), ("2024-05-12", "id", "12 Mei 2024"), ("2024-13", "id", "2024-13")],
)  # fmt: skip
def test_month_and_year_precision_in_the_summary(value: str, language: str, shown: str) -> None:
    assert display_value(SCRIPT, DATE, value, language) == shown


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [("2024-05-12", date(2024, 5, 12), date(2024, 5, 12)), ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
     ("2023", date(2023, 1, 1), date(2023, 12, 31))],
)  # fmt: skip
def test_period_of_a_stored_date(value: str, first: date, last: date) -> None:
    found = period_of(value)
    assert found is not None and (found.first, found.last, found.value) == (first, last, value)


@pytest.mark.parametrize("value", ["", "2024-13", "2024-02-30", "abcd", "24-05", "12/05/2024"])
def test_period_of_refuses_other_text(value: str) -> None:
    assert period_of(value) is None


# ---------------------------------------------------------------------------- nothing to attach

NO_ATTACHMENT = [
    "gk ada", "ga ada", "gak ada", "nggak ada", "ngga ada", "ngga", "tdk ada", "tidak ada", "gada", "gaada",
    "belum ada", "blm ada", "tidak punya", "gak punya", "ndak ada", "nda ada", "tidak ada pak", "tidak ada bu",
    "gak ada mas", "Gak ada mbak", "ga ada kak", "gak ada bang", "ga ada gan", "gak ada min", "tidak ada, dik",
    "kosong", "skip", "lewati", "LEWATI", "lewati saja", "skip aja", "no", "none", "nothing", "no photo",
    "no photos", "tidak ada foto", "belum ada foto pak", "gak ada bukti", "tidak ada dokumen", "gak ada kok",
    "ga ada sih", "tidak ada deh", "gak ada dong", "nggak ada ya", "ga ada nih", "tidak ada terima kasih",
    "saya tidak punya foto", "tanpa foto", "gak ada apa apa", "Tidak ada.", "gak ada 🙏", "-", "n/a",
    "i don't have any photo",
]  # fmt: skip


@pytest.mark.parametrize("text", NO_ATTACHMENT)
def test_optional_media_takes_no_attachment(text: str) -> None:
    assert accepted(parse(MEDIA, text)) == []


@pytest.mark.parametrize(("step", "text"), [(REQUIRED_MEDIA, "gak ada"), (REQUIRED_MEDIA, "tidak ada pak"),
                                            (MEDIA, "foto"), (MEDIA, "ada"), (MEDIA, "ada foto"),
                                            (MEDIA, "nanti saya kirim"), (MEDIA, "pak")])
def test_media_still_asks(step: Step, text: str) -> None:
    assert parse(step, text).hint == hint("hint_media")


def test_media_sent_wins_over_words() -> None:
    assert accepted(parse(MEDIA, "gak ada", media=(MediaRef("https://x/1.jpg", "image/jpeg"),))) == [
        {"url": "https://x/1.jpg", "content_type": "image/jpeg"}]


@pytest.mark.parametrize("step", [dataclasses.replace(TITLE, optional=True), dataclasses.replace(LOCATION, optional=True),
                                  OPTIONAL_DATE])
@pytest.mark.parametrize("text", ["gak ada mas", "tidak ada pak", "skip aja", "lewati saja ya", "belum ada", "gada"])
def test_optional_steps_skip_with_politeness(step: Step, text: str) -> None:
    assert parse(step, text) == Parsed(value=None)


# ---------------------------------------------------------------------------- yes / no

YES = ["ya", "iya", "iyaa", "iyaaa", "y", "yes", "yup", "betul", "benar", "bener", "sudah benar", "sdh benar",
       "udah bener", "siap", "sip", "sipp", "oke", "ok", "okay", "okey", "lanjut", "lanjutkan", "setuju", "boleh",
       "mantap", "correct", "right", "sure", "go on", "iya pak", "sudah benar bu", "sip deh", "ok mas", "ya, betul",
       "oke deh kak", "Iya Bu.", "benar sekali", "udah oke", "sudah sesuai", "yes please", "betul min"]  # fmt: skip
NO = ["tidak", "tdk", "gak", "ga", "nggak", "enggak", "no", "nope", "bukan", "salah", "belum", "jangan", "tidak pak",
      "gak kok", "belum bu", "bukan itu", "masih salah", "tidak benar", "ga mas", "no thanks", "jangan dulu"]  # fmt: skip
NEITHER = ["mungkin", "ya tidak", "tidak, benar", "yes no", "lewati", "pak", "👍", "maybe", "sudah", ""]


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert accepted(parse(YES_NO, text)) is True
    assert meaning(normalize(text)) is True


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert accepted(parse(YES_NO, text)) is False
    assert meaning(normalize(text)) is False


@pytest.mark.parametrize("text", NEITHER)
def test_neither_yes_nor_no(text: str) -> None:
    assert meaning(normalize(text)) is None


def test_digits_are_yes_no_only_at_a_yes_no_step() -> None:
    assert accepted(parse(YES_NO, "1")) is True and accepted(parse(YES_NO, "2")) is False
    assert meaning("1") is None and meaning("2") is None  # in the summary they pick a line to change


# ---------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("step", "text", "letters"),
    [(TITLE, "12345", 0), (TITLE, "a.b.c.d", 4), (TITLE, "😀😀😀😀😀😀", 0), (TITLE, "!!!!!!!!", 0),
     (TITLE, "ab 12 cd", 4), (DESCRIPTION, "jalan rusak 1234567890 !!!!!", 10)],
)  # fmt: skip
def test_min_length_counts_letters(step: Step, text: str, letters: int) -> None:
    assert parse(step, text).hint == hint("hint_text_short", min=step.min_length, length=letters)


@pytest.mark.parametrize("text", ["Jalan", "RT 01 banjir", "Lampu mati 💡", "Ёлка ёлка!"])
def test_enough_letters(text: str) -> None:
    assert accepted(parse(TITLE, text)) == text


@pytest.mark.parametrize("text", ["08123456789", "0812 3456 7890", "+62 812-3456-7890", "12345", "!!!", "😀😀",
                                  "...", "Budi 081234567890", "3201234567890001"])
def test_a_name_needs_letters_and_no_phone_number(text: str) -> None:
    assert parse(NAME, text).hint == "Mohon tulis nama Anda dengan huruf, misalnya: Budi Santoso."


def test_name_hint_in_english() -> None:
    assert parse(NAME, "0812345678", "en").hint == "Please write your name in letters, for example: Budi Santoso."


@pytest.mark.parametrize("text", ["Budi", "Siti Nurhaliza", "Pak RT 03", "I Made Wirawan", "Nyoman 😀", "Ñoño"])
def test_names_accepted(text: str) -> None:
    assert accepted(parse(NAME, text)) == text


def test_a_long_text_is_kept_cut_at_a_word_with_a_notice() -> None:
    text = " ".join(["kata"] * 30 + ["panjangsekali"] * 300)  # > 3000 characters
    parsed = parse(DESCRIPTION, text)
    kept = accepted(parsed)
    assert len(kept) <= DESCRIPTION.max_length and text.startswith(kept) and text[len(kept)] == " "
    assert parsed.notice == f"Jawaban Anda panjang: kami simpan {len(kept)} huruf pertama."
    english = parse(DESCRIPTION, text, "en")
    assert english.notice == f"Your answer was long: we kept the first {len(kept)} characters."


def test_a_long_title_is_kept_too() -> None:
    text = "Jalan berlubang di depan sekolah " * 10
    kept = accepted(parse(TITLE, text))
    assert kept == cut_at_word(text.strip(), 150) and len(kept) <= 150 and not kept.endswith(" ")


def test_a_text_within_its_limit_has_no_notice() -> None:
    assert parse(TITLE, "Jalan rusak").notice == ""


# ---------------------------------------------------------------------------- summary


@pytest.mark.parametrize(
    ("step", "value", "shown"),
    [
        (TITLE, "Jalan berlubang di Jl. Merdeka", "Jalan berlubang di Jl. Merdeka"),
        (TITLE, "Jalan di depan sekolah rusak parah sejak Januari", "Jalan di depan sekolah rusak parah ..."),
        (DESCRIPTION, "Lubang besar di depan SD Negeri 3 sudah sebulan, dua motor jatuh minggu ini. Mohon segera diperbaiki.",
         "Lubang besar di depan SD Negeri 3 sudah sebulan, dua motor jatuh minggu ini ..."),
        (LOCATION, {"text": "Jl. Merdeka No. 10, Kelurahan Sukamaju, Kecamatan Cibeunying, Bandung",
                    "latitude": None, "longitude": None}, "Jl. Merdeka No. 10, Kelurahan ..."),
        (NAME, "Budi Santoso", "Budi Santoso"),
    ],
)
def test_summary_values_are_cut_at_a_word(step: Step, value: Any, shown: str) -> None:
    assert display_value(SCRIPT, step, value, "id") == shown


@settings(max_examples=200, deadline=None)
@given(st.text(string.ascii_letters + "   ,.", max_size=300), st.integers(5, 120))
def test_shorten_never_cuts_mid_word(text: str, limit: int) -> None:
    shown = shorten(text, limit)
    flat = " ".join(text.split())
    assert len(shown) <= limit
    if shown == flat:
        return
    assert shown.endswith(SUMMARY_CUT_MARK)
    kept = shown[: -len(SUMMARY_CUT_MARK)]
    room = max(limit - len(SUMMARY_CUT_MARK), 1)
    assert flat.startswith(kept)
    no_boundary = " " not in flat[room // 2 : room + 1]  # then (only then) a word may be cut
    assert not flat[len(kept) : len(kept) + 1].isalpha() or no_boundary


# ---------------------------------------------------------------------------- politeness


@pytest.mark.parametrize(
    ("text", "bare"),
    [("iya pak", "iya"), ("tidak ada, bu!", "tidak ada"), ("pak, 2 aja ya", "2"), ("ya", "ya"), ("pak", "pak"),
     ("kemarin 🙏", "kemarin"), ("sip deh", "sip"), ("gak ada terima kasih", "gak ada"), ("ok ya pak", "ok"),
     ("12/05/2024 pak", "12/05/2024"), ("ya ya", "ya"), ("mas budi", "budi")],
)  # fmt: skip
def test_strip_politeness(text: str, bare: str) -> None:
    assert strip_politeness(normalize(text)) == bare


# ---------------------------------------------------------------------------- never raises

REAL_STEPS = [s for s in SCRIPT.steps.values() if s.type not in (AnswerType.CONFIRM, AnswerType.MESSAGE)]
REAL_STEPS += [DATE, OPTIONAL_DATE, FUTURE_DATE, MEDIA, REQUIRED_MEDIA, YES_NO]
WORDS = st.sampled_from(["ya", "pak", "gak", "ada", "1", "atau", "3", "yang", "kedua", "senin", "lalu", "bulan",
                         "mei", "2024", "tidak", "tahu", "kemarin", "sore", "jam", "-", ",", "😀", "x" * 50])  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL_STEPS), st.one_of(st.lists(WORDS, max_size=8).map(" ".join), st.text(max_size=300)),
       st.sampled_from(["id", "en"]), st.none() | st.builds(Interpretation, category=st.sampled_from(["health", "x"]),
                                                           category_confidence=st.floats(0, 1)))
def test_real_steps_never_raise(step: Step, text: str, language: str, meaning_: Interpretation | None) -> None:
    parsed = parse(step, text, language, meaning=meaning_)
    assert parsed.hint is None or parsed.hint
    if parsed.hint is None and parsed.value is not None:
        display_value(SCRIPT, step, parsed.value, language)
