"""/admin/scripts: list, read, edit (checked like `lapor dialogs check`), diff, publish and roll
back dialog scripts. Editors and admins only; every change is audited (bot.scripts)."""
from __future__ import annotations

import difflib
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.admin.auth import requires
from bot.admin.funnel import combine as combine_funnel
from bot.admin.funnel import svg as funnel_svg
from bot.admin.simulator import CHANNELS as SIMULATED_CHANNELS
from bot.admin.simulator import Line, Simulation
from bot.intake import places_for
from bot.scripts import make_live, save_draft
from storage import repository as repo

bp = Blueprint("scripts", __name__, url_prefix="/scripts")
MAX_TEXT = 256 * 1024  # the loader's own limit


def _db():
    return current_app.extensions["lapor"].db


def _versions(script_id: str):
    with _db().reading() as s:
        versions = repo.script_versions(s, script_id)
        live = repo.published_script(s, script_id)
    if not versions:
        abort(404)
    return versions, live


@bp.get("/")
@requires("scripts")
def index() -> ResponseReturnValue:
    with _db().reading() as s:
        rows = repo.all_script_versions(s)
    scripts: dict[str, list] = {}
    for row in rows:
        scripts.setdefault(row.script_id, []).append(row)
    return render_template("admin/scripts.html", scripts=scripts)


@bp.get("/<script_id>/")
@requires("scripts")
def versions(script_id: str) -> ResponseReturnValue:
    rows, live = _versions(script_id)
    return render_template("admin/script_versions.html", script_id=script_id, versions=rows[::-1],
                           live=live.version if live else None)


@bp.get("/<script_id>/v<int:version>")
@requires("scripts")
def version(script_id: str, version: int) -> ResponseReturnValue:
    rows, live = _versions(script_id)
    row = next((v for v in rows if v.version == version), None)
    if row is None:
        abort(404)
    diff = []
    if live is not None and live.version != version:
        diff = list(difflib.unified_diff(live.text.splitlines(), row.text.splitlines(), lineterm="",
                                         fromfile=f"v{live.version} (live)", tofile=f"v{version}"))
    return render_template("admin/script_version.html", script_id=script_id, row=row, diff=diff,
                           live=live.version if live else None)


@bp.route("/<script_id>/edit", methods=["GET", "POST"])
@requires("scripts")
def edit(script_id: str) -> ResponseReturnValue:
    rows, live = _versions(script_id)
    if request.method == "POST":
        text = request.form.get("text", "").replace("\r\n", "\n")
        if len(text.encode("utf-8")) > MAX_TEXT:
            abort(413)
        saved, findings = save_draft(_db(), script_id, text, g.user["name"], repo.utcnow())
        if saved is None:
            return render_template("admin/script_edit.html", script_id=script_id, text=text, findings=findings,
                                   base=request.form.get("base", "")), 422
        flash(f"Tersimpan sebagai versi {saved} (draf, belum terbit)."
              + (f" {len(findings)} peringatan." if findings else ""))
        return redirect(url_for("admin.scripts.version", script_id=script_id, version=saved))
    base = request.args.get("from", type=int) or rows[-1].version
    row = next((v for v in rows if v.version == base), rows[-1])
    return render_template("admin/script_edit.html", script_id=script_id, text=row.text, findings=[],
                           base=row.version)


@bp.post("/<script_id>/v<int:version>/publish")
@requires("scripts")
def publish(script_id: str, version: int) -> ResponseReturnValue:
    _versions(script_id)
    try:
        live = make_live(_db(), script_id, version, g.user["name"], repo.utcnow(),
                         action="script-rollback" if request.form.get("rollback") else "script-publish")
    except LookupError:
        abort(404)
    flash(f"Versi {live} sekarang aktif untuk percakapan baru.")
    return redirect(url_for("admin.scripts.versions", script_id=script_id))


@bp.route("/<script_id>/v<int:version>/simulate", methods=["GET", "POST"])
@requires("scripts")
def simulate(script_id: str, version: int) -> ResponseReturnValue:
    """Chat with a version (drafts too) as a citizen on a chosen channel; nothing is stored."""
    channel = request.values.get("channel", "sms")
    channel = channel if channel in SIMULATED_CHANNELS else "sms"
    language = request.values.get("language", "id")
    with _db().reading() as s:
        try:
            script = current_app.extensions["lapor"].catalog.get(s, script_id, version)
        except LookupError:
            abort(404)
    language = language if language in script.languages else script.default_language
    services = current_app.extensions["lapor"]
    settings = services.settings
    interpreter = services.interpreter
    simulation = Simulation(current_app.config["SECRET_KEY"], script, channel, language,
                            idle_timeout=settings.idle_timeout, resume_after=settings.resume_after,
                            interpret=interpreter.interpret if interpreter is not None else lambda text: None,
                            places=(lambda asked, text: places_for(services.places, asked, text, None))
                            if services.places is not None else lambda asked, text: ())
    state: dict[str, Any] | None = None
    lines: list[Line] = []
    if request.method == "POST" and not request.form.get("restart"):
        try:
            state, lines = simulation.load(request.form.get("state", ""))
        except ValueError as exc:
            abort(400, str(exc))
        state, lines = simulation.say(state, lines, request.form.get("text", "")[:2000], repo.utcnow())
    return render_template("admin/simulate.html", script_id=script_id, version=version, lines=lines,
                           token=simulation.dump(state, lines), channel=channel, language=language,
                           channels=SIMULATED_CHANNELS, languages=script.languages)


@bp.get("/<script_id>/funnel")
@requires("scripts")
def funnel(script_id: str) -> ResponseReturnValue:
    """Started, completed, reached and abandoned per step, and re-prompts, for every version."""
    services = current_app.extensions["lapor"]
    with _db().reading() as s:  # one snapshot: the ended counts and the active conversations agree
        try:
            script = services.catalog.current(s, script_id)
        except LookupError:
            abort(404)
        result = combine_funnel(repo.ended_funnel(s, script_id), repo.active_conversation_states(s, script_id),
                                list(script.steps), repo.utcnow(), services.settings.idle_timeout)
    return render_template("admin/funnel.html", script_id=script_id, funnel=result, chart=funnel_svg(result))
