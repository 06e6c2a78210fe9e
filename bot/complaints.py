"""Turning a finished dialog into a complaint, and complaint statuses into words.

The dialog hands over the complaint's fields by name (``dialogs.fields``: each step declares
the field it fills), never by step id, so renaming a step changes nothing in what is filed.
A missing privacy flag counts as *set*: an unclear answer never makes a report public.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.agencies import agency_for
from bot.settings import Settings
from dialogs.answers.date_answer import period_of
from dialogs.display import shorten
from dialogs.fields import REPORT_TYPES, VOICE_NOTES
from dialogs.model import Script

STATUSES = ("queued", "received", "verified", "in_progress", "resolved", "rejected")


@dataclass(frozen=True, slots=True)
class ComplaintFields:
    """The typed fields of a complaint, read from a dialog's fields."""

    type: str
    title: str
    description: str
    category: str
    category_code: str
    agency: str | None
    location_text: str
    latitude: float | None
    longitude: float | None
    region: dict[str, Any]  # {level: {"code", "name"} | None}, {} when the location resolved to none
    incident_date: date | None
    attachments: list[dict[str, str]]
    anonymous: bool
    confidential: bool
    reporter_name: str | None


def complaint_fields(fields: Mapping[str, Any], settings: Settings) -> ComplaintFields:
    """Typed complaint fields from the dialog's ``fields`` (``dialogs.fields`` names), with safe
    defaults for what a script did not ask: a title drawn from the description, the "other"
    category, private by default. The agency follows the category and the location's region
    (``bot.agencies``); voice notes that answered a text step are attachments too."""
    description = str(fields.get("description") or "")
    report_type = fields.get("type")
    category = str(fields.get("category") or "other")
    location = fields.get("location") or {}
    if not isinstance(location, Mapping):
        location = {"text": str(location)}
    raw_date = fields.get("incident_date")
    anonymous = fields.get("anonymous")
    confidential = fields.get("confidential")
    mapped = settings.category(category)
    found = location.get("region")
    region = {level: dict(part) for level, part in found.items() if isinstance(part, Mapping)} \
        if isinstance(found, Mapping) else {}
    attachments = [dict(item) for item in (fields.get("attachments") or []) + (fields.get(VOICE_NOTES) or [])]
    return ComplaintFields(
        type=report_type if report_type in REPORT_TYPES else "complaint",
        title=str(fields.get("title") or description[:60] or "-")[:200],
        description=description,
        category=category,
        category_code=mapped.code,
        agency=agency_for(settings, category, region),
        location_text=str(location.get("text") or ""),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        region=region,
        incident_date=_first_day(raw_date),
        attachments=attachments,
        anonymous=anonymous is not False,
        confidential=confidential is not False,
        reporter_name=None if anonymous is not False else (fields.get("reporter_name") or None),
    )


def _first_day(raw_date: Any) -> date | None:
    """The calendar day a date answer stands for: itself, or the first day of its month or year
    ("2024-05", "2023": the answers keep the precision the citizen gave)."""
    period = period_of(raw_date) if isinstance(raw_date, str) else None
    return period.first if period is not None else None


STATUS_TITLE_MAX = 40  # characters of a title in a status message


def status_title(title: str) -> str:
    """A complaint's title as status messages name it: on one line, cut at a word."""
    return shorten(title, STATUS_TITLE_MAX)


def status_text(script: Script, status: str, language: str) -> str:
    """A complaint status in the citizen's words (falls back to the raw status)."""
    key = f"status_{status}"
    return script.text(key, language) if key in script.messages else status
