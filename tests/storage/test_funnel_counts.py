"""The funnel's pre-aggregated counts equal the full computation (``bot.admin.funnel.build``
over every conversation): added up as conversations end, rebuilt in SQL, and backfilled by the
migration, on random conversations."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select

from bot.admin.funnel import build, combine
from storage import repository as repo
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Contact, Conversation, FunnelCount

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
IDLE = timedelta(hours=24)
STEPS = ["report_type", "title", "description", "category", "location", "privacy", "name", "confirm"]
SCRIPT = "complaint"


def random_conversation(rng: random.Random) -> dict[str, Any]:
    """A conversation row as intake leaves it, with the odd shapes a state can take: a history
    that names a step twice, re-prompts of steps never reached, no step at all, an empty one."""
    status = rng.choice(["completed", "cancelled", "expired", "active", "active"])
    reached = rng.randrange(len(STEPS) + 1)
    history = STEPS[:reached] + ([rng.choice(STEPS)] if reached and rng.random() < 0.2 else [])
    step_id = rng.choice([*STEPS, None, ""]) if rng.random() < 0.15 else (STEPS[reached] if reached < len(STEPS)
                                                                           else None)
    reprompts = {rng.choice([*STEPS, "gone_step"]): rng.randint(1, 3) for _ in range(rng.randint(0, 3))}
    state: dict[str, Any] = {"history": history, "reprompts": reprompts, "answers": {}}
    if rng.random() < 0.05:
        state = {}  # from before the funnel existed
    updated = NOW - timedelta(hours=rng.choice([1, 5, 23, 25, 48, 200]))
    return {"status": status, "step_id": step_id, "state": state, "updated_at": updated,
            "script_id": SCRIPT if rng.random() < 0.9 else "other"}


def add_conversations(db: Database, cipher, rows: list[dict[str, Any]], *, count: bool) -> None:
    """Store ``rows``; with ``count``, the ended ones are counted as intake counts them (one
    ``count_ended`` each, in its own transaction)."""
    with db.transaction() as s:
        contact = Contact(channel="sms", sender_hash=cipher.lookup_hash("+62811"), sender_enc=cipher.encrypt("+62811"))
        s.add(contact)
        s.flush()
        contact_id = contact.id
    for row in rows:
        with db.transaction() as s:
            conversation = Conversation(contact_id=contact_id, script_version=1, started_at=NOW - timedelta(days=9),
                                        ended_at=None if row["status"] == "active" else row["updated_at"], **row)
            s.add(conversation)
            s.flush()
            if count and row["status"] != "active":
                repo.count_ended(s, repo.ConversationRow(conversation.id, contact_id, conversation.script_id, 1,
                                                         conversation.status, conversation.step_id, conversation.state))


def full(db: Database, script_id: str) -> Any:
    with db.reading() as s:
        return build(repo.conversation_states(s, script_id), STEPS + ["gone_step"], NOW, IDLE)


def aggregated(db: Database, script_id: str) -> Any:
    with db.reading() as s:
        return combine(repo.ended_funnel(s, script_id), repo.active_conversation_states(s, script_id),
                       STEPS + ["gone_step"], NOW, IDLE)


def test_counts_added_as_conversations_end_equal_the_full_computation(db: Database, cipher) -> None:
    rng = random.Random(14)
    add_conversations(db, cipher, [random_conversation(rng) for _ in range(300)], count=True)
    for script_id in (SCRIPT, "other"):
        assert aggregated(db, script_id) == full(db, script_id)
    assert full(db, SCRIPT).started > 200
    with db.reading() as s:  # spread over shards, so concurrent endings rarely meet on a row
        assert len(set(s.scalars(select(FunnelCount.shard)))) > 1


def test_the_sql_rebuild_equals_the_counts_added_up(db: Database, cipher) -> None:
    rng = random.Random(7)
    add_conversations(db, cipher, [random_conversation(rng) for _ in range(300)], count=True)
    with db.reading() as s:
        added = {script: repo.ended_funnel(s, script) for script in (SCRIPT, "other")}
    with db.transaction() as s:
        repo.rebuild_funnel_counts(s)
    with db.reading() as s:
        assert {script: repo.ended_funnel(s, script) for script in (SCRIPT, "other")} == added
    assert aggregated(db, SCRIPT) == full(db, SCRIPT)


def test_the_migration_backfills_the_counts(db: Database, db_url: str, cipher) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "0005")
    try:
        rng = random.Random(3)
        add_conversations(db, cipher, [random_conversation(rng) for _ in range(200)], count=False)
    finally:
        upgrade(db_url)
    for script_id in (SCRIPT, "other"):
        assert aggregated(db, script_id) == full(db, script_id)
