"""A local Twilio REST API for Messages that checks every request against Twilio's OpenAPI spec.

``TwilioApiServer`` serves ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` over real HTTP
on 127.0.0.1. It checks Basic auth, the AccountSid in the path, the content type and every form
field against the operation in ``tests/providers/contracts/twilio_api_v2010.yaml`` (kept in the repository).
A request that breaks the contract gets a Twilio-shaped 4xx answer AND is recorded in
``violations``, so a test can assert that none happened; a valid one is recorded in ``messages``
and answered 201 with a complete Message resource, as Twilio would.

It also serves the content of inbound media (``put_media`` stores it and returns its
``MediaUrl``): ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``
checks Basic auth and the AccountSid like the Messages endpoint, and the other SIDs against the
spec's patterns and the media stored (404 otherwise), then answers ``307`` to a short-lived
CDN URL on another origin: ``http://localhost:<port>/cdn/<random>``, the same server under a
different host name. The CDN serves the bytes with their content type; like the presigned
storage URL Twilio redirects to, it takes no credentials: a request that brings an
``Authorization`` header is answered 400 and recorded in ``violations`` (the client leaked the
account's credentials to another host).

Where this stand-in overrules or goes beyond the spec (each is marked OVERRULE in the code):
1. Required fields follow Twilio's documented rule, not the spec's ``required`` list (beta, and
   reported to list optional fields such as MessagingServiceSid and StatusCallback): ``To``, plus
   one of ``From``/``MessagingServiceSid``, plus one of ``Body``/``MediaUrl``/``ContentSid``.
   tests/providers/test_twilio_api.py checks that this matches the spec's own
   ``x-twilio.conditional`` groups.
2. Unknown parameters are rejected (400, code 20001); real Twilio ignores them with warning 20001.
   Being stricter catches misspelt parameters that would silently do nothing.
3. ``format: phone-number`` is no JSON Schema format; we accept what Twilio documents: an E.164
   number, optionally as a channel address (``whatsapp:+62...``); for ``From``/``FallbackFrom``
   also a short code or an alphanumeric sender ID.
4. ``format: uri`` (StatusCallback) means what Twilio's error 21609 documents: an absolute http(s)
   URL with a hostname without underscores, at most 4000 characters.
5. ``Body`` longer than 1600 characters is rejected (21617): documented in its description, not
   as a ``maxLength``.
6. Booleans must be ``true``/``false`` (what the twilio library sends); repeated keys are only
   allowed for ``type: array`` parameters.
7. The media content route is not in the spec, which has only the Media resource's metadata
   (``.../Media/{Sid}.json``). Twilio documents the URL without ``.json`` (the ``MediaUrl{N}`` of
   an inbound webhook) as the media itself, behind HTTP Basic auth, reached through a redirect to
   a temporary URL (https://www.twilio.com/docs/messaging/api/media-resource). Its path
   parameters are checked against the patterns of the spec's metadata route.
"""
from __future__ import annotations

import functools
import json
import math
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

import yaml
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from channels.sms import sms_size

CONTRACTS = Path(__file__).resolve().parent / "contracts"  # the providers' published specs, kept in the repo
SPEC_PATH = CONTRACTS / "twilio_api_v2010.yaml"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MEDIA_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json"  # metadata; see OVERRULE 7
FORM_TYPE = "application/x-www-form-urlencoded"
CDN_HOST = "localhost"  # the host name media content is redirected to: another origin than 127.0.0.1

ACCOUNT_SID = "AC5ef8732a3c49700934481addd5ce1659"  # defaults for tests; any AC + 32 hex works
AUTH_TOKEN = "9b1c0e7d2f3a4b5c6d7e8f9012345678"

# OVERRULE 1: Twilio's documented rule instead of the spec's `required` list.
DOCUMENTED_REQUIRED = ("To",)
DOCUMENTED_ONE_OF = (("From", "MessagingServiceSid"), ("Body", "MediaUrl", "ContentSid"))
BODY_MAX_CHARS = 1600  # OVERRULE 5

_ROUTE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
_MEDIA_ROUTE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/]+)")  # OVERRULE 7
_CDN_ROUTE = re.compile(r"/cdn/([0-9a-f]{32})")
_E164 = r"\+[1-9][0-9]{6,14}"
_ADDRESS = re.compile(rf"(?:[a-z]+:)?{_E164}")
_SENDER_ID = re.compile(r"[0-9]{3,8}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11}")  # short code | alphanumeric
_SENDERS = ("From", "FallbackFrom")
_INTEGER = re.compile(r"-?[0-9]+")

# Twilio's error codes for the problems this stand-in detects.
UNKNOWN_PARAMETER = 20001
AUTHENTICATE = 20003
NOT_FOUND = 20404
TO_REQUIRED = 21604
FROM_REQUIRED = 21603
BODY_REQUIRED = 21602
BODY_TOO_LONG = 21617
_INVALID_CODES = {"To": 21211, "From": 21212, "StatusCallback": 21609}
_MISSING_CODES = {"To": TO_REQUIRED, "From": FROM_REQUIRED, "Body": BODY_REQUIRED}


@dataclass(frozen=True)
class MessagesContract:
    """What the spec says about creating a Message, with every ``$ref`` resolved."""

    account_sid: Mapping[str, Any]  # schema of the AccountSid path parameter
    params: Mapping[str, Mapping[str, Any]]  # form parameter -> schema
    required: tuple[str, ...]  # the spec's own `required` list (overruled, see OVERRULE 1)
    one_of: tuple[tuple[str, ...], ...]  # the spec's x-twilio `conditional` groups, as parameter names
    resource: Mapping[str, Mapping[str, Any]]  # property of the 201 Message resource -> schema


@dataclass(frozen=True)
class MediaContract:
    """The path parameters of fetching one Media resource (the metadata route, whose SIDs the
    content route shares: OVERRULE 7), by name: AccountSid, MessageSid, Sid -> schema."""

    path_params: Mapping[str, Mapping[str, Any]]


@functools.cache
def _spec() -> dict[str, Any]:
    """The spec, parsed once per process (1.5 MB of YAML)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as file:
        return yaml.load(file, Loader=loader)


@functools.cache
def media_contract() -> MediaContract:
    """The Media fetch operation, from the spec."""
    operation = _spec()["paths"][MEDIA_PATH]["get"]
    return MediaContract(path_params={p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "path"})


@functools.cache
def messages_contract() -> MessagesContract:
    """The Messages create operation, from the spec."""
    spec = _spec()
    operation = spec["paths"][MESSAGES_PATH]["post"]
    form = operation["requestBody"]["content"][FORM_TYPE]["schema"]
    resource = _resolve(spec, operation["responses"]["201"]["content"]["application/json"]["schema"])
    (account_sid,) = (p["schema"] for p in operation["parameters"] if p["name"] == "AccountSid")
    groups = operation.get("x-twilio", {}).get("conditional", [])
    return MessagesContract(
        account_sid=account_sid,
        params={name: _resolve(spec, schema) for name, schema in form["properties"].items()},
        required=tuple(form.get("required", ())),
        one_of=tuple(tuple(_param_name(field) for field in group) for group in groups),
        resource={name: _resolve(spec, schema) for name, schema in resource["properties"].items()},
    )


def _resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with a ``#/components/...`` reference (its own or its items') replaced by the target."""
    if "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(spec, target)
    if "items" in schema:
        return {**schema, "items": _resolve(spec, schema["items"])}
    return schema


def _param_name(field: str) -> str:
    """``media_url`` -> ``MediaUrl``: x-twilio names fields in snake case."""
    return "".join(part.capitalize() for part in field.split("_"))


class Problem(NamedTuple):
    """One way a request breaks the contract, with the Twilio error code it is answered with."""

    code: int
    message: str


def form_problems(form: Mapping[str, list[str]]) -> list[Problem]:
    """Everything wrong with a Messages create form (parameter -> its values, in order)."""
    params = messages_contract().params
    problems = [Problem(UNKNOWN_PARAMETER, f"Unknown parameter '{name}'") for name in form if name not in params]
    for name, values in form.items():
        if name in params:
            problems += _param_problems(name, params[name], values)
    return problems + _required_problems(form)


def _param_problems(name: str, schema: Mapping[str, Any], values: list[str]) -> list[Problem]:
    if schema.get("type") == "array":
        checked, item_schema = values, schema["items"]
    elif len(values) > 1:  # OVERRULE 6
        return [Problem(400, f"'{name}' is given {len(values)} times but is not a list")]
    else:
        checked, item_schema = values, schema
    return [
        _invalid(name, value, why)
        for value in checked
        if (why := value_problem(name, item_schema, value)) is not None
    ]


def _invalid(name: str, value: str, why: str) -> Problem:
    """Twilio's answer to a bad value; for To, like Twilio, it echoes the number."""
    code = _INVALID_CODES.get(name, 400)
    if name == "To":
        return Problem(code, f"The 'To' number {value} is not a valid phone number.")
    return Problem(code, f"Invalid '{name}': {why}")


def value_problem(name: str, schema: Mapping[str, Any], value: str) -> str | None:
    """Why ``value`` (as form-encoded text) does not fit ``schema``, or None if it does."""
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {', '.join(schema['enum'])}"
    kind = schema.get("type", "string")
    if kind == "boolean":
        return None if value in ("true", "false") else "must be true or false"  # OVERRULE 6
    if kind == "integer":
        return None if _INTEGER.fullmatch(value) else "must be an integer"
    if kind == "number":
        return None if _is_number(value) else "must be a number"
    return _string_problem(name, schema, value)


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _string_problem(name: str, schema: Mapping[str, Any], value: str) -> str | None:
    if len(value) < schema.get("minLength", 0):
        return f"must be at least {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"must be at most {schema['maxLength']} characters"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return f"must match {schema['pattern']}"
    if schema.get("x-twilio", {}).get("ignoreFormat"):  # the spec says not to enforce the format
        return None
    check = _FORMATS.get(schema.get("format", ""))
    return check(name, value) if check else None


def _phone_number(name: str, value: str) -> str | None:  # OVERRULE 3
    if _ADDRESS.fullmatch(value) or (name in _SENDERS and _SENDER_ID.fullmatch(value)):
        return None
    return "is not a phone number"


def _uri(name: str, value: str) -> str | None:  # OVERRULE 4
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 4000:
        return "is not an absolute http(s) URL"
    return "has an underscore in its hostname" if "_" in parts.hostname else None


def _date_time(name: str, value: str) -> str | None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return "is not an ISO 8601 date-time"
    return None


# Every format the Messages create form uses; the spec puts no other on it.
_FORMATS = {"phone-number": _phone_number, "uri": _uri, "date-time": _date_time}


def _required_problems(form: Mapping[str, list[str]]) -> list[Problem]:
    """OVERRULE 1: Twilio's documented rule. Empty values count as absent, as they do for Twilio."""
    present = {name for name, values in form.items() if any(values)}
    problems = [
        Problem(_MISSING_CODES[name], f"A '{name}' is required.")
        for name in DOCUMENTED_REQUIRED
        if name not in present
    ]
    problems += [
        Problem(_MISSING_CODES[group[0]], f"One of {', '.join(group)} is required.")
        for group in DOCUMENTED_ONE_OF
        if present.isdisjoint(group)
    ]
    if any(len(body) > BODY_MAX_CHARS for body in form.get("Body", [])):  # OVERRULE 5
        too_long = f"The concatenated message body exceeds the {BODY_MAX_CHARS} character limit."
        problems.append(Problem(BODY_TOO_LONG, too_long))
    return problems


def message_resource(account_sid: str, fields: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """The Message resource Twilio answers a valid create with: every property of the spec's schema."""
    media = fields.get("MediaUrl", [])
    sid = ("MM" if media else "SM") + secrets.token_hex(16)
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"
    to, body = str(fields["To"]), str(fields.get("Body", ""))
    now = format_datetime(datetime.now(UTC).replace(microsecond=0))
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": fields.get("From"),
        "messaging_service_sid": fields.get("MessagingServiceSid"),
        "num_media": str(len(media)),
        "num_segments": "1" if to.startswith("whatsapp:") else str(sms_size(body).segments),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if "From" not in fields else "queued",
        "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
        "to": to,
        "uri": uri,
    }


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's JSON error shape."""
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` Twilio sends with a form-encoded webhook to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


@dataclass(frozen=True)
class _Fault:
    status: int
    code: int
    message: str
    retry_after: str | None


class _Rejection(Exception):
    """A request that breaks the contract: answered with ``status`` and recorded as a violation."""

    def __init__(self, status: int, problems: Iterable[Problem], headers: Mapping[str, str] | None = None):
        self.status = status
        self.problems = list(problems)
        self.headers = dict(headers or {})
        super().__init__("; ".join(problem.message for problem in self.problems))


@dataclass(frozen=True)
class _Medium:
    content: bytes
    content_type: str


class TwilioApiServer:
    """Twilio's Messages API, and the content of inbound media, on ``base_url`` (a context
    manager that runs it in a thread).

    ``messages`` holds the form fields of every accepted create (``type: array`` parameters as
    lists, the others as strings); ``violations`` describes every request that broke the contract.
    ``put_media`` stores an inbound medium; ``media_fetches`` holds the MediaSid of every valid
    media request (faulted ones included), ``cdn_fetches`` the MediaSid of every medium the CDN
    served. ``fail_next`` and ``hang_next`` script faults for the next valid requests to the API
    (creates and media requests alike; never the CDN's).
    """

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str | list[str]]] = []
        self.violations: list[str] = []
        self.media_fetches: list[str] = []
        self.cdn_fetches: list[str] = []
        self._media: dict[tuple[str, str], _Medium] = {}  # (MessageSid, MediaSid) -> medium
        self._cdn: dict[str, tuple[str, _Medium]] = {}  # CDN path token -> (MediaSid, medium)
        self._faults: deque[_Fault] = deque()
        self._hangs: deque[float] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-api", daemon=True
        )

    @property
    def base_url(self) -> str:
        """What to give the channel as ``api_base_url`` (``TWILIO_API_BASE_URL``)."""
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def cdn_base_url(self) -> str:
        """Where media content is redirected to: this server under another host name."""
        return f"http://{CDN_HOST}:{self._server.server_port}"

    def __enter__(self) -> TwilioApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()  # releases hanging requests
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def put_media(self, message_sid: str, content: bytes, content_type: str) -> str:
        """Store a medium of the inbound message ``message_sid`` and return its ``MediaUrl``, as
        Twilio puts it in the webhook: ``{base_url}/2010-04-01/Accounts/{AccountSid}/Messages/
        {MessageSid}/Media/{MediaSid}``. ValueError for a MessageSid that Twilio would not make
        (a fault of the test)."""
        why = value_problem("MessageSid", media_contract().path_params["MessageSid"], message_sid)
        if why is not None:
            raise ValueError(f"MessageSid {why}")
        media_sid = "ME" + secrets.token_hex(16)
        with self._lock:
            self._media[(message_sid, media_sid)] = _Medium(content, content_type)
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str = "",
        retry_after: float | str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` valid requests with a Twilio error (``code`` defaults to the
        status) and, when given, a ``Retry-After`` header; they are not recorded as messages."""
        header = None if retry_after is None else str(retry_after)
        fault = _Fault(status, code or status, message or f"HTTP {status}", header)
        with self._lock:
            self._faults.extend([fault] * times)

    def hang_next(self, seconds: float) -> None:
        """Hold the next valid request ``seconds`` (or until the server closes) before handling it
        normally, so a client with a shorter timeout gives up; like Twilio, it may still be sent."""
        with self._lock:
            self._hangs.append(seconds)

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.host.rpartition(":")[0] == CDN_HOST:
            return self._cdn_answer(request)
        medium: tuple[str, _Medium] | None = None
        fields: dict[str, str | list[str]] = {}
        try:
            if _MEDIA_ROUTE.fullmatch(request.path):
                medium = self._checked_medium(request)
            else:
                fields = self._checked(request)
        except _Rejection as rejection:
            self._record(f"{request.method} {request.path}: {rejection}")
            first = rejection.problems[0]
            return _json(rejection.status, error_body(rejection.status, first.code, first.message), rejection.headers)
        self._wait_if_hanging()
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if medium is not None:
                self.media_fetches.append(medium[0])
            elif fault is None:
                self.messages.append(fields)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return _json(fault.status, error_body(fault.status, fault.code, fault.message), headers)
        if medium is not None:
            return self._redirect_to_cdn(*medium)
        return _json(201, message_resource(self.account_sid, fields))

    def _checked(self, request: Request) -> dict[str, str | list[str]]:
        """The form of a request that fulfils the contract; raise _Rejection otherwise."""
        route = _ROUTE.fullmatch(request.path)
        if route is None:
            raise _Rejection(404, [Problem(NOT_FOUND, f"The requested resource {request.path} was not found")])
        if request.method != "POST":
            raise _Rejection(405, [Problem(405, f"Method {request.method} not allowed")])
        self._check_auth(request)
        self._check_account(route.group(1), request.path)
        if request.mimetype != FORM_TYPE:
            raise _Rejection(400, [Problem(400, f"Content-Type must be {FORM_TYPE}, not {request.mimetype or 'none'}")])
        if request.args:
            raise _Rejection(400, [Problem(400, f"Unexpected query parameters: {', '.join(request.args)}")])
        form = {name: request.form.getlist(name) for name in request.form}
        if problems := form_problems(form):
            raise _Rejection(400, problems)
        params = messages_contract().params
        return {name: values if params[name].get("type") == "array" else values[0] for name, values in form.items()}

    def _checked_medium(self, request: Request) -> tuple[str, _Medium]:
        """The MediaSid and the stored medium of a valid media request; raise _Rejection otherwise."""
        route = _MEDIA_ROUTE.fullmatch(request.path)
        assert route is not None
        if request.method != "GET":
            raise _Rejection(405, [Problem(405, f"Method {request.method} not allowed")])
        self._check_auth(request)
        self._check_account(route.group(1), request.path)
        if request.args:
            raise _Rejection(400, [Problem(400, f"Unexpected query parameters: {', '.join(request.args)}")])
        message_sid, media_sid = route.group(2), route.group(3)
        params = media_contract().path_params
        well_formed = all(value_problem(name, params[name], value) is None
                          for name, value in (("MessageSid", message_sid), ("Sid", media_sid)))
        with self._lock:
            medium = self._media.get((message_sid, media_sid)) if well_formed else None
        if medium is None:
            raise _Rejection(404, [Problem(NOT_FOUND, f"The requested resource {request.path} was not found")])
        return media_sid, medium

    def _redirect_to_cdn(self, media_sid: str, medium: _Medium) -> Response:
        token = secrets.token_hex(16)
        with self._lock:
            self._cdn[token] = (media_sid, medium)
        return Response(status=307, headers={"Location": f"{self.cdn_base_url}/cdn/{token}"})

    def _cdn_answer(self, request: Request) -> Response:
        """The CDN: the bytes of a medium at the URL a media request was redirected to."""
        route = _CDN_ROUTE.fullmatch(request.path)
        with self._lock:
            found = self._cdn.get(route.group(1)) if route else None
        if found is None:
            self._record(f"CDN {request.method} {request.path}: no medium was redirected here")
            return Response("Not Found", status=404, mimetype="text/plain")
        if request.method != "GET":
            self._record(f"CDN {request.method} {request.path}: only GET is allowed")
            return Response("Method Not Allowed", status=405, mimetype="text/plain")
        if "Authorization" in request.headers:  # what a presigned storage URL refuses
            self._record(f"CDN GET {request.path}: an Authorization header reached the CDN (credentials sent "
                         "to another origin)")
            return Response("Only one auth mechanism allowed", status=400, mimetype="text/plain")
        media_sid, medium = found
        with self._lock:
            self.cdn_fetches.append(media_sid)
        return Response(medium.content, status=200, content_type=medium.content_type)

    def _check_auth(self, request: Request) -> None:
        auth = request.authorization
        expected = (self.account_sid, self.auth_token)
        if auth is None or auth.type != "basic" or (auth.username, auth.password) != expected:
            challenge = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            raise _Rejection(401, [Problem(AUTHENTICATE, "Authenticate")], challenge)

    def _check_account(self, account_sid: str, path: str) -> None:
        why = value_problem("AccountSid", messages_contract().account_sid, account_sid)
        if why is not None or account_sid != self.account_sid:
            raise _Rejection(404, [Problem(NOT_FOUND, f"The requested resource {path} was not found")])

    def _record(self, violation: str) -> None:
        with self._lock:
            self.violations.append(violation)

    def _wait_if_hanging(self) -> None:
        with self._lock:
            seconds = self._hangs.popleft() if self._hangs else None
        if seconds is not None:
            self._closing.wait(seconds)


def _json(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json")
