"""How answers and menus read to the citizen: numbered options, summary values, number lists."""
from __future__ import annotations

from datetime import date
from typing import Any

from dialogs.i18n import ATTACHMENT_COUNT, MONTH_NAMES
from dialogs.model import AnswerType, Option, Script, Step

__all__ = ["display_value", "label", "number_list", "option_menu"]

SUMMARY_TEXT_MAX = 40


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

    Choice: the option's label; date: "12 Mei 2024"/"12 May 2024"; yes/no: Ya/Tidak;
    location: its text or "lat, long"; media: "2 lampiran"/"2 attachments"; text: at most
    40 characters (cut ones end in "..."); None or nothing: the "none" message.
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
        return _display_location(script, value, language)
    if kind is AnswerType.MEDIA and isinstance(value, list):
        singular, plural = ATTACHMENT_COUNT.get(language, ATTACHMENT_COUNT["en"])
        return (singular if len(value) == 1 else plural).format(n=len(value))
    text = " ".join(str(value).split())
    if len(text) > SUMMARY_TEXT_MAX:
        return text[: SUMMARY_TEXT_MAX - 3].rstrip() + "..."
    return text


def _display_date(value: str, language: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    names = MONTH_NAMES.get(language, MONTH_NAMES["en"])
    return f"{day.day} {names[day.month - 1]} {day.year}"


def _display_location(script: Script, value: dict[str, Any], language: str) -> str:
    if value.get("text"):
        return str(value["text"])
    if value.get("latitude") is not None and value.get("longitude") is not None:
        return f"{value['latitude']}, {value['longitude']}"
    return script.text("none", language)
