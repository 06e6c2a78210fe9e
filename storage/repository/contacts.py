"""Contacts, their messages and their conversations.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.columns import utcnow
from storage.crypto import DataCipher
from storage.models import (
    Contact,
    Conversation,
    Message,
)
from storage.repository.common import is_postgres

__all__ = [
    "ContactRow",
    "ConversationRow",
    "active_conversation",
    "add_message",
    "contact_sender",
    "forget_personal_texts",
    "inbound_message_id",
    "insert_message",
    "lock_contact",
    "message_by_provider_id",
    "save_conversations",
    "start_conversation",
    "update_contact",
]


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as intake reads it: plain values, no ORM instance (``update_contact`` writes a
    change)."""

    id: int
    language: str
    opted_out: bool


def lock_contact(session: Session, cipher: DataCipher, channel: str, sender: str, now: datetime) -> ContactRow:
    """Get or create the contact for (channel, sender) and hold it locked until the transaction ends.

    Concurrent transactions for the same sender queue here, one after the other, and exactly
    one contact row is ever created: one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, whose
    update locks the row on PostgreSQL (on SQLite the transaction holds the database write lock
    since its BEGIN IMMEDIATE, storage.db). A Core statement: no ORM instance is loaded.
    Sets ``last_inbound_at`` to ``now``.

    While a key rotation is under way (``cipher`` holds previous keys), a contact written with a
    previous key is found by its old hash and moved to the current one, so no citizen becomes a
    stranger.
    """
    sender_hash = cipher.lookup_hash(sender)
    if len(cipher.key_ids) > 1 and (moved := _rehashed_contact(session, cipher, channel, sender, now)) is not None:
        return moved
    # One round trip on either engine: the upsert's DO UPDATE locks the row (new or not) and returns it.
    row = session.connection().execute(
        _contact_upsert("postgresql" if is_postgres(session) else "sqlite"),
        {"channel": channel, "sender_hash": sender_hash, "sender_enc": cipher.encrypt(sender), "now": now}).one()
    return ContactRow(row.id, row.language, row.opted_out)


_CONTACTS = cast(Table, Contact.__table__)


@cache
def _contact_upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` for a contact, built once per engine."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = bindparam("now", type_=_CONTACTS.c.created_at.type)
    statement = insert(_CONTACTS).values(
        channel=bindparam("channel"), sender_hash=bindparam("sender_hash"), sender_enc=bindparam("sender_enc"),
        language="id", opted_out=False, created_at=now, updated_at=now, last_inbound_at=now)
    return statement.on_conflict_do_update(
        index_elements=["channel", "sender_hash"],
        set_={"last_inbound_at": statement.excluded.last_inbound_at, "updated_at": statement.excluded.updated_at},
    ).returning(_CONTACTS.c.id, _CONTACTS.c.language, _CONTACTS.c.opted_out)


def _rehashed_contact(session: Session, cipher: DataCipher, channel: str, sender: str,
                      now: datetime) -> ContactRow | None:
    """The contact for (channel, sender) under any of our keys' hashes, locked and moved to the
    current key's hash and encryption; None when there is none yet."""
    hashes = cipher.lookup_hashes(sender)
    c = _CONTACTS.c
    query = select(c.id, c.sender_hash, c.language, c.opted_out).where(
        c.channel == channel, c.sender_hash.in_(hashes)).limit(1)
    if is_postgres(session):
        query = query.with_for_update()
    found = session.connection().execute(query).first()
    if found is None:
        return None
    moved = {"sender_hash": hashes[0], "sender_enc": cipher.encrypt(sender)} if found.sender_hash != hashes[0] else {}
    session.connection().execute(update(_CONTACTS).where(c.id == found.id).values(
        **moved, last_inbound_at=now, updated_at=now))
    return ContactRow(found.id, found.language, found.opted_out)


def update_contact(session: Session, contact: ContactRow, now: datetime) -> None:
    """Write a contact's language and opt-out as ``contact`` holds them: one Core UPDATE."""
    session.connection().execute(_UPDATE_CONTACT, {"contact_id": contact.id, "language": contact.language,
                                                   "opted_out": contact.opted_out, "now": now})


_UPDATE_CONTACT = update(_CONTACTS).where(_CONTACTS.c.id == bindparam("contact_id")).values(
    language=bindparam("language"), opted_out=bindparam("opted_out"),
    updated_at=bindparam("now", type_=_CONTACTS.c.updated_at.type))


def contact_sender(cipher: DataCipher, contact: Contact) -> str:
    """The contact's phone number or chat id, decrypted (never log it)."""
    return cipher.decrypt(contact.sender_enc)


def inbound_message_id(session: Session, channel: str, provider_message_id: str) -> int | None:
    """The id of the inbound message a provider already delivered with this id on this channel,
    if any: one indexed Core SELECT of the id alone (the intake path; no ORM instance is loaded).

    Only inbound rows count: our own sends carry the provider's ids too (Telegram's are per
    chat, and may equal an ``update_id``), and they are never a duplicate of a citizen's message.
    """
    return session.connection().execute(_INBOUND_MESSAGE_ID, {"channel": channel,
                                                              "provider_message_id": provider_message_id}
                                        ).scalar_one_or_none()


_INBOUND_MESSAGE_ID = select(Message.id).where(Message.channel == bindparam("channel"), Message.direction == "in",
                                               Message.provider_message_id == bindparam("provider_message_id"))


def add_message(session: Session, *, contact: Contact, conversation: Conversation | None, direction: str,
                channel: str, text: str, provider_message_id: str | None = None,
                payload: dict[str, Any] | None = None, status: str, now: datetime | None = None) -> Message:
    """Record a message ("in" with status "received", "out" with status "queued"). It is
    written with the transaction's next flush (its id is known from then on).

    A second inbound message with the same (channel, provider_message_id) raises IntegrityError
    at that flush: check ``inbound_message_id`` first (under ``lock_contact``) to treat a retry as a
    no-op. Outbound ids need not be unique (Telegram numbers messages per chat).
    """
    at = now or utcnow()
    message = Message(
        contact=contact, conversation=conversation,
        direction=direction, channel=channel, provider_message_id=provider_message_id, text=text,
        payload=payload or {}, status=status, created_at=at, updated_at=at,
    )
    session.add(message)
    return message


def insert_message(session: Session, *, contact_id: int, conversation_id: int | None, direction: str, channel: str,
                   text: str, text_enc: bytes | None, payload: dict[str, Any], status: str, now: datetime,
                   provider_message_id: str | None = None) -> int:
    """Write one message at once and return its id: one Core INSERT, no unit of work (the
    intake path; ``add_message`` is the ORM way). The rules of ``add_message`` hold."""
    return session.connection().execute(_INSERT_MESSAGE, {
        "contact_id": contact_id, "conversation_id": conversation_id, "direction": direction, "channel": channel,
        "provider_message_id": provider_message_id, "text": text, "text_enc": text_enc, "payload": payload,
        "status": status, "created_at": now, "updated_at": now}).scalar_one()


_MESSAGES = cast(Table, Message.__table__)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)


def forget_personal_texts(session: Session, conversation_id: int) -> None:
    """Destroy the encrypted whole texts of a conversation's messages (an anonymous report was
    filed from it): only their redacted texts remain, which name nobody."""
    session.flush()
    session.execute(update(Message).where(Message.conversation_id == conversation_id, Message.text_enc.is_not(None))
                    .values(text_enc=None).execution_options(synchronize_session="fetch"))


def waiting_step(session: Session, cipher: DataCipher, channel: str, sender: str) -> tuple[str, int, str] | None:
    """(script id, version, step id) the sender's active conversation waits on, if any: one
    indexed query, no lock (for a look before the message's own transaction)."""
    row = session.execute(
        select(Conversation.script_id, Conversation.script_version, Conversation.step_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Contact.channel == channel, Contact.sender_hash == cipher.lookup_hash(sender),
               Conversation.status == "active")
        .order_by(Conversation.id.desc()).limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row is not None and row[2] else None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation as intake reads and writes it: plain values, no ORM instance
    (``save_conversations`` writes a changed one)."""

    id: int
    contact_id: int
    script_id: str
    script_version: int
    status: str
    step_id: str | None
    state: dict[str, Any]


_CONVERSATIONS = cast(Table, Conversation.__table__)
_ROW_COLUMNS = tuple(_CONVERSATIONS.c[field.name] for field in fields(ConversationRow))


def active_conversation(session: Session, contact_id: int) -> ConversationRow | None:
    """The contact's newest conversation with status "active", if any: one indexed Core SELECT."""
    row = session.connection().execute(_ACTIVE_CONVERSATION, {"contact_id": contact_id}).first()
    return ConversationRow(**row._mapping) if row is not None else None


_ACTIVE_CONVERSATION = (select(*_ROW_COLUMNS)
                        .where(_CONVERSATIONS.c.contact_id == bindparam("contact_id"),
                               _CONVERSATIONS.c.status == "active")
                        .order_by(_CONVERSATIONS.c.id.desc()).limit(1))


def start_conversation(session: Session, *, contact_id: int, script_id: str, script_version: int,
                       state: dict[str, Any], now: datetime) -> ConversationRow:
    """A new active conversation on a pinned script version, written at once (one Core INSERT;
    ``step_id`` is the caller's to set, with ``save_conversations``)."""
    conversation_id: int = session.connection().execute(_INSERT_CONVERSATION, {
        "contact_id": contact_id, "script_id": script_id, "script_version": script_version, "status": "active",
        "state": state, "started_at": now, "updated_at": now}).scalar_one()
    return ConversationRow(conversation_id, contact_id, script_id, script_version, "active", None, state)


_INSERT_CONVERSATION = insert(_CONVERSATIONS).returning(_CONVERSATIONS.c.id)


def save_conversations(session: Session, conversations: Iterable[ConversationRow], now: datetime) -> None:
    """Write each conversation's step and state as its row holds them, updated ``now``; one whose
    status is no longer "active" also gets that status and ends ``now``. One Core UPDATE for
    those that go on and one for those that ended: an UPDATE that names the status rewrites the
    two indexes on it on SQLite, even to the same value, so only an ending names it."""
    going: list[dict[str, Any]] = []
    ended: list[dict[str, Any]] = []
    for c in conversations:
        row = {"conversation_id": c.id, "step_id": c.step_id, "state": c.state, "now": now}
        if c.status == "active":
            going.append(row)
        else:
            ended.append(row | {"status": c.status})
    for statement, rows in ((_SAVE_GOING, going), (_SAVE_ENDED, ended)):
        if rows:
            session.connection().execute(statement, rows)


_NOW = bindparam("now", type_=_CONVERSATIONS.c.updated_at.type)
_SAVE_GOING = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conversation_id")).values(
    step_id=bindparam("step_id"), state=bindparam("state"), updated_at=_NOW)
_SAVE_ENDED = _SAVE_GOING.values(status=bindparam("status"), ended_at=_NOW)


def message_by_provider_id(session: Session, channels: Sequence[str], provider_message_id: str) -> Message | None:
    """Our outbound message that a provider knows by ``provider_message_id`` on one of
    ``channels`` (for delivery reports: Twilio's message SIDs are unique across its account)."""
    return session.scalars(
        select(Message).where(Message.channel.in_(tuple(channels)), Message.provider_message_id == provider_message_id,
                              Message.direction == "out")
    ).first()
