"""The benchmark harness keeps working: a few seconds of the real thing (`lapor serve` under
gunicorn, in both set-ups; `lapor worker`; signed webhooks on all three channels, the stand-in
providers and registry, the audit), with no speed target asserted."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench.driver import citizens
from bench.load import DRIVER, measured
from bench.report import Report, render
from bench.run import main
from bench.stack import Setup


@pytest.mark.slow
def test_a_short_load_run_of_the_default_set_up_is_audited_clean() -> None:
    setup = Setup.default()  # what make run starts; the quick benchmark below runs the production one

    async def scenario(w) -> int:
        return (await w.driver.run(citizens(6), 3)).sent

    result = asyncio.run(measured("smoke", "sqlite", setup, scenario))
    assert result.audit is not None and result.audit.clean, result.audit and result.audit.problems
    assert result.stats.complaints == 6 and result.stats.replies == 66  # 11 turns each, all three channels
    assert result.audit.registry == 6 and result.audit.db["complaints_linked"] == 6
    gunicorn = {"gunicorn master", *(f"gunicorn worker {i + 1}" for i in range(setup.workers))}
    delivering = setup.lapor_workers or setup.embedded_worker  # a lapor worker apart, or the one it starts
    assert set(result.peak_rss_mib) == gunicorn | ({"lapor worker"} if delivering else set())
    assert all(mib > 0 for mib in result.peak_rss_mib.values())
    assert set(result.cpu_ms_per_message) >= gunicorn | {DRIVER}
    report = Report(load=[(setup.name, "sqlite", 3, result)], setups={setup.name: setup.describe()})
    assert f"| {setup.name} | sqlite | 3 | 66 |" in render(report)


@pytest.mark.slow
def test_the_quick_benchmark_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps({"measured_at": "2026-11-28T18:45:00+00:00",
                                    "targets": {"production/sqlite": {"ready_s": 1.21}}}))
    assert main(["--quick", "--out", str(out), "--previous", str(previous)]) == 0
    text = out.read_text()
    assert "## Targets" in text and "bare ceiling" in text and "| production | sqlite | 3 |" in text
    assert "| ready in < 2 s | production | sqlite |" in text and "| 1.21 s |" in text  # beside the previous
    figures = json.loads(out.with_suffix(".json").read_text())
    run = figures["load"][0]
    assert run["setup"] == "production" and run["audit_clean"] is True and run["messages"] == 33
    assert set(run["peak_rss_mib"]) == {"gunicorn master", "gunicorn worker 1", "gunicorn worker 2", "lapor worker"}
    assert set(figures["targets"]["production/sqlite"]) >= {"peak_rss_mb", "ready_s"}
