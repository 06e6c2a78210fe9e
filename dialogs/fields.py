"""The complaint's fields, as the registry knows them, and which step types can fill each.

A step says which field it fills (``field: description``); the loader checks the declarations
against this table, so renaming a step never files an empty field. The privacy flags
``anonymous`` and ``confidential`` are booleans that an option sets (``set: {anonymous: true}``).
Scripts of format 0 (before ``format:`` and ``field:`` existed) are read with the step ids the
service used to rely on (``LEGACY_STEP_FIELDS``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dialogs.model import AnswerType

__all__ = ["COMPLAINT_FIELDS", "FLAGS", "LEGACY_STEP_FIELDS", "REPORT_TYPES", "VOICE_NOTES", "FieldSpec", "fields_of",
           "voice_key"]

REPORT_TYPES = ("complaint", "aspiration", "information_request")
FLAGS = ("anonymous", "confidential")  # set by an option; a missing flag counts as set (never public by accident)
# The field of the voice notes that answered text steps with ``voice: true``: [{"url",
# "content_type"}], filed with the attachments. Each step keeps its own under ``voice_key``.
VOICE_NOTES = "voice_notes"


def voice_key(step_id: str) -> str:
    """The answer key of the voice notes that answered ``step_id``."""
    return f"{step_id}.voice"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A complaint field: the step types that may fill it, whether every script must, the
    option values it allows (for choices), and whether it identifies the reporter."""

    types: tuple[AnswerType, ...]
    required: bool = False
    values: tuple[str, ...] = ()
    personal: bool = False


COMPLAINT_FIELDS: Mapping[str, FieldSpec] = {
    "type": FieldSpec((AnswerType.CHOICE,), values=REPORT_TYPES),
    "title": FieldSpec((AnswerType.TEXT,)),
    "description": FieldSpec((AnswerType.TEXT,), required=True),
    "category": FieldSpec((AnswerType.CHOICE,)),
    "location": FieldSpec((AnswerType.LOCATION, AnswerType.TEXT)),
    "incident_date": FieldSpec((AnswerType.DATE,)),
    "attachments": FieldSpec((AnswerType.MEDIA,)),
    "reporter_name": FieldSpec((AnswerType.TEXT,), personal=True),
    "reporter_phone": FieldSpec((AnswerType.PHONE,), personal=True),
}

LEGACY_STEP_FIELDS: Mapping[str, str] = {
    "report_type": "type", "title": "title", "description": "description", "category": "category",
    "location": "location", "incident_date": "incident_date", "attachment": "attachments", "name": "reporter_name",
}


def fields_of(steps: Mapping[str, str], answers: Mapping[str, object]) -> dict[str, object]:
    """The complaint's fields from a dialog's (active) answers: each field from the step that
    fills it (``steps``: field -> step id), the privacy flags as answered, and the voice notes."""
    found = {field: answers[step_id] for field, step_id in steps.items() if step_id in answers}
    found.update({flag: answers[flag] for flag in FLAGS if flag in answers})
    notes = [note for key, value in answers.items() if key.endswith(".voice") and isinstance(value, list)
             for note in value]
    if notes:
        found[VOICE_NOTES] = notes
    return found
