"""The funnel per script step: counts from real conversations, an escaped server-side SVG."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from admin_support import admin_site, signed_in
from sqlalchemy import update

from bot.admin.funnel import Funnel, StepRow, build, svg
from bot.services import Services
from channels.base import InboundMessage
from storage import repository as repo
from storage.models import Conversation

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_counts_per_step() -> None:
    rows = [
        ("completed", None, {"history": ["a", "b", "c"], "reprompts": {"b": 2}}, NOW),
        ("cancelled", "b", {"history": ["a"], "reprompts": {"b": 1}}, NOW),
        ("active", "c", {"history": ["a", "b"]}, NOW - timedelta(days=2)),  # idle: abandoned at c
        ("active", "b", {"history": ["a"]}, NOW),  # still going
    ]
    result = build(rows, ["a", "b", "c"], NOW, timedelta(hours=24))
    assert (result.started, result.completed) == (4, 1)
    assert result.steps == (StepRow("a", 4, 0, 0.0), StepRow("b", 4, 1, 0.75), StepRow("c", 2, 1, 0.0))


def test_the_chart_escapes_step_ids() -> None:
    chart = svg(Funnel(2, 1, (StepRow("<script>x()</script>", 2, 1, 0.5),)))
    assert "<script>" not in chart and "&lt;script&gt;" in chart and chart.startswith("<svg")
    assert 'role="img"' in chart and "2 dimulai, 1 selesai" in chart


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services]]:
    with admin_site(db_url) as site:
        yield site


def say(services: Services, sender: str, *lines: str) -> None:
    for line in lines:
        services.intake.handle(InboundMessage("sms", sender, line, uuid.uuid4().hex, repo.utcnow()))


def test_the_funnel_page_counts_real_conversations(admin_app) -> None:
    url, services = admin_app
    say(services, "+628111", "halo", "1", "Jalan rusak", "pendek", "Jalan di depan sekolah rusak parah sejak Januari.",
        "1", "Jl. Merdeka 1", "kemarin", "lewati", "1", "Budi Santoso", "ya")  # one re-prompt: too short
    say(services, "+628222", "halo", "9", "batal")  # a wrong choice, then gives up at the first step
    say(services, "+628333", "halo", "1")  # then silence
    with services.db.transaction() as s:
        s.execute(update(Conversation).where(Conversation.step_id == "title")
                  .values(updated_at=repo.utcnow() - timedelta(days=3)))
    page = signed_in(url, "eko").get(f"{url}/admin/scripts/complaint/funnel", timeout=10).text
    assert "3 percakapan dimulai, 1 selesai" in page and "<svg" in page
    rows = dict(re.findall(r"<tr><td>(\w+)</td><td>(\d+</td><td>\d+</td><td>[\d.]+)</td></tr>", page))
    assert rows["report_type"] == "3</td><td>1</td><td>0.33"  # all reached it; one gave up; one re-prompt
    assert rows["title"] == "2</td><td>1</td><td>0.0"  # the silent one stopped here
    assert rows["description"] == "1</td><td>0</td><td>1.0"  # "pendek" was too short
