"""The load driver: simulated citizens, each with its own phone number or chat id, each running
the whole default complaint conversation, one message after the previous reply has arrived.

Messages go in as real signed Twilio webhooks (WhatsApp, SMS) and Telegram updates over
loopback. Given several ports (several ``lapor serve`` processes), the driver spreads the
conversations over them as a load balancer would (conversation i on port i % n), signing every
webhook against one public URL. A reply counts when it reaches the stand-in provider (bench.stubs.ProviderStub); the
time from sending the webhook to that moment is the latency reported. Like Twilio and Telegram,
the driver re-sends a webhook that was answered 5xx or whose connection failed, with the same
message id. Against the bare ceiling app (``provider=None``) the HTTP answer is the reply.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.minihttp import Connection
from bench.stack import SMS_FROM, TELEGRAM_SECRET, WA_FROM
from bench.stubs import ACCOUNT_SID, AUTH_TOKEN, ProviderStub

CHANNELS = ("whatsapp", "sms", "telegram")
LINES = ("halo", "1", "Jalan berlubang", "Lubang besar di depan SD Negeri 3 sudah sebulan, dua motor jatuh.", "1",
         "Jl. Merdeka 10, Kota Bandung", "kemarin", "lewati", "1", "Budi Santoso", "ya")
RESEND_DELAY = 0.5  # seconds before re-sending a webhook that failed (providers wait longer)
RESEND_FOR = 120.0  # give up re-sending after this long
_UPDATE_IDS = itertools.count(int(time.time()) % 1_000_000 * 1000)  # unique per bot, as Telegram's are


@dataclass(frozen=True, slots=True)
class Citizen:
    channel: str
    address: str  # E.164 phone, or a Telegram chat id


def citizens(count: int, start: int = 0) -> list[Citizen]:
    """``count`` citizens with unique numbers, taking turns on WhatsApp, SMS and Telegram."""
    found = []
    for i in range(start, start + count):
        channel = CHANNELS[i % 3]
        found.append(Citizen(channel, str(500_000_000 + i) if channel == "telegram" else f"+62813{i:08d}"))
    return found


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # webhook sent -> reply at the provider
    acks: list[float] = field(default_factory=list)  # webhook sent -> the service's 2xx (intake alone)
    sent: int = 0  # distinct inbound messages the service accepted
    replies: int = 0  # replies the citizens waited for and got
    complaints: int = 0  # conversations that reached the tracking number
    resends: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    def percentile(self, share: float) -> float:
        """Of the latencies (to the reply), in seconds; NaN when there are none."""
        return percentile(self.latencies, share)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (``share`` in 0..1); NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Driver:
    """Drives one service on ``port`` (or several ports of one service); ``provider`` None means
    the bare ceiling app."""

    def __init__(self, port: int | Sequence[int], provider: ProviderStub | None, reply_timeout: float = 60.0,
                 public_url: str | None = None):
        self.ports = [port] if isinstance(port, int) else list(port)
        self.port = self.ports[0]
        self.provider = provider
        self.reply_timeout = reply_timeout
        self.public_url = public_url or f"http://127.0.0.1:{self.port}"
        self.stats = Stats()
        self.per_port: Counter[int] = Counter()  # conversations (and bursts) sent to each port
        self._validator = RequestValidator(AUTH_TOKEN)
        self._conversations = itertools.count()

    def _next_port(self) -> int:
        """Round robin over the ports, one conversation at a time, as a load balancer would."""
        port = self.ports[next(self._conversations) % len(self.ports)]
        self.per_port[port] += 1
        return port

    async def run(self, people: list[Citizen], concurrency: int, lines: tuple[str, ...] = LINES) -> Stats:
        """Every citizen runs the conversation; at most ``concurrency`` at once."""
        queue: asyncio.Queue[Citizen] = asyncio.Queue()
        for person in people:
            queue.put_nowait(person)
        self.stats.started = time.monotonic()
        await asyncio.gather(*(self._lane(queue, lines) for _ in range(min(concurrency, len(people)))))
        self.stats.finished = time.monotonic()
        return self.stats

    async def run_for(self, seconds: float, concurrency: int, first: int = 0, think: float = 0.0,
                      lines: tuple[str, ...] = LINES) -> Stats:
        """New citizens keep starting conversations for ``seconds`` (those under way finish);
        each waits ``think`` seconds before answering a reply."""
        deadline = time.monotonic() + seconds
        numbers = itertools.count(first)

        async def lane() -> None:
            while time.monotonic() < deadline:
                await self.converse(citizens(1, next(numbers))[0], lines, think=think)

        self.stats.started = time.monotonic()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        self.stats.finished = time.monotonic()
        return self.stats

    async def _lane(self, queue: asyncio.Queue[Citizen], lines: tuple[str, ...]) -> None:
        while not queue.empty():
            await self.converse(queue.get_nowait(), lines)

    async def converse(self, person: Citizen, lines: tuple[str, ...], think: float = 0.0, copies: int = 1) -> bool:
        """One whole conversation on a keep-alive connection of its own (as a provider would reuse
        one for a sender's messages); False when it broke off (counted in ``errors``)."""
        port = self._next_port()
        connection = Connection("127.0.0.1", port)
        try:
            for line in lines:
                if think:
                    await asyncio.sleep(think)
                if not await self.say(person, line, connection, copies, port):
                    return False
        finally:
            await connection.close()
        self.stats.complaints += 1
        return True

    async def burst(self, person: Citizen, texts: list[str]) -> None:
        """Several messages from one citizen at once, each on its own connection; then their replies."""
        assert self.provider is not None
        inbox = self.provider.inbox(person.address)
        port = self._next_port()
        connections = [Connection("127.0.0.1", port) for _ in texts]
        sent_at = time.monotonic()
        accepted = await asyncio.gather(*(self._deliver(connection, *self.webhook(person, text))
                                          for connection, text in zip(connections, texts, strict=False)))
        for connection in connections:
            await connection.close()
        self.stats.sent += sum(accepted)
        for _ in range(sum(accepted)):
            try:
                arrived = await asyncio.wait_for(inbox.get(), self.reply_timeout)
            except TimeoutError:
                self.stats.errors["no reply in time"] += 1
                return
            self.stats.latencies.append(arrived - sent_at)
            self.stats.replies += 1

    async def say(self, person: Citizen, text: str, connection: Connection, copies: int = 1,
                  port: int | None = None) -> bool:
        """Send one message (``copies`` times at once, as a provider's duplicate deliveries, the
        extra ones on connections of their own to ``port``), then wait for its reply."""
        inbox = self.provider.inbox(person.address) if self.provider else None
        while inbox is not None and not inbox.empty():  # a reply nobody waited for
            inbox.get_nowait()
            self.stats.errors["unexpected extra reply"] += 1
        path, headers, body = self.webhook(person, text)
        sent_at = time.monotonic()
        if copies == 1:
            accepted = await self._deliver(connection, path, headers, body)
        else:
            extra = [Connection("127.0.0.1", port or self.port) for _ in range(copies - 1)]
            results = await asyncio.gather(self._deliver(connection, path, headers, body),
                                           *(self._deliver(c, path, headers, body) for c in extra))
            for c in extra:
                await c.close()
            accepted = all(results)
        if not accepted:
            return False
        self.stats.acks.append(time.monotonic() - sent_at)
        self.stats.sent += 1
        if inbox is None:
            self.stats.latencies.append(time.monotonic() - sent_at)
            self.stats.replies += 1
            return True
        try:
            arrived = await asyncio.wait_for(inbox.get(), self.reply_timeout)
        except TimeoutError:
            self.stats.errors["no reply in time"] += 1
            return False
        self.stats.latencies.append(arrived - sent_at)
        self.stats.replies += 1
        return True

    async def _deliver(self, connection: Connection, path: str, headers: dict[str, str], body: bytes) -> bool:
        """POST until the service takes it (2xx), as providers re-send after 5xx and failures."""
        give_up = time.monotonic() + RESEND_FOR
        while True:
            try:
                response = await connection.request("POST", path, headers, body)
                if response.status < 300:
                    return True
                if response.status < 500:
                    self.stats.errors[f"HTTP {response.status}"] += 1
                    return False
                reason = f"HTTP {response.status}"
            except ConnectionError:
                reason = "connection failed"
            self.stats.errors[f"{reason} (re-sent)"] += 1
            self.stats.resends += 1
            if time.monotonic() > give_up:
                self.stats.errors["gave up re-sending"] += 1
                return False
            await asyncio.sleep(RESEND_DELAY)

    def webhook(self, person: Citizen, text: str) -> tuple[str, dict[str, str], bytes]:
        """The provider's request for a citizen's message: path, headers and body."""
        if person.channel == "telegram":
            update_id = next(_UPDATE_IDS)
            chat = int(person.address)
            update = {"update_id": update_id, "message": {
                "message_id": update_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat, "type": "private", "first_name": "Warga"},
                "from": {"id": chat, "is_bot": False, "first_name": "Warga", "language_code": "id"}}}
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            return "/webhooks/telegram", headers, json.dumps(update).encode()
        whatsapp = person.channel == "whatsapp"
        prefix = "whatsapp:" if whatsapp else ""
        form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": prefix + person.address,
                "To": prefix + (WA_FROM if whatsapp else SMS_FROM), "Body": text, "NumMedia": "0"}
        if whatsapp:
            form.update(ProfileName="Warga", WaId=person.address[1:])
        path = f"/webhooks/twilio/{person.channel}"
        signature = self._validator.compute_signature(self.public_url + path, form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return path, headers, urlencode(form).encode()
