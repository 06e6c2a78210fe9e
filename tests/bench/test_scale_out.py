"""Two `lapor serve` processes on ports of their own and two `lapor worker` processes on one
PostgreSQL, under a few seconds of load spread over both ports: nothing lost, nothing
duplicated, and every process did its share of the work. No speed is asserted."""
from __future__ import annotations

import asyncio
import os

import pytest

from bench.load import World, measured
from bench.stack import Setup


@pytest.mark.slow
def test_two_serve_and_two_worker_processes_share_the_load(request: pytest.FixtureRequest) -> None:
    postgres = request.getfixturevalue("_postgres")  # fails (or skips) as every PostgreSQL test does
    if postgres.url is None:
        if os.environ.get("LAPOR_TEST_SKIP_POSTGRES") == "1":
            pytest.skip(postgres.problem)
        pytest.fail(postgres.problem, pytrace=False)
    setup = Setup.scaled(2)

    async def scenario(w: World) -> int:
        await w.warm_up(4, 4)
        await w.driver.run_for(3, 8)
        return w.driver.stats.sent

    result = asyncio.run(measured("scale-out", "postgresql", setup, scenario))
    assert result.audit is not None and result.audit.clean, result.audit and result.audit.problems
    assert result.stats.replies > 0 and len(result.ports) == 2 and min(result.ports.values()) > 0
    serves = {k: v for k, v in result.work_done.items() if k.startswith("lapor serve")}
    workers = {k: v for k, v in result.work_done.items() if k.startswith("lapor worker")}
    assert len(serves) == 2 and all(done["messages in"] > 0 for done in serves.values()), serves
    assert len(workers) == 2 and all(done["replies sent"] > 0 for done in workers.values()), workers
    sent = sum(done["replies sent"] for done in result.work_done.values())
    assert sent == result.audit.provider  # every reply counted by exactly one process, none twice
