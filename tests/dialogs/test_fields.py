"""dialogs.fields through the loader: each step declares the complaint field it fills, and
`lapor dialogs check` says what is wrong with the declarations, as file:line: message. Scripts
of format 0 are read the old way; a newer format is refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.fields import COMPLAINT_FIELDS, fields_of
from dialogs.loader import ScriptInvalid, check_script, load_script

COMPLAINT = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"
TEXT = COMPLAINT.read_text(encoding="utf-8")


def messages(text: str, severity: str = "error") -> list[str]:
    return [str(d) for d in check_script(text, "c.yaml") if d.severity == severity]


def line_of(text: str, fragment: str) -> int:
    return text.splitlines().index(fragment) + 1


def test_the_default_script_declares_every_field_it_fills() -> None:
    script = load_script(TEXT, "c.yaml")
    assert script.format == 1
    assert dict(script.fields) == {"type": "report_type", "title": "title", "description": "description",
                                   "category": "category", "location": "location", "incident_date": "incident_date",
                                   "attachments": "attachment", "reporter_name": "name"}
    assert script.steps["name"].personal  # a reporter field identifies the reporter
    assert set(script.fields) <= set(COMPLAINT_FIELDS)


def test_a_renamed_step_still_fills_its_field() -> None:
    renamed = TEXT.replace("  - id: description\n", "  - id: cerita\n")
    script = load_script(renamed, "c.yaml")
    assert script.fields["description"] == "cerita"
    assert fields_of(script.fields, {"cerita": "Jalan rusak parah.", "anonymous": True})["description"] == "Jalan rusak parah."


@pytest.mark.parametrize(("change", "fragment"), [
    (("    field: description\n", ""), "no step fills the required field 'description'"),
    (("    field: title\n", "    field: description\n"), "field 'description' is already filled by step 'title'"),
    (("    field: incident_date\n", "    field: attachments\n"), "a date step cannot fill the field 'attachments' (it needs a media step)"),
    (("    field: category\n", "    field: kategori\n"), "unknown field 'kategori' (did you mean 'category'?)"),
    (("      - value: aspiration\n", "      - value: aspirasi\n"), "option 'aspirasi' is not a value of the field 'type'"),
    (("set: {anonymous: true, confidential: false}", "set: {anonymous: ya, confidential: false}"), "set: 'anonymous' is a complaint flag: true or false"),
], ids=["missing required", "filled twice", "wrong type", "unknown field", "not a report type", "flag not boolean"])
def test_field_mistakes_are_reported_with_their_line(change: tuple[str, str], fragment: str) -> None:
    text = TEXT.replace(*change, 1)
    found = messages(text)
    assert any(fragment in message for message in found), found
    assert all(message.startswith("c.yaml:") and message.split(":")[1].isdigit() for message in found)
    with pytest.raises(ScriptInvalid):
        load_script(text, "c.yaml")


def test_a_field_filled_twice_points_at_the_second_step() -> None:
    text = TEXT.replace("    field: title\n", "    field: description\n", 1)
    [found] = [m for m in messages(text) if "already filled" in m]
    assert found.startswith(f"c.yaml:{line_of(text, '  - id: description')}: step 'description':")


def test_a_format_0_script_is_read_by_its_step_ids_with_a_warning() -> None:
    """What the database holds from before formats: conversations pinned to it go on."""
    old = TEXT.replace("format: 1\n", "")
    for line in [line for line in old.splitlines() if line.startswith("    field: ")]:
        old = old.replace(line + "\n", "", 1)
    script = load_script(old, "old.yaml")
    assert script.format == 0 and script.fields["description"] == "description" and script.fields["reporter_name"] == "name"
    assert script.steps["name"].personal
    assert any("no 'format': read as format 0" in w for w in messages(old, "warning"))


def test_a_newer_or_malformed_format_is_refused() -> None:
    assert any("format 2 is newer than this lapor-intake reads (1)" in m
               for m in messages(TEXT.replace("format: 1\n", "format: 2\n")))
    assert any("format must be a whole number" in m for m in messages(TEXT.replace("format: 1\n", "format: satu\n")))
