"""/admin/users: the accounts (roles, locks, with a lock and an unlock) and the audit log. Admins
only. Accounts are created, given roles, disabled and reset with `lapor admin ...` (a password
never passes through this page). A lock takes effect on the account's next request."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from bot.admin.auth import requires
from storage import repository as repo

LOCK = timedelta(hours=24)

bp = Blueprint("users", __name__, url_prefix="/users")


def _db():
    return current_app.extensions["lapor"].db


@bp.get("/")
@requires("users")
def index() -> ResponseReturnValue:
    with _db().reading() as s:
        users = repo.admin_users(s)
        audit = repo.recent_audit(s)
    return render_template("admin/users.html", users=users, audit=audit, now=repo.utcnow())


@bp.post("/<int:user_id>/unlock")
@requires("users")
def unlock(user_id: int) -> ResponseReturnValue:
    now = repo.utcnow()
    with _db().transaction() as s:
        try:
            user = repo.unlock_admin_user(s, user_id, now)
        except LookupError:
            abort(404)
        repo.add_audit(s, actor=g.user["name"], action="unlock", target=user.name, now=now)
        name = user.name
    flash(f"Akun {name} dibuka kembali.")
    return redirect(url_for("admin.users.index"))


@bp.post("/<int:user_id>/lock")
@requires("users")
def lock(user_id: int) -> ResponseReturnValue:
    now = repo.utcnow()
    if user_id == g.user["id"]:
        abort(400, "you cannot lock your own account")
    with _db().transaction() as s:
        try:
            user = repo.lock_admin_user(s, user_id, until=now + LOCK, now=now)
        except LookupError:
            abort(404)
        repo.add_audit(s, actor=g.user["name"], action="lock", target=user.name, now=now)
        name = user.name
    flash(f"Akun {name} dikunci 24 jam; sesinya berakhir.")
    return redirect(url_for("admin.users.index"))
