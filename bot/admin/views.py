"""The /admin blueprint: sign-in, the overview, and (nested) the dialog scripts."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.admin import account_views, complaint_views, delivery_views, script_views, user_views
from bot.admin.auth import (
    SESSION_LIFETIME,
    SignInRefused,
    can,
    check_csrf,
    csrf_token,
    current_user,
    desk,
    end_session,
    requires,
    safe_next,
    start_session,
)
from storage import repository as repo

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")
bp.register_blueprint(script_views.bp)  # /admin/scripts: the admin hooks below apply to it too
bp.register_blueprint(complaint_views.bp)  # /admin/complaints
bp.register_blueprint(delivery_views.bp)  # /admin/deliveries
bp.register_blueprint(user_views.bp)  # /admin/users: accounts and the audit log
bp.register_blueprint(account_views.bp)  # /admin/account: one's own password
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; "
       "base-uri 'none'")


def _services():
    return current_app.extensions["lapor"]


def _db():
    return _services().db


@bp.before_request
def _csrf() -> None:
    check_csrf()


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _template_globals() -> dict:
    return {"csrf_token": csrf_token, "can": can, "user": current_user,
            "count_limit": repo.COUNT_LIMIT}  # list pages count up to here ("more than")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    address = request.remote_addr or "-"
    if (wait := desk().wait(address, repo.utcnow())) is not None:
        return (f"Terlalu banyak percobaan masuk yang gagal dari alamat Anda; coba lagi dalam {wait // 60 + 1} menit.\n"
                f"Too many failed sign-ins from your address; try again in {wait // 60 + 1} minutes.\n",
                429, {"Retry-After": str(wait), "Content-Type": "text/plain; charset=utf-8"})
    if request.method == "POST":
        name = request.form.get("name", "").strip()[:64]
        try:
            signed_in = desk().sign_in(name, request.form.get("password", ""), address, repo.utcnow())
        except SignInRefused as refused:
            flash(str(refused), "error")
            if refused.retry_after is not None:
                return render_template("admin/login.html", name=name), 429, {"Retry-After": str(refused.retry_after)}
            return render_template("admin/login.html", name=name), 401
        start_session(signed_in)
        return redirect(safe_next(request.args.get("next")))
    return render_template("admin/login.html", name="")


@bp.post("/logout")
@requires()
def logout() -> ResponseReturnValue:
    with _db().transaction() as s:
        repo.add_audit(s, actor=g.user["name"], action="sign-out", now=repo.utcnow())
    end_session(_db())
    return redirect(url_for("admin.login"))


@bp.get("/")
@requires()
def index() -> ResponseReturnValue:
    scripts, counts = [], {}
    with _db().reading() as s:
        if can("scripts"):
            scripts = [(v.script_id, v.version, v.published, v.author, v.created_at)
                       for v in repo.all_script_versions(s)]
        if can("complaints"):
            counts = repo.complaint_counts(s)
    return render_template("admin/index.html", scripts=scripts, counts=counts,
                           session_hours=int(SESSION_LIFETIME.total_seconds() // 3600))
