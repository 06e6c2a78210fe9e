"""/admin/complaints: the list (filters, by province and regency too, text search, pages), a
complaint's detail (region, transcript, attachments with thumbnails and downloads, registry
deliveries), a status change that tells the citizen (admins), and the export (CSV or JSON,
streamed, no personal data, as ``lapor complaints export``). Viewers and admins. Pages only
read, in read-only snapshots that never hold the write lock.

The list costs the same at any size and depth: pages are keyset pages (``before``/``after`` a
complaint id: "older" and "newer", as a mailbox pages, rather than numbered pages that would
have to skip over every row before them), matches are counted up to
``storage.repository.COUNT_LIMIT`` ("more than 10000"), and text search uses the search index.

An anonymous reporter is shown to no role: not the name, and not in the transcript (whose
personal texts were destroyed when the report was filed; ``bot.privacy``).
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot.admin.auth import requires
from bot.complaints import STATUSES
from bot.export import FORMATS, export_chunks
from bot.media.links import MediaLinks
from bot.media.views import file_response
from bot.notify import change_status_of
from bot.privacy import shown_text
from storage import repository as repo
from storage.crypto import WrongDataKey
from storage.tracking import normalize_tracking_number

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
PAGE = 50
CHANNELS = ("whatsapp", "sms", "telegram", "terminal")
UNREADABLE = "(tidak dapat dibuka: periksa LAPOR_DATA_KEY)"


def _services():
    return current_app.extensions["lapor"]


def _day(text: str | None, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter as a UTC bound (``end``: the start of the next day)."""
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), tzinfo=UTC)


@bp.get("/")
@requires("complaints")
def index() -> ResponseReturnValue:
    args = request.args
    filters = {key: args.get(key, "").strip()
               for key in ("status", "category", "channel", "province", "regency", "from", "to", "q")}
    before, after = args.get("before", type=int), args.get("after", type=int)
    places = _services().places
    provinces = places.regions("province") if places is not None else []
    province = filters["province"] if filters["province"] in dict(provinces) else ""
    regencies = places.regions("regency", province) if places is not None and province else []
    regency = filters["regency"] if filters["regency"] in dict(regencies) else ""
    filters["province"], filters["regency"] = province, regency
    with _services().db.reading() as s:
        page = repo.find_complaints(
            s, status=filters["status"] if filters["status"] in STATUSES else None,
            category=filters["category"] or None,
            channel=filters["channel"] if filters["channel"] in CHANNELS else None,
            province=province or None, regency=regency or None,
            since=_day(filters["from"]), until=_day(filters["to"], end=True), text=filters["q"][:100] or None,
            before=before, after=None if before is not None else after, limit=PAGE)
    return render_template("admin/complaints.html", page=page, rows=page.rows, first=before is None and after is None,
                           filters=filters, statuses=STATUSES, channels=CHANNELS,
                           categories=sorted(_services().settings.categories), provinces=provinces,
                           regencies=regencies)


@bp.get("/<number>")
@requires("complaints")
def detail(number: str) -> ResponseReturnValue:
    services = _services()
    with services.db.reading() as s:
        complaint = repo.complaint_by_tracking(s, normalize_tracking_number(number) or "")
        if complaint is None:
            abort(404)
        transcript = [(m.direction, shown_text(services.cipher, m, anonymous=complaint.anonymous) or _sent(m))
                      for m in repo.complaint_transcript(s, complaint)]
        deliveries = repo.complaint_deliveries(s, complaint.id)
        files = repo.attachments_of(s, [complaint])[complaint.id]
    reporter = None
    if not complaint.anonymous and complaint.reporter_name_enc:
        try:
            reporter = services.cipher.decrypt(complaint.reporter_name_enc)
        except WrongDataKey:
            reporter = UNREADABLE
    return render_template("admin/complaint.html", c=complaint, transcript=transcript, deliveries=deliveries,
                           reporter=reporter, statuses=STATUSES[1:], files=files, region=_region_line(complaint.region))


def _sent(message) -> str:
    """What a message without text carried: "(1 lampiran)", "(lokasi dibagikan)", or ""."""
    payload = message.payload or {}
    if payload.get("media"):
        return f"({len(payload['media'])} lampiran)"
    return "(lokasi dibagikan)" if payload.get("location") else ""


def _region_line(region) -> str:
    """A complaint's region, most specific first: "Coblong, Kota Bandung, Jawa Barat (32.73.02)"."""
    parts = [region[level] for level in ("village", "district", "regency", "province") if (region or {}).get(level)]
    return f"{', '.join(p['name'] for p in parts)} ({parts[0]['code']})" if parts else ""


@bp.get("/<number>/files/<int:attachment_id>")
@bp.get("/<number>/files/<int:attachment_id>/<any(thumb):size>")
@requires("complaints")
def file(number: str, attachment_id: int, size: str = "") -> ResponseReturnValue:
    """A complaint's kept file (or an image's thumbnail), for the detail page; 404 for a file
    that is not this complaint's, or not kept."""
    services = _services()
    with services.db.reading() as s:
        complaint = repo.complaint_by_tracking(s, normalize_tracking_number(number) or "")
        found = repo.complaint_attachment(s, complaint, attachment_id) if complaint is not None else None
    if found is None or found.status != "stored" or not found.sha256:
        abort(404)
    if size == "thumb":
        if not found.thumb_sha256:
            abort(404)
        return file_response(services.blobs, found.thumb_sha256, "image/jpeg", f"{found.thumb_sha256}.jpg")
    content_type = found.content_type or "application/octet-stream"
    return file_response(services.blobs, found.sha256, content_type, MediaLinks.name(found.sha256, content_type))


@bp.post("/<number>/status")
@requires("complaints-write")
def set_status(number: str) -> ResponseReturnValue:
    services = _services()
    status, note = request.form.get("status", ""), request.form.get("note", "").strip()[:1000]
    if status not in STATUSES[1:]:
        abort(400, "unknown status")
    now = repo.utcnow()
    with services.db.transaction() as s:
        done = change_status_of(s, services.catalog, services.settings.default_script, number, status, note or None,
                                now)
        if not done.found:
            abort(404)
        if done.changed:
            repo.add_audit(s, actor=g.user["name"], action="complaint-status",
                           target=normalize_tracking_number(number) or number, detail={"status": status}, now=now)
    if done.changed:
        services.intake.wake()
        flash("Status diubah; pemberitahuan untuk warga sudah diantrekan.")
    else:
        flash("Tidak ada perubahan.")
    return redirect(url_for("admin.complaints.detail", number=number))


@bp.get("/export.<fmt>")
@requires("complaints")
def export(fmt: str) -> ResponseReturnValue:
    if fmt not in FORMATS:
        abort(404)
    services = _services()
    with services.db.reading() as s:
        count = sum(repo.complaint_counts(s).values())
    with services.db.transaction() as s:
        repo.add_audit(s, actor=g.user["name"], action="complaints-export", detail={"format": fmt, "count": count},
                       now=repo.utcnow())
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    return Response(stream_with_context(export_chunks(services.db, fmt)), mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="complaints.{fmt}"'})
