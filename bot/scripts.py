"""Dialog scripts at run time: the versions in the database, parsed once per process.

A conversation is pinned to the (script id, version) it started on. Parsing happens once per
version per process (``ScriptCatalog``); the per-message path only does a dict look-up. The
YAML files under ``dialogs/scripts/`` seed the database (``sync_files``); versions published by
admins win over later file changes.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from channels.sms import MAX_SEGMENTS, non_gsm7, sms_size
from dialogs.diagnostics import Diagnostic
from dialogs.engine import question
from dialogs.loader import ScriptInvalid, check_script, load_script
from dialogs.model import AnswerType, DialogState, Script
from storage import repository as repo
from storage.db import Database


class ScriptCatalog:
    """Parsed scripts by (id, version), shared by all threads of a process."""

    def __init__(self, db: Database):
        self._db = db
        self._parsed: dict[tuple[str, int], Script] = {}
        self._lock = threading.Lock()

    def get(self, session, script_id: str, version: int) -> Script:
        """The pinned version of a script (parsed on first use, then cached)."""
        key = (script_id, version)
        script = self._parsed.get(key)
        if script is None:
            row = repo.script_version(session, script_id, version)
            if row is None:
                raise LookupError(f"script {script_id} version {version} is not in the database")
            script = self._remember(key, row.text)
        return script

    def current(self, session, script_id: str) -> Script:
        """The live (highest published) version, for a conversation that starts now: its number
        is read at each call (an admin may have published one since), its text only when that
        version is new to this catalog."""
        version = repo.published_version(session, script_id)
        if version is None:
            raise LookupError(f"script '{script_id}' has no published version; run `lapor db upgrade`")
        return self.get(session, script_id, version)

    def _remember(self, key: tuple[str, int], text: str) -> Script:
        script = load_script(text, source=f"{key[0]} v{key[1]}", version=key[1])
        with self._lock:
            return self._parsed.setdefault(key, script)


@dataclass(frozen=True, slots=True)
class SyncResult:
    script_id: str
    version: int
    created: bool
    published: bool


def sync_files(db: Database, directory: Path, now) -> list[SyncResult]:
    """Import every ``*.yaml`` script whose text is not in the database yet.

    A changed file becomes a new version. It is published when the live version also came
    from a file; when an admin has published since, the file version waits as a draft.
    Invalid files raise dialogs.loader.ScriptInvalid and change nothing.
    """
    results: list[SyncResult] = []
    for path in sorted(directory.glob("*.yaml")):
        text = _read(path)
        script = load_script(text, source=str(path))
        digest = hashlib.sha256(text.encode()).hexdigest()
        with db.transaction() as session:
            repo.lock_script(session, script.id)  # concurrent imports must not store a file twice
            versions = repo.script_versions(session, script.id)
            known = next((v for v in versions if v.sha256 == digest), None)
            if known is not None:
                results.append(SyncResult(script.id, known.version, False, known.published))
                continue
            live = repo.published_script(session, script.id)
            publish = live is None or live.source == "file"
            row = repo.add_script_version(session, script_id=script.id, text=text, author="file", source="file",
                                          publish=publish, now=now)
            results.append(SyncResult(script.id, row.version, True, publish))
    return results


def _read(path: Path) -> str:
    """A script file's text; ScriptInvalid (file:1) when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptInvalid([Diagnostic(str(path), 1, f"cannot read the file: {exc}")]) from None


def check_file(path: Path) -> list[Diagnostic]:
    """`lapor dialogs check`: the loader's errors and warnings, plus SMS warnings."""
    try:
        text = _read(path)
    except ScriptInvalid as exc:
        return exc.diagnostics
    return check_text(text, str(path))


def check_text(text: str, source: str) -> list[Diagnostic]:
    """What `lapor dialogs check` says of a script's text (the admin editor uses it too)."""
    diagnostics = check_script(text, source=source)
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics += sms_warnings(load_script(text, source=source))
    return sorted(diagnostics, key=lambda d: (d.line, d.severity != "error"))


def save_draft(db: Database, script_id: str, text: str, author: str, now) -> tuple[int | None, list[Diagnostic]]:
    """Store an admin's edit as a new, unpublished version: (its number, warnings). With any
    error, nothing is stored: (None, every finding). The text must keep the script's id."""
    source = f"{script_id}.yaml"
    diagnostics = check_text(text, source)
    if not any(d.severity == "error" for d in diagnostics):
        found = load_script(text, source=source).id
        if found != script_id:
            diagnostics.insert(0, Diagnostic(source, 1, f"the id must stay '{script_id}' (it says '{found}')"))
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    with db.transaction() as session:
        row = repo.add_script_version(session, script_id=script_id, text=text, author=author, source="admin",
                                      publish=False, now=now)
        repo.add_audit(session, actor=author, action="script-save", target=f"{script_id} v{row.version}", now=now)
        return row.version, diagnostics


def make_live(db: Database, script_id: str, version: int, author: str, now, action: str = "script-publish") -> int:
    """Make a version's text the live one, without a restart: every process reads the live
    version per new conversation. The highest version is simply published; an older one (a
    rollback) is copied into a new published version, so history only grows. Conversations
    already running stay on their version. Returns the live version number."""
    with db.transaction() as session:
        repo.lock_script(session, script_id)
        versions = repo.script_versions(session, script_id)
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            raise LookupError(f"script {script_id!r} has no version {version}")
        if chosen.version == versions[-1].version:
            live = repo.publish_version(session, script_id, version, now)
        else:
            live = repo.add_script_version(session, script_id=script_id, text=chosen.text, author=author,
                                           source="admin", publish=True, now=now)
        repo.add_audit(session, actor=author, action=action, target=f"{script_id} v{live.version}",
                       detail={"from_version": version}, now=now)
        return live.version


def sms_warnings(script: Script) -> list[Diagnostic]:
    """Prompts that leave the GSM-7 alphabet or need more than MAX_SEGMENTS segments.

    The measured text is what the citizen receives: the prompt with its numbered menu.
    """
    found: list[Diagnostic] = []
    for step in script.steps.values():
        if step.type is AnswerType.CONFIRM:
            continue  # the summary's length depends on the answers
        for lang in script.languages:
            state = DialogState(script.id, script.version, lang, step.id)
            text = question(script, state).text  # exactly what the engine sends
            _check_sms(found, script.source, step.line, f"step '{step.id}' ({lang})", text)
    for key in ("welcome", "submitted"):
        for lang in script.languages:
            _check_sms(found, script.source, 1, f"message '{key}' ({lang})",
                       script.text(key, lang, tracking_number="LAP-XXXXXX"))
    return found


def _check_sms(found: list[Diagnostic], source: str, line: int, where: str, text: str) -> None:
    odd = non_gsm7(text)
    if odd:
        shown = ", ".join(repr(ch) for ch in odd[:5])
        found.append(Diagnostic(source, line, f"{where}: characters outside GSM-7 ({shown}) make the SMS UCS-2, "
                                              "with 70 characters per segment", "warning"))
    size = sms_size(text)
    if size.segments > MAX_SEGMENTS:
        found.append(Diagnostic(source, line, f"{where}: {size.units} characters need {size.segments} SMS segments "
                                              f"(more than {MAX_SEGMENTS})", "warning"))
