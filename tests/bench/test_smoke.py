"""The benchmark harness keeps working: a few seconds of the real thing (`lapor serve` under
gunicorn, `lapor worker`, signed webhooks on all three channels, the stand-in providers and
registry, the audit), with no speed target asserted."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.driver import citizens
from bench.load import measured
from bench.report import Report, render
from bench.run import main


@pytest.mark.slow
def test_a_short_load_run_is_audited_clean() -> None:
    async def scenario(w) -> int:
        return (await w.driver.run(citizens(6), 3)).sent

    result = asyncio.run(measured("smoke", "sqlite", 2, scenario))
    assert result.audit.clean, result.audit.problems
    assert result.stats.complaints == 6 and result.stats.replies == 66  # 11 turns each, all three channels
    assert result.audit.registry == 6 and result.audit.db["complaints_linked"] == 6
    assert set(result.peak_rss_mib) >= {"gunicorn master", "gunicorn worker 1", "gunicorn worker 2", "lapor worker"}
    assert all(mib > 0 for mib in result.peak_rss_mib.values())
    report = Report(load=[("sqlite", 3, result)])
    assert "| sqlite | 3 | 66 |" in render(report)


@pytest.mark.slow
def test_the_quick_benchmark_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    assert main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "## Targets" in text and "bare ceiling" in text and "| sqlite | 3 |" in text
