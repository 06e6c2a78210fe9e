"""/admin/users: the accounts (roles, lockouts, with an unlock) and the audit log. Admins only.
Accounts are created with `lapor admin create-user` (the password never passes through a page)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from bot.admin.auth import requires
from storage import repository as repo

bp = Blueprint("users", __name__, url_prefix="/users")


def _db():
    return current_app.extensions["lapor"].db


@bp.get("/")
@requires("users")
def index() -> ResponseReturnValue:
    with _db().transaction() as s:
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
