"""Provider webhooks: verify, parse, hand to intake, answer only after the commit.

A forged request gets 403 and a malformed one 400, and neither stores anything. When the
database is down the answer is 503, so Twilio and Telegram deliver the message again later;
a repeated delivery is harmless (intake dedupes on the provider's message id).
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from bot import metrics
from bot.notify import change_status_of
from bot.registry.callbacks import CallbackRejected, parse_callback
from bot.services import Services
from bot.statuses import record_status
from channels.base import WebhookChannel, WebhookRejected, WebhookRequest
from channels.twilio import TwilioChannel
from storage import repository as repo
from storage.db import Unavailable

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
TWILIO_KINDS = ("whatsapp", "sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def services() -> Services:
    return current_app.extensions["lapor"]


def webhook_request() -> WebhookRequest:
    """The Flask request as a framework-free WebhookRequest, with the public URL providers signed."""
    query = request.query_string.decode("latin-1")
    url = f"{services().settings.public_url}{request.path}" + (f"?{query}" if query else "")
    form = tuple(request.form.items(multi=True)) if request.mimetype == "application/x-www-form-urlencoded" else ()
    return WebhookRequest(url=url, headers=dict(request.headers), body=request.get_data(cache=True), form=form)


def channel_or_404(name: str) -> WebhookChannel:
    channel = services().channels.get(name)
    if not isinstance(channel, WebhookChannel):
        raise WebhookRejected(f"channel {name} is not enabled", status=404)
    return channel


@bp.post("/twilio/<kind>")
def twilio_inbound(kind: str) -> ResponseReturnValue:
    if kind == "status":
        return twilio_status()
    if kind not in TWILIO_KINDS:
        raise WebhookRejected("unknown Twilio channel", status=404)
    channel = channel_or_404(kind)
    webhook = webhook_request()
    channel.verify(webhook)
    for message in channel.parse(webhook):
        services().intake.handle(message)
    return Response(EMPTY_TWIML, mimetype="text/xml")


def twilio_status() -> ResponseReturnValue:
    """Delivery reports for our messages, on either Twilio channel (same account, same signature)."""
    channels = [c for k in TWILIO_KINDS if isinstance(c := services().channels.get(k), TwilioChannel)]
    if not channels:
        raise WebhookRejected("Twilio is not enabled", status=404)
    webhook = webhook_request()
    channels[0].verify(webhook)
    update = channels[0].parse_status(webhook)
    record_status(services().db, TWILIO_KINDS, update)
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/telegram")
def telegram_inbound() -> ResponseReturnValue:
    channel = channel_or_404("telegram")
    webhook = webhook_request()
    channel.verify(webhook)
    for message in channel.parse(webhook):
        services().intake.handle(message)
    return jsonify({})


@bp.post("/registry")
def registry_status() -> ResponseReturnValue:
    """A webhook registry tells us a complaint's new status; the citizen is told in turn.

    An exact replay, or an update older than the one last applied, changes nothing and tells
    the citizen nothing; it is still answered 200, so that a registry stops sending it.
    """
    svc = services()
    secret = svc.settings.env.get("LAPOR_REGISTRY_SECRET")
    if not secret:
        raise WebhookRejected("the webhook registry is not configured", status=404)
    try:
        callback = parse_callback(request.get_data(cache=True), request.headers.get("X-Lapor-Timestamp"),
                                  request.headers.get("X-Lapor-Signature"), secret, time.time())
    except CallbackRejected as exc:
        raise WebhookRejected(str(exc), status=exc.status) from None
    def in_order(complaint) -> bool:  # a replay, or an update older than the last one applied, changes nothing
        if not callback.supersedes(complaint.callback_at, complaint.callback_digest):
            return False
        complaint.callback_at, complaint.callback_digest = callback.sent_at, callback.digest
        return True

    with svc.db.transaction() as session:
        done = change_status_of(session, svc.catalog, svc.settings.default_script, callback.tracking_number,
                                callback.update.status, callback.update.note, repo.utcnow(), guard=in_order)
    if not done.found:
        raise WebhookRejected("unknown tracking number", status=404)
    if not done.accepted:
        log.info("registry callback ignored: a replay, or older than the last one applied")
        return jsonify(status="ignored")
    svc.intake.wake()
    return jsonify(status="ok")


@bp.before_request
def start_clock() -> None:
    g.webhook_started = time.perf_counter()


@bp.after_request
def time_webhook(response: Response) -> Response:
    """Observe how long the webhook took (``lapor_webhook_seconds``), refused and failed ones too."""
    started = g.pop("webhook_started", None)
    endpoint = timed_endpoint()
    if started is not None and endpoint is not None:
        metrics.webhook(endpoint, response.status_code, time.perf_counter() - started)
    return response


def timed_endpoint() -> str | None:
    """The request's endpoint label, one of a fixed few (never a path a caller made up); None
    for an unknown Twilio kind."""
    if request.endpoint == "webhooks.twilio_inbound":
        kind = (request.view_args or {}).get("kind")
        return f"twilio_{kind}" if kind in (*TWILIO_KINDS, "status") else None
    return {"webhooks.telegram_inbound": "telegram", "webhooks.registry_status": "registry"}.get(request.endpoint or "")


@bp.errorhandler(WebhookRejected)
def rejected(error: WebhookRejected) -> ResponseReturnValue:
    log.info("webhook rejected (%s): %s", error.status, error)
    return jsonify(error=str(error)), error.status


@bp.errorhandler(Unavailable)
def unavailable(error: Unavailable) -> ResponseReturnValue:
    log.warning("webhook deferred: %s", error)
    return jsonify(error="temporarily unavailable"), 503, {"Retry-After": "5"}
