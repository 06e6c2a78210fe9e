"""Complaint export (CSV or JSON), streamed, and free of personal data.

No reporter name and no contact (phone numbers, chat ids) is ever exported, anonymous or not:
an export leaves our hands. Rows are read in batches from one read-only snapshot
(``Database.reading``), so a large export neither fills memory nor holds the write lock that
webhooks need. CSV cells that a spreadsheet would run as a formula are defused.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, TextIO

from dialogs.model import REGION_LEVELS
from storage import repository as repo
from storage.db import Database

COLUMNS = (
    "tracking_number", "status", "type", "title", "description", "category", "category_code", "agency",
    "location", "latitude", "longitude", "incident_date", "anonymous", "confidential",
    "channel", "language", "registry_id", "created_at", "submitted_at",
    # added later, at the end, so that readers by position keep working
    "province_code", "province", "regency_code", "regency", "district_code", "district", "village_code", "village",
)
FORMATS = ("csv", "json")


def export_chunks(db: Database, fmt: str) -> Iterator[str]:
    """The export as text chunks, one per complaint (oldest first) plus a head and a tail."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use csv or json")
    if fmt == "json":
        yield "["
        for count, record in enumerate(_records(db)):
            yield ("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False)
        yield "\n]\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for record in _records(db):
        writer.writerow({key: _cell(value) for key, value in record.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export_complaints(db: Database, fmt: str, out: TextIO) -> None:
    """Write the whole export to ``out``."""
    for chunk in export_chunks(db, fmt):
        out.write(chunk)


def _records(db: Database) -> Iterator[dict[str, Any]]:
    with db.reading() as session:
        for c in repo.iter_complaints(session):
            yield {
                "tracking_number": c.tracking_number, "status": c.status, "type": c.type, "title": c.title,
                "description": c.description, "category": c.category, "category_code": c.category_code,
                "agency": c.agency, "location": c.location_text, "latitude": c.latitude, "longitude": c.longitude,
                "incident_date": c.incident_date.isoformat() if c.incident_date else None,
                "anonymous": c.anonymous, "confidential": c.confidential,
                "channel": c.channel, "language": c.language, "registry_id": c.registry_id,
                "created_at": c.created_at.isoformat(),
                "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
                **_region(c.region),
            }


def _region(region: dict[str, Any] | None) -> dict[str, str | None]:
    """A complaint's region as flat columns: each level's code and name (None when not known)."""
    flat: dict[str, str | None] = {}
    for level in REGION_LEVELS:
        part = (region or {}).get(level) or {}
        flat[f"{level}_code"], flat[level] = part.get("code"), part.get("name")
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
