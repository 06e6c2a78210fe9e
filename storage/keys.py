"""The data key check, and key rotation.

``data_keys`` lists, by id, every key that encrypted something in this database. A process may
start only if it holds each key that is not retired: a wrong ``LAPOR_DATA_KEY`` would otherwise
fail every delivery, make returning citizens strangers (their look-up hash would differ) and
write rows that no other process can read. ``rotate`` re-encrypts and re-hashes everything with
the current key, then retires the others.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.crypto import DataCipher, WrongDataKey, is_sealed, seal, sealed_blob, unseal
from storage.db import Database
from storage.models import Complaint, Contact, Conversation, DataKey, Message

ROTATE_BATCH = 500
HOW_TO_ROTATE = ("To change keys, set the new key as LAPOR_DATA_KEY, the old one in LAPOR_DATA_KEY_PREVIOUS "
                 "(comma-separated), and run `lapor keys rotate`.")


def key_problem(session: Session, cipher: DataCipher) -> str | None:
    """Why ``cipher`` cannot work on this database (a sentence naming LAPOR_DATA_KEY), or None.

    Read-only and cheap (one small table; on a database from before key checks, one sample
    value), so ``/readyz`` runs it on every call.
    """
    known = session.scalars(select(DataKey.key_id).where(DataKey.retired_at.is_(None))).all()
    missing = [key_id for key_id in known if key_id not in cipher.key_ids]
    if missing:
        return (f"LAPOR_DATA_KEY does not match this database: its personal data is encrypted with key "
                f"{', '.join(missing)}, and this process holds key {', '.join(cipher.key_ids)}. Set LAPOR_DATA_KEY "
                f"to the key this database was created with. {HOW_TO_ROTATE}")
    if not known:  # written before key checks existed, or empty: try what is there
        sample = session.scalar(select(Contact.sender_enc).order_by(Contact.id.desc()).limit(1))
        if sample is not None:
            try:
                cipher.decrypt(sample)
            except WrongDataKey:
                return ("LAPOR_DATA_KEY does not match this database: it cannot decrypt the stored contacts. "
                        f"Set LAPOR_DATA_KEY to the key this database was created with. {HOW_TO_ROTATE}")
    return None


def check_data_key(db: Database, cipher: DataCipher, now: datetime) -> None:
    """Refuse (WrongDataKey) a key that cannot read this database; else record the current key
    as one that writes here. Safe to run from several processes at once."""
    with db.transaction() as session:
        problem = key_problem(session, cipher)
        if problem:
            raise WrongDataKey(problem)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(DataKey).values(key_id=cipher.key_id, created_at=now, retired_at=None)
                        .on_conflict_do_nothing(index_elements=["key_id"]))


@dataclass
class Rotation:
    """What ``rotate`` did: rows re-encrypted per table, and the ones none of our keys reads."""

    reencrypted: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # "table:id"
    retired: list[str] = field(default_factory=list)


def rotate(db: Database, cipher: DataCipher, now: datetime, batch: int = ROTATE_BATCH) -> Rotation:
    """Re-encrypt every personal value, and re-hash every contact, with the current key, in
    short transactions of ``batch`` rows (the service keeps running meanwhile). Then retire the
    other keys, unless some value could not be read: those are listed and nothing is retired."""
    check_data_key(db, cipher, now)
    result = Rotation()
    for table, rewrite in _REWRITES.items():
        count = 0
        for rows in _batches(db, table, batch):
            with db.transaction() as session:
                row: Any
                for row in session.scalars(select(table).where(table.id.in_(rows))):
                    try:
                        count += rewrite(cipher, row)
                    except WrongDataKey:
                        result.unreadable.append(f"{table.__tablename__}:{row.id}")
        result.reencrypted[table.__tablename__] = count
    if not result.unreadable:
        with db.transaction() as session:
            result.retired = list(session.scalars(select(DataKey.key_id).where(
                DataKey.key_id != cipher.key_id, DataKey.retired_at.is_(None))))
            session.execute(update(DataKey).where(DataKey.key_id.in_(result.retired)).values(retired_at=now))
    return result


def _batches(db: Database, table: Any, size: int) -> Iterator[list[int]]:
    last = 0
    while True:
        with db.transaction() as session:
            ids: list[int] = list(session.scalars(select(table.id).where(table.id > last).order_by(table.id)
                                                  .limit(size)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def _fresh(cipher: DataCipher, blob: bytes | None) -> bytes | None:
    """``blob`` encrypted with the current key (the same blob when it already is)."""
    if blob is None or cipher.is_current(blob):
        return blob
    return cipher.encrypt(cipher.decrypt(blob))


def _contact(cipher: DataCipher, row: Contact) -> int:
    sender_hash = cipher.lookup_hash(cipher.decrypt(row.sender_enc))
    sender_enc, name_enc = _fresh(cipher, row.sender_enc) or row.sender_enc, _fresh(cipher, row.name_enc)
    changed = sender_hash != row.sender_hash or sender_enc is not row.sender_enc or name_enc is not row.name_enc
    row.sender_hash, row.sender_enc, row.name_enc = sender_hash, sender_enc, name_enc
    return int(changed)


def _complaint(cipher: DataCipher, row: Complaint) -> int:
    fresh = _fresh(cipher, row.reporter_name_enc)
    changed = fresh is not row.reporter_name_enc
    row.reporter_name_enc = fresh
    return int(changed)


def _message(cipher: DataCipher, row: Message) -> int:
    fresh = _fresh(cipher, row.text_enc)
    changed = fresh is not row.text_enc
    row.text_enc = fresh
    return int(changed)


def _conversation(cipher: DataCipher, row: Conversation) -> int:
    answers = dict((row.state or {}).get("answers") or {})
    stale = [key for key, value in answers.items() if is_sealed(value) and not cipher.is_current(sealed_blob(value))]
    for key in stale:
        answers[key] = seal(cipher, unseal(cipher, answers[key]))
    if stale:
        row.state = {**row.state, "answers": answers}  # reassigned: JSON columns track no edits
    return int(bool(stale))


# table -> rewrite one row with the current key; 1 if it changed, else 0
_REWRITES: dict[Any, Callable[[DataCipher, Any], int]] = {
    Contact: _contact, Complaint: _complaint, Message: _message, Conversation: _conversation,
}
