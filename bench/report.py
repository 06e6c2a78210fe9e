"""docs/BENCHMARKS.md from a run's results: tables, targets (each beside the previous run's
figure), machine, date and commands; and docs/BENCHMARKS.json beside it, every figure of the
run in a machine-readable form, which the next run reads as its "previous".
"""
from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.load import DRIVER, POSTGRES, RunResult

if TYPE_CHECKING:
    from bench.reply_drain import Drained

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.25
TARGET_P99_MS = 50.0
TARGET_CPU_MS = 3.0
TARGET_RSS_MB = 100.0
TARGET_READY_S = 2.0
TARGET_STEPS = 20_000
MB_PER_MIB = 1.048576


@dataclass(frozen=True)
class Target:
    """One of issue 14's targets, measured per set-up and database."""

    key: str  # its name in BENCHMARKS.json
    label: str
    limit: float
    higher_is_better: bool
    show: Callable[[float], str]  # a figure as the table shows it
    short: Callable[[float, float], str]  # how far a figure misses the limit

    def met(self, value: float) -> bool:
        return value >= self.limit if self.higher_is_better else value <= self.limit


def _times(value: float, limit: float) -> str:
    return f"{value / limit:.1f}×" if value > limit else f"{limit / max(value, 1e-9):.1f}× below"


TARGETS = (
    Target("p99_c8_ms", "p99 webhook → reply at the provider, c=8, <= 50 ms", TARGET_P99_MS, False,
           lambda v: f"{v:.1f} ms", lambda v, lim: f"{v - lim:.1f} ms over ({_times(v, lim)})"),
    Target("ratio_c32", "throughput at c=32 >= 25% of the bare ceiling", TARGET_RATIO, True,
           lambda v: f"{v:.0%}", lambda v, lim: f"{(lim - v) * 100:.0f} points short ({_times(v, lim)})"),
    Target("cpu_ms_c8", "CPU per message, c=8, <= 3 ms (service and database)", TARGET_CPU_MS, False,
           lambda v: f"{v:.2f} ms", lambda v, lim: f"{v - lim:.2f} ms over ({_times(v, lim)})"),
    Target("peak_rss_mb", "peak RSS per process <= 100 MB", TARGET_RSS_MB, False,
           lambda v: f"{v:.0f} MB", lambda v, lim: f"{v - lim:.0f} MB over"),
    Target("ready_s", "ready in < 2 s", TARGET_READY_S, False,
           lambda v: f"{v:.2f} s", lambda v, lim: f"{v - lim:.2f} s over"),
)


@dataclass
class Report:
    engine_steps: float = 0.0
    drain: dict[str, float] = field(default_factory=dict)  # database -> seconds for 1,000
    reply_drain: dict[str, Drained] = field(default_factory=dict)  # database -> 1,000 replies sent (bench.reply_drain)
    setups: dict[str, str] = field(default_factory=dict)  # set-up name -> what runs (Setup.describe)
    workers: dict[str, int] = field(default_factory=dict)  # set-up name -> gunicorn workers (its ceiling's)
    load: list[tuple[str, str, int, RunResult]] = field(default_factory=list)  # (set-up, database, c, result)
    ceiling: dict[tuple[int, int], RunResult] = field(default_factory=dict)  # (gunicorn workers, c) -> result
    faults: list[tuple[str, RunResult, str]] = field(default_factory=list)  # (scenario, result, what happened)
    soak: list[str] = field(default_factory=list)
    scale_out: list[RunResult] = field(default_factory=list)  # bench.scale_out: 1 process each, then 2
    growth: str = ""  # HOOK (growth benchmark): bench.growth.render(results), markdown, rendered as it is
    growth_figures: Any = None  # HOOK (growth benchmark): whatever of it BENCHMARKS.json should keep
    profiles: list[str] = field(default_factory=list)  # bench.profile.render(...) per database, markdown
    fuzz: str = ""
    command: str = "make bench"
    previous: dict[str, Any] | None = None  # the previous run's BENCHMARKS.json

    @property
    def clean(self) -> bool:
        runs = [r for *_, r in self.load] + [r for _, r, _ in self.faults] + self.scale_out
        return all(r.audit is None or r.audit.clean for r in runs)

    def rate(self, result: RunResult) -> float:
        s = result.stats
        return s.replies / s.seconds if s.seconds > 0 else 0.0

    def ratio(self, setup: str, concurrency: int, result: RunResult) -> float | None:
        """Throughput against the bare ceiling on the same gunicorn set-up, same concurrency."""
        bare = self.ceiling.get((self.workers.get(setup, 0), concurrency))
        return self.rate(result) / self.rate(bare) if bare and self.rate(bare) else None

    def target_figures(self) -> dict[str, dict[str, float]]:
        """``set-up/database`` -> each target's figure (what is measured of it in this run)."""
        found: dict[str, dict[str, float]] = {}
        for setup, database, concurrency, result in self.load:
            figures = found.setdefault(f"{setup}/{database}", {})
            if concurrency == 8:
                figures["p99_c8_ms"] = result.stats.percentile(.99) * 1000
                figures["cpu_ms_c8"] = result.service_cpu_ms
                figures["cpu_ms_c8_with_driver"] = sum(result.cpu_ms_per_message.values())
            if concurrency == 32 and (ratio := self.ratio(setup, 32, result)) is not None:
                figures["ratio_c32"] = ratio
            peak = max(result.peak_rss_mib.values(), default=0.0) * MB_PER_MIB
            figures["peak_rss_mb"] = max(figures.get("peak_rss_mb", 0.0), peak)
            figures["ready_s"] = max(figures.get("ready_s", 0.0), result.ready_seconds)
        return found


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
    try:
        postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        postgres = ""
    return (f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {postgres or 'PostgreSQL ?'}; "
            f"SQLite {__import__('sqlite3').sqlite_version}")


def commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip()


def read_previous(path: Path) -> dict[str, Any] | None:
    """The previous run's figures (BENCHMARKS.json), or None where there are none."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _finite(value: float) -> float | None:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def _errors(result: RunResult) -> str:
    return ", ".join(f"{k}: {v}" for k, v in result.stats.errors.items()) or "none"


def _audit(result: RunResult) -> str:
    if result.audit is None:
        return "-"
    return "clean" if result.audit.clean else "FAILED: " + "; ".join(result.audit.problems)


def render(report: Report, now: datetime | None = None) -> str:
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Benchmarks", "",
           f"Measured {when} by `{report.command}` on this machine: {machine()}.", "",
           "Every figure below comes from one run of the harness in `bench/` (see \"How it is measured\"); "
           "[BENCHMARKS.json](BENCHMARKS.json) holds them all, and the next run shows them as \"previous\".",
           "Machines here are noisy: compare the ratios within one run, not absolute figures across runs.", ""]
    out += _targets(report)
    out += _setups(report)
    out += _load(report)
    out += _scale_out(report)
    # HOOK (growth benchmark): bench.growth.render(results) -> markdown, set by bench.run as report.growth.
    if report.growth:
        out += ["", report.growth.strip()]
    if report.faults:
        out += ["", "## Fault scenarios", "",
                "On the production set-up, PostgreSQL.", "",
                "| scenario | database | messages | errors seen by citizens | lost | duplicated | what happened |",
                "| --- | --- | ---: | --- | --- | --- | --- |"]
        for scenario, result, happened in report.faults:
            a = result.audit
            clean = a is None or a.clean
            lost = "nothing" if clean else "; ".join(a.problems if a else [])
            duplicated = "nothing" if clean else "see lost"
            out.append(f"| {scenario} | {result.name} | {result.stats.replies} | {_errors(result)} | {lost} | "
                       f"{duplicated} | {happened} |")
    if report.soak:
        out += ["", "## Soak", "", *report.soak]
    if report.fuzz:
        out += ["", "## Bad input (fuzz)", "", report.fuzz]
    out += ["", "## Other figures", "",
            f"- Pure engine: **{report.engine_steps:,.0f} steps/s** (`bench/engine_speed.py`).",
            *(f"- Registry backlog: 1,000 queued complaints drained into a local webhook registry in "
              f"**{seconds:.2f} s on {database}** ({1000 / seconds:.0f}/s; `bench/registry_drain.py`)."
              for database, seconds in report.drain.items()),
            *(f"- Reply backlog: 1,000 queued replies to 1,000 Telegram chats sent through the Bot API stand-in "
              f"by one delivery worker in **{d.seconds:.2f} s on {database}** ({1000 / d.seconds:.0f}/s), with "
              f"{d.cpu_ms_per_reply:.2f} ms of its CPU per reply and {d.commits:,} commits (`bench/reply_drain.py`)."
              for database, d in report.reply_drain.items())]
    if report.profiles:
        out += ["", "## Profiles", "",
                "Where a message's CPU goes, in one process under cProfile (`bench/profile.py`): the explanation "
                "beside the CPU table, not a load figure.", ""]
        for profile in report.profiles:
            out += [profile.strip(), ""]
    history = Path(__file__).with_name("HISTORY.md")
    if history.is_file():  # hand-written: what profiling found and what changed, with before/after
        out += ["", history.read_text(encoding="utf-8").strip()]
    out += _how(report)
    return "\n".join(out) + "\n"


def _previous_label(report: Report) -> str:
    previous = report.previous or {}
    when = str(previous.get("measured_at", ""))[:10]
    return f"previous ({when})" if when else "previous"


def _targets(report: Report) -> list[str]:
    figures = report.target_figures()
    before = (report.previous or {}).get("targets", {})
    lines = ["## Targets (2-core machine)", "",
             "Each target per set-up and database (see \"Set-ups\"), beside the previous run's figure; "
             "where one is missed, by how much.", "",
             f"| target | set-up | database | measured | {_previous_label(report)} | |",
             "| --- | --- | --- | ---: | ---: | --- |"]
    for target in TARGETS:
        for key in figures:
            setup, database = key.split("/", 1)
            value = figures[key].get(target.key)
            if value is None:
                continue
            old = before.get(key, {}).get(target.key)
            old_text = target.show(old) if isinstance(old, (int, float)) else "-"
            verdict = "met" if target.met(value) else f"**missed**: {target.short(value, target.limit)}"
            lines.append(f"| {target.label} | {setup} | {database} | {target.show(value)} | {old_text} | {verdict} |")
    old_steps = (report.previous or {}).get("engine_steps_per_s")
    lines.append(f"| pure engine >= 20,000 steps/s | - | - | {report.engine_steps:,.0f} | "
                 f"{f'{old_steps:,.0f}' if isinstance(old_steps, (int, float)) else '-'} | "
                 f"{_mark(report.engine_steps >= TARGET_STEPS)} |")
    notes = []
    if any("cpu_ms_c8" in f for f in figures.values()):
        notes.append("CPU per message is every process of the service summed (gunicorn master and workers, "
                     "`lapor worker`, and on PostgreSQL the server's backends for this run and its background "
                     "processes), over the measured part of the c=8 run; the driver and the stand-ins are apart "
                     "(\"Where the CPU goes\").")
    if report.previous and report.previous.get("note"):
        notes.append(f"Previous: {report.previous['note']}")
    return lines + [""] + [n + "\n" for n in notes]


def _setups(report: Report) -> list[str]:
    if not report.setups:
        return []
    lines = ["## Set-ups", "", "| set-up | what runs |", "| --- | --- |"]
    lines += [f"| {name} | {what} |" for name, what in report.setups.items()]
    return lines + ["", "\"default\" is what `make run` starts: `lapor serve` with config.yaml's `server.workers` "
                    "and `delivery.embedded_worker` as they are (since 2026-12-03: a gunicorn worker per core and "
                    "one delivery process that `lapor serve` starts itself). \"production\" is the deployment "
                    "the README describes: one gunicorn worker per core and `lapor worker` run apart. Both "
                    "use the stand-in webhook registry (the audit counts what it stored) and have provider rate "
                    "limits off.", ""]


def _roles(results: list[RunResult]) -> list[str]:
    """Process roles in a fixed order: gunicorn, then lapor workers, then the database."""
    seen = {role for r in results for role in r.cpu_ms_per_message if role not in (DRIVER, POSTGRES)}

    def order(role: str) -> tuple[int, str]:
        rank = 0 if "master" in role else 1 if role.startswith(("gunicorn", "serve")) else 2
        return rank, role
    return sorted(seen, key=order)


def _load(report: Report) -> list[str]:
    out = ["## Load: whole complaint conversations", "",
           "Citizens take turns on WhatsApp, SMS (signed Twilio webhooks) and Telegram (updates with the secret",
           "header); each sends its next message when the previous reply has reached the stand-in provider.",
           "Latency: webhook sent -> reply received by the provider (through intake, the outbox and delivery).",
           "", "| set-up | database | concurrency | messages | msg/s | complaints/s | p50 ms | p90 ms | p99 ms "
           "| max ms | errors | ratio to bare | audit |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
    for setup, database, concurrency, result in report.load:
        s = result.stats
        ratio = report.ratio(setup, concurrency, result)
        out.append(f"| {setup} | {database} | {concurrency} | {s.replies} | {report.rate(result):.0f} | "
                   f"{s.complaints / s.seconds if s.seconds else 0:.1f} | {_ms(s.percentile(.5))} | "
                   f"{_ms(s.percentile(.9))} | {_ms(s.percentile(.99))} | {_ms(max(s.latencies, default=0))} | "
                   f"{_errors(result)} | {f'{ratio:.0%}' if ratio is not None else '-'} | {_audit(result)} |")
    out += ["", "### The bare ceiling", "",
            "The same driver against a Flask app that answers every webhook with a constant, on the same gunicorn",
            "set-up as each set-up's `lapor serve` (`bench/ceiling.py`); its HTTP answer counts as the reply. "
            "The conversations run again and again for at least 2 s. Each set-up's ratio is to the ceiling with "
            "its number of gunicorn workers.", "",
            "| gunicorn workers | concurrency | requests | req/s | p50 ms | p99 ms |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (workers, concurrency), result in sorted(report.ceiling.items()):
        s = result.stats
        out.append(f"| {workers} | {concurrency} | {s.replies} | {report.rate(result):.0f} | "
                   f"{_ms(s.percentile(.5))} | {_ms(s.percentile(.99))} |")
    out += ["", "### Memory and start-up", "", "| run | ready s | peak RSS per process (MiB) |", "| --- | ---: | --- |"]
    for setup, database, concurrency, result in report.load:
        rss = ", ".join(f"{role} {mib:.0f}" for role, mib in result.peak_rss_mib.items())
        out.append(f"| {setup} {database} c={concurrency} | {result.ready_seconds:.2f} | {rss} |")
    results = [r for *_, r in report.load]
    roles = _roles(results)
    out += ["", "### Where the CPU goes", "",
            "CPU time per message (milliseconds) of each process over the measured part of the run (after the",
            "warm-up), from /proc. \"PostgreSQL server\" is the backends of this run's connections (found by",
            "their application_name) with the server's background processes; \"service total\" is every process",
            "but the driver, whose share includes the stand-in providers and registry on its event loop.",
            "\"machine busy\" is the share of all cores' time anything on the machine ran meanwhile (/proc/stat):",
            "well above what these processes explain means something else was running.", "",
            "| run | " + " | ".join(roles) + f" | {POSTGRES} | service total | {DRIVER} | total | machine busy |",
            "| --- |" + " ---: |" * (len(roles) + 5)]
    for setup, database, concurrency, result in report.load:
        cpu = result.cpu_ms_per_message
        cells = [f"{cpu[role]:.2f}" if role in cpu else "-" for role in [*roles, POSTGRES]]
        out.append(f"| {setup} {database} c={concurrency} | " + " | ".join(cells)
                   + f" | **{result.service_cpu_ms:.2f}** | {cpu.get(DRIVER, 0):.2f} | {sum(cpu.values()):.2f} | "
                   f"{result.machine_busy:.0%} |")
    out += ["", "### Audit", "",
            "After each run the harness waits for the outbox to empty, then compares what the driver",
            "had accepted, what the database holds, what the provider received and what the registry stored.", "",
            "| run | sent | in DB (in/out) | provider | complaints | registry (repeats) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for setup, database, concurrency, result in report.load:
        a = result.audit
        if a is not None:
            out.append(f"| {setup} {database} c={concurrency} | {a.sent} | {a.db['in']}/{a.db['out']} | "
                       f"{a.provider} | {a.db['complaints']} | {a.registry} ({a.registry_repeats}) |")
    return out


def utilisation(result: RunResult, cores: int | None = None) -> float:
    """The service's CPU (the database's included) as a share of every core's time."""
    service = sum(s for role, s in result.cpu_seconds.items() if role != DRIVER)
    return service / (max(result.wall_seconds, 1e-9) * (cores or os.cpu_count() or 1))


def _scale_out(report: Report) -> list[str]:
    if not report.scale_out:
        return []
    cores = os.cpu_count() or 1
    base = report.rate(report.scale_out[0])
    out = ["", "## Scale-out", "",
           "The same load on one PostgreSQL, first one `lapor serve` (1 gunicorn worker) and one `lapor worker`,",
           "then two `lapor serve` processes on ports of their own (1 gunicorn worker each) and two",
           "`lapor worker` processes (`bench/scale_out.py`). The driver spreads the conversations over the serve",
           "ports as a load balancer would (conversation i on port i % n); every process has the same secrets",
           "and public URL and, on this one host, one metrics directory. CPU utilisation is the service's",
           f"CPU time (PostgreSQL's included) over the run's wall-clock time on all {cores} cores; \"machine busy\"",
           "is the same for everything that ran on the machine (the driver and anything else on it included).", "",
           "| processes | messages | msg/s | × the first | p50 ms | p99 ms | CPU utilisation | machine busy | errors "
           "| audit |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for result in report.scale_out:
        s = result.stats
        rate = report.rate(result)
        out.append(f"| {result.setup} | {s.replies} | {rate:.0f} | {rate / base if base else 0:.2f} | "
                   f"{_ms(s.percentile(.5))} | {_ms(s.percentile(.99))} | {utilisation(result, cores):.0%} | "
                   f"{result.machine_busy:.0%} | {_errors(result)} | {_audit(result)} |")
    out += ["", "Who did the work (each process's own counts in the shared metrics directory, the warm-up "
            "included), and its CPU per message (the measured part only):", "",
            "| processes | process | messages in | replies sent | complaints accepted | CPU ms per message |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    for result in report.scale_out:
        cpu = result.cpu_ms_per_message
        for process, counts in result.work_done.items():
            ms = sum(cpu.get(role, 0.0) for role in result.groups.get(process, []))
            out.append(f"| {result.setup} | {process} | {counts.get('messages in', 0):.0f} | "
                       f"{counts.get('replies sent', 0):.0f} | {counts.get('complaints accepted', 0):.0f} | "
                       f"{ms:.2f} |")
        out.append(f"| {result.setup} | {POSTGRES} | | | | {cpu.get(POSTGRES, 0.0):.2f} |")
    first, last = report.scale_out[0], report.scale_out[-1]
    growth = report.rate(last) / base if base else 0.0
    full = last.machine_busy >= 0.9
    out += ["", f"{last.setup.capitalize()} carried {growth:.2f}× the messages of {first.setup}. The service used "
            f"{utilisation(last, cores):.0%} of the {cores} cores' time against {utilisation(first, cores):.0%}, "
            f"while the machine was {last.machine_busy:.0%} and {first.machine_busy:.0%} busy"
            + (" (the rest is the driver and whatever else ran on the machine)" if full else "") + ". "
            "The work per message does not shrink with more processes, so on one host throughput grows only "
            "while the processes find idle cores: "
            + ("here they found few, since the cores were already full. " if full else
               "here the added pair took up time the first left idle. ")
            + "Each further host brings its own cores (the README's \"Running past one machine\"); what every "
            "host shares is PostgreSQL, whose CPU per message is in the table above."]
    return out


def _how(report: Report) -> list[str]:
    return ["", "## How it is measured", "",
            "- `make bench` runs `python -m bench.run`; `python -m bench.run --help` lists the knobs (set-ups,",
            "  databases, concurrencies, citizens, fault scenarios, scale-out, soak length). `make test` runs a",
            "  few-second smoke version, which asserts a clean audit and never a speed.",
            "- Two set-ups (\"Set-ups\"): \"default\" runs `lapor serve` exactly as `make run` does (config.yaml's",
            "  workers and embedded delivery: the `lapor worker` it starts itself); \"production\" runs `lapor serve`",
            "  (gunicorn, gthread, one worker per core, embedded delivery off) and one `lapor worker` apart. Each on a",
            "  fresh SQLite file or",
            "  PostgreSQL schema, with the webhook registry protocol. Migrations run first (`lapor db upgrade`), as",
            "  in a deployment; \"ready\" is the time from starting `lapor serve` to its first 200 on `/readyz`.",
            "- Stand-ins (`bench/stubs.py`) for Twilio, Telegram and the registry run on the driver's event loop,",
            "  so send and arrival times share one clock. Provider rate limits are off in the benchmark",
            "  configuration: the simulated citizens answer instantly, and Telegram's 1 message/s per chat",
            "  would measure our pacing, not our speed.",
            "- Each run (the ceiling's too) starts with a warm-up of one conversation per lane (at least 3),",
            "  which is audited but neither timed nor counted in the CPU table: the tables show the steady",
            "  state, not each process's first use of its connections and code. Start-up is measured on its",
            "  own (\"ready\").",
            "- Peak RSS is each process's `VmHWM` at the end of the run, in MiB (1 MiB = 1.049 MB); the",
            "  target's figure is the largest process's, in MB.",
            "- Previous figures come from the BENCHMARKS.json the last run wrote (`--previous` to name another)."]


# ---------------------------------------------------------------------- BENCHMARKS.json

def _run_figures(result: RunResult) -> dict[str, Any]:
    s = result.stats
    return {
        "setup": result.setup, "name": result.name, "messages": s.replies, "complaints": s.complaints,
        "seconds": round(s.seconds, 3), "msg_per_s": round(s.replies / s.seconds, 2) if s.seconds else None,
        **{f"p{round(q * 100)}_ms": _finite(round(s.percentile(q) * 1000, 2)) for q in (.5, .9, .99)},
        "max_ms": round(max(s.latencies, default=0) * 1000, 2), "errors": dict(s.errors),
        "ready_s": round(result.ready_seconds, 3),
        "peak_rss_mib": {k: round(v, 1) for k, v in result.peak_rss_mib.items()},
        "cpu_ms_per_message": {k: round(v, 3) for k, v in result.cpu_ms_per_message.items()},
        "service_cpu_ms_per_message": round(result.service_cpu_ms, 3),
        "machine_busy": round(result.machine_busy, 4),
        "audit_clean": result.audit.clean if result.audit else None,
        "audit_problems": result.audit.problems if result.audit else [],
    }


def figures(report: Report, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the run, for BENCHMARKS.json."""
    found: dict[str, Any] = {
        "measured_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "command": report.command, "machine": machine(), "commit": commit(), "cores": os.cpu_count(),
        "targets": {key: {k: round(v, 4) for k, v in values.items()}
                    for key, values in report.target_figures().items()},
        "limits": {t.key: t.limit for t in TARGETS},
        "engine_steps_per_s": round(report.engine_steps),
        "setups": report.setups,
        "load": [{"database": database, "concurrency": concurrency, **_run_figures(result),
                  "ratio_to_bare": _finite(round(r, 4)) if (r := report.ratio(setup, concurrency, result)) else None}
                 for setup, database, concurrency, result in report.load],
        "ceiling": [{"gunicorn_workers": workers, "concurrency": concurrency, **_run_figures(result)}
                    for (workers, concurrency), result in sorted(report.ceiling.items())],
        "scale_out": [{**_run_figures(result), "cpu_utilisation": round(utilisation(result), 4),
                       "machine_busy": round(result.machine_busy, 4),
                       "work_done": result.work_done, "conversations_per_port": result.ports}
                      for result in report.scale_out],
        "registry_drain_seconds": report.drain,
        "reply_drain": {database: asdict(d) for database, d in report.reply_drain.items()},
        "faults": [{"scenario": scenario, **_run_figures(result), "what_happened": happened}
                   for scenario, result, happened in report.faults],
        "soak": report.soak,
    }
    if report.growth_figures is not None:  # HOOK (growth benchmark)
        found["growth"] = report.growth_figures
    return found


def write(report: Report, out: Path, now: datetime | None = None) -> Path:
    """Write ``out`` (markdown) and the .json beside it; answers the .json's path."""
    now = now or datetime.now(UTC)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report, now), encoding="utf-8")
    data = out.with_suffix(".json")
    data.write_text(json.dumps(figures(report, now), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data
