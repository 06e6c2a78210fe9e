"""How answers and menus read to the citizen: numbered options, summary values, number lists."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from dialogs.i18n import ATTACHMENT_COUNT, MONTH_NAMES
from dialogs.model import AnswerType, Option, Script, Step
from dialogs.normalize import cut_at_word

__all__ = ["display_value", "label", "number_list", "option_menu", "shorten"]

# How long an answer may be in the confirm summary: the description 80 characters, any other
# text (title, location, name) 40, marks included. With the default script's nine lines the
# whole summary is then about 500 characters at worst (4 GSM-7 segments of 153), usually 3
# segments. Cut at a word, marked with SUMMARY_CUT_MARK (plain GSM-7: no U+2026 ellipsis, which
# would make the whole SMS UCS-2 and halve every segment).
SUMMARY_TEXT_MAX = 40
SUMMARY_DESCRIPTION_MAX = 80
SUMMARY_CUT_MARK = " ..."
_LONG_FIELDS = frozenset({"description"})
_MONTH_VALUE = re.compile(r"([0-9]{4})-([0-9]{2})")
_YEAR_VALUE = re.compile(r"[0-9]{4}")


def option_menu(step: Step, language: str) -> list[tuple[int, str]]:
    """The (number, label) pairs of a choice step's menu, in order, labels in ``language``."""
    return [(option.number, label(option, language)) for option in step.options]


def label(option: Option, language: str, default_language: str = "") -> str:
    """An option's label in ``language`` (else the default language, else any, else its value)."""
    labels = option.label
    return labels.get(language) or labels.get(default_language) or next(iter(labels.values()), option.value)


def number_list(script: Script, numbers: list[int], language: str) -> str:
    """"1, 2 atau 3" / "1, 2 or 3": the numbers a citizen may reply."""
    words = [str(n) for n in numbers]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {script.text('or', language)} {words[-1]}"


def display_value(script: Script, step: Step, value: Any, language: str) -> str:
    """A short text for an answer in the confirm summary, in ``language``.

    Choice: the option's label; date: "12 Mei 2024"/"12 May 2024", a month "Mei 2024", a
    year "2023"; yes/no: Ya/Tidak; location: its text (at most 40 characters) or "lat, long";
    media: "2 lampiran"/"2 attachments"; text: at most 40 characters, the description 80, cut
    at a word and ending in " ..." (``shorten``); None or nothing: the "none" message.
    """
    kind = step.type
    if value is None or value == [] or value == "":
        return script.text("none", language)
    if kind is AnswerType.CHOICE:
        option = next((o for o in step.options if o.value == value), None)
        return label(option, language, script.default_language) if option else str(value)
    if kind is AnswerType.YES_NO and isinstance(value, bool):
        return script.text("yes" if value else "no", language)
    if kind is AnswerType.DATE and isinstance(value, str):
        return _display_date(value, language)
    if kind is AnswerType.LOCATION and isinstance(value, dict):
        return shorten(_display_location(script, value, language), SUMMARY_TEXT_MAX)
    if kind is AnswerType.MEDIA and isinstance(value, list):
        singular, plural = ATTACHMENT_COUNT.get(language, ATTACHMENT_COUNT["en"])
        return (singular if len(value) == 1 else plural).format(n=len(value))
    limit = SUMMARY_DESCRIPTION_MAX if step.fills in _LONG_FIELDS else SUMMARY_TEXT_MAX
    return shorten(str(value), limit)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters: a longer one is cut at a word and
    ends in SUMMARY_CUT_MARK (" ..."), the mark counted in the limit."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return cut_at_word(text, max(limit - len(SUMMARY_CUT_MARK), 1)) + SUMMARY_CUT_MARK


def _display_date(value: str, language: str) -> str:
    """"2024-05-12" -> "12 Mei 2024"; "2024-05" -> "Mei 2024"; "2023" -> "2023"."""
    names = MONTH_NAMES.get(language, MONTH_NAMES["en"])
    if (month := _MONTH_VALUE.fullmatch(value)) and 1 <= int(month[2]) <= 12:
        return f"{names[int(month[2]) - 1]} {month[1]}"
    if _YEAR_VALUE.fullmatch(value):
        return value
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {names[day.month - 1]} {day.year}"


def _display_location(script: Script, value: dict[str, Any], language: str) -> str:
    if value.get("text"):
        return str(value["text"])
    region = value.get("region") or {}
    named = [str(part["name"]) for level in ("village", "district", "regency") if (part := region.get(level))]
    if named:  # a shared point without an address: the region it is in
        return ", ".join(named[:2])
    if value.get("latitude") is not None and value.get("longitude") is not None:
        return f"{value['latitude']}, {value['longitude']}"
    return script.text("none", language)
