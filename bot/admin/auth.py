"""Signing admins in and out: server-side sessions, throttled sign-ins, roles and CSRF.

- **Sessions** live in the database (``admin_sessions``). The cookie (``lapor_admin``: HttpOnly,
  SameSite=Strict, Secure when ``LAPOR_PUBLIC_URL`` is https) carries a random token, and the
  database only its SHA-256. Every request reads the account afresh: after sign-out the old
  cookie is refused, and disabling, locking or changing the role of an account takes effect on
  its next request. Sessions end after ``SESSION_LIFETIME``.
- **CSRF**: every POST must carry the session's token (``csrf_token`` field); anything else is 400.
- **Sign-in** never checks a password inside a database transaction (on SQLite that would hold
  the write lock every webhook needs). Failures are counted per client address
  (``ADDRESS_LIMIT`` in ``WINDOW``) and per address and name (``NAME_LIMIT``): past either, that
  address gets 429 with Retry-After *before* any hashing, so a flood costs little: each process
  also remembers the blocks it has seen (``BlockedAddresses``), so that a blocked address is
  answered without a database read or a page to render. Failures from
  one address never lock the account for another. An unknown name costs the same hashing and
  gets the same answer as a wrong password; only known accounts' failures are audited, so
  guesses at names cannot grow the audit log.
- **Roles**: ``viewer`` reads complaints, ``editor`` edits dialog scripts, ``admin`` does
  everything. ``requires(permission)`` guards each view.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from bot.admin.passwords import Verdict, check_password, dummy_hash, hash_password
from storage import repository as repo
from storage.db import Database
from storage.models import AdminUser

SESSION_LIFETIME = timedelta(hours=8)
WINDOW = timedelta(minutes=15)
ADDRESS_LIMIT = 10  # failed sign-ins from one address in WINDOW, whatever the names
NAME_LIMIT = 5  # failed sign-ins for one name from one address in WINDOW
PERMISSIONS = {
    "complaints": {"viewer", "admin"},
    "complaints-write": {"admin"},
    "scripts": {"editor", "admin"},
    "users": {"admin"},
}


class SignInRefused(Exception):
    """Wrong name or password, or an account that may not sign in now; ``retry_after`` (seconds)
    when the address must wait (429)."""

    def __init__(self, reason: str, retry_after: int | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the cookie's token, and who it is."""

    token: str
    user: dict[str, Any]


class BlockedAddresses:
    """What this process has learnt from the database about throttled counters: key -> until.

    A cache of the database's truth (a block only ever ends with its time), bounded to
    ``limit`` keys; another process that has not seen a block reads it from the database.
    """

    def __init__(self, limit: int = 10_000):
        self._until: dict[str, datetime] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def remember(self, key: str, until: datetime) -> None:
        with self._lock:
            if len(self._until) >= self._limit:
                self._until.clear()  # a flood of addresses: start over rather than grow
            self._until[key] = until

    def wait(self, keys: tuple[str, ...], now: datetime) -> int | None:
        """Seconds until every one of ``keys`` that is blocked frees up, None if none is."""
        with self._lock:
            until = [self._until[k] for k in keys if k in self._until and self._until[k] > now]
        return math.ceil((max(until) - now).total_seconds()) if until else None


def throttle_keys(secret: str, address: str, name: str) -> tuple[str, str]:
    """Keyed hashes naming the failure counters of ``address`` and of (``address``, ``name``):
    neither the address nor the name is stored."""
    key = secret.encode()
    return (hmac.new(key, f"address\0{address}".encode(), hashlib.sha256).hexdigest(),
            hmac.new(key, f"name\0{address}\0{name.casefold()}".encode(), hashlib.sha256).hexdigest())


def _throttled(seconds: int) -> SignInRefused:
    return SignInRefused(f"too many failed sign-ins from your address; try again in {seconds // 60 + 1} minutes",
                         retry_after=seconds)


class SignInDesk:
    """Checks credentials and opens sessions for one app: its database, the secret that keys the
    throttle's counters, and the blocks this process has seen."""

    def __init__(self, db: Database, secret: str):
        self._db = db
        self._secret = secret
        self._blocked = BlockedAddresses()

    def wait(self, address: str, now: datetime) -> int | None:
        """Seconds ``address`` must still wait before it may try again, as far as this process
        knows (the login page then answers 429 at once, with nothing to render)."""
        return self._blocked.wait((throttle_keys(self._secret, address, "")[0],), now)

    def check(self, name: str, password: str, address: str, now: datetime) -> tuple[AdminUser, Verdict]:
        """The account whose password this is, from ``address``, or SignInRefused (after the
        failure is committed: a refusal must still count). A read, then the password check
        outside any transaction, then (on a failure) a short write."""
        address_key, name_key = throttle_keys(self._secret, address, name)
        if (seconds := self._blocked.wait((address_key, name_key), now)) is not None:
            raise _throttled(seconds)
        with self._db.reading() as s:
            counted = repo.throttles(s, (address_key, name_key))
            user = repo.admin_user(s, name)
        for key, row in counted.items():
            if row.blocked_until is not None and row.blocked_until > now:
                self._blocked.remember(key, row.blocked_until)
        if (seconds := self._blocked.wait((address_key, name_key), now)) is not None:
            raise _throttled(seconds)
        verdict = check_password(password, user.password_hash if user is not None else dummy_hash())
        if user is None or not verdict.ok:
            self._count_failure(user, address, address_key, name_key, now)
            raise SignInRefused("wrong name or password")
        return user, verdict

    def sign_in(self, name: str, password: str, address: str, now: datetime) -> SignedIn:
        """Check the credentials from ``address`` (``check``) and open a session, or raise
        SignInRefused. An older hash is replaced by an Argon2id one, made outside the write."""
        user, verdict = self.check(name, password, address, now)
        if refusal := _may_not_sign_in(user, now):
            raise SignInRefused(refusal)
        rehashed = hash_password(password) if verdict.rehash else None
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as s:
            account = s.get_one(AdminUser, user.id)
            account.failed_logins = 0
            if rehashed is not None:
                account.password_hash = rehashed
            repo.clear_throttle(s, throttle_keys(self._secret, address, name)[1])
            repo.prune_sign_ins(s, now)
            repo.add_admin_session(s, token_hash=_digest(token), user_id=user.id,
                                   expires_at=now + SESSION_LIFETIME, now=now)
            repo.add_audit(s, actor=user.name, action="sign-in", detail={"rehashed": True} if rehashed else None,
                           now=now)
        return SignedIn(token, {"id": user.id, "name": user.name, "role": user.role})

    def _count_failure(self, user: AdminUser | None, address: str, address_key: str, name_key: str,
                       now: datetime) -> None:
        with self._db.transaction() as s:
            by_address = repo.count_failure(s, address_key, limit=ADDRESS_LIMIT, window=WINDOW, block=WINDOW, now=now)
            by_name = repo.count_failure(s, name_key, limit=NAME_LIMIT, window=WINDOW, block=WINDOW, now=now)
            blocks = [(row.key, row.blocked_until) for row in (by_address, by_name) if row.blocked_until is not None]
            if user is not None:  # bounded: NAME_LIMIT per address and window
                s.get_one(AdminUser, user.id).failed_logins += 1
                repo.add_audit(s, actor=user.name, action="sign-in-failed", detail={"address": address}, now=now)
            if by_address.failures == ADDRESS_LIMIT or (user is not None and by_name.failures == NAME_LIMIT):
                repo.add_audit(s, actor=user.name if user is not None else "-", action="sign-in-throttled",
                               detail={"address": address}, now=now)
        for key, until in blocks:  # after the commit: only what the database holds is remembered
            self._blocked.remember(key, until)


def desk() -> SignInDesk:
    """The current app's SignInDesk (made at its first use)."""
    extensions = current_app.extensions
    if "lapor_sign_in" not in extensions:
        services = extensions["lapor"]
        extensions.setdefault("lapor_sign_in", SignInDesk(services.db, services.settings.secret_key))
    return extensions["lapor_sign_in"]


def _may_not_sign_in(user: AdminUser, now: datetime) -> str | None:
    """Why an account with the right password still may not sign in (or use its session)."""
    if user.disabled:
        return "this account is disabled"
    if user.locked_until is not None and user.locked_until > now:
        return f"this account is locked until {user.locked_until:%Y-%m-%d %H:%M} UTC"
    return None


def start_session(signed_in: SignedIn) -> None:
    session.clear()  # a fresh session: no fixation
    session.permanent = True
    session["sid"] = signed_in.token
    session["csrf"] = secrets.token_urlsafe(32)


def end_session(db: Database) -> None:
    """Sign this browser out: its session row is deleted, so its cookie is worthless."""
    if token := session.get("sid"):
        with db.transaction() as s:
            repo.end_admin_session(s, _digest(token))
    session.clear()


def session_token_hash() -> str | None:
    """The stored form of this browser's session token, if it has one."""
    token = session.get("sid")
    return _digest(token) if token else None


def current_user() -> dict[str, Any] | None:
    """The signed-in account, read from the database once per request: None without a session,
    after sign-out or expiry, and for an account disabled or locked meanwhile."""
    if "admin_user" not in g:
        g.admin_user = _load_user()
    return g.admin_user


def _load_user() -> dict[str, Any] | None:
    token_hash = session_token_hash()
    if token_hash is None:
        return None
    now = repo.utcnow()
    with current_app.extensions["lapor"].db.reading() as s:
        user = repo.admin_session_user(s, token_hash, now)
    if user is None or _may_not_sign_in(user, now):
        return None
    return {"id": user.id, "name": user.name, "role": user.role}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token() -> str:
    """The session's CSRF token (for forms); one is made for a visitor who has none yet."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Abort 400 for a POST without the session's token (call before any POST is handled)."""
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, "the form has expired or did not come from this site; please try again")


def can(permission: str) -> bool:
    user = current_user()
    return user is not None and user["role"] in PERMISSIONS[permission]


def requires(permission: str | None = None) -> Callable:
    """A view for signed-in users (with ``permission``, when given): others are sent to sign in,
    or get 403."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("admin.login", next=request.full_path))
            if permission is not None and not can(permission):
                abort(403)
            g.user = user
            return view(*args, **kwargs)
        return guarded
    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path under /admin, never another site."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.index")
