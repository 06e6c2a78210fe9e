"""Admin accounts: Argon2id password hashes (older scrypt ones still verify), and `lapor admin
create-user`, `set-role`, `disable`, `enable` and `reset-password` (a password never on the
command line)."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests_support import ROOT, chat_env

from bot.admin.passwords import WeakPassword, check_password, hash_password, verify_password
from storage import repository as repo
from storage.db import Database
from storage.models import AdminSession, AdminUser, AuditEntry

PASSWORD = "kata-sandi-yang-panjang"


def test_a_hash_verifies_only_its_password() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert hash_password(PASSWORD) != stored  # salted


def test_an_older_scrypt_hash_verifies_and_asks_to_be_rehashed() -> None:
    salt = bytes(range(16))
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    stored = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    assert check_password(PASSWORD, stored).ok and check_password(PASSWORD, stored).rehash
    assert not check_password(PASSWORD + "x", stored).ok
    assert check_password(PASSWORD, hash_password(PASSWORD)).rehash is False


@pytest.mark.parametrize("stored", ["", "scrypt$1$2", "bcrypt$1$1$1$00$00", "scrypt$x$8$1$00$00",
                                    "$argon2id$v=19$m=19456,t=2,p=1$broken"])
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert not verify_password(PASSWORD, stored)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(WeakPassword, match="12 characters"):
        hash_password("pendek")


def admin(db_url: str, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "admin", *args], cwd=ROOT,
                          env=chat_env(db_url, LAPOR_ADMIN_PASSWORD=password), capture_output=True, text=True, timeout=60)


def create_user(db_url: str, name: str, role: str, password: str) -> subprocess.CompletedProcess:
    return admin(db_url, "create-user", name, "--role", role, password=password)


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


def test_set_role_disable_enable_and_reset_password(db: Database, db_url: str) -> None:
    assert create_user(db_url, "siti", "viewer", PASSWORD).returncode == 0
    with db.transaction() as session:
        user = session.scalars(select(AdminUser)).one()
        repo.add_admin_session(session, token_hash="a" * 64, user_id=user.id, expires_at=repo.utcnow() + timedelta(hours=1),
                               now=repo.utcnow())
        user.locked_until = repo.utcnow() + timedelta(hours=1)
    assert admin(db_url, "set-role", "siti", "editor").stdout.strip() == "siti is now editor"
    disabled = admin(db_url, "disable", "siti")
    assert disabled.returncode == 0 and "sessions have ended" in disabled.stdout
    with db.transaction() as session:
        user = session.scalars(select(AdminUser)).one()
        assert (user.role, user.disabled) == ("editor", True)
        assert session.scalars(select(AdminSession)).all() == []
    assert admin(db_url, "enable", "siti").returncode == 0
    reset = admin(db_url, "reset-password", "siti", password="kata-sandi-yang-baru")
    assert reset.returncode == 0 and "kata-sandi-yang-baru" not in reset.stdout + reset.stderr
    assert admin(db_url, "reset-password", "siti", password="pendek").returncode == 1
    assert admin(db_url, "disable", "nobody").returncode == 1
    with db.transaction() as session:
        user = session.scalars(select(AdminUser)).one()
        assert not user.disabled and user.locked_until is None
        assert verify_password("kata-sandi-yang-baru", user.password_hash) and not verify_password(PASSWORD, user.password_hash)
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["create-user", "set-role", "disable", "enable", "reset-password"]
