"""The seeder fills a migrated database with what it says, readable with its data key and with
no phone number in clear, and the admin pages (timed by bench.growth) work on what it made."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.growth import GrowthResult, intake, render, run, set_backlog_aside
from bench.seed import seed
from bench.stack import Database as BenchDatabase
from bench.stack import Setup
from bot.admin.funnel import build, combine
from storage import repository as repo
from storage.crypto import DataCipher
from storage.db import Database
from storage.keys import key_problem
from storage.migrate import upgrade
from storage.models import Attachment, Complaint, Contact, Conversation, Message, Outbox

KEY = "seed-test-key"
STEPS = ["report_type", "title", "description", "category", "location", "incident_date", "attachment", "privacy",
         "name", "confirm"]


def test_a_small_seed_then_the_admin_pages(db: Database, db_url: str) -> None:
    stats = seed(db_url, 2_000, 20_000, data_key=KEY, progress=None)
    cipher = DataCipher.from_secret(KEY)
    with db.reading() as s:
        count = {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                 for model in (Contact, Conversation, Complaint, Message, Attachment, Outbox)}
        assert count == stats.rows
        assert count["complaints"] == 2_000 and count["messages"] == 20_000
        assert count["conversations"] > 2_000 and count["attachments"] > 0
        assert s.scalar(select(func.count()).where(Conversation.status == "active")) > 0
        numbers = s.scalars(select(Complaint.tracking_number)).all()
        assert len(set(numbers)) == 2_000 and all(re.fullmatch(r"LAP-[0-9A-HJKMNP-TV-Z]{6}", n) for n in numbers)
        assert {s for s, in s.execute(select(Complaint.status).distinct())} >= {"received", "resolved", "queued"}
        assert s.scalar(select(func.count()).where(Complaint.regency_code.is_not(None))) > 1_000
        assert {s for s, in s.execute(select(Outbox.status).distinct())} >= {"done", "dead", "pending"}
        contact = s.scalars(select(Contact).limit(1)).one()
        sender = cipher.decrypt(contact.sender_enc)  # the real cipher's format
        assert contact.sender_hash == cipher.lookup_hash(sender)
        assert key_problem(s, cipher) is None and key_problem(s, DataCipher.from_secret("other")) is not None
        texts = " ".join(s.scalars(select(Message.text)).all())
        assert not re.search(r"\+?62857\d{8}", texts)  # never a phone number in clear
        now, idle = repo.utcnow(), timedelta(hours=24)  # the funnel counts seeded equal the full computation
        assert combine(repo.ended_funnel(s, "complaint"), repo.active_conversation_states(s, "complaint"), STEPS,
                       now, idle) == build(repo.conversation_states(s, "complaint"), STEPS, now, idle)

    result = run(db.dialect, db_url, repeats=1, data_key=KEY)
    assert result.rows["complaints"] == 2_000
    assert [page.name for page in result.pages if page.status != 200] == []
    assert result.plans and all(plan.plan for plan in result.plans)
    assert any(plan.page == "delivery claim" for plan in result.plans)
    assert result.export is not None and result.export.rows > 1_000
    section = render([result])
    assert section.startswith("## Cost as the data grows") and "| complaint detail |" in section


@pytest.mark.slow
def test_intake_on_a_seeded_database_is_audited_on_what_the_run_added(db: Database, tmp_path: Path) -> None:
    """bench.growth.intake's runs on a seeded database: the audit counts only the run's own rows
    (so it comes out clean beside the seeded ones), and the seeded rows are left as they were."""
    database = BenchDatabase.create(db.dialect, tmp_path)
    try:
        upgrade(database.url)
        seed(database.url, 300, 3_000, progress=None)
        before = database.counts()
        assert set_backlog_aside(database.url) == before["outbox_open"] > 0
        database.count_from_here()
        assert database.counts() == dict.fromkeys(before, 0)
        [comparison] = intake(db.dialect, database, [Setup.production(1)], concurrency=2, people=3)
        assert comparison.empty.problems == () and comparison.seeded.problems == ()
        assert comparison.seeded.messages == comparison.empty.messages > 0
        assert comparison.seeded.reply_p99_ms > 0 and comparison.seeded.ack_p99_ms > 0
        added = database.counts()
        assert added["complaints"] == 3 + 3 and added["outbox_open"] == 0  # three citizens, three warming up
        database.floor = {}
        after = database.counts()
        assert after["complaints"] == before["complaints"] + added["complaints"]
        assert after["outbox_open"] == before["outbox_open"]  # the backlog postponed, not sent
        assert "| production |" in render([GrowthResult(db.dialect, intake=[comparison])])
    finally:
        database.drop()
