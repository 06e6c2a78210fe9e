"""The admin funnel's counts, pre-aggregated: what ended conversations add up to, per script and
step (``storage.models.FunnelCount``), so that the funnel page never reads every conversation.

A conversation that ends adds its part in the transaction that ends it (``count_ended``: one
multi-row upsert); the migration that made the table, and ``rebuild_funnel_counts``, compute
the same from the conversations table in SQL. Active conversations are not counted here: the
page reads them (``active_conversation_states``, by an index) and decides which are idle.

A conversation's part is what ``bot.admin.funnel.build`` counts for it: it reached every step
in its history and the step it ended at; it was abandoned at its last step when cancelled or
expired; each step re-prompted as often as its ``reprompts`` say.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.models import FUNNEL_SHARDS, Conversation, FunnelCount
from storage.repository.common import is_postgres
from storage.repository.contacts import ConversationRow

__all__ = [
    "ABANDONED_STATUSES",
    "FunnelCounts",
    "active_conversation_states",
    "conversation_part",
    "count_ended",
    "ended_funnel",
    "rebuild_funnel_counts",
]

ABANDONED_STATUSES = ("cancelled", "expired")
WHOLE = ""  # the step id of the row that counts the script as a whole


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    """One step's counts over ended conversations (for ``WHOLE``: ``reached`` is how many
    conversations ended, ``abandoned`` how many were cancelled or expired, ``completed`` how many
    completed; its ``reprompts`` stays 0)."""

    reached: int = 0
    abandoned: int = 0
    reprompts: int = 0
    completed: int = 0


def conversation_part(status: str, step_id: str | None, state: Mapping[str, Any]) -> dict[str, FunnelCounts]:
    """What one ended conversation adds to the funnel, by step id (``WHOLE``: the script)."""
    history = [step for step in (state.get("history") or []) if isinstance(step, str)]
    seen = set(history) | ({step_id} if step_id else set())
    reprompts = {str(step): int(count) for step, count in (state.get("reprompts") or {}).items()}
    lost = None
    if status in ABANDONED_STATUSES:
        lost = step_id or (history[-1] if history else None)
    part = {step: FunnelCounts(reached=int(step in seen), abandoned=int(step == lost), reprompts=reprompts.get(step, 0))
            for step in seen | set(reprompts) | ({lost} if lost else set()) if step != WHOLE}
    part[WHOLE] = FunnelCounts(reached=1, abandoned=int(status in ABANDONED_STATUSES),
                               completed=int(status == "completed"))
    return part


def count_ended(session: Session, conversation: ConversationRow) -> None:
    """Add a conversation that has just ended (its status, step and state final) to the funnel
    counts: one prebuilt upsert for its few rows, in the caller's transaction. The rows go in step order,
    the same in every transaction, so two endings never deadlock on them."""
    shard = conversation.id % FUNNEL_SHARDS
    part = conversation_part(conversation.status, conversation.step_id, conversation.state or {})
    rows = [{"script_id": conversation.script_id, "step_id": step, "shard": shard, "reached": counts.reached,
             "abandoned": counts.abandoned, "reprompts": counts.reprompts, "completed": counts.completed}
            for step, counts in sorted(part.items())]
    session.connection().execute(_count_upsert("postgresql" if is_postgres(session) else "sqlite"), rows)


@cache
def _count_upsert(dialect: str) -> Any:
    """The upsert of one step's counts, built once per engine (executed for each step, in order)."""
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(FunnelCount)
    return insert.on_conflict_do_update(
        index_elements=[FunnelCount.script_id, FunnelCount.step_id, FunnelCount.shard],
        set_={name: getattr(FunnelCount, name) + getattr(insert.excluded, name)
              for name in ("reached", "abandoned", "reprompts", "completed")})


def ended_funnel(session: Session, script_id: str) -> dict[str, FunnelCounts]:
    """The counts of a script's ended conversations, by step id (``WHOLE``: the script)."""
    query = (select(FunnelCount.step_id, func.sum(FunnelCount.reached), func.sum(FunnelCount.abandoned),
                    func.sum(FunnelCount.reprompts), func.sum(FunnelCount.completed))
             .where(FunnelCount.script_id == script_id).group_by(FunnelCount.step_id))
    return {step: FunnelCounts(int(reached or 0), int(abandoned or 0), int(reprompts or 0), int(completed or 0))
            for step, reached, abandoned, reprompts, completed in session.execute(query)}


def active_conversation_states(session: Session, script_id: str) -> Iterator[Any]:
    """(status, step_id, state, updated_at) of a script's active conversations, in batches (by
    the index on script and status)."""
    query = (select(Conversation.status, Conversation.step_id, Conversation.state, Conversation.updated_at)
             .where(Conversation.script_id == script_id, Conversation.status == "active")
             .execution_options(yield_per=500))
    return iter(session.execute(query))


# The counts of every ended conversation, in SQL, per dialect (their JSON functions differ). Each
# conversation counts once per step it reached (its history may name a step twice), as
# conversation_part does.
_POSTGRESQL_ENDED = """
    SELECT id, script_id, status, NULLIF(step_id, '') AS step_id,
           CASE WHEN jsonb_typeof(state->'history') = 'array' THEN state->'history' ELSE '[]'::jsonb END AS history,
           CASE WHEN jsonb_typeof(state->'reprompts') = 'object' THEN state->'reprompts' ELSE '{}'::jsonb END
             AS reprompts
    FROM conversations WHERE status <> 'active'"""
_POSTGRESQL_PARTS = """
    SELECT e.script_id, s.step, 1 AS reached, 0 AS abandoned, 0 AS reprompts, 0 AS completed
    FROM ended e CROSS JOIN LATERAL (
        SELECT h.value #>> '{}' FROM jsonb_array_elements(e.history) AS h WHERE jsonb_typeof(h.value) = 'string'
        UNION SELECT e.step_id WHERE e.step_id IS NOT NULL) AS s(step)
    WHERE s.step <> ''
    UNION ALL
    SELECT script_id, COALESCE(step_id, CASE WHEN jsonb_typeof(history->-1) = 'string'
                                        THEN NULLIF(history->>-1, '') END), 0, 1, 0, 0
    FROM ended WHERE status IN ('cancelled', 'expired')
    UNION ALL
    SELECT e.script_id, r.key, 0, 0, trunc(r.value::numeric)::int, 0
    FROM ended e CROSS JOIN LATERAL jsonb_each_text(e.reprompts) AS r WHERE r.key <> ''
    UNION ALL
    SELECT script_id, '', 1, CASE WHEN status IN ('cancelled', 'expired') THEN 1 ELSE 0 END, 0,
           CASE WHEN status = 'completed' THEN 1 ELSE 0 END
    FROM ended"""
_SQLITE_ENDED = """
    SELECT id, script_id, status, NULLIF(step_id, '') AS step_id,
           CASE WHEN json_type(state, '$.history') = 'array' THEN json_extract(state, '$.history') ELSE '[]' END
             AS history,
           CASE WHEN json_type(state, '$.reprompts') = 'object' THEN json_extract(state, '$.reprompts') ELSE '{}' END
             AS reprompts
    FROM conversations WHERE status <> 'active'"""
_SQLITE_PARTS = """
    SELECT DISTINCT id, script_id, step, 1 AS reached, 0 AS abandoned, 0 AS reprompts, 0 AS completed FROM (
        SELECT e.id, e.script_id, h.value AS step FROM ended e, json_each(e.history) h WHERE h.type = 'text'
        UNION ALL SELECT id, script_id, step_id FROM ended WHERE step_id IS NOT NULL) WHERE step <> ''
    UNION ALL
    SELECT id, script_id, COALESCE(step_id, CASE WHEN json_type(history, '$[#-1]') = 'text'
                                             THEN NULLIF(json_extract(history, '$[#-1]'), '') END), 0, 1, 0, 0
    FROM ended WHERE status IN ('cancelled', 'expired')
    UNION ALL
    SELECT e.id, e.script_id, r.key, 0, 0, CAST(r.value AS INTEGER), 0
    FROM ended e, json_each(e.reprompts) r WHERE r.key <> ''
    UNION ALL
    SELECT id, script_id, '', 1, CASE WHEN status IN ('cancelled', 'expired') THEN 1 ELSE 0 END, 0,
           CASE WHEN status = 'completed' THEN 1 ELSE 0 END
    FROM ended"""


def rebuild_funnel_counts(bind: Session | Connection) -> None:
    """Recompute the funnel counts from every ended conversation (in SQL; the migration that
    made the table does this once, and ``bench.seed`` after filling a database)."""
    postgres = bind.get_bind().dialect.name == "postgresql" if isinstance(bind, Session) else \
        bind.dialect.name == "postgresql"
    bind.execute(delete(FunnelCount))
    ended, parts = (_POSTGRESQL_ENDED, _POSTGRESQL_PARTS) if postgres else (_SQLITE_ENDED, _SQLITE_PARTS)
    bind.execute(text(f"""
        WITH ended AS ({ended}), parts AS ({parts})
        INSERT INTO funnel_counts (script_id, step_id, shard, reached, abandoned, reprompts, completed)
        SELECT script_id, step, 0, sum(reached), sum(abandoned), sum(reprompts), sum(completed)
        FROM parts WHERE step IS NOT NULL GROUP BY script_id, step"""))
