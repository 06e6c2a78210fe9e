"""Script versions in the database: file import, publishing rules, the per-process cache."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.scripts import ScriptCatalog, sms_warnings, sync_files
from dialogs.loader import ScriptInvalid, load_script
from storage import repository as repo

SHIPPED = Path(__file__).resolve().parents[2] / "dialogs" / "scripts"


def copy_script(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    text = (SHIPPED / "complaint.yaml").read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    folder = tmp_path / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / "complaint.yaml").write_text(text, encoding="utf-8")
    return folder


def test_sync_imports_once_and_publishes_changed_files(db, tmp_path: Path) -> None:
    first = sync_files(db, SHIPPED, repo.utcnow())
    again = sync_files(db, SHIPPED, repo.utcnow())
    assert [(r.script_id, r.version, r.created, r.published) for r in first] == [("complaint", 1, True, True)]
    assert [(r.version, r.created) for r in again] == [(1, False)]
    changed = sync_files(db, copy_script(tmp_path, ("Kategori laporan?", "Kategori?")), repo.utcnow())
    assert [(r.version, r.created, r.published) for r in changed] == [(2, True, True)]
    with db.transaction() as session:
        assert repo.published_script(session, "complaint").version == 2


def test_an_admin_publication_wins_over_a_later_file_change(db, tmp_path: Path) -> None:
    sync_files(db, SHIPPED, repo.utcnow())
    admin_text = (SHIPPED / "complaint.yaml").read_text(encoding="utf-8").replace("Privasi laporan?", "Privasi?")
    with db.transaction() as session:
        repo.add_script_version(session, script_id="complaint", text=admin_text, author="admin1", source="admin",
                                publish=True, now=repo.utcnow())
    result = sync_files(db, copy_script(tmp_path, ("Kategori laporan?", "Kategori?")), repo.utcnow())
    assert [(r.version, r.created, r.published) for r in result] == [(3, True, False)]
    with db.transaction() as session:
        assert repo.published_script(session, "complaint").version == 2


def test_an_invalid_file_changes_nothing(db, tmp_path: Path) -> None:
    sync_files(db, SHIPPED, repo.utcnow())
    with pytest.raises(ScriptInvalid):
        sync_files(db, copy_script(tmp_path, ("type: confirm", "type: confirmation")), repo.utcnow())
    with db.transaction() as session:
        assert [v.version for v in repo.script_versions(session, "complaint")] == [1]


def test_the_catalog_parses_each_version_once(db) -> None:
    sync_files(db, SHIPPED, repo.utcnow())
    catalog = ScriptCatalog(db)
    with db.transaction() as session:
        current = catalog.current(session, "complaint")
        assert catalog.get(session, "complaint", 1) is current
        assert catalog.current(session, "complaint") is current
        with pytest.raises(LookupError):
            catalog.get(session, "complaint", 99)
        with pytest.raises(LookupError, match="no published version"):
            catalog.current(session, "survey")
        edited = repo.script_version(session, "complaint", 1).text + "\n# edited by an admin\n"
        repo.add_script_version(session, script_id="complaint", text=edited, author="ana", source="admin",
                                publish=True, now=repo.utcnow())
        assert catalog.current(session, "complaint").version == 2  # what an admin published since is live at once


def test_the_shipped_script_fits_sms() -> None:
    script = load_script((SHIPPED / "complaint.yaml").read_text(encoding="utf-8"), "complaint.yaml")
    assert sms_warnings(script) == []


def test_a_script_file_that_is_not_utf8_is_refused_with_its_name(tmp_path: Path, db) -> None:
    (tmp_path / "broken.yaml").write_bytes(b"id: broken\n\xff\xfe not utf-8\n")
    with pytest.raises(ScriptInvalid, match="broken.yaml:1: cannot read the file"):
        sync_files(db, tmp_path, repo.utcnow())
