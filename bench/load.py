"""One measured run: start the stand-ins and the service, drive citizens, wait until everything
has settled, then audit: what the driver sent, what the database holds, what the provider and the
registry received. Any loss or duplicate is a failed run."""
from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import minihttp
from bench.driver import Citizen, Driver, Stats, citizens
from bench.stack import REGISTRY_SECRET, CeilingStack, Database, Setup, Stack, cpu_seconds, memory_kib, postgres_pids
from bench.stubs import ProviderStub, RegistryStub

WARMUP_NUMBERS = 900_000  # the warm-up citizens' numbers start here, apart from the measured ones


@dataclass
class Audit:
    sent: int
    db: dict[str, int]
    provider: int
    registry: int
    registry_repeats: int
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


DRIVER = "driver and stand-ins"
POSTGRES = "PostgreSQL server"


@dataclass
class RunResult:
    name: str
    stats: Stats
    ready_seconds: float
    peak_rss_mib: dict[str, float]
    audit: Audit | None = None
    notes: list[str] = field(default_factory=list)
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)  # by process role, DRIVER and POSTGRES too
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # the same, in seconds over the measured run
    setup: str = "production"
    work_done: dict[str, dict[str, float]] = field(default_factory=dict)  # Stack.work_done()
    groups: dict[str, list[str]] = field(default_factory=dict)  # Stack.groups(): work_done's keys -> roles
    ports: dict[int, int] = field(default_factory=dict)  # serve port -> conversations the driver sent there
    wall_seconds: float = 0.0  # over which cpu_seconds were measured
    machine_busy: float = 0.0  # the share of every core's time the whole machine was busy meanwhile (/proc/stat)

    @property
    def service_cpu_ms(self) -> float:
        """CPU per message of the service and its database: every process but the driver's."""
        return sum(ms for role, ms in self.cpu_ms_per_message.items() if role != DRIVER)


class CpuMeter:
    """CPU time used by each process of a run: the service's, the driver's (with the stand-ins
    on its event loop) and, on PostgreSQL, the server's work for this run's connections."""

    def __init__(self, processes: dict[str, int], application_name: str = ""):
        self._processes = processes
        self._application_name = application_name
        self._postgres: dict[int, float] = {}
        self._started = time.monotonic()
        self._start = self._read()
        self._machine = _machine_jiffies()

    def _read(self) -> dict[str, float]:
        times = os.times()
        found = {role: cpu_seconds(pid) for role, pid in self._processes.items()}
        found[DRIVER] = times.user + times.system
        if self._application_name:
            now = {pid: cpu_seconds(pid) for pid in postgres_pids(self._application_name)}
            if not self._postgres:
                self._postgres = now
            # a backend that connected during the run counts whole; one that left is lost (pools keep theirs)
            found[POSTGRES] = sum(seconds - self._postgres.get(pid, 0.0) for pid, seconds in now.items())
        return found

    def used(self) -> tuple[dict[str, float], float]:
        """CPU seconds of each process since the start, and the wall-clock seconds."""
        end = self._read()
        used = {role: max(0.0, end[role] - self._start.get(role, 0.0)) for role in end}
        return used, time.monotonic() - self._started

    def machine_busy(self) -> float:
        """The share of all cores' time that anything on the machine ran since the start."""
        busy, total = (end - start for end, start in zip(_machine_jiffies(), self._machine, strict=True))
        return busy / total if total else 0.0

    def per_message(self, messages: int) -> dict[str, float]:
        used, _ = self.used()
        return {role: seconds * 1000 / max(1, messages) for role, seconds in used.items()}


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks, from /proc/stat."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # idle and iowait are not busy


@dataclass
class World:
    """The stand-ins and the service of one run."""

    provider: ProviderStub
    registry: RegistryStub
    stack: Stack
    driver: Driver
    notes: list[str] = field(default_factory=list)  # what a scenario did, for the report
    warmup: Driver | None = None  # conversations before the measured ones (audited, not timed)
    meter: CpuMeter | None = None  # started again after the warm-up: only the measured part counts

    def start_meter(self) -> None:
        self.meter = CpuMeter(self.stack.processes(), self.stack.db.application_name)

    async def warm_up(self, conversations: int, concurrency: int, first: int = WARMUP_NUMBERS) -> None:
        """Run ``conversations`` whole conversations first, so that what is timed is the steady
        state (connections open, scripts parsed, code paths warm), not each process's first use.
        The CPU meter starts again after it."""
        self.warmup = Driver(self.stack.ports, self.provider, public_url=self.stack.public_url)
        await self.warmup.run(citizens(conversations, first), concurrency)
        await asyncio.to_thread(self.start_meter)


@asynccontextmanager
async def world(db_kind: str, setup: Setup | int, lease_seconds: int = 5,
                database: Database | None = None) -> AsyncIterator[World]:
    """The stand-ins and the service on a fresh database of ``db_kind``, dropped afterwards, or
    on ``database`` (say a seeded one), kept."""
    provider, registry = ProviderStub(), RegistryStub(REGISTRY_SECRET)
    provider_server = await minihttp.serve(provider.handle)
    registry_server = await minihttp.serve(registry.handle)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as tmp:
        db = database or await asyncio.to_thread(Database.create, db_kind, Path(tmp))
        stack = Stack(db, Path(tmp), provider_server.sockets[0].getsockname()[1],
                      registry_server.sockets[0].getsockname()[1], setup, lease_seconds)
        try:
            await asyncio.to_thread(stack.start)
            yield World(provider, registry, stack, Driver(stack.ports, provider, public_url=stack.public_url))
        finally:
            await asyncio.to_thread(stack.stop)
            provider_server.close()
            registry_server.close()
            if database is None:
                await asyncio.to_thread(db.drop)


def peak_rss(processes: dict[str, int]) -> dict[str, float]:
    return {role: memory_kib(pid) / 1024 for role, pid in processes.items()}


async def settle(w: World, timeout: float) -> dict[str, int]:
    """Wait until the outbox is empty and every complaint is linked to the registry."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await asyncio.to_thread(w.stack.db.counts)
        if counts["outbox_open"] == 0 and counts["complaints_linked"] == counts["complaints"]:
            await asyncio.sleep(0.2)  # a reply in flight to the provider lands
            return await asyncio.to_thread(w.stack.db.counts)
        if time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.1)


async def audit(w: World, expected_replies: int, settle_seconds: float = 120.0) -> Audit:
    """Compare the four counts; every mismatch is a problem."""
    counts = await settle(w, settle_seconds)
    stats, provider, registry = w.driver.stats, w.provider, w.registry
    warm = w.warmup.stats if w.warmup is not None else Stats()
    sent, finished = stats.sent + warm.sent, stats.complaints + warm.complaints
    expected_replies += warm.sent
    result = Audit(sent, counts, provider.total, len(registry.stored), registry.repeats)
    if counts["in"] != sent:
        result.problems.append(f"the driver had {sent} messages accepted, the database holds {counts['in']}")
    if counts["out_sent"] != provider.total:
        result.problems.append(f"{counts['out_sent']} replies marked sent, the provider received {provider.total}")
    if provider.total != expected_replies:
        result.problems.append(f"{expected_replies} replies expected, the provider received {provider.total}")
    if counts["complaints"] != len(registry.stored):
        result.problems.append(f"{counts['complaints']} complaints filed, the registry stored {len(registry.stored)}")
    if counts["complaints"] != finished:
        result.problems.append(f"{finished} conversations finished, {counts['complaints']} complaints filed")
    if counts["outbox_open"] or counts["outbox_dead"]:
        result.problems.append(f"outbox left with {counts['outbox_open']} open and {counts['outbox_dead']} dead rows")
    extra = stats.errors.get("unexpected extra reply", 0) + warm.errors.get("unexpected extra reply", 0)
    if extra:
        result.problems.append(f"{extra} replies nobody waited for (duplicates)")
    result.problems.extend(provider.violations + registry.violations)
    return result


async def measured(name: str, db_kind: str, setup: Setup | int,
                   scenario: Callable[[World], Awaitable[int]], settle_seconds: float = 120.0,
                   lease_seconds: int = 5, database: Database | None = None) -> RunResult:
    """Run ``scenario`` (it drives the citizens and returns how many replies it expects) on the
    service in ``setup`` (an int: the production set-up with that many gunicorn workers), on a
    fresh database of ``db_kind`` or on ``database``."""
    async with world(db_kind, setup, lease_seconds, database) as w:
        await asyncio.to_thread(w.start_meter)
        expected = await scenario(w)
        assert w.meter is not None
        used, wall = await asyncio.to_thread(w.meter.used)
        busy = w.meter.machine_busy()
        replies = max(1, w.driver.stats.replies)
        result = RunResult(name, w.driver.stats, w.stack.ready_seconds, {}, notes=w.notes,
                           cpu_ms_per_message={role: s * 1000 / replies for role, s in used.items()},
                           cpu_seconds=used, setup=w.stack.setup.name, ports=dict(w.driver.per_port),
                           wall_seconds=wall, machine_busy=busy)
        result.audit = await audit(w, expected, settle_seconds)
        result.peak_rss_mib = peak_rss(w.stack.processes())
        result.work_done = await asyncio.to_thread(w.stack.work_done)
        result.groups = w.stack.groups()
    return result


def conversations(people: list[Citizen], concurrency: int,
                  warm_from: int = WARMUP_NUMBERS) -> Callable[[World], Awaitable[int]]:
    """The load matrix's scenario: a warm-up (citizens numbered from ``warm_from``), then
    ``people``'s whole conversations, ``concurrency`` at a time."""
    async def scenario(w: World) -> int:
        await w.warm_up(max(3, concurrency), concurrency, warm_from)
        return (await w.driver.run(people, concurrency)).sent
    return scenario


CEILING_SECONDS = 2.0


async def ceiling(people, concurrency: int, workers: int, min_seconds: float = CEILING_SECONDS) -> RunResult:
    """The same driver against the bare app on the same gunicorn set-up: the citizens' conversations
    again and again, for at least ``min_seconds``."""
    stack = CeilingStack(workers)
    await asyncio.to_thread(stack.start)
    try:
        await Driver(stack.port, provider=None).run(citizens(max(3, concurrency), WARMUP_NUMBERS), concurrency)
        driver, seconds, rounds = Driver(stack.port, provider=None), 0.0, 0
        while rounds == 0 or (seconds < min_seconds and rounds < 100):  # long enough not to be noise
            stats = await driver.run(people, concurrency)
            seconds, rounds = seconds + stats.seconds, rounds + 1
        stats.started, stats.finished = 0.0, seconds  # the rounds' time, without the gaps between them
        return RunResult(f"bare ceiling c={concurrency}", stats, stack.ready_seconds, peak_rss(stack.processes()),
                         setup=f"{workers} gunicorn worker{'s' if workers > 1 else ''}")
    finally:
        await asyncio.to_thread(stack.stop)
