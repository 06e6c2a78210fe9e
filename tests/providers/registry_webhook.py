"""A local registry that speaks the ``webhook`` protocol of DESIGN section 3, strictly.

``WebhookRegistryServer`` serves ``POST /complaints`` over real HTTP on 127.0.0.1. Each request
is checked byte for byte: ``X-Lapor-Signature`` is the HMAC-SHA256 of the raw body with the
shared secret; the body is UTF-8 JSON with exactly DESIGN's keys, in DESIGN's order, and the
right types; ``reporter`` is null exactly when ``anonymous`` is true; ``Idempotency-Key`` equals
the tracking number; ``Content-Type`` is ``application/json``; and, when the server has an API
key, ``Authorization: Bearer <key>``. A request that breaks the contract gets 400 (403 for a bad
signature or key) and is recorded in ``violations``.

A valid request whose key was seen before gets 409 and counts in ``duplicates``; a new one is
stored in ``received`` (and its raw bytes in ``raw``) and answered ``201 {"id": "REG-000001"}``.
Faults for the next valid requests: ``fail_next`` (an error status, maybe with Retry-After),
``hang_next`` (hold the request, then store it, or with ``store=False`` drop it: a client
that timed out or died does not know which), ``malformed_next`` (store it, answer 200 with a body that is not JSON), and ``down``
(answer 503 to everything until ``up``).

It also reports status changes back as the contract says (``status_callback`` and
``push_status``): ``POST /webhooks/registry`` with ``X-Lapor-Timestamp: <unix seconds>`` and
``X-Lapor-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from providers.loopback import FaultyServer

PATH = "/complaints"
KEYS = ("tracking_number", "type", "title", "description", "category", "agency", "location", "incident_date",
        "anonymous", "confidential", "reporter", "attachments", "language", "submitted_at")
TYPES = ("complaint", "aspiration", "information_request")
CHANNELS = ("whatsapp", "sms", "telegram", "terminal")
_TRACKING = re.compile(r"LAP-[0-9A-HJKMNP-TV-Z]{6}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")
REGION_LEVELS = ("province", "regency", "district", "village")
_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")


def status_callback(secret: str, tracking_number: str, status: str, note: str | None = None, *,
                    at: float | None = None) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a status callback sent at ``at`` (unix seconds; now by default)."""
    body = json.dumps({"tracking_number": tracking_number, "status": status, "note": note}).encode()
    timestamp = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Lapor-Timestamp": timestamp,
                  "X-Lapor-Signature": f"sha256={digest}"}


class _Violation(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


class WebhookRegistryServer(FaultyServer):
    """The registry on ``url`` (a context manager that runs it in a thread)."""

    def __init__(self, secret: str, api_key: str | None = None, port: int = 0) -> None:
        super().__init__("registry-webhook", port)
        self.secret = secret
        self.api_key = api_key
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.violations: list[str] = []
        self.duplicates = 0
        self._ids: dict[str, str] = {}
        self._down = False

    def push_status(self, app_url: str, tracking_number: str, status: str, note: str | None = None, *,
                    at: float | None = None) -> requests.Response:
        """Tell the service at ``app_url`` that a complaint's status changed, signed."""
        body, headers = status_callback(self.secret, tracking_number, status, note, at=at)
        return requests.post(f"{app_url}/webhooks/registry", data=body, headers=headers, timeout=10)

    @property
    def url(self) -> str:
        """What to give as ``LAPOR_REGISTRY_URL``."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def down(self) -> None:
        """Answer 503 to everything (an outage) until ``up``."""
        self._down = True

    def up(self) -> None:
        self._down = False

    def id_of(self, tracking_number: str) -> str | None:
        with self._lock:
            return self._ids.get(tracking_number)

    def _answer(self, request: Request) -> Response:
        if self._down:
            return _json(503, {"error": "registry under maintenance"}, {"Retry-After": "1"})
        raw = request.get_data(cache=True)
        try:
            body = self._checked(request, raw)
        except _Violation as violation:
            with self._lock:
                self.violations.append(f"{request.method} {request.path}: {violation}")
            return _json(violation.status, {"error": str(violation)})
        fault = self._take_fault()
        if fault is not None and fault.kind == "fail":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _json(fault.status, {"error": f"injected {fault.status}"}, headers)
        if self._dropped(fault):  # the registry lost it (its client is gone, say)
            return _json(503, {"error": "dropped"})
        tracking = body["tracking_number"]
        with self._lock:
            if tracking in self._ids:
                self.duplicates += 1
                return _json(409, {"error": "already registered", "id": self._ids[tracking]})
            self._ids[tracking] = f"REG-{len(self._ids) + 1:06d}"
            self.received.append(body)
            self.raw.append(raw)
            self.headers.append(dict(request.headers))
            registry_id = self._ids[tracking]
        if fault is not None and fault.kind == "malformed":
            return Response("<html>502 Bad Gateway</html>", status=200, mimetype="text/html")
        return _json(201, {"id": registry_id})

    def _checked(self, request: Request, raw: bytes) -> dict[str, Any]:
        if request.path != PATH:
            raise _Violation(404, f"no such path {request.path}")
        if request.method != "POST":
            raise _Violation(405, f"method {request.method}")
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            raise _Violation(403, "missing or wrong Authorization: Bearer")
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Lapor-Signature", "")):
            raise _Violation(403, "X-Lapor-Signature is not the HMAC-SHA256 of the body")
        if request.headers.get("Content-Type") != "application/json":
            raise _Violation(400, f"Content-Type must be application/json, not {request.headers.get('Content-Type')}")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Violation(400, "the body is not UTF-8 JSON") from None
        problems = body_problems(body)
        if problems:
            raise _Violation(400, "; ".join(problems))
        if request.headers.get("Idempotency-Key") != body["tracking_number"]:
            raise _Violation(400, "Idempotency-Key must be the tracking number")
        return body


def body_problems(body: Any) -> list[str]:
    """Everything in ``body`` that DESIGN's webhook body does not allow."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    if tuple(body) != KEYS:
        return [f"keys must be exactly {', '.join(KEYS)} in that order, not {', '.join(body)}"]
    problems = []
    checks = {
        "tracking_number": isinstance(body["tracking_number"], str) and _TRACKING.fullmatch(body["tracking_number"]),
        "type": body["type"] in TYPES,
        "title": _text(body["title"]),
        "description": _text(body["description"]),
        "category": _text(body["category"]),
        "agency": body["agency"] is None or _text(body["agency"]),
        "location": _location(body["location"]),
        "incident_date": body["incident_date"] is None or (isinstance(body["incident_date"], str)
                                                            and _DATE.fullmatch(body["incident_date"])),
        "anonymous": isinstance(body["anonymous"], bool),
        "confidential": isinstance(body["confidential"], bool),
        "reporter": _reporter(body["reporter"], body["anonymous"]),
        "attachments": isinstance(body["attachments"], list) and all(_attachment(item) for item in body["attachments"]),
        "language": body["language"] in ("id", "en"),
        "submitted_at": isinstance(body["submitted_at"], str) and _UTC.fullmatch(body["submitted_at"]),
    }
    for key, ok in checks.items():
        if not ok:
            problems.append(f"{key}: {json.dumps(body[key])[:80]} is not allowed")
    return problems


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _location(value: Any) -> bool:
    return (isinstance(value, dict) and tuple(value) == ("text", "latitude", "longitude", "region")
            and (value["text"] is None or isinstance(value["text"], str))
            and _number_or_null(value["latitude"]) and _number_or_null(value["longitude"])
            and _region(value["region"]))


def _region(value: Any) -> bool:
    """Every level, each null or {"code": "32.73", "name": "..."} (Kemendagri's dotted codes)."""
    return isinstance(value, dict) and tuple(value) == REGION_LEVELS and all(
        part is None or (isinstance(part, dict) and tuple(part) == ("code", "name")
                         and isinstance(part["code"], str) and _CODE.fullmatch(part["code"]) and _text(part["name"]))
        for part in value.values())


def _attachment(item: Any) -> bool:
    """A kept file: an absolute http(s) URL, a content type, its size and SHA-256, and a voice
    note's transcript when there is one."""
    if not isinstance(item, dict) or tuple(item)[:4] != ("url", "content_type", "size", "sha256"):
        return False
    extra = tuple(item)[4:]
    return (isinstance(item["url"], str) and item["url"].startswith(("https://", "http://"))
            and _text(item["content_type"]) and isinstance(item["size"], int) and item["size"] > 0
            and isinstance(item["sha256"], str) and _SHA256.fullmatch(item["sha256"]) is not None
            and extra in ((), ("transcript",)) and (not extra or _text(item["transcript"])))


def _reporter(value: Any, anonymous: Any) -> bool:
    if anonymous is True:
        return value is None
    return (isinstance(value, dict) and tuple(value) == ("name", "channel", "contact")
            and (value["name"] is None or _text(value["name"])) and value["channel"] in CHANNELS
            and _text(value["contact"]))


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")
