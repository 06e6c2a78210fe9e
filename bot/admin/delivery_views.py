"""/admin/deliveries: the outbox and the dead letter (replies, notifications, registry
submissions) with their last error; an admin can retry or discard a row, and both are audited."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.admin.auth import requires
from storage import repository as repo

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")
VIEWS = {"dead": "Gagal (dead letter)", "pending": "Menunggu", "sending": "Sedang dikirim", "done": "Terkirim"}
PAGE = 50


def _services():
    return current_app.extensions["lapor"]


@bp.get("/")
@requires("users")
def index() -> ResponseReturnValue:
    status = request.args.get("status", "dead")
    if status not in VIEWS:
        status = "dead"
    page = max(1, request.args.get("page", 1, type=int))
    with _services().db.reading() as s:
        rows, total = repo.outbox_page(s, status=status, offset=(page - 1) * PAGE, limit=PAGE)
        complaints = {row.id: row.complaint.tracking_number for row in rows if row.complaint is not None}
    return render_template("admin/deliveries.html", rows=rows, total=total, status=status, views=VIEWS,
                           complaints=complaints, page=page, pages=max(1, -(-total // PAGE)))


@bp.post("/<int:row_id>/<action>")
@requires("users")
def act(row_id: int, action: str) -> ResponseReturnValue:
    if action not in ("retry", "discard"):
        abort(404)
    services = _services()
    now = repo.utcnow()
    try:
        with services.db.transaction() as s:
            if action == "retry":
                repo.requeue_outbox(s, row_id, now)
            else:
                repo.discard_outbox(s, row_id, g.user["name"], now)
            repo.add_audit(s, actor=g.user["name"], action=f"delivery-{action}", target=f"outbox {row_id}", now=now)
    except LookupError:
        abort(404)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.deliveries.index", status=request.args.get("status", "dead")))
    if action == "retry":
        services.intake.wake()
    flash(f"Baris {row_id}: {'dikirim ulang' if action == 'retry' else 'dibuang'}.")
    return redirect(url_for("admin.deliveries.index", status=request.args.get("status", "dead")))
