"""Admin accounts: scrypt password hashes, and `lapor admin create-user` (the password never on
the command line)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.admin.passwords import WeakPassword, hash_password, verify_password
from storage.db import Database
from storage.models import AdminUser, AuditEntry
from tests_support import ROOT, chat_env

PASSWORD = "kata-sandi-yang-panjang"


def test_a_hash_verifies_only_its_password() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$32768$8$1$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert hash_password(PASSWORD) != stored  # salted


@pytest.mark.parametrize("stored", ["", "scrypt$1$2", "bcrypt$1$1$1$00$00", "scrypt$x$8$1$00$00"])
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert not verify_password(PASSWORD, stored)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(WeakPassword, match="12 characters"):
        hash_password("pendek")


def create_user(db_url: str, name: str, role: str, password: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "admin", "create-user", name, "--role", role],
                          cwd=ROOT, env=chat_env(db_url, LAPOR_ADMIN_PASSWORD=password), capture_output=True,
                          text=True, timeout=60)


def test_create_user_stores_a_hash_and_audits_it(db: Database, db_url: str) -> None:
    done = create_user(db_url, "siti", "editor", PASSWORD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "created editor siti"
    assert PASSWORD not in done.stdout + done.stderr
    with db.transaction() as session:
        user = session.scalars(select(AdminUser)).one()
        assert (user.name, user.role, user.failed_logins, user.locked_until) == ("siti", "editor", 0, None)
        assert verify_password(PASSWORD, user.password_hash)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.target, entry.detail) == ("cli", "create-user", "siti",
                                                                           {"role": "editor"})


def test_create_user_refuses_a_taken_name_or_a_weak_password(db: Database, db_url: str) -> None:
    assert create_user(db_url, "siti", "admin", PASSWORD).returncode == 0
    taken = create_user(db_url, "siti", "viewer", PASSWORD)
    assert taken.returncode == 1 and "already a user siti" in taken.stderr
    weak = create_user(db_url, "budi", "viewer", "pendek")
    assert weak.returncode == 1 and "12 characters" in weak.stderr
    with db.transaction() as session:
        assert [u.name for u in session.scalars(select(AdminUser))] == ["siti"]
