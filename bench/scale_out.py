"""Scale-out on one PostgreSQL: the same load on one ``lapor serve`` and one ``lapor worker``,
then on two of each (each ``lapor serve`` on a port of its own, with the same per-process
configuration), as a deployment behind a load balancer would run them.

The driver spreads the conversations over the serve ports (conversation i on port i % n) and
signs every webhook against one public URL, as providers would through the load balancer. Each
step ends with the same audit as every load run (nothing lost, nothing duplicated), and reports
throughput, the CPU utilisation of the machine, and what each process did (its own counts in
the shared metrics directory).

    python -m bench.scale_out [--seconds 20] [--concurrency 16] [--processes 1,2] [--workers 1]
"""
from __future__ import annotations

import argparse
import asyncio
import sys

from bench.load import RunResult, World, measured
from bench.report import utilisation
from bench.stack import Setup

DATABASE = "postgresql"  # the shared engine: SQLite is one file on one host


async def step(processes: int, seconds: float, concurrency: int, workers: int = 1) -> RunResult:
    """``processes`` × ``lapor serve`` (``workers`` gunicorn workers each) and as many ``lapor
    worker``, under ``concurrency`` citizens for ``seconds``."""
    setup = Setup.scaled(processes, workers)

    async def scenario(w: World) -> int:
        await w.warm_up(max(3, concurrency), concurrency)
        await w.driver.run_for(seconds, concurrency)
        return w.driver.stats.sent

    return await measured(setup.name, DATABASE, setup, scenario)


async def run(seconds: float = 20.0, concurrency: int = 16, steps: tuple[int, ...] = (1, 2),
              workers: int = 1) -> list[RunResult]:
    results = []
    for processes in steps:
        result = await step(processes, seconds, concurrency, workers)
        results.append(result)
        print(summary(result), flush=True)
    return results


def summary(result: RunResult) -> str:
    s = result.stats
    done = "; ".join(f"{process}: " + ", ".join(f"{k} {v:.0f}" for k, v in counts.items())
                     for process, counts in result.work_done.items())
    audit = "clean" if result.audit and result.audit.clean else (result.audit.problems if result.audit else "-")
    return (f"scale-out {result.setup}: {s.replies} in {s.seconds:.1f} s = {s.replies / max(s.seconds, 1e-9):.0f}/s, "
            f"p50 {s.percentile(.5) * 1000:.1f} ms, p99 {s.percentile(.99) * 1000:.1f} ms, CPU utilisation "
            f"{utilisation(result):.0%} (machine busy {result.machine_busy:.0%}), errors "
            f"{dict(s.errors) or 'none'}; audit {audit}; {done}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", default="1,2", help="lapor serve (and lapor worker) processes per step")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers of each lapor serve")
    args = parser.parse_args(argv)
    steps = tuple(int(n) for n in args.processes.split(",") if n)
    results = asyncio.run(run(args.seconds, args.concurrency, steps, args.workers))
    return 0 if all(r.audit is not None and r.audit.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
