"""docs/BENCHMARKS.md from a run's results: tables, targets, machine, date and commands."""
from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.load import RunResult

TARGET_RATIO = 0.60
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 100.0
TARGET_READY_S = 2.0
TARGET_STEPS = 20_000


@dataclass
class Report:
    engine_steps: float = 0.0
    drain: dict[str, float] = field(default_factory=dict)  # database -> seconds for 1,000
    load: list[tuple[str, int, RunResult]] = field(default_factory=list)  # (database, concurrency, result)
    ceiling: dict[int, RunResult] = field(default_factory=dict)
    faults: list[tuple[str, RunResult, str]] = field(default_factory=list)  # (scenario, result, what happened)
    soak: list[str] = field(default_factory=list)
    fuzz: str = ""
    command: str = "make bench"

    @property
    def clean(self) -> bool:
        runs = [r for _, _, r in self.load] + [r for _, r, _ in self.faults]
        return all(r.audit is None or r.audit.clean for r in runs)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "PostgreSQL ?"
    return (f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {postgres}; SQLite {__import__('sqlite3').sqlite_version}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(report: Report) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Benchmarks", "",
           f"Measured {now} by `{report.command}` on this machine: {machine()}.", "",
           "Every figure below comes from one run of the harness in `bench/` (see \"How it is measured\").",
           "Machines here are noisy: compare the ratios within one run, not absolute figures across runs.", ""]
    out += _targets(report)
    out += ["## Load: whole complaint conversations", "",
            "Citizens take turns on WhatsApp, SMS (signed Twilio webhooks) and Telegram (updates with the secret",
            "header); each sends its next message when the previous reply has reached the stand-in provider.",
            "Latency: webhook sent -> reply received by the provider (through intake, the outbox and `lapor worker`).",
            "", "| database | concurrency | messages | msg/s | complaints/s | p50 ms | p90 ms | p99 ms | max ms "
            "| errors | ratio to bare | audit |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
    for database, concurrency, result in report.load:
        s = result.stats
        bare = report.ceiling.get(concurrency)
        ratio = f"{(s.replies / s.seconds) / (bare.stats.replies / bare.stats.seconds):.0%}" if bare else "-"
        errors = ", ".join(f"{k}: {v}" for k, v in s.errors.items()) or "none"
        out.append(f"| {database} | {concurrency} | {s.replies} | {s.replies / s.seconds:.0f} | "
                   f"{s.complaints / s.seconds:.1f} | {_ms(s.percentile(.5))} | {_ms(s.percentile(.9))} | "
                   f"{_ms(s.percentile(.99))} | {_ms(max(s.latencies, default=0))} | {errors} | {ratio} | "
                   f"{'clean' if result.audit.clean else 'FAILED: ' + '; '.join(result.audit.problems)} |")
    out += ["", "### The bare ceiling", "",
            "The same driver against a Flask app that answers every webhook with a constant, on the same gunicorn",
            "set-up (`bench/ceiling.py`); its HTTP answer counts as the reply.", "",
            "| concurrency | requests | req/s | p50 ms | p99 ms |", "| ---: | ---: | ---: | ---: | ---: |"]
    for concurrency, result in sorted(report.ceiling.items()):
        s = result.stats
        out.append(f"| {concurrency} | {s.replies} | {s.replies / s.seconds:.0f} | {_ms(s.percentile(.5))} | "
                   f"{_ms(s.percentile(.99))} |")
    out += ["", "### Memory and start-up", "", "| run | ready s | peak RSS per process (MiB) |", "| --- | ---: | --- |"]
    for database, concurrency, result in report.load:
        rss = ", ".join(f"{role} {mib:.0f}" for role, mib in result.peak_rss_mib.items())
        out.append(f"| {database} c={concurrency} | {result.ready_seconds:.2f} | {rss} |")
    out += ["", "### Where the CPU goes", "",
            "CPU time per message (milliseconds) of each process during the run, from /proc; the driver's",
            "share includes the stand-in providers and registry.", ""]
    roles = sorted({role for _, _, r in report.load for role in r.cpu_ms_per_message})
    out += ["| run | " + " | ".join(roles) + " | total |", "| --- |" + " ---: |" * (len(roles) + 1)]
    for database, concurrency, result in report.load:
        cpu = result.cpu_ms_per_message
        out.append(f"| {database} c={concurrency} | " + " | ".join(f"{cpu.get(role, 0):.2f}" for role in roles)
                   + f" | {sum(cpu.values()):.2f} |")
    out += ["", "### Audit", "",
            "After each run the harness waits for the outbox to empty, then compares what the driver",
            "had accepted, what the database holds, what the provider received and what the registry stored.", "",
            "| run | sent | in DB (in/out) | provider | complaints | registry (repeats) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for database, concurrency, result in report.load:
        a = result.audit
        out.append(f"| {database} c={concurrency} | {a.sent} | {a.db['in']}/{a.db['out']} | {a.provider} | "
                   f"{a.db['complaints']} | {a.registry} ({a.registry_repeats}) |")
    if report.faults:
        out += ["", "## Fault scenarios", "",
                "| scenario | database | messages | errors seen by citizens | lost | duplicated | what happened |",
                "| --- | --- | ---: | --- | --- | --- | --- |"]
        for scenario, result, happened in report.faults:
            a = result.audit
            errors = ", ".join(f"{k}: {v}" for k, v in result.stats.errors.items()) or "none"
            lost = "nothing" if a.clean else "; ".join(a.problems)
            duplicated = "nothing" if a.clean else "see lost"
            out.append(f"| {scenario} | {result.name} | {result.stats.replies} | {errors} | {lost} | {duplicated} | "
                       f"{happened} |")
    if report.soak:
        out += ["", "## Soak", "", *report.soak]
    if report.fuzz:
        out += ["", "## Bad input (fuzz)", "", report.fuzz]
    out += ["", "## Other figures", "",
            f"- Pure engine: **{report.engine_steps:,.0f} steps/s** (`bench/engine_speed.py`).",
            *(f"- Registry backlog: 1,000 queued complaints drained into a local webhook registry in "
              f"**{seconds:.2f} s on {database}** ({1000 / seconds:.0f}/s; `bench/registry_drain.py`)."
              for database, seconds in report.drain.items())]
    history = Path(__file__).with_name("HISTORY.md")
    if history.is_file():  # hand-written: what profiling found and what changed, with before/after
        out += ["", history.read_text(encoding="utf-8").strip()]
    out += ["", "## How it is measured", "",
            "- `make bench` runs `python -m bench.run`; `python -m bench.run --help` lists the knobs (databases,",
            "  concurrencies, citizens, fault scenarios, soak length). `make test` runs a few-second smoke version.",
            "- The service runs the production way: `lapor serve` (gunicorn, gthread, one worker per core, no",
            "  embedded delivery thread) and one `lapor worker`, on a fresh SQLite file or PostgreSQL schema, with",
            "  the webhook registry protocol. Migrations run first (`lapor db upgrade`), as in a deployment;",
            "  \"ready\" is the time from starting `lapor serve` to its first 200 on `/readyz`.",
            "- Stand-ins (`bench/stubs.py`) for Twilio, Telegram and the registry run on the driver's event loop,",
            "  so send and arrival times share one clock. Provider rate limits are off in the benchmark",
            "  configuration: the simulated citizens answer instantly, and Telegram's 1 message/s per chat",
            "  would measure our pacing, not our speed.",
            "- Each run (the ceiling's too) starts with a warm-up of one conversation per lane (at least 3),",
            "  which is audited but not timed: the tables show the steady state, not each process's first",
            "  use of its connections and code. Start-up is measured on its own (\"ready\").",
            "- Peak RSS is each process's `VmHWM` at the end of the run, in MiB (1 MiB = 1.049 MB)."]
    return "\n".join(out) + "\n"


def _targets(report: Report) -> list[str]:
    lines = ["## Targets (2-core machine)", "", "| target | measured | |", "| --- | --- | --- |"]
    for database, concurrency, result in report.load:
        if concurrency == 32 and 32 in report.ceiling:
            bare = report.ceiling[32].stats
            ratio = (result.stats.replies / result.stats.seconds) / (bare.replies / bare.seconds)
            lines.append(f"| throughput at c=32 >= 60% of the bare ceiling ({database}) | {ratio:.0%} | "
                         f"{_mark(ratio >= TARGET_RATIO)} |")
        if concurrency == 8:
            p99 = result.stats.percentile(.99) * 1000
            lines.append(f"| p99 latency at c=8 <= 50 ms ({database}) | {p99:.1f} ms | {_mark(p99 <= TARGET_P99_MS)} |")
    peak = max((mib for _, _, r in report.load for mib in r.peak_rss_mib.values()), default=0.0)
    peak_mb = peak * 1.048576
    lines.append(f"| peak RSS per process <= 100 MB | {peak_mb:.0f} MB ({peak:.0f} MiB, the largest process) | "
                 f"{_mark(peak_mb <= TARGET_RSS_MB)} |")
    ready = max((r.ready_seconds for _, _, r in report.load), default=0.0)
    lines.append(f"| ready in < 2 s | {ready:.2f} s (slowest start) | {_mark(ready < TARGET_READY_S)} |")
    lines.append(f"| pure engine >= 20,000 steps/s | {report.engine_steps:,.0f} | "
                 f"{_mark(report.engine_steps >= TARGET_STEPS)} |")
    return lines + [""]
