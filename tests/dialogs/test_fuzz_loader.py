"""Property-based fuzzing of the dialog script loader: hostile input is refused quickly, with file:line.

Proven with hypothesis for random text, random bytes (invalid UTF-8, read as a file by
``lapor dialogs check``), YAML bombs, deep nesting, documents over the size limit, Python and
other tags, control characters, HTML, and random mutations of the real
``dialogs/scripts/complaint.yaml`` (lines deleted, duplicated and swapped, characters changed):

* ``check_script`` returns diagnostics and never raises; ``load_script`` returns a Script when
  there is no error and otherwise raises ``ScriptInvalid`` carrying exactly those errors; no
  other exception ever escapes either;
* each example is done in under 2 s: a bomb is refused at its first anchor, never expanded, and
  deep nesting is refused without recursing into it;
* every diagnostic names the file and a line that exists in it (1 up to the last line);
* a refused tag never runs anything, and HTML in a prompt is kept as written.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from unittest import mock

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.scripts import check_file
from dialogs.diagnostics import Diagnostic
from dialogs.loader import ScriptInvalid, check_script, load_script
from dialogs.yamlsrc import MAX_BYTES, MAX_DEPTH

COMPLAINT = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"
COMPLAINT_TEXT = COMPLAINT.read_text(encoding="utf-8")
COMPLAINT_LINES = COMPLAINT_TEXT.splitlines(keepends=True)
FIRST_PROMPT = "      id: Jenis laporan Anda?\n"  # the Indonesian prompt of the first step
SOURCE = "fuzz/script.yaml"
TIME_LIMIT = 2.0  # seconds for one example: checking and loading

SCALE = int(os.environ.get("LAPOR_FUZZ_SCALE", "1"))  # `make bench` runs ten times as many examples
FUZZ = settings(max_examples=150 * SCALE, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(FUZZ, max_examples=50 * SCALE)  # examples that take some 50 ms each


def last_line(text: str) -> int:
    """The highest line number a diagnostic may name: the last line, or the one after a final
    line break (str.splitlines knows every line break YAML does, and a few more)."""
    return len(text.splitlines()) + 1


def check(text: str) -> list[Diagnostic]:
    """Check and load ``text`` and assert every promise of the loader; return the diagnostics."""
    started = time.monotonic()
    diagnostics = check_script(text, SOURCE)
    errors = [d for d in diagnostics if d.severity == "error"]
    try:
        load_script(text, SOURCE)
    except ScriptInvalid as invalid:
        assert errors, "load_script refused a script check_script found no error in"
        assert [d for d in invalid.diagnostics if d.severity == "error"] == errors
    else:
        assert not errors, "load_script loaded a script with errors"
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT, f"took {elapsed:.2f} s"
    assert_located(diagnostics, SOURCE, last_line(text))
    return diagnostics


def assert_located(diagnostics: list[Diagnostic], source: str, last: int) -> None:
    for diagnostic in diagnostics:
        assert diagnostic.file == source, diagnostic
        assert 1 <= diagnostic.line <= last, diagnostic
        assert str(diagnostic).startswith(f"{source}:{diagnostic.line}: ")


def messages(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.message for d in diagnostics if d.severity == "error"]


# -- strategies ----------------------------------------------------------------------------------

# YAML's own punctuation, so that random text is often nearly YAML, plus what an attacker adds.
YAML_ALPHABET = st.one_of(
    st.sampled_from(list("-:[]{}&*!|>'\"#%@`,?\n\n\n  \t\\") + ["  ", "- ", ": ", "\r\n", "<<", "---", "..."]),
    st.characters(),  # any code point, lone surrogates and control characters included
    st.sampled_from(["id", "steps", "type", "prompt", "choice", "next", "when", "goto", "options", "value"]),
)
YAMLISH = st.lists(YAML_ALPHABET, max_size=300).map("".join)
NASTY = st.sampled_from([
    "<script>alert(1)</script>", "\x00", "\x07\x1b[2J", "\u202e", "\ufeff", "\x85", "\u2028", "😀", "\ud800",
    "!!python/object/apply:os.system ['true']", "&a", "*a", "<<: *a", "%TAG ! tag:x,2000:\n", "---\n", "\t",
    "? ", "|\n", "'", '"', "{{", "}}", "\\", "=", "2024-13-45", ".nan", "~",
])
CHANGE = st.one_of(st.characters(), st.sampled_from(list(":-[]{}&*!|>'\"# \t\n")), NASTY,
                   st.just(5000).map(lambda digits: "9" * digits))  # an integer int() refuses to read
HTML = ("<script>alert(1)</script>", "<b onmouseover=\"x()\">&amp;</b>", "<img src=x onerror=alert(1)>")
PYTHON_TAG_DIRECTIVE = "%TAG !py! tag:yaml.org,2002:python/object/apply:\n---\n"  # !py!os.system is a Python tag
DANGEROUS_TAGS = st.sampled_from([
    "!!python/object/apply:os.system ['touch /tmp/pwned']",
    "!!python/object/new:os.system ['touch /tmp/pwned']",
    "!!python/name:os.system",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch /tmp/pwned']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!str 1",
    "!custom value",
])


@st.composite
def mutated_complaint(draw: st.DrawFn) -> str:
    """complaint.yaml after 1-6 random edits: lines deleted, duplicated or swapped, characters
    replaced or inserted."""
    lines = list(COMPLAINT_LINES)
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(("delete", "duplicate", "swap", "replace", "insert")))
        if edit == "delete":  # at most 6 of the script's 164 lines: never all of them
            del lines[index]
        elif edit == "duplicate":
            lines.insert(index, lines[index])
        elif edit == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            after = at + 1 if edit == "replace" else at
            lines[index] = line[:at] + draw(CHANGE) + line[after:]
    return "".join(lines)


def bomb(width: int, levels: int, block: bool) -> str:
    """Billion laughs: each level lists the one before ``width`` times (width ** levels "lol"s)."""
    def items(values: list[str]) -> str:
        return "".join(f"\n  - {value}" for value in values) if block else " [" + ", ".join(values) + "]"

    lines = [f"l0: &l0{items(['lol'] * width)}"]
    lines += [f"l{level}: &l{level}{items([f'*l{level - 1}'] * width)}" for level in range(1, levels)]
    return "\n".join(lines) + "\n"


# -- random input --------------------------------------------------------------------------------

@FUZZ
@given(text=st.one_of(st.text(st.characters(), max_size=2000), YAMLISH))
def test_random_text_gets_diagnostics_never_an_exception(text: str) -> None:
    check(text)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=2000), st.binary(max_size=200).map(lambda junk: COMPLAINT_TEXT.encode() + junk)))
def test_random_bytes_and_invalid_utf8_are_refused_with_file_and_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "script.yaml"
    path.write_bytes(raw)
    started = time.monotonic()
    diagnostics = check_file(path)  # what `lapor dialogs check` runs: it reads the bytes itself
    assert time.monotonic() - started < TIME_LIMIT
    assert_located(diagnostics, str(path), last_line(raw.decode("utf-8", "replace")))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert [d.message for d in diagnostics][0].startswith("cannot read the file")
    # the same bytes as text that kept them: undecodable bytes become lone surrogates
    check(raw.decode("utf-8", "surrogateescape"))


@settings(FUZZ, max_examples=300 * SCALE)
@given(script=mutated_complaint())
def test_mutations_of_the_complaint_script_load_or_name_the_line(script: str) -> None:
    check(script)


# -- attacks -------------------------------------------------------------------------------------

@FUZZ
@given(width=st.integers(2, 30), levels=st.integers(2, 12), block=st.booleans(), after_script=st.booleans())
def test_yaml_bombs_are_refused_at_the_first_anchor(width: int, levels: int, block: bool, after_script: bool) -> None:
    prefix = COMPLAINT_TEXT if after_script else ""
    found = check(prefix + bomb(width, levels, block))
    first = found[0]
    assert first.message == "anchors and aliases (& and *) are not allowed"
    assert first.line == prefix.count("\n") + 1  # the line of "l0: &l0", where the bomb starts


@SLOW
@example(depth=10_000, opener="[", closed=False)
@example(depth=10_000, opener="[", closed=True)
@given(depth=st.integers(MAX_DEPTH + 2, 10_000), opener=st.sampled_from(["[", "{a: ", "- ", "[{a: [", "{? "]),
       closed=st.booleans())
def test_deep_nesting_is_refused_without_recursing(depth: int, opener: str, closed: bool) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": "", "[{a: [": "]}]", "{? ": "}"}[opener]
    text = opener * depth + "x" + (closer * depth if closed else "") + "\n"
    assert messages(check(text)) == [f"nesting deeper than {MAX_DEPTH} levels"]


def test_nesting_within_the_limit_is_read() -> None:
    text = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    assert not any("nesting" in message for message in messages(check(text)))


@FUZZ
@given(extra=st.integers(1, 4096), filler=st.sampled_from(["x", "é", "😀", "# comment\n", "- x\n"]))
def test_documents_over_the_size_limit_are_refused_at_line_one(extra: int, filler: str) -> None:
    text = "a: |\n  " + filler * ((MAX_BYTES + extra) // len(filler.encode()))
    assert len(text.encode()) > MAX_BYTES  # in bytes: "😀" is one character and four bytes
    assert [(d.line, d.message) for d in check(text)] == [(1, f"the script is larger than {MAX_BYTES // 1024} KB")]


@FUZZ
@given(tag=st.one_of(DANGEROUS_TAGS.map(lambda tag: ("", tag)), st.just((PYTHON_TAG_DIRECTIVE, "!py!os.system ['true']"))),
       line=st.integers(0, len(COMPLAINT_LINES)))
def test_tags_are_refused_and_never_run(tag: tuple[str, str], line: int) -> None:
    directive, value = tag
    lines = list(COMPLAINT_LINES)
    lines.insert(line, f"pwned: {value}\n")
    with mock.patch.object(os, "system") as system:
        found = check(directive + "".join(lines))
    system.assert_not_called()
    assert any(message.startswith(("YAML tags such as", "invalid YAML")) for message in messages(found)), found


@SLOW
@given(prompt=st.one_of(st.sampled_from(HTML), st.text(st.characters(), min_size=1, max_size=200)))
def test_control_characters_and_html_in_a_prompt_are_kept_or_refused(prompt: str) -> None:
    quoted = yaml.safe_dump(prompt, allow_unicode=True, width=float("inf"), default_style='"')  # escapes what it must
    text = COMPLAINT_TEXT.replace(FIRST_PROMPT, f"      id: {quoted}")
    found = messages(check(text))
    if not found:
        assert load_script(text, SOURCE).steps["report_type"].prompt["id"] == prompt.strip()
    elif not prompt.strip():
        assert "step 'report_type': prompt: the 'id' text is empty" in found
    else:  # the one thing refused in a non-blank prompt: what no database can store
        assert any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in prompt), found
        assert found == ["text may not contain NUL (\\0) or a lone surrogate (\\ud800)"]
    if prompt in HTML:  # escaping HTML is the business of whatever displays it: it loads as written
        assert not found
