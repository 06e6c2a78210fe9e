"""/admin/account: a signed-in user changes their own password (every role).

The current password is checked like a sign-in (outside any transaction, and throttled per
address: a stolen session cannot guess it); the new one must pass ``hash_password``'s rules.
Every other session of the account ends, and the change is audited.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.admin.auth import SignInRefused, desk, requires, session_token_hash
from bot.admin.passwords import WeakPassword, hash_password
from storage import repository as repo
from storage.models import AdminUser

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@requires()
def password() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("admin/password.html")
    services = current_app.extensions["lapor"]
    new, again = request.form.get("new", ""), request.form.get("again", "")
    if new != again:
        flash("Kata sandi baru dan ulangannya berbeda.", "error")
        return render_template("admin/password.html"), 400
    try:
        hashed = hash_password(new)
    except WeakPassword as exc:
        flash(f"Kata sandi baru terlalu lemah: {exc}.", "error")
        return render_template("admin/password.html"), 400
    now = repo.utcnow()
    try:  # the current password, checked (and throttled) exactly as at sign-in
        desk().check(g.user["name"], request.form.get("current", ""), request.remote_addr or "-", now)
    except SignInRefused as refused:
        flash(f"Kata sandi sekarang tidak diterima ({refused}).", "error")
        status = 429 if refused.retry_after is not None else 400
        return render_template("admin/password.html"), status
    with services.db.transaction() as s:
        s.get(AdminUser, g.user["id"]).password_hash = hashed
        repo.end_admin_sessions(s, g.user["id"], keep=session_token_hash())
        repo.add_audit(s, actor=g.user["name"], action="password-changed", target=g.user["name"], now=now)
    flash("Kata sandi diganti. Sesi lain akun ini sudah keluar.")
    return redirect(url_for("admin.index"))
