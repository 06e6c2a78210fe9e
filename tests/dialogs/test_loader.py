"""The script loader and checker: a valid script loads; every rejection path names file:line."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dialogs.loader import ScriptInvalid, check_script, load_script
from dialogs.model import AnswerType

COMPLAINT = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"

BASE = """\
format: 1
id: demo
languages: [id, en]
steps:
  - id: kind
    type: choice
    prompt: {id: Pilih jenis, en: Pick a kind}
    summary: {id: Jenis, en: Kind}
    options:
      - value: a
        label: {id: Satu, en: One}
      - value: b
        label: {id: Dua, en: Two}
  - id: note
    type: text
    field: description
    prompt: {id: Tulis catatan, en: Write a note}
    summary: {id: Catatan, en: Note}
  - id: confirm
    type: confirm
    prompt: {id: Periksa, en: Check}
"""


def errors(text: str) -> list[str]:
    return [str(d) for d in check_script(textwrap.dedent(text), source="s.yaml") if d.severity == "error"]


def warnings(text: str) -> list[str]:
    return [str(d) for d in check_script(textwrap.dedent(text), source="s.yaml") if d.severity == "warning"]


def test_base_script_is_clean() -> None:
    assert check_script(BASE, "s.yaml") == []
    script = load_script(BASE, "s.yaml", version=3)
    assert script.version == 3
    assert script.order == ("kind", "note", "confirm")
    assert script.steps["kind"].options[1].number == 2
    assert script.command_words["bantuan"] == "help"


def test_the_default_complaint_script_is_clean() -> None:
    found = check_script(COMPLAINT.read_text(encoding="utf-8"), str(COMPLAINT))
    assert [d for d in found if d.severity == "error"] == []
    script = load_script(COMPLAINT.read_text(encoding="utf-8"), str(COMPLAINT))
    privacy = script.steps["privacy"]
    assert privacy.strict and privacy.type is AnswerType.CHOICE
    assert {o.value: dict(o.sets) for o in privacy.options}["anonymous_confidential"] == {"anonymous": True, "confidential": True}
    assert script.steps["name"].when is not None and script.steps["name"].when.names == {"anonymous"}


def test_load_script_raises_with_every_error() -> None:
    broken = BASE.replace("type: text", "type: txt").replace("en: Two", "fr: Deux")
    with pytest.raises(ScriptInvalid) as caught:
        load_script(broken, "s.yaml")
    text = str(caught.value)
    assert "s.yaml:15: step 'note': unknown type 'txt' (did you mean 'text'?)" in text
    assert "s.yaml:13:" in text and "'fr'" in text


REJECTIONS = [
    # (description, yaml, line, message fragment)
    ("invalid yaml", "id: demo\nsteps: [\n", 3, "invalid YAML"),
    ("aliases", BASE + "extra: &a 1\n", 22, "anchors and aliases"),
    ("not a mapping", "- 1\n- 2\n", 1, "a script is a mapping"),
    ("unknown top key", BASE + "langauges: [id]\n", 22, "unknown field 'langauges' (did you mean 'languages'?)"),
    ("missing id", BASE.replace("id: demo\n", ""), 1, "id missing"),
    ("bad id", BASE.replace("id: demo", "id: Demo Script"), 2, "id 'Demo Script' is not valid"),
    ("no languages", BASE.replace("languages: [id, en]", "languages: []"), 3, "languages: give a list"),
    ("bad language code", BASE.replace("[id, en]", "[id, english]"), 3, "'english' is not a language code"),
    ("duplicate language", BASE.replace("[id, en]", "[id, en, id]"), 3, "'id' is listed twice"),
    ("default language", BASE + "default_language: fr\n", 22, "default_language 'fr' is not one of the languages"),
    ("timezone", BASE + "timezone: Mars/Olympus\n", 22, "unknown timezone 'Mars/Olympus'"),
    ("messages type", BASE + "messages: [1]\n", 22, "messages: expected a mapping"),
    ("message translation", BASE + "messages:\n  welcome: {id: Halo}\n", 23, "message 'welcome' has no text for language 'en'"),
    ("unknown command", BASE + "commands:\n  hlep: {id: [tolong]}\n", 23, "unknown command 'hlep' (did you mean 'help'?)"),
    ("command words", BASE + "commands:\n  help: {id: [[]]}\n", 23, "must be a list of words"),
    ("no steps", "id: demo\nlanguages: [id]\nsteps: []\n", 3, "steps: give a list of steps"),
    ("step not mapping", BASE + "  - just text\n", 22, "each step is a mapping"),
    ("unknown type", BASE.replace("type: text", "type: txt"), 15, "unknown type 'txt' (did you mean 'text'?)"),
    ("unknown step field", BASE.replace("    prompt: {id: Tulis catatan", "    promt: x\n    prompt: {id: Tulis catatan"), 17, "unknown field 'promt' (did you mean 'prompt'?)"),
    ("field of another type", BASE.replace("    prompt: {id: Tulis catatan", "    options: []\n    prompt: {id: Tulis catatan"), 17, "unknown field 'options'"),
    ("duplicate step id", BASE.replace("id: note", "id: kind"), 14, "step id 'kind' is used twice (first on line 5)"),
    ("reserved id", BASE.replace("id: note", "id: end"), 14, "'end' is reserved"),
    ("missing prompt", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", ""), 14, "prompt: missing"),
    ("plain prompt", BASE.replace("{id: Tulis catatan, en: Write a note}", "Tulis catatan"), 17, "give a text per language"),
    ("missing translation", BASE.replace("{id: Tulis catatan, en: Write a note}", "{id: Tulis catatan}"), 17, "step 'note': prompt has no text for language 'en'"),
    ("variants not a list", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", "    prompt: {id: Tulis catatan, en: Write a note}\n    variants: yes\n"), 18, "variants is a list of {when: ..., prompt: ...}"),
    ("variant without when", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", "    prompt: {id: Tulis catatan, en: Write a note}\n    variants:\n      - prompt: {id: A, en: B}\n"), 19, "each variant needs 'when:' and 'prompt:'"),
    ("variant bad condition", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", "    prompt: {id: Tulis catatan, en: Write a note}\n    variants:\n      - when: kind ==\n        prompt: {id: A, en: B}\n"), 19, "bad condition 'kind =='"),
    ("variant unknown name", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", "    prompt: {id: Tulis catatan, en: Write a note}\n    variants:\n      - when: knd == \"a\"\n        prompt: {id: A, en: B}\n"), 19, "uses 'knd', which is no step id"),
    ("variant translation", BASE.replace("    prompt: {id: Tulis catatan, en: Write a note}\n", "    prompt: {id: Tulis catatan, en: Write a note}\n    variants:\n      - when: kind == \"a\"\n        prompt: {id: A}\n"), 19, "a variant's prompt has no text for language 'en'"),
    ("unknown language text", BASE.replace("{id: Tulis catatan, en: Write a note}", "{id: Tulis catatan, en: Write a note, fr: Note}"), 17, "text for 'fr', which is not one of the languages"),
    ("empty text", BASE.replace("{id: Tulis catatan, en: Write a note}", "{id: Tulis catatan, en: ''}"), 17, "the 'en' text is empty"),
    ("missing summary translation", BASE.replace("{id: Catatan, en: Note}", "{id: Catatan}"), 18, "summary has no text for language 'en'"),
    ("no options", BASE.replace("    options:\n      - value: a\n        label: {id: Satu, en: One}\n      - value: b\n        label: {id: Dua, en: Two}\n", "    options: []\n"), 9, "a choice needs a list of options"),
    ("option not mapping", BASE.replace("      - value: b\n        label: {id: Dua, en: Two}\n", "      - Dua\n"), 12, "option 2 must be a mapping"),
    ("bad option number", BASE.replace("      - value: b\n", "      - value: b\n        number: -1\n"), 13, "number must be a whole number from 0 to 99"),
    ("duplicate option number", BASE.replace("      - value: b\n", "      - value: b\n        number: 1\n"), 13, "option number 1 is used twice (also on line 10)"),
    ("duplicate option value", BASE.replace("value: b", "value: a"), 12, "option value 'a' is used twice"),
    ("missing option value", BASE.replace("      - value: b\n", "      - synonyms: {id: [dua]}\n"), 12, "option 2 needs a value"),
    ("option label translation", BASE.replace("{id: Dua, en: Two}", "{id: Dua}"), 12, "step 'kind': option 2 has no label for language 'en'"),
    ("synonyms not per language", BASE.replace("        label: {id: Dua, en: Two}\n", "        label: {id: Dua, en: Two}\n        synonyms: [dua]\n"), 14, "synonyms are given per language"),
    ("synonyms unknown language", BASE.replace("        label: {id: Dua, en: Two}\n", "        label: {id: Dua, en: Two}\n        synonyms: {fr: [deux]}\n"), 14, "synonyms for 'fr'"),
    ("ambiguous synonym", BASE.replace("        label: {id: Dua, en: Two}\n", "        label: {id: Dua, en: Two}\n        synonyms: {en: [one]}\n"), 12, "'one' would match both option 1 and option 2"),
    ("bad set", BASE.replace("      - value: b\n", "      - value: b\n        set: {Bad Name: 1}\n"), 13, "'Bad Name' is not a valid name"),
    ("min above max", BASE.replace("    type: text\n", "    type: text\n    min_length: 50\n    max_length: 10\n"), 16, "min_length is larger than max_length"),
    ("bad length", BASE.replace("    type: text\n", "    type: text\n    max_length: lots\n"), 16, "max_length must be a whole number"),
    ("number min above max", BASE.replace("    type: text\n", "    type: number\n    min: 5\n    max: 1\n"), 16, "min is larger than max"),
    ("number not numeric", BASE.replace("    type: text\n", "    type: number\n    min: five\n"), 16, "min must be a number"),
    ("boolean field", BASE.replace("    type: text\n", "    type: text\n    optional: sometimes\n"), 16, "optional must be true or false"),
    ("next type", BASE.replace("    type: text\n", "    type: text\n    next: {goto: confirm}\n"), 16, "next is a step id, or a list"),
    ("route without goto", BASE.replace("    type: text\n", "    type: text\n    next:\n      - when: true\n"), 17, "each route needs 'goto: <step id>'"),
    ("unknown next", BASE.replace("    type: text\n", "    type: text\n    next: confrim\n"), 16, "next: unknown step 'confrim' (did you mean 'confirm'?)"),
    ("unknown route target", BASE.replace("    type: text\n", "    type: text\n    next:\n      - when: kind == \"a\"\n        goto: nowhere\n      - goto: confirm\n"), 17, "next: unknown step 'nowhere'"),
    ("bad condition", BASE.replace("    type: text\n", "    type: text\n    when: kind ==\n"), 16, "bad condition 'kind =='"),
    ("condition not text", BASE.replace("    type: text\n", "    type: text\n    when: [1]\n"), 16, "a condition is written as text"),
    ("condition unknown name", BASE.replace("    type: text\n", "    type: text\n    when: not anonymus\n"), 16, "uses 'anonymus', which is no step id"),
    ("unknown start", BASE + "start: begin\n", 22, "start: unknown step 'begin'"),
    ("unreachable", BASE.replace("    type: choice\n", "    type: choice\n    next: confirm\n"), 15, "step 'note' can never be reached"),
    ("silent loop", BASE + "  - id: a1\n    type: message\n    prompt: {id: A, en: A}\n    next: a2\n  - id: a2\n    type: message\n    prompt: {id: B, en: B}\n    next: a1\n", 22, "loop a1 -> a2 -> a1 never asks a question"),
    ("conditional loop", BASE.replace("    type: confirm\n", "    type: text\n    when: note == \"x\"\n    next: confirm\n"), 19, "loop confirm -> confirm never asks"),
    ("nul", BASE + "\x00", 1, "NUL character"),
    ("tags", BASE + "extra: !!binary aGVsbG8=\n", 22, "YAML tags"),
    ("duplicate key", BASE + "id: again\n", 22, "duplicate key 'id'"),
]


@pytest.mark.parametrize("text, line, fragment", [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS])
def test_every_rejection_names_file_and_line(text: str, line: int, fragment: str) -> None:
    found = errors(text)
    assert any(message.startswith(f"s.yaml:{line}: ") and fragment in message for message in found), found
    with pytest.raises(ScriptInvalid):
        load_script(text, "s.yaml")


def test_huge_and_deep_documents_are_refused() -> None:
    assert "larger than 256 KB" in errors("a: '" + "x" * 300_000 + "'\n")[0]
    deep = "a: " + "[" * 40 + "]" * 40 + "\n"
    assert "nesting deeper than" in errors(deep)[0]


def test_billion_laughs_is_refused_quickly() -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8)
    )
    assert "anchors and aliases" in errors(bomb)[0]


WARNINGS = [
    ("number-like synonym", BASE.replace("        label: {id: Dua, en: Two}\n", "        label: {id: Dua, en: Two}\n        synonyms: {id: ['7']}\n"), 12, "looks like a number"),
    ("optional without effect", BASE.replace("    type: choice\n", "    type: choice\n    optional: true\n"), 7, "'optional' has no effect"),
    ("empty summary", BASE.replace("    summary: {id: Jenis, en: Kind}\n", "").replace("    summary: {id: Catatan, en: Note}\n", ""), 1, "no step has a 'summary' label"),
]


@pytest.mark.parametrize("text, line, fragment", [case[1:] for case in WARNINGS], ids=[case[0] for case in WARNINGS])
def test_warnings_do_not_block_loading(text: str, line: int, fragment: str) -> None:
    found = warnings(text)
    assert any(message.startswith(f"s.yaml:{line}: warning: ") and fragment in message for message in found), found
    assert errors(text) == []
    load_script(text, "s.yaml")


def test_yaml_yes_and_no_stay_words() -> None:
    text = BASE.replace("        label: {id: Dua, en: Two}\n", "        label: {id: Dua, en: Two}\n        synonyms: {en: [no, off]}\n")
    script = load_script(text, "s.yaml")
    assert script.steps["kind"].options[1].synonyms["en"] == ("no", "off")


def test_command_renames_apply() -> None:
    script = load_script(BASE + "commands:\n  help: {id: [tolonglah]}\n", "s.yaml")
    assert script.command_words["tolonglah"] == "help"
    assert "bantuan" not in script.command_words
    assert script.command_words["help"] == "help"
