"""The tables of lapor-intake, as SQLAlchemy 2 typed ORM classes.

Personal data (phone numbers, chat ids, reporter names, shared contacts, answers to personal
steps) lives only in ``*_enc`` columns and sealed state values (``storage.crypto.DataCipher``)
and, for look-ups, as a keyed hash. Every datetime is
timezone-aware UTC on both SQLite and PostgreSQL. JSON columns must be reassigned to change:
in-place edits of a loaded dict or list are not saved. ``__repr__`` never shows personal data or
message and complaint text, so objects can be logged.

The schema itself is created by the Alembic migrations in ``storage/migrations``; a test keeps
them identical to these classes.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.columns import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONVERSATION_STATUSES = ("active", "completed", "cancelled", "expired")
OUTBOX_KINDS = ("reply", "submission", "notification", "download")
ATTACHMENT_STATUSES = ("pending", "stored", "refused", "failed")
OUTBOX_STATUSES = ("pending", "sending", "done", "dead")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Contact(Base):
    """One citizen on one channel (a WhatsApp number, an SMS number, a Telegram chat)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "sender_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64))  # DataCipher.lookup_hash(sender)
    sender_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(8), default="id")
    opted_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return (f"Contact(id={self.id!r}, channel={self.channel!r}, language={self.language!r}, "
                f"opted_out={self.opted_out!r})")


class Conversation(Base):
    """One run of a dialog script with a contact, pinned to the script version it started on."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(None, "contact_id", "status"),
        Index(None, "script_id", "status"),  # a script's active conversations (the live part of the funnel)
        CheckConstraint(_one_of("status", CONVERSATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    script_id: Mapped[str] = mapped_column(String(64))
    script_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    step_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()

    def __repr__(self) -> str:
        return (f"Conversation(id={self.id!r}, contact_id={self.contact_id!r}, script={self.script_id!r} "
                f"v{self.script_version!r}, status={self.status!r}, step_id={self.step_id!r})")


INBOUND = text("direction = 'in'")
OUTBOUND = text("direction = 'out'")


class Message(Base):
    """Every message in and out.

    Inbound, (channel, provider_message_id) is unique: a provider's retry of a message is
    detectable, and harmless. Outbound ids are the provider's for our sends, unique only within
    their contact: Telegram numbers messages per chat. They are indexed (not unique) for
    delivery reports.

    ``text`` never holds personal data in clear: where a message carries some (a reporter's
    name, a shared contact, the summary that repeats them), ``text`` is redacted and
    ``text_enc`` holds the whole text, encrypted (``bot.privacy``).
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("uq_messages_inbound_provider_id", "channel", "provider_message_id", unique=True,
              sqlite_where=INBOUND, postgresql_where=INBOUND),
        Index("ix_messages_outbound_provider_id", "channel", "provider_message_id",
              sqlite_where=OUTBOUND, postgresql_where=OUTBOUND),
        Index(None, "conversation_id"),
        Index(None, "contact_id"),
        CheckConstraint(_one_of("direction", ("in", "out")), name="direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # in: received; out: queued | sent | delivered | failed | undelivered | needs_template
    status: Mapped[str] = mapped_column(String(24))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship()
    conversation: Mapped[Conversation | None] = relationship()

    def __repr__(self) -> str:
        return (f"Message(id={self.id!r}, direction={self.direction!r}, channel={self.channel!r}, "
                f"status={self.status!r}, conversation_id={self.conversation_id!r})")


class Complaint(Base):
    """A filed report (complaint, aspiration or information request) and its registry status."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index(None, "status"),
        Index(None, "created_at"),
        Index(None, "category"),
        Index("ix_complaints_contact_id_created_at", "contact_id", "created_at"),  # a citizen's recent reports
        Index(None, "province_code"),
        Index(None, "regency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(10), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(32))  # complaint | aspiration | information_request
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    category_code: Mapped[str | None] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(128))
    location_text: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The Kemendagri region the location resolved to (bot.places): {level: {"code", "name"} | None};
    # {} when unresolved. The province and regency codes are columns too, for the admin filters.
    region: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    province_code: Mapped[str | None] = mapped_column(String(16))
    regency_code: Mapped[str | None] = mapped_column(String(16))
    incident_date: Mapped[date | None]
    anonymous: Mapped[bool]
    confidential: Mapped[bool]
    reporter_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # queued (not yet accepted by the registry), then received | verified | in_progress | resolved | rejected
    status: Mapped[str] = mapped_column(String(24), default="queued")
    registry_id: Mapped[str | None] = mapped_column(String(128))
    registry_token: Mapped[str | None] = mapped_column(String(128))  # Open311: resolved into registry_id later
    registry_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last status poll
    status_note: Mapped[str | None] = mapped_column(Text)
    # The registry's timestamp and digest of the last status callback applied: an older one never
    # overrides it, and the same one again is a replay (bot.registry.callbacks).
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()
    conversation: Mapped[Conversation | None] = relationship()

    def __repr__(self) -> str:
        return (f"Complaint(id={self.id!r}, tracking_number={self.tracking_number!r}, type={self.type!r}, "
                f"category={self.category!r}, status={self.status!r})")


# The admin text search over complaints (tracking number, title, description) is dialect-specific
# and lives outside this metadata, made by migration 0006: on SQLite the FTS5 table
# ``complaints_search`` (trigram tokenizer, external content: the complaints table itself, kept
# current by triggers), on PostgreSQL the pg_trgm GIN index ``ix_complaints_search``. Both answer
# case-insensitive substring queries (storage.repository.find_complaints).
COMPLAINT_SEARCH = "complaints_search"
COMPLAINT_SEARCH_INDEX = "ix_complaints_search"


class Attachment(Base):
    """One file a citizen sent (a photo, a document, a voice note), and what became of it.

    Recorded with its inbound message, as "pending", with a "download" outbox row in the same
    transaction. The worker fetches it from the provider (``ref``: Twilio's MediaUrl, or
    ``tg-file:<file_id>``; never a URL with a token), keeps the processed bytes in the blob store
    under their SHA-256 and marks it "stored"; a type we do not take is "refused" (the citizen is
    told), and one that could not be fetched after the retries is "failed" (``error`` says why;
    admins see the gap). No file name is kept. Complaints name their attachments by ``ref``.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("message_id", "position"),
        Index(None, "contact_id", "ref"),
        CheckConstraint(_one_of("status", ATTACHMENT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    position: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(1024))
    declared_type: Mapped[str] = mapped_column(String(128))  # what the provider said (not trusted)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    kind: Mapped[str | None] = mapped_column(String(16))  # image | document | audio
    content_type: Mapped[str | None] = mapped_column(String(128))  # from the bytes
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))  # images: a small JPEG for the admin pages
    transcript: Mapped[str | None] = mapped_column(Text)  # audio, when a speech-to-text server is set
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    message: Mapped[Message] = relationship()

    def __repr__(self) -> str:
        return (f"Attachment(id={self.id!r}, message_id={self.message_id!r}, status={self.status!r}, "
                f"kind={self.kind!r}, size={self.size!r})")


HAS_COMPLAINT = text("complaint_id IS NOT NULL")


class Outbox(Base):
    """Work for the delivery worker: a reply or notification to send, a complaint to submit, or
    an attachment to download (``attachment_id``).

    pending -> sending (claimed, with a lease) -> done, or back to pending (retry), or dead.
    ``reclaims`` counts claims of a row whose lease ran out with no outcome recorded (its worker
    died, or could not record): such a row may have reached its provider, so it is sent again
    only a few times (``storage.repository.MAX_RECLAIMS``), then dead-lettered for admins.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "contact_id", "status"),
        Index(None, "complaint_id", sqlite_where=HAS_COMPLAINT, postgresql_where=HAS_COMPLAINT),  # its deliveries
        Index(None, "status", "id"),  # the admin delivery pages: one status, newest first
        CheckConstraint(_one_of("kind", OUTBOX_KINDS), name="kind"),
        CheckConstraint(_one_of("status", OUTBOX_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    reclaims: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact | None] = relationship()
    message: Mapped[Message | None] = relationship()
    complaint: Mapped[Complaint | None] = relationship()
    attachment: Mapped[Attachment | None] = relationship()

    def __repr__(self) -> str:
        return (f"Outbox(id={self.id!r}, kind={self.kind!r}, channel={self.channel!r}, status={self.status!r}, "
                f"attempts={self.attempts!r})")


class FunnelCount(Base):
    """The funnel of conversations that have ended, pre-aggregated (``bot.admin.funnel``).

    Per script and step: how many ended conversations reached the step, were abandoned at it
    (cancelled or expired there) and how many re-prompts it cost; the row with step ``""`` is the
    script as a whole (``reached``: conversations ended, ``completed``: of them completed). Added
    to in the transaction that ends a conversation (``storage.repository.count_ended``), so the
    funnel page reads a few rows instead of every conversation. Each count is spread over
    ``FUNNEL_SHARDS`` rows (by conversation id) so that concurrent endings on PostgreSQL rarely
    wait for one another's row locks; readers add the shards up.
    """

    __tablename__ = "funnel_counts"

    script_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reached: Mapped[int] = mapped_column(default=0)
    abandoned: Mapped[int] = mapped_column(default=0)
    reprompts: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return (f"FunnelCount(script_id={self.script_id!r}, step_id={self.step_id!r}, shard={self.shard!r}, "
                f"reached={self.reached!r}, abandoned={self.abandoned!r})")


FUNNEL_SHARDS = 8


class ScriptVersion(Base):
    """One version of a dialog script's YAML. ``published`` means "has been published"; the live
    version of a script is its highest published one."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # file | admin
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return (f"ScriptVersion(id={self.id!r}, script_id={self.script_id!r}, version={self.version!r}, "
                f"source={self.source!r}, published={self.published!r})")


ADMIN_ROLES = ("viewer", "editor", "admin")


class AdminUser(Base):
    """Someone who signs in to /admin. ``password_hash`` is Argon2id (older ones scrypt, rehashed
    at the next sign-in; bot.admin.passwords). ``locked_until`` is a lock for every address (an
    admin's, or a password reset pending); ``disabled`` accounts cannot sign in at all."""

    __tablename__ = "admin_users"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(_one_of("role", ADMIN_ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"AdminUser(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class AdminSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
    copy of the database signs nobody in. Signing out deletes the row."""

    __tablename__ = "admin_sessions"
    __table_args__ = (Index(None, "user_id"), Index(None, "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[AdminUser] = relationship()

    def __repr__(self) -> str:
        return f"AdminSession(user_id={self.user_id!r}, expires_at={self.expires_at!r})"


class SignInThrottle(Base):
    """Failed sign-ins counted per client address, and per (address, account name), in a window.

    ``key`` is a keyed hash of the address (and the name), so neither is stored. Rows expire with
    their window; an unknown name costs one row per address at most, never an audit entry.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index(None, "window_until"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_until: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"SignInThrottle(failures={self.failures!r}, blocked_until={self.blocked_until!r})"


class DataKey(Base):
    """A data key (by its id, never the key) that encrypted something in this database.

    The key check at start-up: every key not ``retired`` must be one the process holds
    (``LAPOR_DATA_KEY`` or ``LAPOR_DATA_KEY_PREVIOUS``). ``lapor keys rotate`` retires the old
    ones once nothing is encrypted with them.
    """

    __tablename__ = "data_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r}, retired_at={self.retired_at!r})"


class AuditEntry(Base):
    """Who did what, when: every admin action that changes something (and sign-ins)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    def __repr__(self) -> str:
        return f"AuditEntry(id={self.id!r}, actor={self.actor!r}, action={self.action!r}, target={self.target!r})"
