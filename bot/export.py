"""Complaint export (CSV or JSON) that honours privacy.

An anonymous complaint's reporter is never exported; contacts (phone numbers, chat ids) are
never exported at all. CSV cells that a spreadsheet would run as a formula are defused.
"""
from __future__ import annotations

import csv
import json
from typing import Any, Iterator, TextIO

from bot.services import Services
from storage import repository as repo

COLUMNS = (
    "tracking_number", "status", "type", "title", "description", "category", "category_code", "agency",
    "location", "latitude", "longitude", "incident_date", "anonymous", "confidential", "reporter_name",
    "channel", "language", "registry_id", "created_at", "submitted_at",
)


def export_complaints(services: Services, fmt: str, out: TextIO) -> int:
    """Write every complaint, oldest first; returns how many."""
    count = 0
    if fmt == "json":
        out.write("[")
        for count, record in enumerate(_records(services), start=1):
            out.write(("," if count > 1 else "") + "\n" + json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
        return count
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for count, record in enumerate(_records(services), start=1):
        writer.writerow({key: _cell(value) for key, value in record.items()})
    return count


def _records(services: Services) -> Iterator[dict[str, Any]]:
    with services.db.transaction() as session:
        for c in repo.iter_complaints(session):
            name = None
            if not c.anonymous and c.reporter_name_enc:
                name = services.cipher.decrypt(c.reporter_name_enc)
            yield {
                "tracking_number": c.tracking_number, "status": c.status, "type": c.type, "title": c.title,
                "description": c.description, "category": c.category, "category_code": c.category_code,
                "agency": c.agency, "location": c.location_text, "latitude": c.latitude, "longitude": c.longitude,
                "incident_date": c.incident_date.isoformat() if c.incident_date else None,
                "anonymous": c.anonymous, "confidential": c.confidential, "reporter_name": name,
                "channel": c.channel, "language": c.language, "registry_id": c.registry_id,
                "created_at": c.created_at.isoformat(), "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
            }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
