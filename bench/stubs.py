"""Stand-ins for the outside world during a load run, served on the driver's event loop:

- ``ProviderStub``: Twilio's Messages API and Telegram's Bot API, as far as lapor-intake calls
  them (the contract-checking servers in tests/providers validate every field; this one is built
  to keep up with the load). Each reply is recorded with its arrival time and handed to the
  citizen it is addressed to. ``chaos`` answers a share of the calls 429 or 500 for a while.
- ``RegistryStub``: a webhook-protocol registry that checks each signature, stores a complaint
  once per Idempotency-Key (409 for a repeat, counted) and can be ``down`` (503) for a while.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import random
import re
import secrets
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qsl

from bench.minihttp import HttpRequest, HttpResponse

# Made up afresh for every run: the stand-ins accept only these, and the service under test gets
# them through its environment, as it would get real credentials.
ACCOUNT_SID = "AC" + secrets.token_hex(16)
AUTH_TOKEN = secrets.token_hex(16)
BOT_TOKEN = f"{secrets.randbelow(9 * 10**8) + 10**8}:{secrets.token_urlsafe(26)}"
BOT_USER = {"id": 987654321, "is_bot": True, "first_name": "LAPOR!", "username": "lapor_bench_bot"}
_TWILIO = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json")
_TELEGRAM = re.compile(r"/bot([^/]+)/([A-Za-z]+)")
JSON = {"Content-Type": "application/json"}


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, {**JSON, **(headers or {})}, json.dumps(body).encode())


class ProviderStub:
    """Twilio and Telegram APIs; ``inbox(address)`` is the queue of a citizen's reply times."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()  # replies per address
        self.total = 0
        self.refused = 0  # calls answered with an injected 429/500
        self.violations: list[str] = []
        self._inboxes: defaultdict[str, asyncio.Queue[float]] = defaultdict(asyncio.Queue)
        self._chaos_until = 0.0
        self._chaos_rate = 0.0
        self._message_ids = itertools.count(1)

    def inbox(self, address: str) -> asyncio.Queue[float]:
        return self._inboxes[address]

    def chaos(self, seconds: float, rate: float = 0.3) -> None:
        """For ``seconds``, answer a ``rate`` share of calls 429 (Retry-After 1) or 500."""
        self._chaos_until, self._chaos_rate = time.monotonic() + seconds, rate

    async def handle(self, request: HttpRequest) -> HttpResponse:
        arrived = time.monotonic()
        if arrived < self._chaos_until and random.random() < self._chaos_rate:
            self.refused += 1
            if random.random() < 0.5:
                return _json(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "1"})
            return _json(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
        path = request.path.split("?", 1)[0]
        if match := _TWILIO.fullmatch(path):
            return self._twilio(request, match.group(1), arrived)
        if match := _TELEGRAM.fullmatch(path):
            return self._telegram(request, match.group(1), match.group(2), arrived)
        self.violations.append(f"{request.method} {path}: unknown endpoint")
        return _json(404, {"message": "not found"})

    def _record(self, address: str, arrived: float) -> None:
        self.received[address] += 1
        self.total += 1
        self._inboxes[address].put_nowait(arrived)

    def _twilio(self, request: HttpRequest, account: str, arrived: float) -> HttpResponse:
        form = dict(parse_qsl(request.body.decode()))
        if account != ACCOUNT_SID or not form.get("To") or not form.get("From") or not form.get("Body"):
            self.violations.append(f"Twilio create without To/From/Body or on account {account}")
            return _json(400, {"code": 21602, "message": "Message body is required.", "status": 400})
        to = form["To"].removeprefix("whatsapp:")
        self._record(to, arrived)
        sid = "SM" + secrets.token_hex(16)
        return _json(201, {"sid": sid, "status": "queued", "to": form["To"], "from": form["From"],
                           "body": form["Body"], "account_sid": ACCOUNT_SID, "num_segments": "1"})

    def _telegram(self, request: HttpRequest, token: str, method: str, arrived: float) -> HttpResponse:
        if token != BOT_TOKEN:
            self.violations.append("Telegram call with a wrong token")
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if request.headers.get("content-type", "").startswith("application/json"):
            params = json.loads(request.body or b"{}")
        else:
            params = dict(parse_qsl(request.body.decode()))
        if method == "getMe":
            return _json(200, {"ok": True, "result": BOT_USER})
        if method != "sendMessage" or not params.get("text") or "chat_id" not in params:
            self.violations.append(f"Telegram {method} without chat_id/text")
            return _json(400, {"ok": False, "error_code": 400, "description": "Bad Request"})
        chat_id = int(params["chat_id"])
        self._record(str(chat_id), arrived)
        message = {"message_id": next(self._message_ids), "from": BOT_USER, "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private", "first_name": "Warga"}, "text": params["text"]}
        return _json(200, {"ok": True, "result": message})


class RegistryStub:
    """The core registry (webhook protocol)."""

    def __init__(self, secret: str):
        self.secret = secret.encode()
        self.stored: dict[str, str] = {}  # tracking number -> registry id
        self.repeats = 0  # resubmissions answered 409 (harmless by design)
        self.violations: list[str] = []
        self._down_until = 0.0

    def down(self, seconds: float) -> None:
        self._down_until = time.monotonic() + seconds

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if time.monotonic() < self._down_until:
            return _json(503, {"error": "maintenance"}, {"Retry-After": "5"})
        expected = "sha256=" + hmac.new(self.secret, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-lapor-signature", "")):
            self.violations.append("bad signature")
            return _json(403, {"error": "bad signature"})
        body = json.loads(request.body)
        key = request.headers.get("idempotency-key")
        if key is None or key != body.get("tracking_number"):
            self.violations.append("Idempotency-Key is not the tracking number")
            return _json(400, {"error": "bad key"})
        if key in self.stored:
            self.repeats += 1
            return _json(409, {"error": "already registered", "id": self.stored[key]})
        self.stored[key] = f"REG-{len(self.stored) + 1:07d}"
        return _json(201, {"id": self.stored[key]})
