"""storage.keys: a wrong data key is refused before it does harm; keys rotate without a citizen
becoming a stranger, and retired keys are no longer needed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import repository as repo
from storage.crypto import DataCipher, WrongDataKey, is_sealed, seal, sealed_blob, unseal
from storage.db import Database
from storage.keys import check_data_key, key_problem, rotate
from storage.models import Complaint, Contact, Conversation, DataKey, Message

OLD, NEW = "the-old-data-key-0123456789", "the-new-data-key-9876543210"
PHONE = "+6281234567890"


def write_personal_data(db: Database, cipher: DataCipher) -> None:
    """One of everything that holds personal data, as intake writes it."""
    now = repo.utcnow()
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, now)
        session.get(Contact, contact.id).name_enc = cipher.encrypt("Budi Santoso")
        conversation = repo.start_conversation(session, contact_id=contact.id, script_id="complaint",
                                               script_version=1, now=now,
                                               state={"answers": {"name": seal(cipher, "Budi Santoso"), "title": "x"}})
        repo.insert_message(session, contact_id=contact.id, conversation_id=conversation.id, direction="in",
                            channel="sms", text="[disembunyikan]", text_enc=cipher.encrypt("Budi Santoso"),
                            payload={}, status="received", now=now)
        session.add(Complaint(tracking_number="LAP-7K3M9Q", contact_id=contact.id, conversation_id=conversation.id,
                              channel="sms", language="id", type="complaint", title="t", description="d",
                              category="other", location_text="", anonymous=False, confidential=False,
                              reporter_name_enc=cipher.encrypt("Budi Santoso")))


def test_the_first_key_is_recorded_and_a_different_one_refused(db: Database) -> None:
    check_data_key(db, DataCipher.from_secret(OLD), repo.utcnow())
    check_data_key(db, DataCipher.from_secret(OLD), repo.utcnow())  # again: nothing changes
    with db.transaction() as session:
        assert session.scalars(select(DataKey.key_id)).all() == [DataCipher.from_secret(OLD).key_id]
    with pytest.raises(WrongDataKey, match="LAPOR_DATA_KEY does not match this database") as refused:
        check_data_key(db, DataCipher.from_secret(NEW), repo.utcnow())
    assert DataCipher.from_secret(OLD).key_id in str(refused.value) and "lapor keys rotate" in str(refused.value)
    with db.transaction() as session:
        assert len(session.scalars(select(DataKey)).all()) == 1  # the refused key is not recorded


def test_a_database_from_before_key_checks_is_tried_with_its_data(db: Database) -> None:
    write_personal_data(db, DataCipher.from_secret(OLD))
    with db.transaction() as session:
        assert session.scalars(select(DataKey)).all() == []
        assert "cannot decrypt the stored contacts" in key_problem(session, DataCipher.from_secret(NEW))
        assert key_problem(session, DataCipher.from_secret(OLD)) is None


def test_rotation_keeps_every_citizen_and_retires_the_old_key(db: Database) -> None:
    old = DataCipher.from_secret(OLD)
    check_data_key(db, old, repo.utcnow())
    write_personal_data(db, old)
    rotating = DataCipher.from_secret(NEW, previous=[OLD])
    check_data_key(db, rotating, repo.utcnow())  # the old key is held: the service may start

    with db.transaction() as session:  # a returning citizen is found by the old key's hash
        contact = repo.lock_contact(session, rotating, "sms", PHONE, repo.utcnow())
        stored = session.scalars(select(Contact)).one()
        assert stored.id == contact.id and stored.sender_hash == rotating.lookup_hash(PHONE)

    done = rotate(db, rotating, repo.utcnow(), batch=1)
    assert done.unreadable == [] and done.retired == [old.key_id]
    assert done.reencrypted == {"contacts": 1, "complaints": 1, "messages": 1, "conversations": 1}
    assert rotate(db, rotating, repo.utcnow()).reencrypted == {
        "contacts": 0, "complaints": 0, "messages": 0, "conversations": 0}  # idempotent

    new = DataCipher.from_secret(NEW)  # LAPOR_DATA_KEY_PREVIOUS is no longer needed
    check_data_key(db, new, repo.utcnow())
    with db.transaction() as session:
        contact = session.scalars(select(Contact)).one()
        assert (new.decrypt(contact.sender_enc), new.decrypt(contact.name_enc)) == (PHONE, "Budi Santoso")
        assert new.decrypt(session.scalars(select(Complaint.reporter_name_enc)).one()) == "Budi Santoso"
        assert new.decrypt(session.scalars(select(Message.text_enc)).one()) == "Budi Santoso"
        sealed = session.scalars(select(Conversation.state)).one()["answers"]["name"]
        assert is_sealed(sealed) and new.is_current(sealed_blob(sealed)) and unseal(new, sealed) == "Budi Santoso"
        assert repo.lock_contact(session, new, "sms", PHONE, repo.utcnow()).id == contact.id
    with pytest.raises(WrongDataKey):
        check_data_key(db, old, repo.utcnow())  # the old key alone can no longer run here


def test_a_value_no_key_reads_is_reported_and_nothing_is_retired(db: Database) -> None:
    old = DataCipher.from_secret(OLD)
    check_data_key(db, old, repo.utcnow())
    write_personal_data(db, old)
    with db.transaction() as session:
        session.scalars(select(Message)).one().text_enc = DataCipher.from_secret("a-stranger-key").encrypt("x")
    done = rotate(db, DataCipher.from_secret(NEW, previous=[OLD]), repo.utcnow())
    assert done.unreadable == ["messages:1"] and done.retired == []
    assert done.reencrypted["contacts"] == 1  # the other rows were rotated all the same
