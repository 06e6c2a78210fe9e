"""Signing admins in and out, sessions, roles and CSRF.

- Sessions are Flask's signed cookie (``lapor_admin``): HttpOnly, SameSite=Strict, Secure when
  ``LAPOR_PUBLIC_URL`` is https, eight hours long. They hold the user's id, name, role and a CSRF
  token, never a password.
- Every POST must carry the session's CSRF token (``csrf_token`` field); anything else is 400.
- Failed sign-ins are counted per account: after ``MAX_FAILURES`` the account is locked for
  ``LOCKOUT``. The answer never tells whether the name exists (an unknown name costs the same
  scrypt work as a known one).
- Roles: ``viewer`` reads complaints, ``editor`` edits dialog scripts, ``admin`` does everything
  (including changing a complaint's status).
  ``requires(permission)`` guards each view; sign-ins, lockouts and sign-outs go into the audit log.
"""
from __future__ import annotations

import functools
import hmac
import secrets
from datetime import timedelta
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from bot.admin.passwords import hash_password, verify_password
from storage import repository as repo

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
PERMISSIONS = {
    "complaints": {"viewer", "admin"},
    "complaints-write": {"admin"},
    "scripts": {"editor", "admin"},
    "users": {"admin"},
}


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown names against, made at the first need (scrypt takes 32 MiB)."""
    return hash_password("not-a-real-password-only-for-timing")


class SignInRefused(Exception):
    """Wrong name or password, or a locked account (the message says which only for locks)."""


def sign_in(db, name: str, password: str, now) -> dict[str, Any]:
    """Check the credentials and count failures; the session data of the user, or SignInRefused
    (raised after the failure is committed: a refusal must still count)."""
    refusal = None
    with db.transaction() as s:
        user = repo.admin_user(s, name)
        if user is None:
            verify_password(password, _dummy_hash())  # the same work as for a real account
            repo.add_audit(s, actor=name[:64], action="sign-in-failed", now=now)
            refusal = "wrong name or password"
        elif user.locked_until is not None and user.locked_until > now:
            repo.add_audit(s, actor=user.name, action="sign-in-refused-locked", now=now)
            refusal = f"this account is locked until {user.locked_until:%H:%M} UTC after repeated failures"
        elif not verify_password(password, user.password_hash):
            user.failed_logins += 1
            locked = user.failed_logins >= MAX_FAILURES
            if locked:
                user.failed_logins, user.locked_until = 0, now + LOCKOUT
            repo.add_audit(s, actor=user.name, action="locked" if locked else "sign-in-failed", now=now)
            refusal = "wrong name or password"
        else:
            user.failed_logins, user.locked_until = 0, None
            repo.add_audit(s, actor=user.name, action="sign-in", now=now)
            signed_in = {"id": user.id, "name": user.name, "role": user.role}
    if refusal is not None:
        raise SignInRefused(refusal)
    return signed_in


def start_session(user: dict[str, Any]) -> None:
    session.clear()  # a fresh session: no fixation
    session.permanent = True
    session["admin"] = user
    session["csrf"] = secrets.token_urlsafe(32)


def current_user() -> dict[str, Any] | None:
    return session.get("admin")


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
