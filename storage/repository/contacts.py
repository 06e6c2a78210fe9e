"""Contacts, their messages and their conversations.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Sequence
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
    "active_conversation",
    "add_message",
    "contact_sender",
    "forget_personal_texts",
    "inbound_message_id",
    "insert_message",
    "lock_contact",
    "message_by_provider_id",
    "start_conversation",
]


def lock_contact(session: Session, cipher: DataCipher, channel: str, sender: str, now: datetime) -> Contact:
    """Get or create the contact for (channel, sender) and hold it locked until the transaction ends.

    Concurrent transactions for the same sender queue here, one after the other, and exactly
    one contact row is ever created: one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, whose
    update locks the row on PostgreSQL (on SQLite the transaction holds the database write lock
    since its BEGIN IMMEDIATE, storage.db).
    Sets ``last_inbound_at`` to ``now``.

    While a key rotation is under way (``cipher`` holds previous keys), a contact written with a
    previous key is found by its old hash and moved to the current one, so no citizen becomes a
    stranger.
    """
    sender_hash = cipher.lookup_hash(sender)
    if len(cipher.key_ids) > 1 and (moved := _rehashed_contact(session, cipher, channel, sender, now)) is not None:
        return moved
    # One round trip on either engine: the upsert's DO UPDATE locks the row (new or not) and returns it.
    return session.scalars(_contact_upsert("postgresql" if is_postgres(session) else "sqlite"),
                           {"channel": channel, "sender_hash": sender_hash, "sender_enc": cipher.encrypt(sender),
                            "now": now}, execution_options={"populate_existing": True}).one()


@cache
def _contact_upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` for a contact, built once per engine."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = bindparam("now", type_=Contact.__table__.c.created_at.type)
    statement = insert(Contact).values(
        channel=bindparam("channel"), sender_hash=bindparam("sender_hash"), sender_enc=bindparam("sender_enc"),
        language="id", opted_out=False, created_at=now, updated_at=now, last_inbound_at=now)
    upsert = statement.on_conflict_do_update(
        index_elements=["channel", "sender_hash"],
        set_={"last_inbound_at": statement.excluded.last_inbound_at, "updated_at": statement.excluded.updated_at},
    ).returning(Contact)
    return select(Contact).from_statement(upsert)


def _rehashed_contact(session: Session, cipher: DataCipher, channel: str, sender: str, now: datetime) -> Contact | None:
    """The contact for (channel, sender) under any of our keys' hashes, locked and moved to the
    current key's hash and encryption; None when there is none yet."""
    hashes = cipher.lookup_hashes(sender)
    query = select(Contact).where(Contact.channel == channel, Contact.sender_hash.in_(hashes)).limit(1)
    if is_postgres(session):
        query = query.with_for_update()
    contact = session.scalars(query.execution_options(populate_existing=True)).first()
    if contact is None:
        return None
    if contact.sender_hash != hashes[0]:
        contact.sender_hash, contact.sender_enc = hashes[0], cipher.encrypt(sender)
    contact.last_inbound_at = contact.updated_at = now
    session.flush()
    return contact


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


def active_conversation(session: Session, contact_id: int) -> Conversation | None:
    """The contact's newest conversation with status "active", if any."""
    return session.scalars(_ACTIVE_CONVERSATION, {"contact_id": contact_id}).first()


_ACTIVE_CONVERSATION = (select(Conversation)
                        .where(Conversation.contact_id == bindparam("contact_id"), Conversation.status == "active")
                        .order_by(Conversation.id.desc()).limit(1))


def start_conversation(session: Session, *, contact: Contact, script_id: str, script_version: int,
                       state: dict[str, Any], now: datetime) -> Conversation:
    """A new active conversation on a pinned script version (``step_id`` is the caller's to set)."""
    conversation = Conversation(contact=contact, script_id=script_id, script_version=script_version,
                                status="active", state=state, started_at=now, updated_at=now)
    session.add(conversation)
    return conversation


def message_by_provider_id(session: Session, channels: Sequence[str], provider_message_id: str) -> Message | None:
    """Our outbound message that a provider knows by ``provider_message_id`` on one of
    ``channels`` (for delivery reports: Twilio's message SIDs are unique across its account)."""
    return session.scalars(
        select(Message).where(Message.channel.in_(tuple(channels)), Message.provider_message_id == provider_message_id,
                              Message.direction == "out")
    ).first()
