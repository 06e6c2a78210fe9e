"""Turning a finished dialog into a complaint, and complaint statuses into words.

A script that files complaints uses these answer ids (the default script does):
``report_type``, ``title``, ``description``, ``category``, ``location``, ``incident_date``,
``attachment``, ``name``, and the option flags ``anonymous`` and ``confidential``.
A missing privacy flag counts as *set*: an unclear answer never makes a report public.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from bot.settings import Settings
from dialogs.model import Script

REPORT_TYPES = ("complaint", "aspiration", "information_request")
STATUSES = ("queued", "received", "verified", "in_progress", "resolved", "rejected")


@dataclass(frozen=True, slots=True)
class ComplaintFields:
    """The typed fields of a complaint, read from a dialog's answers."""

    type: str
    title: str
    description: str
    category: str
    category_code: str
    agency: str | None
    location_text: str
    latitude: float | None
    longitude: float | None
    incident_date: date | None
    attachments: list[dict[str, str]]
    anonymous: bool
    confidential: bool
    reporter_name: str | None


def fields_from_answers(answers: Mapping[str, Any], settings: Settings) -> ComplaintFields:
    """Map answers to complaint fields, with safe defaults for what a script did not ask."""
    description = str(answers.get("description") or "")
    report_type = answers.get("report_type")
    category = str(answers.get("category") or "other")
    location = answers.get("location") or {}
    if not isinstance(location, Mapping):
        location = {"text": str(location)}
    raw_date = answers.get("incident_date")
    anonymous = answers.get("anonymous")
    confidential = answers.get("confidential")
    mapped = settings.category(category)
    return ComplaintFields(
        type=report_type if report_type in REPORT_TYPES else "complaint",
        title=str(answers.get("title") or description[:60] or "-")[:200],
        description=description,
        category=category,
        category_code=mapped.code,
        agency=mapped.agency,
        location_text=str(location.get("text") or ""),
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        incident_date=date.fromisoformat(raw_date) if isinstance(raw_date, str) else None,
        attachments=[dict(item) for item in answers.get("attachment") or []],
        anonymous=anonymous is not False,
        confidential=confidential is not False,
        reporter_name=None if anonymous is not False else (answers.get("name") or None),
    )


def status_text(script: Script, status: str, language: str) -> str:
    """A complaint status in the citizen's words (falls back to the raw status)."""
    key = f"status_{status}"
    return script.text(key, language) if key in script.messages else status
