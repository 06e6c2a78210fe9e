"""Answer parsers: every answer type's tricky inputs, in both languages, and never crashing."""
from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.answers import parse_answer
from dialogs.answers.choice import osa_distance
from dialogs.display import display_value, option_menu
from dialogs.i18n import BUILTIN_MESSAGES
from dialogs.model import AnswerType, GeoPoint, Inbound, MediaRef, Option, Parsed, Script, Step
from dialogs.normalize import clean_text, normalize

TODAY = date(2024, 5, 20)
NOW = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------- builders


def option(number: int, value: str, label_id: str, label_en: str, syn_id: tuple[str, ...] = (), syn_en: tuple[str, ...] = (), **sets: Any) -> Option:
    return Option(number=number, value=value, label={"id": label_id, "en": label_en}, synonyms={"id": syn_id, "en": syn_en}, sets=sets)


def make_step(kind: AnswerType, **fields: Any) -> Step:
    return Step(id=fields.pop("id", kind.value), type=kind, prompt={"id": "Pertanyaan?", "en": "Question?"}, **fields)


SCRIPT = Script(
    id="test",
    version=1,
    languages=("id", "en"),
    default_language="id",
    steps={},
    order=(),
    start="",
    messages=BUILTIN_MESSAGES,
    commands={},
    command_words={},
)

REPORT_TYPE = make_step(
    AnswerType.CHOICE,
    options=(
        option(1, "complaint", "Pengaduan", "Complaint", ("aduan", "keluhan"), ("complain",)),
        option(2, "aspiration", "Aspirasi", "Aspiration", ("saran",), ("suggestion",)),
        option(3, "information_request", "Permintaan informasi", "Information request", ("informasi", "info"), ("information",)),
    ),
)
# Numbers need not be 1..n; "pasar" and "pajak" are one typo apart from "pasak".
CATEGORY = make_step(
    AnswerType.CHOICE,
    options=(
        option(1, "health", "Kesehatan", "Health", ("puskesmas",), ("hospital",)),
        option(2, "education", "Pendidikan", "Education", ("sekolah",), ("school",)),
        option(5, "market", "Pasar", "Market"),
        option(9, "tax", "Pajak", "Tax", ("ktp",)),
    ),
)
PRIVACY = make_step(
    AnswerType.CHOICE,
    strict=True,
    options=(
        option(1, "public", "Biasa: nama dan isi terbuka", "Public: name and report shown", ("biasa",), ("public",), anonymous=False, confidential=False),
        option(2, "anonymous", "Anonim: nama disembunyikan", "Anonymous: name hidden", ("anonim",), ("anonymous",), anonymous=True, confidential=False),
        option(3, "confidential", "Rahasia", "Confidential", ("rahasia",), ("confidential",), anonymous=False, confidential=True),
        option(4, "both", "Anonim dan rahasia", "Anonymous and confidential", ("keduanya",), ("both",), anonymous=True, confidential=True),
    ),
)
SHARED_WORD = make_step(
    AnswerType.CHOICE,
    options=(option(1, "a", "Satu", "One", ("lain",)), option(2, "b", "Dua", "Two", ("lain",))),
)


def parse(step: Step, text: str, language: str = "id", today: date = TODAY, **extra: Any) -> Parsed:
    return parse_answer(SCRIPT, step, Inbound(text=text, received_at=NOW, **extra), language, today)


def hint(key: str, language: str = "id", **params: Any) -> str:
    return SCRIPT.text(key, language, **params)


def accepted(parsed: Parsed) -> Any:
    assert parsed.hint is None, parsed.hint
    return parsed.value


# ---------------------------------------------------------------------------- normalize, clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ya!! ", "ya"),
        ("PENDÍDIKAN", "pendidikan"),
        ("Pende\u0301kan", "pendekan"),
        ("a\x00b", "ab"),
        ("  two   words\t\n", "two words"),
        ('"2".', "2"),
        ("\u00bfok?", "ok"),
        ("\u201cya\u201d", "ya"),
        ("Ｙａ", "ya"),
        ("Straße", "strasse"),
        ("\u200bya\u200b", "ya"),
        ("ya\u2028betul", "ya betul"),
        ("-", "-"),
        ("1.000", "1.000"),
        ("...", ""),
        ("", ""),
        ("😀 ya 😀", "😀 ya 😀"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello   world  ", "hello world"),
        ("a\x00b", "ab"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("a \t b", "a b"),
        ("a  \n  b", "a\nb"),
        ("e\u0301", "\u00e9"),
        ("x\u202ey", "xy"),
        ("bad\ud800", "bad"),
        ("\x07bell\x1b", "bell"),
        ("Lampu mati 💡", "Lampu mati 💡"),
        ("\n\n  \n", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# ---------------------------------------------------------------------------- choice


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", "complaint"),
        ("2.", "aspiration"),
        ("no 2", "aspiration"),
        ("nomor 2", "aspiration"),
        ("no. 2", "aspiration"),
        ("pilihan 2", "aspiration"),
        ("#2", "aspiration"),
        ("2)", "aspiration"),
        ("(3)", "information_request"),
        ("  3  ", "information_request"),
        ("2 👍", "aspiration"),
        ("Pengaduan", "complaint"),
        ("PENGADUAN!!", "complaint"),
        ("Pengadúan", "complaint"),
        ("keluhan", "complaint"),
        ("Permintaan   Informasi", "information_request"),
        ("Aspiration", "aspiration"),  # an English label while the dialog is in Indonesian
        ("suggestion", "aspiration"),
        ("saya mau pengaduan", "complaint"),  # whole-phrase containment
        ("I would like to make a complaint", "complaint"),
        ("pengadauan", "complaint"),  # insertion
        ("pengduan", "complaint"),  # deletion
        ("pengaudan", "complaint"),  # transposition
        ("compalint", "complaint"),
        ("pngaduen", "complaint"),  # two typos in a word of 8+ letters
        ("aspirsai", "aspiration"),
        ("informasii", "information_request"),
    ],
)
def test_choice_accepts(text: str, value: str) -> None:
    assert accepted(parse(REPORT_TYPE, text)) == value


@pytest.mark.parametrize(
    ("step", "text", "key", "numbers"),
    [
        (REPORT_TYPE, "4", "hint_choice", "1, 2 atau 3"),
        (REPORT_TYPE, "0", "hint_choice", "1, 2 atau 3"),
        (REPORT_TYPE, "99999999", "hint_choice", "1, 2 atau 3"),
        (REPORT_TYPE, "mungkin", "hint_choice", "1, 2 atau 3"),
        (REPORT_TYPE, "kluhen", "hint_choice", "1, 2 atau 3"),  # two typos in a 7-letter word
        (REPORT_TYPE, "x" * 200, "hint_choice", "1, 2 atau 3"),
        (CATEGORY, "3", "hint_choice", "1, 2, 5 atau 9"),
        (CATEGORY, "kpt", "hint_choice", "1, 2, 5 atau 9"),  # no typos for words under 4 letters
        (PRIVACY, "anonm", "hint_choice", "1, 2, 3 atau 4"),  # strict: typos are never guessed
        (PRIVACY, "saya mau anonim", "hint_choice", "1, 2, 3 atau 4"),  # strict: no containment
        (PRIVACY, "ya", "hint_choice", "1, 2, 3 atau 4"),
    ],
)
def test_choice_rejects(step: Step, text: str, key: str, numbers: str) -> None:
    assert parse(step, text).hint == hint(key, numbers=numbers)


@pytest.mark.parametrize(
    ("step", "text", "candidates"),
    [
        (REPORT_TYPE, "pengaduan dan saran", "1 atau 2"),
        (CATEGORY, "pasak", "5 atau 9"),  # one typo from two options
        (SHARED_WORD, "lain", "1 atau 2"),
    ],
)
def test_ambiguous_choice_names_the_candidates(step: Step, text: str, candidates: str) -> None:
    assert parse(step, text).hint == f"Maksud Anda {candidates}? Balas satu nomor saja."


def test_choice_hints_in_english() -> None:
    assert parse(REPORT_TYPE, "7", "en").hint == "Sorry, I did not recognise that. Reply with a number: 1, 2 or 3."
    assert parse(CATEGORY, "pasak", "en").hint == "Did you mean 5 or 9? Reply with one number."


def test_choice_with_explicit_numbers() -> None:
    assert accepted(parse(CATEGORY, "5")) == "market"
    assert accepted(parse(CATEGORY, "nomor 9")) == "tax"
    assert accepted(parse(CATEGORY, "pasar")) == "market"
    assert accepted(parse(CATEGORY, "sekolh")) == "education"
    assert option_menu(CATEGORY, "en") == [(1, "Health"), (2, "Education"), (5, "Market"), (9, "Tax")]
    assert option_menu(REPORT_TYPE, "id") == [(1, "Pengaduan"), (2, "Aspirasi"), (3, "Permintaan informasi")]


@pytest.mark.parametrize(
    ("text", "value", "sets"),
    [
        ("1", "public", {"anonymous": False, "confidential": False}),
        ("anonim", "anonymous", {"anonymous": True, "confidential": False}),
        ("Anonymous", "anonymous", {"anonymous": True, "confidential": False}),
        ("Anonim: nama disembunyikan", "anonymous", {"anonymous": True, "confidential": False}),
        ("anonim nama disembunyikan", "anonymous", {"anonymous": True, "confidential": False}),
        ("Anonim dan rahasia", "both", {"anonymous": True, "confidential": True}),
        ("#4", "both", {"anonymous": True, "confidential": True}),
    ],
)
def test_strict_choice_takes_numbers_labels_and_synonyms(text: str, value: str, sets: dict[str, bool]) -> None:
    parsed = parse(PRIVACY, text)
    assert (parsed.value, dict(parsed.sets), parsed.hint) == (value, sets, None)


def test_choice_sets_are_a_copy() -> None:
    parsed = parse(PRIVACY, "2")
    assert parsed.sets == PRIVACY.options[1].sets and parsed.sets is not PRIVACY.options[1].sets


def test_choice_optional_does_not_skip() -> None:
    step = make_step(AnswerType.CHOICE, optional=True, options=REPORT_TYPE.options)
    assert parse(step, "lewati").hint == hint("hint_choice", numbers="1, 2 atau 3")


def test_empty_choice_answer_says_it_was_empty() -> None:
    assert parse(REPORT_TYPE, "  \x00 ").hint == hint("hint_empty", question_hint=hint("hint_choice", numbers="1, 2 atau 3"))


# ---------------------------------------------------------------------------- text

TITLE = make_step(AnswerType.TEXT, min_length=5, max_length=20)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Jalan rusak", "Jalan rusak"),
        ("  Jalan   rusak \t parah  ", "Jalan rusak parah"),
        ("Jal\x00an rusak", "Jalan rusak"),
        ("Lampu mati 💡", "Lampu mati 💡"),
        ("baris\n\n\n\nbaru", "baris\n\nbaru"),
        ("lewati", "lewati"),  # not optional: a skip word is just text
        ("a" * 20, "a" * 20),
    ],
)
def test_text_accepts(text: str, value: str) -> None:
    assert accepted(parse(TITLE, text)) == value


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("abc", "id", "Terlalu pendek: tulis minimal 5 huruf (sekarang 3)."),
        ("  ab\x00c  ", "en", "Too short: write at least 5 characters (now 3)."),
        ("", "id", "Pesan kosong. Terlalu pendek: tulis minimal 5 huruf (sekarang 0)."),
    ],
)
def test_text_rejects(text: str, language: str, expected: str) -> None:
    assert parse(TITLE, text, language).hint == expected


# ---------------------------------------------------------------------------- number

NUMBER = make_step(AnswerType.NUMBER)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        (" 12 ", 12),
        ("3!", 3),
        ("007", 7),
        ("3,5", 3.5),
        ("3.5", 3.5),
        ("0,5", 0.5),
        ("0.500", 0.5),
        ("12,50", 12.5),
        ("3,0", 3),
        ("1.000", 1000),
        ("1.000.000", 1_000_000),
        ("1,000", 1000),
        ("1,000,000", 1_000_000),
        ("1.000,5", 1000.5),
        ("1,000.25", 1000.25),
        ("-2", -2),
        ("- 2", -2),
        ("+7", 7),
        ("tiga", 3),
        ("Lima", 5),
        ("ten", 10),
        ("nol", 0),
        ("999999999999999", 999_999_999_999_999),
    ],
)
def test_number_accepts(text: str, value: float) -> None:
    result = accepted(parse(NUMBER, text))
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    "text",
    ["abc", "3 orang", "tiga ratus", "1.2.3", "1.00.000", "1,0000,0", "1,,5", "--2", "nan", "inf", "-inf", "1e5",
     "½", "\u0663", "1" * 16, "9" * 5000, "0x1F", "3/4", "1.000.000,5,5", "", "-"],
)  # fmt: skip
def test_number_rejects(text: str) -> None:
    parsed = parse(NUMBER, text)
    assert parsed.hint in (hint("hint_number"), hint("hint_empty", question_hint=hint("hint_number")))


@pytest.mark.parametrize(
    ("bounds", "text", "expected"),
    [
        ({"min_value": 1.0, "max_value": 10.0}, "0", "Angka harus antara 1 dan 10."),
        ({"min_value": 1.0, "max_value": 10.0}, "10,5", "Angka harus antara 1 dan 10."),
        ({"min_value": 0.5, "max_value": 2.5}, "3", "Angka harus antara 0.5 dan 2.5."),
        ({"min_value": 0.0}, "-1", "Angka minimal 0."),
        ({"max_value": 100.0}, "101", "Angka maksimal 100."),
    ],
)
def test_number_range(bounds: dict[str, float], text: str, expected: str) -> None:
    assert parse(make_step(AnswerType.NUMBER, **bounds), text).hint == expected


def test_number_range_edges_are_inclusive() -> None:
    step = make_step(AnswerType.NUMBER, min_value=1.0, max_value=10.0)
    assert accepted(parse(step, "1")) == 1 and accepted(parse(step, "10")) == 10
    assert parse(make_step(AnswerType.NUMBER, max_value=100.0), "101", "en").hint == "The number must be at most 100."


# ---------------------------------------------------------------------------- date

DATE = make_step(AnswerType.DATE)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("hari ini", "2024-05-20"),
        ("Hari ini.", "2024-05-20"),
        ("today", "2024-05-20"),
        ("sekarang", "2024-05-20"),
        ("tadi", "2024-05-20"),
        ("kemarin", "2024-05-19"),
        ("Kemaren!", "2024-05-19"),
        ("yesterday", "2024-05-19"),
        ("kemarin lusa", "2024-05-18"),
        ("3 hari lalu", "2024-05-17"),
        ("3 hari yang lalu", "2024-05-17"),
        ("3 hari yg lalu", "2024-05-17"),
        ("dua hari lalu", "2024-05-18"),
        ("3 days ago", "2024-05-17"),
        ("1 day ago", "2024-05-19"),
        ("minggu lalu", "2024-05-13"),
        ("last week", "2024-05-13"),
        ("2 minggu lalu", "2024-05-06"),
        ("12 Mei 2024", "2024-05-12"),
        ("12 MEI 2024", "2024-05-12"),
        (" 12  mei  2024 ", "2024-05-12"),
        ("12 mei", "2024-05-12"),
        ("12 May 2024", "2024-05-12"),
        ("May 12, 2024", "2024-05-12"),
        ("may 12 2024", "2024-05-12"),
        ("12th May 2024", "2024-05-12"),
        ("12-mei-2024", "2024-05-12"),
        ("tgl 12 mei", "2024-05-12"),
        ("pada tanggal 12 Mei 2024", "2024-05-12"),
        ("12 Agustus 2023", "2023-08-12"),
        ("12 Agu 2023", "2023-08-12"),
        ("12 agt 2023", "2023-08-12"),
        ("12 Ags. 2023", "2023-08-12"),
        ("12 Aug 2023", "2023-08-12"),
        ("1 Sept 2023", "2023-09-01"),
        ("1 sep 2023", "2023-09-01"),
        ("5 Okt 2023", "2023-10-05"),
        ("5 Oct 2023", "2023-10-05"),
        ("5 Des 2023", "2023-12-05"),
        ("5 Dec 2023", "2023-12-05"),
        ("1 Jan 2024", "2024-01-01"),
        ("2 Feb 2024", "2024-02-02"),
        ("3 mar 2024", "2024-03-03"),
        ("4 apr 2024", "2024-04-04"),
        ("5 jun 2023", "2023-06-05"),
        ("6 jul 2023", "2023-07-06"),
        ("7 nov 2023", "2023-11-07"),
        ("12/05/2024", "2024-05-12"),
        ("12-05-2024", "2024-05-12"),
        ("12.05.2024", "2024-05-12"),
        ("12/5/24", "2024-05-12"),
        ("01/02/2024", "2024-02-01"),  # day first
        ("2024-05-12", "2024-05-12"),
        ("29/02/2024", "2024-02-29"),  # a leap year
        ("29 feb", "2024-02-29"),
        ("1/1/00", "2000-01-01"),
    ],
)
def test_date_accepts(text: str, iso: str) -> None:
    assert accepted(parse(DATE, text)) == iso


def test_numeric_dates_are_day_first_in_english_too() -> None:
    assert accepted(parse(DATE, "01/02/2024", "en")) == "2024-02-01"
    assert accepted(parse(DATE, "12/05/2024", "en")) == "2024-05-12"


@pytest.mark.parametrize(
    ("text", "today", "iso"),
    [
        ("30 des", date(2024, 1, 3), "2023-12-30"),  # without a year, near new year
        ("31/12", date(2024, 1, 3), "2023-12-31"),
        ("3 jan", date(2024, 1, 3), "2024-01-03"),
        ("4 jan", date(2024, 1, 3), "2023-01-04"),  # this year's would be in the future
        ("29 feb", date(2025, 3, 1), "2024-02-29"),  # no 29 Feb in 2025: the last one
        ("28 feb", date(2025, 3, 1), "2025-02-28"),
    ],
)
def test_dates_without_a_year(text: str, today: date, iso: str) -> None:
    assert accepted(parse(DATE, text, today=today)) == iso


def test_dates_without_a_year_may_be_ahead_when_the_future_is_allowed() -> None:
    ahead = make_step(AnswerType.DATE, allow_future=True)
    assert accepted(parse(ahead, "4 jan", today=date(2024, 1, 3))) == "2024-01-04"
    assert accepted(parse(ahead, "21/05/2024")) == "2024-05-21"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("31/02/2024", "hint_date"),
        ("29/02/2023", "hint_date"),  # not a leap year
        ("2024-02-30", "hint_date"),
        ("32/01/2024", "hint_date"),
        ("00/01/2024", "hint_date"),
        ("12/13/2024", "hint_date"),  # no 13th month: day first, always
        ("31 feb", "hint_date"),
        ("besok lusa", "hint_date"),
        ("kapan-kapan", "hint_date"),
        ("12", "hint_date"),
        ("13 foo 2024", "hint_date"),
        ("99999 hari lalu", "hint_date"),
        ("12 Mei 2024 " + "x" * 100, "hint_date"),
        ("21/05/2024", "hint_date_future"),
        ("1/1/99", "hint_date_future"),  # two-digit years are 20YY
        ("21 mei 2024", "hint_date_future"),
    ],
)
def test_date_rejects(text: str, key: str) -> None:
    assert parse(DATE, text).hint == hint(key)


def test_date_too_old() -> None:
    recent = make_step(AnswerType.DATE, max_age_days=30)
    assert accepted(parse(recent, "30 hari lalu")) == "2024-04-20"
    assert parse(recent, "31 hari lalu").hint == "Tanggal terlalu lama: paling jauh 30 hari yang lalu."
    assert parse(recent, "1/1/2020", "en").hint == "That date is too long ago: at most 30 days ago."


def test_date_hint_in_english() -> None:
    assert parse(DATE, "someday", "en").hint == "Write a date, for example 12/05/2024, 12 May 2024, today or yesterday."


# ---------------------------------------------------------------------------- yes / no

YES_NO = make_step(AnswerType.YES_NO)


@pytest.mark.parametrize(
    "text",
    ["ya", "Ya!", "YA", "  Iya  ", "iyaa", "y", "ok", "Oke", "betul", "benar", "setuju", "yes", "Yes.", "yup", "1",
     "ya betul", "ya, benar", "ya 👍", "ok siap", "Yes please"],
)  # fmt: skip
def test_yes(text: str) -> None:
    assert accepted(parse(YES_NO, text)) is True


@pytest.mark.parametrize(
    "text",
    ["tidak", "Tidak.", "tdk", "gak", "nggak", "enggak", "bukan", "jangan", "salah", "no", "No!", "n", "nope", "2",
     "tidak, salah", "gak mau", "no thanks", "tidak benar"],
)  # fmt: skip
def test_no(text: str) -> None:
    assert accepted(parse(YES_NO, text)) is False


@pytest.mark.parametrize("text", ["mungkin", "ya tidak", "tidak, benar", "yes no", "3", "yesno", "👍", "maybe yes", "lewati"])
def test_yes_no_rejects(text: str) -> None:
    assert parse(YES_NO, text).hint == hint("hint_yes_no")


def test_optional_yes_no_is_never_skipped() -> None:
    step = make_step(AnswerType.YES_NO, optional=True)
    assert parse(step, "lewati", "en").hint == "Reply YES or NO."
    assert accepted(parse(step, "tidak")) is False  # a no-word wins over the skip-word


# ---------------------------------------------------------------------------- phone

PHONE = make_step(AnswerType.PHONE)


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("0812.3456.7890", "+6281234567890"),
        ("(0812) 3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62-812-3456-7890", "+6281234567890"),
        ("+62 (0)812 3456 7890", "+6281234567890"),
        ("62812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("81234567890", "+6281234567890"),
        ("812 3456 7890", "+6281234567890"),
        ("0062 812 3456 7890", "+6281234567890"),
        ("021 1234 5678", "+622112345678"),  # a Jakarta landline
        ("(021) 555-1234", "+62215551234"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("0812-345-678", "+62812345678"),  # 9 digits after +62
        ("+62 0812 3456 7890", "+6281234567890"),  # the national 0 kept after +62, forgiven
    ],
)
def test_phone_accepts(text: str, e164: str) -> None:
    assert accepted(parse(PHONE, text)) == e164


@pytest.mark.parametrize(
    "text",
    ["0812345", "+62 812 3456 7890 123", "08123456789012345", "0812-3456-789O", "abc", "nomor saya 0812 3456 7890",
     "81234567", "+6281234567", "+0 123 4567 890", "+1234567", "+1234567890123456", "12345678", "+", "", "0" * 500,
     "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"],
)  # fmt: skip
def test_phone_rejects(text: str) -> None:
    """"81234567" used to become "+6281234567", which no Indonesian number is (phonenumbers knows)."""
    assert parse(PHONE, text).hint in (hint("hint_phone"), hint("hint_empty", question_hint=hint("hint_phone")))


# ---------------------------------------------------------------------------- location

LOCATION = make_step(AnswerType.LOCATION)


def test_shared_location_wins() -> None:
    assert accepted(parse(LOCATION, "", location=GeoPoint(-6.2, 106.8, "Monas"))) == {"text": "Monas", "latitude": -6.2, "longitude": 106.8}
    assert accepted(parse(LOCATION, "lihat peta", location=GeoPoint(-6.2, 106.8))) == {"text": "", "latitude": -6.2, "longitude": 106.8}


def test_an_invalid_shared_location_falls_back_to_the_text() -> None:
    assert accepted(parse(LOCATION, "Jl. Merdeka", location=GeoPoint(math.nan, 106.8))) == {"text": "Jl. Merdeka", "latitude": None, "longitude": None}
    assert parse(LOCATION, "", location=GeoPoint(-95.0, 106.8)).hint == hint("hint_location")


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("-6.2088, 106.8456", -6.2088, 106.8456),
        ("-6.2088,106.8456", -6.2088, 106.8456),
        ("-6.2088 106.8456", -6.2088, 106.8456),
        (" -6.2088 ; 106.8456 ", -6.2088, 106.8456),
        ("51.5007, -0.1246", 51.5007, -0.1246),
    ],
)
def test_typed_coordinates(text: str, lat: float, lon: float) -> None:
    assert accepted(parse(LOCATION, text)) == {"text": text.strip(), "latitude": lat, "longitude": lon}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Jl. Merdeka No. 10, Bandung", "Jl. Merdeka No. 10, Bandung"),
        ("   Monas   ", "Monas"),
        ("RT 01", "RT 01"),
        ("Depan\nSD 3", "Depan\nSD 3"),
        ("12, 34", "12, 34"),  # whole numbers are no coordinates
        ("a" * 300, "a" * 300),
    ],
)
def test_typed_places(text: str, value: str) -> None:
    assert accepted(parse(LOCATION, text)) == {"text": value, "latitude": None, "longitude": None}


@pytest.mark.parametrize("text", ["-95.1, 106.8", "6.2, 190.5", "ab", "???", "😀😀😀", "a" * 301])
def test_location_rejects(text: str) -> None:
    assert parse(LOCATION, text).hint == hint("hint_location")


def test_empty_location_says_it_was_empty() -> None:
    assert parse(LOCATION, "", "en").hint == hint("hint_empty", "en", question_hint=hint("hint_location", "en"))


# ---------------------------------------------------------------------------- media

PHOTO = MediaRef("https://x/1.jpg", "image/jpeg")
PDF = MediaRef("https://x/2.pdf", "application/pdf")
OPTIONAL_MEDIA = make_step(AnswerType.MEDIA, optional=True)
REQUIRED_MEDIA = make_step(AnswerType.MEDIA)


def test_media_present() -> None:
    assert accepted(parse(REQUIRED_MEDIA, "", media=(PHOTO,))) == [{"url": "https://x/1.jpg", "content_type": "image/jpeg"}]
    assert accepted(parse(OPTIONAL_MEDIA, "lewati", media=(PHOTO, PDF))) == [
        {"url": "https://x/1.jpg", "content_type": "image/jpeg"},
        {"url": "https://x/2.pdf", "content_type": "application/pdf"},
    ]


@pytest.mark.parametrize("text", ["lewati", "LEWATI", "skip", "tidak ada", "Tidak ada.", "-", "none"])
def test_optional_media_skips_to_an_empty_list(text: str) -> None:
    assert accepted(parse(OPTIONAL_MEDIA, text)) == []


@pytest.mark.parametrize(
    ("step", "text", "expected"),
    [
        (REQUIRED_MEDIA, "lewati", "Kirim foto atau dokumen, atau balas LEWATI."),
        (OPTIONAL_MEDIA, "foto", "Kirim foto atau dokumen, atau balas LEWATI."),
        (OPTIONAL_MEDIA, "", "Pesan kosong. Kirim foto atau dokumen, atau balas LEWATI."),
    ],
)
def test_media_rejects(step: Step, text: str, expected: str) -> None:
    assert parse(step, text).hint == expected


# ---------------------------------------------------------------------------- optional steps

SKIPPABLE = [AnswerType.TEXT, AnswerType.NUMBER, AnswerType.DATE, AnswerType.PHONE, AnswerType.LOCATION]


@pytest.mark.parametrize("kind", SKIPPABLE)
@pytest.mark.parametrize("text", ["lewati", "Skip!", "-", "tidak ada", "gak ada", "kosong"])
def test_optional_steps_skip_to_none(kind: AnswerType, text: str) -> None:
    parsed = parse(make_step(kind, optional=True), text)
    assert parsed == Parsed(value=None)


@pytest.mark.parametrize(
    ("kind", "key"),
    [(AnswerType.NUMBER, "hint_number"), (AnswerType.DATE, "hint_date"), (AnswerType.PHONE, "hint_phone")],
)
def test_required_steps_refuse_skip_words(kind: AnswerType, key: str) -> None:
    assert parse(make_step(kind), "lewati").hint == hint(key)


@pytest.mark.parametrize("kind", [AnswerType.CONFIRM, AnswerType.MESSAGE])
def test_engine_step_types_are_not_parsed_here(kind: AnswerType) -> None:
    with pytest.raises(ValueError):
        parse(make_step(kind), "ya")


# ---------------------------------------------------------------------------- display_value


@pytest.mark.parametrize(
    ("step", "value", "language", "shown"),
    [
        (REPORT_TYPE, "complaint", "id", "Pengaduan"),
        (REPORT_TYPE, "complaint", "en", "Complaint"),
        (REPORT_TYPE, "gone", "id", "gone"),
        (DATE, "2024-05-12", "id", "12 Mei 2024"),
        (DATE, "2024-05-12", "en", "12 May 2024"),
        (DATE, "2024-08-01", "id", "1 Agustus 2024"),
        (DATE, "2024-08-01", "en", "1 August 2024"),
        (DATE, "not a date", "id", "not a date"),
        (YES_NO, True, "id", "Ya"),
        (YES_NO, False, "id", "Tidak"),
        (YES_NO, True, "en", "Yes"),
        (YES_NO, False, "en", "No"),
        (LOCATION, {"text": "Monas", "latitude": -6.2, "longitude": 106.8}, "id", "Monas"),
        (LOCATION, {"text": "", "latitude": -6.2, "longitude": 106.8}, "id", "-6.2, 106.8"),
        (REQUIRED_MEDIA, [], "id", "Tidak ada"),
        (REQUIRED_MEDIA, [], "en", "None"),
        (REQUIRED_MEDIA, [{"url": "u"}], "id", "1 lampiran"),
        (REQUIRED_MEDIA, [{"url": "u"}], "en", "1 attachment"),
        (REQUIRED_MEDIA, [{"url": "u"}, {"url": "v"}], "id", "2 lampiran"),
        (REQUIRED_MEDIA, [{"url": "u"}, {"url": "v"}], "en", "2 attachments"),
        (TITLE, None, "id", "Tidak ada"),
        (TITLE, None, "en", "None"),
        (TITLE, "Budi", "id", "Budi"),
        (TITLE, "a" * 40, "id", "a" * 40),
        (TITLE, "Jalan di depan sekolah rusak parah sejak Januari", "id", "Jalan di depan sekolah rusak parah ..."),
        (TITLE, "baris satu\n\nbaris dua", "id", "baris satu baris dua"),
        (NUMBER, 3, "id", "3"),
        (NUMBER, 3.5, "id", "3.5"),
    ],
)
def test_display_value(step: Step, value: Any, language: str, shown: str) -> None:
    assert display_value(SCRIPT, step, value, language) == shown


def test_display_value_of_long_text_stays_within_40_characters() -> None:
    shown = display_value(SCRIPT, TITLE, "x" * 500, "id")
    assert len(shown) == 40 and shown.endswith("...")


# ---------------------------------------------------------------------------- properties


def _reference_osa(a: str, b: str) -> int:
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


@settings(max_examples=300, deadline=None)
@given(st.text("abcd", max_size=9), st.text("abcd", max_size=9), st.integers(1, 2))
def test_banded_distance_agrees_with_the_full_table(a: str, b: str, limit: int) -> None:
    expected = _reference_osa(a, b)
    got = osa_distance(a, b, limit)
    assert got == expected if expected <= limit else got > limit


ALL_STEPS = [
    REPORT_TYPE, CATEGORY, PRIVACY, SHARED_WORD, TITLE, NUMBER, DATE, YES_NO, PHONE, LOCATION, OPTIONAL_MEDIA, REQUIRED_MEDIA,
    make_step(AnswerType.NUMBER, min_value=0.0, max_value=10.0),
    make_step(AnswerType.DATE, allow_future=True, max_age_days=30),
    *[make_step(kind, optional=True) for kind in SKIPPABLE],
]  # fmt: skip
ANY_TEXT = st.one_of(
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=50),  # control chars, lone surrogates
    st.text(max_size=5000),
    st.text("0123456789 .,-+/()#", max_size=30),
    st.text("abcdefghijklmnopqrstuvwxyz ", max_size=20),
    st.sampled_from(["", " ", "\x00", "😀😀", "\u202e\u200b", "a" * 100_000, "9" * 5000, "1" + ".000" * 2000,
                     "- " * 1000, "31/02/2024", "99999 hari lalu", "-6.2, 106.8", "99.9, 999.9"]),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_STEPS), ANY_TEXT, st.sampled_from(["id", "en"]))
def test_parse_answer_never_raises(step: Step, text: str, language: str) -> None:
    parsed = parse(step, text, language)
    assert isinstance(parsed, Parsed)
    assert parsed.hint is None or (isinstance(parsed.hint, str) and parsed.hint)
    json.dumps({"value": parsed.value, "sets": dict(parsed.sets)}, allow_nan=False)
    if parsed.hint is None and parsed.value is not None:
        display_value(SCRIPT, step, parsed.value, language)
