"""Fault scenarios, scripted and repeatable; each ends with the same audit as a load run (what
the driver had accepted, the database, the provider, the registry), so each reports what was
lost or duplicated. The answer must be nothing. And the soak: a long run at half of the
measured maximum, with each process's memory sampled. All on the production set-up."""
from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from bench.driver import LINES, citizens
from bench.load import RunResult, World, measured
from bench.report import Report
from bench.stack import Setup, memory_kib


def _verdict(result: RunResult) -> object:
    return "clean" if result.audit is not None and result.audit.clean else result.audit and result.audit.problems


FAULT_DB = "postgresql"  # the production database
LOAD_CONCURRENCY = 8


async def _load_while(w: World, seconds: float, first: int, fault=None) -> int:
    """Drive citizens for ``seconds`` while ``fault`` (a coroutine function) runs."""
    load = asyncio.create_task(w.driver.run_for(seconds, LOAD_CONCURRENCY, first))
    if fault is not None:
        await fault()
    await load
    return w.driver.stats.sent


async def gunicorn_worker_killed(w: World) -> int:
    async def fault() -> None:
        await asyncio.sleep(2)
        pid = w.stack.kill_gunicorn_worker()
        w.notes.append(f"SIGKILLed gunicorn worker {pid} 2 s into the load; gunicorn started a new one")
    return await _load_while(w, 8, 0, fault)


async def lapor_worker_killed(w: World) -> int:
    async def fault() -> None:
        await asyncio.sleep(2)
        await asyncio.to_thread(w.stack.kill_worker)
        await asyncio.sleep(1)
        await asyncio.to_thread(w.stack.start_worker)
        w.notes.append("SIGKILLed lapor worker 2 s into the load and started a new one 1 s later "
                       f"(rows it had leased were taken over after the {w.stack.lease_seconds} s lease)")
    return await _load_while(w, 8, 10_000, fault)


def _pg_ctl(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True,
                   capture_output=True, timeout=120)


async def postgres_restarted(w: World) -> int:
    async def fault() -> None:
        await asyncio.sleep(2)
        started = time.monotonic()
        await asyncio.to_thread(_pg_ctl, "stop")
        await asyncio.sleep(3)
        await asyncio.to_thread(_pg_ctl, "start")
        w.notes.append(f"stopped PostgreSQL 2 s into the load and started it again after "
                       f"{time.monotonic() - started:.1f} s; webhooks meanwhile answered 503 and were re-sent")
    return await _load_while(w, 12, 20_000, fault)


async def registry_down(w: World) -> int:
    w.registry.down(60)
    sent = await _load_while(w, 10, 30_000)  # complaints pile up while it is down
    w.notes.append("the registry answered 503 for 60 s from the start of the load; the complaints queued "
                   "with their tracking numbers and drained when it came back")
    return sent


async def provider_chaos(w: World) -> int:
    w.provider.chaos(30, rate=0.3)
    sent = await _load_while(w, 30, 40_000)
    w.notes.append(f"for 30 s the provider answered 30% of calls 429 (Retry-After 1) or 500: "
                   f"{w.provider.refused} refused calls, each retried")
    return sent


async def duplicate_webhooks(w: World) -> int:
    await asyncio.gather(*(w.driver.converse(person, LINES, copies=5) for person in citizens(24, 50_000)))
    w.notes.append("every message of 24 conversations was delivered 5 times at once")
    return w.driver.stats.sent


async def parallel_messages(w: World) -> int:
    texts = ["halo", "1", "bantuan", "kembali", "2", "3", "status LAP-AAAAAA", "ulang", "halo", "1"]
    await asyncio.gather(*(w.driver.burst(person, texts) for person in citizens(6, 60_000)))
    w.notes.append("6 citizens each sent 10 messages at the same moment")
    return w.driver.stats.sent


SCENARIOS = [
    ("SIGKILL a gunicorn worker under load", gunicorn_worker_killed, 120),
    ("SIGKILL lapor worker under load", lapor_worker_killed, 120),
    ("PostgreSQL restart under load", postgres_restarted, 120),
    ("registry down for 60 s", registry_down, 300),
    ("provider 429/500 at random for 30 s", provider_chaos, 180),
    ("the same webhook delivered 5 times", duplicate_webhooks, 60),
    ("10 parallel messages from one citizen", parallel_messages, 60),
]


async def soak(report: Report, workers: int, minutes: float) -> None:
    """Half of the best measured PostgreSQL throughput for ``minutes``, memory sampled."""
    best = max((r.stats.replies / r.stats.seconds for setup, db, _, r in report.load
                if db == FAULT_DB and setup == "production"), default=50.0)
    target = best / 2
    lanes = 16
    samples: list[tuple[float, dict[str, int]]] = []

    async def scenario(w: World) -> int:
        await w.warm_up(lanes, lanes)

        async def sample() -> None:
            while True:
                samples.append((time.monotonic(), {role: memory_kib(pid, "VmRSS")
                                                   for role, pid in w.stack.processes().items()}))
                await asyncio.sleep(30)

        sampler = asyncio.create_task(sample())
        # Each lane waits for its reply, then thinks: lanes / (think + latency) ~ the target rate.
        await w.driver.run_for(minutes * 60, lanes, 100_000, think=max(0.0, lanes / target - 0.02))
        sampler.cancel()
        samples.append((time.monotonic(),
                        {role: memory_kib(pid, "VmRSS") for role, pid in w.stack.processes().items()}))
        return w.driver.stats.sent

    result = await measured(FAULT_DB, FAULT_DB, Setup.production(workers), scenario, settle_seconds=120)
    s = result.stats
    report.soak.append(f"{minutes:g} minutes on PostgreSQL at a target of {target:.0f} msg/s (half of the best "
                       f"measured): {s.replies} messages, {s.replies / s.seconds:.0f} msg/s, p50 "
                       f"{s.percentile(.5) * 1000:.1f} ms, p99 {s.percentile(.99) * 1000:.1f} ms, errors "
                       f"{dict(s.errors) or 'none'}; audit {_verdict(result)}.")
    report.soak.append("")
    report.soak.append("| process | RSS after 1st sample (MiB) | RSS at the end (MiB) | max (MiB) |")
    report.soak.append("| --- | ---: | ---: | ---: |")
    warm = samples[min(1, len(samples) - 1)][1]
    for role in samples[-1][1]:
        series = [sample[1].get(role, 0) for sample in samples]
        report.soak.append(f"| {role} | {warm.get(role, 0) / 1024:.1f} | {series[-1] / 1024:.1f} | "
                           f"{max(series) / 1024:.1f} |")
    report.faults.append((f"soak, {minutes:g} minutes", result, "steady load at half the measured maximum"))


async def run_all(report: Report, workers: int, *, with_faults: bool, soak_minutes: float) -> None:
    if with_faults:
        for name, scenario, settle_seconds in SCENARIOS:
            result = await measured(FAULT_DB, FAULT_DB, Setup.production(workers), scenario,
                                    settle_seconds=settle_seconds)
            report.faults.append((name, result, "; ".join(result.notes)))
            print(f"{name}: audit {_verdict(result)}; "
                  f"errors {dict(result.stats.errors) or 'none'}", flush=True)
    if soak_minutes:
        await soak(report, workers, soak_minutes)
