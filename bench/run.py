"""The whole benchmark: engine speed, registry backlog, the load matrix (both set-ups, both
databases) with its bare ceiling, the scale-out run, the growth benchmark, the fault scenarios
and the soak; writes docs/BENCHMARKS.md and docs/BENCHMARKS.json (after reading the previous
one) and exits 1 if any run lost or duplicated anything.

    python -m bench.run                 # everything (about 30 minutes)
    python -m bench.run --quick         # a few seconds: the smoke version make test runs
    python -m bench.run --databases sqlite --concurrency 8 --no-faults --soak-minutes 0 --no-fuzz \
        --no-scale-out --no-growth --no-profile --out /tmp/b.md   # one small cell per set-up
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import engine_speed, registry_drain, reply_drain
from bench.driver import citizens
from bench.load import CEILING_SECONDS, RunResult, ceiling, conversations, measured
from bench.report import Report, read_previous, write
from bench.stack import Setup

ROOT = Path(__file__).resolve().parent.parent


def people_for(concurrency: int, scale: float) -> int:
    """How many citizens a cell runs: enough for steady state, at least a few per lane."""
    return max(3, int({1: 10, 8: 48, 32: 128}.get(concurrency, concurrency * 4) * scale))


def setups_for(names: list[str], workers: int) -> list[Setup]:
    known = {"default": Setup.default, "production": lambda: Setup.production(workers)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown set-up {', '.join(unknown)}: use default and/or production")
    return [known[name]() for name in names]


async def load_matrix(report: Report, setups: list[Setup], databases: list[str], concurrencies: list[int],
                      scale: float, ceiling_seconds: float = CEILING_SECONDS) -> None:
    for setup in setups:
        report.setups[setup.name] = setup.describe()
        report.workers[setup.name] = setup.workers
    for concurrency in concurrencies:
        people = citizens(people_for(concurrency, scale))
        for workers in sorted({setup.workers for setup in setups}):  # the ceiling on each gunicorn set-up
            report.ceiling[workers, concurrency] = bare = await ceiling(people, concurrency, workers, ceiling_seconds)
            print(f"bare ceiling, {workers} gunicorn workers, c={concurrency}: {_rate(bare)}", flush=True)
        for setup in setups:
            for database in databases:
                result = await measured(f"{database} c={concurrency}", database, setup,
                                        conversations(people, concurrency))
                report.load.append((setup.name, database, concurrency, result))
                print(f"{setup.name} {database} c={concurrency}: {_rate(result)}; CPU/message "
                      f"{result.service_cpu_ms:.2f} ms (service), audit "
                      f"{'clean' if result.audit and result.audit.clean else result.audit}", flush=True)


def growth(report: Report, databases: list[str], setups: list[Setup]) -> None:
    """The growth benchmark (``bench.growth``): each database seeded with 1 million complaints
    and 10 million messages, then every admin page timed and its queries' plans kept, then the
    c=8 intake of each set-up compared with an empty database's."""
    from bench import growth as growth_bench

    results = growth_bench.seeded(databases, setups=setups)
    report.growth = growth_bench.render(results)
    report.growth_figures = {
        result.kind: {**{page.name: page.median_ms for page in result.pages},
                      **{f"intake {c.setup} reply p99 change": round(c.change("reply_p99_ms"), 3)
                         for c in result.intake}}
        for result in results}


def profiles(report: Report, databases: list[str]) -> None:
    """bench.profile's explanation of where a message's CPU goes, per database."""
    from bench import profile

    for database in databases:
        report.profiles.append(profile.render(database, profile.run(database)))


def _rate(result: RunResult) -> str:
    s = result.stats
    return (f"{s.replies} in {s.seconds:.1f} s = {s.replies / s.seconds:.0f}/s, p50 {s.percentile(.5) * 1000:.1f} ms, "
            f"p99 {s.percentile(.99) * 1000:.1f} ms, errors {dict(s.errors) or 'none'}")


FUZZ_TESTS = ("tests/bot/test_fuzz_webhooks.py", "tests/dialogs/test_fuzz_loader.py")


def fuzz(scale: int) -> str:
    """The fuzz tests with ``scale`` times their examples; a summary line for the report."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FUZZ_TESTS],
                          cwd=ROOT, env={**os.environ, "LAPOR_FUZZ_SCALE": str(scale)}, capture_output=True, text=True)
    summary = (done.stdout.strip().splitlines() or ["no output"])[-1].strip("= ")
    verdict = "held" if done.returncode == 0 else "**FAILED**"
    return (f"`LAPOR_FUZZ_SCALE={scale} pytest {' '.join(FUZZ_TESTS)}` ({time.monotonic() - started:.0f} s): "
            f"{summary}. The properties {verdict}: no webhook answered 5xx (random and signed-but-malformed "
            f"forms and updates, invalid UTF-8, 1 MB+ bodies, 400,000 nested brackets, control characters, "
            f"HTML), no rejected request stored anything (every table counted before and after), and the script "
            f"loader refused YAML bombs, tags, deep nesting and oversized or invalid files with file and line, "
            f"each in under 2 s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the smoke version: production set-up, SQLite, c=3, nothing else")
    parser.add_argument("--setups", default="default,production",
                        help="default: what make run starts (config.yaml); production: one gunicorn worker per "
                             "core and lapor worker apart")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the citizens per cell")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers of the production set-up (one per core)")
    parser.add_argument("--faults", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--scale-out", action=argparse.BooleanOptionalAction, default=True,
                        help="1 then 2 lapor serve + lapor worker on PostgreSQL (bench.scale_out)")
    parser.add_argument("--scale-out-seconds", type=float, default=20.0)
    parser.add_argument("--growth", action=argparse.BooleanOptionalAction, default=True,
                        help="the growth benchmark (bench.growth)")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                        help="bench.profile per database: where a message's CPU goes")
    parser.add_argument("--soak-minutes", type=float, default=10.0)
    parser.add_argument("--fuzz", action=argparse.BooleanOptionalAction, default=True,
                        help="the fuzz tests at ten times their examples")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--previous", type=Path,
                        help="the previous run's figures (default: the .json beside --out, else "
                             "docs/BENCHMARKS.json)")
    args = parser.parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    report = Report(command=" ".join(["python -m bench.run", *given]) if given else "make bench")
    if args.quick:
        args.setups, args.databases, args.concurrency, args.scale = "production", "sqlite", "3", 0.1
        args.faults = args.scale_out = args.growth = args.profile = args.fuzz = False
        args.soak_minutes = 0
    setups = setups_for([s for s in args.setups.split(",") if s], args.workers)
    databases = [d for d in args.databases.split(",") if d]
    concurrencies = [int(c) for c in args.concurrency.split(",") if c]
    previous = args.previous or next((p for p in (args.out.with_suffix(".json"), ROOT / "docs" / "BENCHMARKS.json")
                                      if p.is_file()), None)
    report.previous = read_previous(previous) if previous else None  # read before anything is overwritten

    steps, _, elapsed = engine_speed.run(1.0 if args.quick else 3.0)
    report.engine_steps = steps / elapsed
    print(f"engine: {report.engine_steps:,.0f} steps/s", flush=True)
    if not args.quick and "sqlite" in databases:
        with tempfile.TemporaryDirectory() as tmp:
            report.drain["SQLite"] = registry_drain.drain(f"sqlite:///{tmp}/drain.sqlite3", 1000)
            report.reply_drain["SQLite"] = reply_drain.drain(f"sqlite:///{tmp}/replies.sqlite3", 1000)
    if not args.quick and "postgresql" in databases:
        report.drain["PostgreSQL"] = registry_drain.drain_postgres(registry_drain.POSTGRES_URL, 1000)
        report.reply_drain["PostgreSQL"] = reply_drain.drain_postgres(registry_drain.POSTGRES_URL, 1000)
    asyncio.run(load_matrix(report, setups, databases, concurrencies, args.scale,
                            0.0 if args.quick else CEILING_SECONDS))
    if args.scale_out:
        from bench import scale_out

        report.scale_out = asyncio.run(scale_out.run(args.scale_out_seconds))
    if args.growth:
        growth(report, databases, setups)
    if args.profile:
        profiles(report, databases)
    if args.faults or args.soak_minutes:
        from bench import faults

        asyncio.run(faults.run_all(report, args.workers, with_faults=args.faults, soak_minutes=args.soak_minutes))
    if args.fuzz:
        report.fuzz = fuzz(scale=10)
        print(report.fuzz, flush=True)
    data = write(report, args.out)
    print(f"wrote {args.out} and {data}; every audit {'clean' if report.clean else 'NOT clean'}")
    return 0 if report.clean and "FAILED" not in report.fuzz else 1


if __name__ == "__main__":
    sys.exit(main())
