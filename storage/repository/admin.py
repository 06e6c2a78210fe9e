"""What the admin pages and commands read and write: accounts, sessions, the sign-in throttle,
the audit log, complaint lists and the delivery views.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import column, delete, func, literal_column, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload

from storage.models import (
    COMPLAINT_SEARCH,
    AdminSession,
    AdminUser,
    AuditEntry,
    Complaint,
    Conversation,
    Message,
    Outbox,
    SignInThrottle,
)
from storage.repository.common import is_postgres
from storage.repository.outbox import fail_abandoned, outbox_row

__all__ = [
    "COUNT_LIMIT",
    "MIN_INDEXED_SEARCH",
    "ComplaintPage",
    "add_admin_session",
    "add_admin_user",
    "add_audit",
    "admin_session_user",
    "admin_user",
    "admin_users",
    "clear_throttle",
    "complaint_counts",
    "complaint_deliveries",
    "complaint_transcript",
    "conversation_states",
    "count_failure",
    "discard_outbox",
    "end_admin_session",
    "end_admin_sessions",
    "find_complaints",
    "lock_admin_user",
    "outbox_page",
    "prune_sign_ins",
    "recent_audit",
    "requeue_outbox",
    "throttles",
    "unlock_admin_user",
]


def add_admin_user(session: Session, *, name: str, role: str, password_hash: str, now: datetime) -> AdminUser:
    """A new admin account; IntegrityError if the name is taken."""
    user = AdminUser(name=name, role=role, password_hash=password_hash, failed_logins=0, created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    return user


def admin_user(session: Session, name: str) -> AdminUser | None:
    return session.scalars(select(AdminUser).where(AdminUser.name == name)).one_or_none()


def add_audit(session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None,
              now: datetime) -> AuditEntry:
    """Record who did what (never personal data or complaint text in ``detail``)."""
    entry = AuditEntry(at=now, actor=actor, action=action, target=target, detail=detail or {})
    session.add(entry)
    return entry


def complaint_counts(session: Session) -> dict[str, int]:
    """How many complaints have each status."""
    return dict(session.execute(select(Complaint.status, func.count()).group_by(Complaint.status)).all())


COUNT_LIMIT = 10_000  # list pages count matches up to here, then say "more than"
MIN_INDEXED_SEARCH = 3  # characters: shorter searches are correct but scan (no trigram to look up)


@dataclass(frozen=True, slots=True)
class ComplaintPage:
    """One page of complaints, newest first, and where the neighbouring pages start.

    ``total`` counts the matches up to ``COUNT_LIMIT``; ``more`` says the count stopped there
    (there are more). ``older`` and ``newer`` are the cursors of the next and previous pages
    (``before=older``, ``after=newer``), None at either end."""

    rows: list[Complaint]
    total: int
    more: bool
    older: int | None = None
    newer: int | None = None


def _bounded_count(session: Session, query: Any) -> int:
    """How many rows ``query`` selects, counted up to ``COUNT_LIMIT`` + 1 (the count stops there:
    a page view never counts a million rows)."""
    inner = query.with_only_columns(literal_column("1"), maintain_column_froms=True).limit(COUNT_LIMIT + 1)
    return session.scalar(select(func.count()).select_from(inner.subquery())) or 0


def _search_phrase(text: str) -> str:
    """An FTS5 phrase that matches ``text`` as a substring (trigram tokenizer): quoted, quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def find_complaints(session: Session, *, status: str | None = None, category: str | None = None,
                    channel: str | None = None, province: str | None = None, regency: str | None = None,
                    since: datetime | None = None, until: datetime | None = None,
                    text: str | None = None, before: int | None = None, after: int | None = None,
                    limit: int = 50) -> ComplaintPage:
    """One page of complaints, newest first: the ``limit`` newest that match, older than the
    complaint id ``before`` or newer than ``after`` (keyset pages: every page costs the same,
    however deep), and how many match (counted up to ``COUNT_LIMIT``). ``province`` and
    ``regency`` are Kemendagri codes ("32", "32.73"). ``text`` is searched in the tracking number,
    title and description, case-insensitively, as a substring (% and _ match themselves): by the
    search index (``storage.models.COMPLAINT_SEARCH``) from ``MIN_INDEXED_SEARCH`` characters on,
    by a scan below that."""
    conditions: list[Any] = []
    if province:
        conditions.append(Complaint.province_code == province)
    if regency:
        conditions.append(Complaint.regency_code == regency)
    if status:
        conditions.append(Complaint.status == status)
    if category:
        conditions.append(Complaint.category == category)
    if channel:
        conditions.append(Complaint.channel == channel)
    if since:
        conditions.append(Complaint.created_at >= since)
    if until:
        conditions.append(Complaint.created_at < until)
    key: Any = Complaint.id
    query = select(Complaint)
    if text and len(text) >= MIN_INDEXED_SEARCH and not is_postgres(session):
        # the FTS table leads (its rowids come newest first), each match looked up by id
        search = table(COMPLAINT_SEARCH, column("rowid"))
        query = query.join(search, search.c.rowid == Complaint.id)
        conditions.append(sql_text(f"{COMPLAINT_SEARCH} MATCH :phrase").bindparams(phrase=_search_phrase(text)))
        key = search.c.rowid
    elif text:  # PostgreSQL: the pg_trgm index serves these ILIKEs (3 characters and more)
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Complaint.tracking_number.ilike(pattern, escape="\\"),
                              Complaint.title.ilike(pattern, escape="\\"),
                              Complaint.description.ilike(pattern, escape="\\")))
    query = query.where(*conditions)
    total = _bounded_count(session, query)
    if after is not None:  # the page just newer than ``after``: read upwards, then turn it round
        rows = list(session.scalars(query.where(key > after).order_by(key.asc()).limit(limit + 1)))
        newer = rows[limit - 1].id if len(rows) > limit else None
        rows = rows[:limit][::-1]
        older = rows[-1].id if rows else None
    else:
        if before is not None:
            query = query.where(key < before)
        rows = list(session.scalars(query.order_by(key.desc()).limit(limit + 1)))
        older = rows[limit - 1].id if len(rows) > limit else None
        rows = rows[:limit]
        newer = rows[0].id if rows and before is not None else None
    return ComplaintPage(rows, min(total, COUNT_LIMIT), total > COUNT_LIMIT, older, newer)


def complaint_transcript(session: Session, complaint: Complaint) -> list[Message]:
    """The messages of the conversation that filed the complaint, in order."""
    if complaint.conversation_id is None:
        return []
    return list(session.scalars(select(Message).where(Message.conversation_id == complaint.conversation_id)
                                .order_by(Message.id)))


def complaint_deliveries(session: Session, complaint_id: int) -> list[Outbox]:
    """The complaint's registry submission rows (its delivery history)."""
    return list(session.scalars(select(Outbox).where(Outbox.complaint_id == complaint_id).order_by(Outbox.id)))


def outbox_page(session: Session, *, status: str, offset: int = 0, limit: int = 50) -> tuple[list[Outbox], int]:
    """One page of outbox rows of one status, newest first, with their messages and complaints
    (the admin delivery view), and how many there are, counted up to ``COUNT_LIMIT`` + 1 (more
    than ``COUNT_LIMIT`` means "more than": the done rows number millions). For "dead", rows an
    admin discarded are left out."""
    query = select(Outbox).where(Outbox.status == status)
    if status == "dead":
        query = query.where(Outbox.payload["discarded_by"].as_string().is_(None))
    total = _bounded_count(session, query)
    rows = session.scalars(query.order_by(Outbox.id.desc()).offset(offset).limit(limit)
                           .options(joinedload(Outbox.message), joinedload(Outbox.complaint)))
    return list(rows), total


def requeue_outbox(session: Session, row_id: int, now: datetime) -> Outbox:
    """Send a dead or pending row again now (an admin's retry); its attempts start over."""
    row = outbox_row(session, row_id)
    if row.status not in ("dead", "pending"):
        raise ValueError(f"a {row.status} row cannot be retried")
    row.status, row.next_attempt_at, row.lease_until, row.attempts, row.updated_at = "pending", now, None, 0, now
    if row.message is not None and row.message.status == "failed":
        row.message.status = "queued"
    return row


def discard_outbox(session: Session, row_id: int, actor: str, now: datetime) -> Outbox:
    """Give up on a pending or dead row for good (an admin's decision, kept for the record)."""
    row = outbox_row(session, row_id)
    if row.status not in ("dead", "pending"):
        raise ValueError(f"a {row.status} row cannot be discarded")
    if row.status == "pending":
        row.last_error = f"discarded by {actor}"
    row.status, row.lease_until, row.updated_at = "dead", None, now
    row.payload = {**(row.payload or {}), "discarded_by": actor}
    if row.attachment_id is not None:  # a download given up on: its complaint goes without the file
        session.flush()
        fail_abandoned(session, f"discarded by {actor}", now)
    return row


def conversation_states(session: Session, script_id: str) -> Iterator[Any]:
    """(status, step_id, state, updated_at) of every conversation of a script, in batches: a scan
    of them all (the funnel page reads ``storage.repository.ended_funnel`` and the active ones
    instead; this is what its counts are checked against)."""
    query = (select(Conversation.status, Conversation.step_id, Conversation.state, Conversation.updated_at)
             .where(Conversation.script_id == script_id).execution_options(yield_per=500))
    return iter(session.execute(query))


def recent_audit(session: Session, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def admin_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.name)))


def lock_admin_user(session: Session, user_id: int, *, until: datetime, now: datetime) -> AdminUser:
    """Lock an account until ``until`` and end its sessions (LookupError if there is none)."""
    user = session.get(AdminUser, user_id)
    if user is None:
        raise LookupError(f"no admin user {user_id}")
    user.locked_until, user.updated_at = until, now
    end_admin_sessions(session, user_id)
    return user


def unlock_admin_user(session: Session, user_id: int, now: datetime) -> AdminUser:
    """Lift a lockout (LookupError if there is no such account)."""
    user = session.get(AdminUser, user_id)
    if user is None:
        raise LookupError(f"no admin user {user_id}")
    user.locked_until, user.failed_logins, user.updated_at = None, 0, now
    return user


def add_admin_session(session: Session, *, token_hash: str, user_id: int, expires_at: datetime,
                      now: datetime) -> AdminSession:
    """A signed-in browser, known by the SHA-256 of its cookie's token."""
    row = AdminSession(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at)
    session.add(row)
    return row


def admin_session_user(session: Session, token_hash: str, now: datetime) -> AdminUser | None:
    """The account of a session that has not ended or expired (one query; the caller checks
    that the account is neither disabled nor locked)."""
    return session.scalars(
        select(AdminUser).join(AdminSession, AdminSession.user_id == AdminUser.id)
        .where(AdminSession.token_hash == token_hash, AdminSession.expires_at > now)
    ).one_or_none()


def end_admin_session(session: Session, token_hash: str) -> None:
    session.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash))


def end_admin_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Sign an account out everywhere (but the session ``keep``); returns how many ended."""
    query = delete(AdminSession).where(AdminSession.user_id == user_id)
    if keep is not None:
        query = query.where(AdminSession.token_hash != keep)
    return cast(CursorResult[Any], session.execute(query)).rowcount or 0


def throttles(session: Session, keys: Sequence[str]) -> dict[str, SignInThrottle]:
    """The failure counters of ``keys`` that exist."""
    return {row.key: row for row in session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(tuple(keys))))}


def count_failure(session: Session, key: str, *, limit: int, window: timedelta, block: timedelta,
                  now: datetime) -> SignInThrottle:
    """One more failure for ``key`` in its window (a new window once the last one ended); at
    ``limit`` failures it is blocked for ``block``. Safe under concurrent failures."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(insert(SignInThrottle).values(key=key, failures=0, window_until=now + window)
                    .on_conflict_do_nothing(index_elements=["key"]))
    query = select(SignInThrottle).where(SignInThrottle.key == key).execution_options(populate_existing=True)
    row = session.scalars(query.with_for_update() if is_postgres(session) else query).one()
    if row.window_until <= now:
        row.failures, row.window_until, row.blocked_until = 0, now + window, None
    row.failures += 1
    if row.failures >= limit:
        row.blocked_until = max(row.blocked_until or now, now + block)
    return row


def clear_throttle(session: Session, key: str) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def prune_sign_ins(session: Session, now: datetime) -> None:
    """Forget failure windows that ended and sessions that expired (both stay bounded)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_until <= now,
                                                 or_(SignInThrottle.blocked_until.is_(None),
                                                     SignInThrottle.blocked_until <= now)))
    session.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
