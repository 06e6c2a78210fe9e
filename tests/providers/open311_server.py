"""A local Open311 GeoReport v2 server: the endpoints our ``open311`` client uses, strictly.

``Open311Server`` serves over real HTTP on 127.0.0.1, under ``/v2``:
- ``GET /services.json``: the services it offers (``service_code`` and name);
- ``POST /requests.json``: form-encoded; checks ``api_key``, a known ``service_code``, a
  ``description``, a location (``lat`` and ``long`` together, or ``address_string``), no parameter
  outside GeoReport v2 (``attribute[...]`` allowed), and numbers where numbers belong. It answers
  ``[{"service_request_id": ...}]``, or ``[{"token": ...}]`` when ``tokens`` is on (the id shows
  at ``GET /tokens/{token}.json`` once ``release_tokens`` is called);
- ``GET /requests/{id}.json`` and ``GET /requests.json`` (``service_code``, ``start_date``,
  ``end_date``, ``status``), without the attributes, as GeoReport v2 has it.
Errors are GeoReport v2 error arrays ``[{"code": ..., "description": ...}]``. A request that
breaks the protocol is answered so and recorded in ``violations``.

``requests`` holds every created request (with its raw form); ``posts`` counts valid creates.
Faults for the next valid create: ``fail_next`` (a status, maybe Retry-After, not stored),
``hang_next`` (hold it, then store it, or with ``store=False`` drop it: the client timed out or
died and does not know which),
``malformed_next`` (store it, answer 200 with a body that is not JSON).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from providers.loopback import FaultyServer

BASE = "/v2"
API_KEY = "open311-test-key"
SERVICES = {"INFRA": "Infrastruktur", "KES": "Kesehatan", "PEND": "Pendidikan", "DUK": "Kependudukan",
            "BANSOS": "Bantuan Sosial", "LAIN": "Lainnya"}
PARAMS = {"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email",
          "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"}
_ATTRIBUTE = re.compile(r"attribute\[[A-Za-z0-9_]+\]")
_REQUEST = re.compile(re.escape(BASE) + r"/requests/([^/]+)\.json")
_TOKEN = re.compile(re.escape(BASE) + r"/tokens/([^/]+)\.json")


class _Problem(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status


class Open311Server(FaultyServer):
    """The registry on ``url`` (a context manager that runs it in a thread)."""

    def __init__(self, api_key: str = API_KEY, services: Mapping[str, str] = SERVICES, tokens: bool = False) -> None:
        super().__init__("open311")
        self.api_key = api_key
        self.services = dict(services)
        self.tokens = tokens
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.posts = 0
        self.searches = 0
        self._released_tokens = False

    @property
    def url(self) -> str:
        """What to give as ``LAPOR_REGISTRY_URL``."""
        return f"http://127.0.0.1:{self.port}{BASE}"

    # ------------------------------------------------------------------ scripting

    def release_tokens(self) -> None:
        """From now on, tokens resolve into their request ids."""
        self._released_tokens = True

    def set_status(self, request_id: str, status: str, notes: str | None = None) -> None:
        """What a registry operator does: move a request on."""
        with self._lock:
            record = next(r for r in self.requests if r["service_request_id"] == request_id)
            record.update(status=status, status_notes=notes, updated_datetime=_now())

    def by_tracking_number(self, tracking_number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["form"].get("attribute[tracking_number]") == tracking_number]

    # ------------------------------------------------------------------ serving

    def _answer(self, request: Request) -> Response:
        try:
            return self._route(request)
        except _Problem as problem:
            if problem.status != 404:
                with self._lock:
                    self.violations.append(f"{request.method} {request.path}: {problem}")
            return _json(problem.status, [{"code": problem.status, "description": str(problem)}])

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == f"{BASE}/services.json" and method == "GET":
            return _json(200, [{"service_code": code, "service_name": name, "description": name, "metadata": False,
                                "type": "realtime", "keywords": "", "group": ""} for code, name in self.services.items()])
        if path == f"{BASE}/requests.json" and method == "POST":
            return self._create(request)
        if path == f"{BASE}/requests.json" and method == "GET":
            return self._search(request)
        if (match := _REQUEST.fullmatch(path)) and method == "GET":
            self._check_key(request.args)
            return _json(200, [self._public(self._record(match.group(1)))])
        if (match := _TOKEN.fullmatch(path)) and method == "GET":
            self._check_key(request.args)
            with self._lock:
                record = next((r for r in self.requests if r["token"] == match.group(1)), None)
            if record is None:
                raise _Problem(404, f"token {match.group(1)} not found")
            request_id = record["service_request_id"] if self._released_tokens else None
            return _json(200, [{"service_request_id": request_id, "token": record["token"]}])
        raise _Problem(404, f"{method} {path} is not a GeoReport v2 endpoint")

    def _create(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise _Problem(400, f"requests must be form-encoded, not {request.mimetype or 'none'}")
        form = {key: values for key, values in request.form.lists()}
        for key, values in form.items():
            if key not in PARAMS and not _ATTRIBUTE.fullmatch(key):
                raise _Problem(400, f"unknown parameter {key}")
            if len(values) != 1:
                raise _Problem(400, f"parameter {key} given {len(values)} times")
        fields = {key: values[0] for key, values in form.items()}
        self._check_key(fields)
        if fields.get("service_code") not in self.services:
            raise _Problem(400, f"service_code {fields.get('service_code')!r} not found")
        if not fields.get("description", "").strip():
            raise _Problem(400, "description is required")
        if ("lat" in fields) != ("long" in fields):
            raise _Problem(400, "lat and long must be sent together")
        if "lat" not in fields and not fields.get("address_string") and not fields.get("address_id"):
            raise _Problem(400, "a location is required: lat and long, address_string or address_id")
        for key in ("lat", "long"):
            if key in fields and not _is_number(fields[key]):
                raise _Problem(400, f"{key} must be a number")
        fault = self._take_fault()
        if fault is not None and fault.kind == "fail":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _json(fault.status, [{"code": fault.status, "description": f"injected {fault.status}"}], headers)
        if self._dropped(fault):  # the registry lost it (its client is gone, say)
            return _json(503, [{"code": 503, "description": "dropped"}])
        with self._lock:
            self.posts += 1
            number = len(self.requests) + 1
            record = {"service_request_id": f"{1000 + number}", "token": f"tok-{number}", "form": fields,
                      "status": "open", "status_notes": None, "requested_datetime": _now(), "updated_datetime": _now()}
            self.requests.append(record)
        if fault is not None and fault.kind == "malformed":
            return Response("<html>Service Unavailable</html>", status=200, mimetype="text/html")
        if self.tokens:
            return _json(201, [{"token": record["token"], "service_notice": "", "account_id": None}])
        return _json(201, [{"service_request_id": record["service_request_id"], "service_notice": "", "account_id": None}])

    def _search(self, request: Request) -> Response:
        args = request.args
        self._check_key(args)
        start, end = _time(args.get("start_date")), _time(args.get("end_date"))
        with self._lock:
            self.searches += 1
            found = [self._public(r) for r in self.requests
                     if (not args.get("service_code") or r["form"]["service_code"] == args["service_code"])
                     and (not args.get("status") or r["status"] == args["status"])
                     and (start is None or _time(r["requested_datetime"]) >= start)
                     and (end is None or _time(r["requested_datetime"]) <= end)]
        return _json(200, found)

    def _record(self, request_id: str) -> dict[str, Any]:
        with self._lock:
            record = next((r for r in self.requests if r["service_request_id"] == request_id), None)
        if record is None:
            raise _Problem(404, f"request {request_id} not found")
        return record

    def _public(self, record: dict[str, Any]) -> dict[str, Any]:
        form = record["form"]
        return {"service_request_id": record["service_request_id"], "status": record["status"],
                "status_notes": record["status_notes"], "service_name": self.services[form["service_code"]],
                "service_code": form["service_code"], "description": form["description"],
                "agency_responsible": "", "service_notice": "", "requested_datetime": record["requested_datetime"],
                "updated_datetime": record["updated_datetime"], "expected_datetime": None,
                "address": form.get("address_string", ""), "address_id": None, "zipcode": None,
                "lat": float(form["lat"]) if "lat" in form else None,
                "long": float(form["long"]) if "long" in form else None, "media_url": form.get("media_url", "")}

    def _check_key(self, values: Mapping[str, str]) -> None:
        if values.get("api_key") != self.api_key:
            raise _Problem(403, "Invalid api_key received")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Problem(400, f"{text!r} is not a W3C datetime") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json")
