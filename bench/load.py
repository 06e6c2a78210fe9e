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
from bench.driver import Driver, Stats, citizens
from bench.stack import REGISTRY_SECRET, CeilingStack, Database, Stack, cpu_seconds, memory_kib, postgres_pids
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


@dataclass
class RunResult:
    name: str
    stats: Stats
    ready_seconds: float
    peak_rss_mib: dict[str, float]
    audit: Audit | None = None
    notes: list[str] = field(default_factory=list)
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)  # by process role


class CpuMeter:
    """CPU time used by each process of a run (the service's, the driver's, PostgreSQL's)."""

    def __init__(self, processes: dict[str, int]):
        self._processes = processes
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        times = os.times()
        found = {role: cpu_seconds(pid) for role, pid in self._processes.items()}
        found["driver and stand-ins"] = times.user + times.system
        found["PostgreSQL server"] = sum(cpu_seconds(pid) for pid in postgres_pids())
        return found

    def per_message(self, messages: int) -> dict[str, float]:
        end = self._read()
        return {role: (end[role] - self._start.get(role, 0.0)) * 1000 / max(1, messages) for role in end}


@dataclass
class World:
    """The stand-ins and the service of one run."""

    provider: ProviderStub
    registry: RegistryStub
    stack: Stack
    driver: Driver
    notes: list[str] = field(default_factory=list)  # what a scenario did, for the report
    warmup: Driver | None = None  # conversations before the measured ones (audited, not timed)

    async def warm_up(self, conversations: int, concurrency: int) -> None:
        """Run ``conversations`` whole conversations first, so that what is timed is the steady
        state (connections open, scripts parsed, code paths warm), not each process's first use."""
        self.warmup = Driver(self.stack.port, self.provider)
        await self.warmup.run(citizens(conversations, WARMUP_NUMBERS), concurrency)


@asynccontextmanager
async def world(db_kind: str, workers: int, lease_seconds: int = 5) -> AsyncIterator[World]:
    provider, registry = ProviderStub(), RegistryStub(REGISTRY_SECRET)
    provider_server = await minihttp.serve(provider.handle)
    registry_server = await minihttp.serve(registry.handle)
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as tmp:
        db = await asyncio.to_thread(Database.create, db_kind, Path(tmp))
        stack = Stack(db, Path(tmp), provider_server.sockets[0].getsockname()[1],
                      registry_server.sockets[0].getsockname()[1], workers, lease_seconds)
        try:
            await asyncio.to_thread(stack.start)
            yield World(provider, registry, stack, Driver(stack.port, provider))
        finally:
            await asyncio.to_thread(stack.stop)
            provider_server.close()
            registry_server.close()
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


async def measured(name: str, db_kind: str, workers: int,
                   scenario: Callable[[World], Awaitable[int]], settle_seconds: float = 120.0,
                   lease_seconds: int = 5) -> RunResult:
    """Run ``scenario`` (it drives the citizens and returns how many replies it expects)."""
    async with world(db_kind, workers, lease_seconds) as w:
        meter = CpuMeter(w.stack.processes())
        expected = await scenario(w)
        result = RunResult(name, w.driver.stats, w.stack.ready_seconds, {}, notes=w.notes,
                           cpu_ms_per_message=meter.per_message(w.driver.stats.replies))
        result.audit = await audit(w, expected, settle_seconds)
        result.peak_rss_mib = peak_rss(w.stack.processes())
    return result


async def ceiling(people, concurrency: int, workers: int) -> RunResult:
    """The same driver against the bare app on the same gunicorn set-up."""
    stack = CeilingStack(workers)
    await asyncio.to_thread(stack.start)
    try:
        await Driver(stack.port, provider=None).run(citizens(max(3, concurrency), WARMUP_NUMBERS), concurrency)
        stats = await Driver(stack.port, provider=None).run(people, concurrency)
        return RunResult(f"bare ceiling c={concurrency}", stats, stack.ready_seconds, peak_rss(stack.processes()))
    finally:
        await asyncio.to_thread(stack.stop)
