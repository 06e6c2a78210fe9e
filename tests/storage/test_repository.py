"""storage.repository on real SQLite and PostgreSQL: contacts, messages, complaints, scripts, outbox."""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from storage import repository as repo
from storage import tracking
from storage.crypto import DataCipher
from storage.db import Database
from storage.models import Complaint, Contact, Conversation, Message, Outbox

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
PHONE = "+6281234567890"


@dataclass(frozen=True)
class Fields:
    type: str = "complaint"
    title: str = "Jalan rusak"
    description: str = "Jalan di depan sekolah rusak parah."
    category: str = "infrastructure"
    category_code: str | None = "INFRA"
    agency: str | None = None
    location_text: str = "Jl. Merdeka 1"
    latitude: float | None = -6.2
    longitude: float | None = 106.816
    region: dict[str, Any] = field(default_factory=dict)
    incident_date: date | None = date(2026, 11, 20)
    attachments: list[dict[str, str]] = field(default_factory=list)
    anonymous: bool = False
    confidential: bool = True


def count(db: Database, model: Any, *where: Any) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def contact_for(db: Database, cipher: DataCipher, sender: str = PHONE, channel: str = "sms") -> int:
    with db.transaction() as session:
        return repo.lock_contact(session, cipher, channel, sender, T0).id


def run_threads(target, n: int) -> None:
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


# ---------------------------------------------------------------------- contacts

def test_lock_contact_gets_or_creates_one_encrypted_contact(db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        first = repo.lock_contact(session, cipher, "sms", PHONE, T0)
    with db.transaction() as session:
        again = repo.lock_contact(session, cipher, "sms", PHONE, T0 + timedelta(minutes=5))
        assert again == repo.ContactRow(first.id, "id", False)
        stored = session.get(Contact, again.id)
        assert stored.last_inbound_at == T0 + timedelta(minutes=5) and stored.created_at == T0
        assert stored.name_enc is None and repo.contact_sender(cipher, stored) == PHONE
        assert PHONE.encode() not in stored.sender_enc and stored.sender_hash == cipher.lookup_hash(PHONE)
        other_channel = repo.lock_contact(session, cipher, "whatsapp", PHONE, T0)
        assert other_channel.id != first.id
        assert PHONE not in repr(stored)
    assert count(db, Contact) == 2


def test_update_contact_writes_the_language_and_the_opt_out(db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        repo.update_contact(session, replace(contact, language="en", opted_out=True), T0 + timedelta(minutes=1))
    with db.transaction() as session:
        assert repo.lock_contact(session, cipher, "sms", PHONE, T0 + timedelta(minutes=2)) == repo.ContactRow(
            contact.id, "en", True)
        stored = session.get(Contact, contact.id)
        assert (stored.sender_hash, stored.created_at) == (cipher.lookup_hash(PHONE), T0)


@pytest.mark.parametrize("known", [False, True], ids=["new-sender", "known-sender"])
def test_lock_contact_serialises_concurrent_transactions_of_one_sender(db: Database, cipher: DataCipher,
                                                                       known: bool) -> None:
    """8 threads read-modify-write a counter on the contact row and one on its conversation under
    the lock: one contact, no lost update, and never two holders of the lock at once."""
    if known:
        contact_for(db, cipher, channel="whatsapp")
    barrier = threading.Barrier(8)
    spans: list[tuple[float, float]] = []

    def worker() -> None:
        barrier.wait()
        with db.transaction() as session:
            contact = repo.lock_contact(session, cipher, "whatsapp", PHONE, repo.utcnow())
            entered = time.monotonic()
            conversation = repo.active_conversation(session, contact.id) or repo.start_conversation(
                session, contact_id=contact.id, script_id="complaint", script_version=1, state={"count": 0}, now=T0)
            stored = session.get(Contact, contact.id)
            on_contact, on_conversation = int.from_bytes(stored.name_enc or b"\0", "big"), conversation.state["count"]
            time.sleep(0.02)  # widen the window a lost update would need
            stored.name_enc = (on_contact + 1).to_bytes(1, "big")
            repo.save_conversations(session, [replace(conversation, state={"count": on_conversation + 1})], T0)
            session.flush()
            spans.append((entered, time.monotonic()))

    run_threads(worker, 8)
    with db.transaction() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.name_enc == bytes([8])
        assert session.scalars(select(Conversation.state)).one() == {"count": 8}
    spans.sort()
    assert all(left <= entered for (_, left), (entered, _) in zip(spans, spans[1:], strict=False)), "two holders at once"


# ---------------------------------------------------------------------- messages and conversations

def test_messages_are_found_by_provider_id_and_duplicates_are_refused(db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        contact = session.get_one(Contact, repo.lock_contact(session, cipher, "sms", PHONE, T0).id)
        inbound = repo.add_message(session, contact=contact, conversation=None, direction="in", channel="sms",
                                   text="halo", provider_message_id="SM1", status="received", now=T0)
        session.flush()  # written with the transaction's next flush
        assert inbound.id is not None and inbound.payload == {} and inbound.created_at == T0
        for _ in range(2):  # outbound rows have no provider id yet: NULLs never clash
            repo.add_message(session, contact=contact, conversation=None, direction="out", channel="sms",
                             text="Selamat datang", status="queued")
        repo.add_message(session, contact=contact, conversation=None, direction="in", channel="whatsapp",
                         text="halo", provider_message_id="SM1", status="received")  # other channel: fine
    with db.transaction() as session:
        assert repo.inbound_message_id(session, "sms", "SM1") == inbound.id
        assert repo.inbound_message_id(session, "sms", "SM2") is None
    with pytest.raises(IntegrityError), db.transaction() as session:
        contact = session.get_one(Contact, repo.lock_contact(session, cipher, "sms", PHONE, T0).id)
        repo.add_message(session, contact=contact, conversation=None, direction="in", channel="sms",
                         text="halo lagi", provider_message_id="SM1", status="received")
    assert count(db, Contact) == 1


def test_active_conversation_is_the_newest_active_one(db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        assert repo.active_conversation(session, contact.id) is None
        older = repo.start_conversation(session, contact_id=contact.id, script_id="complaint", script_version=1,
                                        state={"step_id": "type"}, now=T0)
        newer = repo.start_conversation(session, contact_id=contact.id, script_id="complaint", script_version=2,
                                        state={}, now=T0 + timedelta(hours=1))
        assert repo.active_conversation(session, contact.id) == newer
        assert newer == repo.ConversationRow(newer.id, contact.id, "complaint", 2, "active", None, {})
        repo.save_conversations(session, [replace(newer, status="completed")], T0)
        assert repo.active_conversation(session, contact.id) == older
        repo.save_conversations(session, [replace(older, status="expired")], T0)
        assert repo.active_conversation(session, contact.id) is None


def test_save_conversations_writes_status_step_and_state_and_ends_what_is_no_longer_active(
        db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        going, ending = (repo.start_conversation(session, contact_id=contact.id, script_id="complaint",
                                                 script_version=1, state={}, now=T0) for _ in range(2))
        later = T0 + timedelta(minutes=3)
        repo.save_conversations(session, [replace(going, step_id="title", state={"answers": {"type": "complaint"}}),
                                          replace(ending, status="cancelled", step_id="type")], later)
        repo.save_conversations(session, [], later)  # nothing to write: no statement
    with db.transaction() as session:
        rows = {c.id: c for c in session.scalars(select(Conversation))}
        assert (rows[going.id].status, rows[going.id].step_id, rows[going.id].state) == (
            "active", "title", {"answers": {"type": "complaint"}})
        assert (rows[going.id].started_at, rows[going.id].updated_at, rows[going.id].ended_at) == (T0, later, None)
        assert (rows[ending.id].status, rows[ending.id].step_id, rows[ending.id].ended_at) == ("cancelled", "type", later)


def test_a_conversation_that_goes_on_is_saved_without_naming_its_status(db: Database, cipher: DataCipher) -> None:
    """Reproduced: every message's UPDATE set the status to the same value, and SQLite rewrote
    both indexes on the status for it (EXPLAIN: two IdxDelete); only an ending names it now."""
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        conversation = repo.start_conversation(session, contact_id=contact.id, script_id="complaint",
                                               script_version=1, state={}, now=T0)
        sent: list[str] = []
        event.listen(db.engine, "before_cursor_execute", record := lambda *args: sent.append(args[2]))
        try:
            repo.save_conversations(session, [replace(conversation, step_id="title")], T0)
            repo.save_conversations(session, [replace(conversation, status="completed")], T0)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    going, ended = (statement.split(" WHERE ")[0] for statement in sent)
    assert "status" not in going and "ended_at" not in going and "step_id" in going
    assert "status" in ended and "ended_at" in ended


# ---------------------------------------------------------------------- complaints

def test_complaints_get_unique_tracking_numbers_and_are_found_by_them(db: Database, cipher: DataCipher) -> None:
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        conversation = repo.start_conversation(session, contact_id=contact.id, script_id="complaint",
                                               script_version=1, state={}, now=T0)
        filed = [
            repo.add_complaint(session, contact_id=contact.id, conversation_id=conversation.id, channel="sms",
                               language="id",
                               fields=Fields(attachments=[{"url": "https://x.invalid/1.jpg", "content_type": "image/jpeg"}]),
                               answers={"title": "Jalan rusak"}, reporter_name_enc=cipher.encrypt("Budi"), now=T0)
            for _ in range(3)
        ]
    numbers = [c.tracking_number for c in filed]
    assert len(set(numbers)) == 3 and all(tracking.normalize_tracking_number(n) == n for n in numbers)
    with db.transaction() as session:
        found = repo.complaint_by_tracking(session, numbers[1])
        assert found.id == filed[1].id and found.status == "queued" and found.conversation_id == conversation.id
        assert (found.latitude, found.incident_date, found.confidential) == (-6.2, date(2026, 11, 20), True)
        assert found.attachments == [{"url": "https://x.invalid/1.jpg", "content_type": "image/jpeg"}]
        assert cipher.decrypt(found.reporter_name_enc) == "Budi" and found.created_at == T0
        assert "Jalan" not in repr(found)
        assert repo.complaint_by_tracking(session, "LAP-000000") is None
        assert [c.tracking_number for c in repo.iter_complaints(session)] == numbers


def test_new_tracking_number_draws_again_on_a_clash(db: Database, cipher: DataCipher, monkeypatch) -> None:
    with db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        monkeypatch.setattr(tracking, "random_tracking_number", lambda: "LAP-AAAAAA")
        repo.add_complaint(session, contact_id=contact.id, conversation_id=None, channel="sms", language="id",
                           fields=Fields(), answers={}, reporter_name_enc=None, now=T0)
        draws = iter(["LAP-AAAAAA", "LAP-AAAAAA", "LAP-BBBBBB"])
        monkeypatch.setattr(tracking, "random_tracking_number", lambda: next(draws))
        assert repo.new_tracking_number(session) == "LAP-BBBBBB"


def test_tracking_numbers_are_unique_in_the_database(db: Database, cipher: DataCipher) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        contact = repo.lock_contact(session, cipher, "sms", PHONE, T0)
        for _ in range(2):
            session.add(Complaint(tracking_number="LAP-CCCCCC", contact_id=contact.id, channel="sms",
                                  language="id", type="complaint", title="t", description="d", category="c",
                                  location_text="", anonymous=True, confidential=True))
            session.flush()


# ---------------------------------------------------------------------- script versions

def test_script_versions_number_up_and_the_live_one_is_the_highest_published(db: Database) -> None:
    with db.transaction() as session:
        assert repo.published_script(session, "complaint") is None
        assert repo.published_version(session, "complaint") is None
        v1 = repo.add_script_version(session, script_id="complaint", text="v: 1", author="file", source="file",
                                     publish=True, now=T0)
        v2 = repo.add_script_version(session, script_id="complaint", text="v: 2", author="ana", source="admin",
                                     publish=False, now=T0 + timedelta(hours=1))
        other = repo.add_script_version(session, script_id="survey", text="s", author="file", source="file",
                                        publish=True, now=T0)
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v1.published_at == T0 and v2.published_at is None
    assert v1.sha256 == hashlib.sha256(b"v: 1").hexdigest()
    with db.transaction() as session:
        assert repo.published_script(session, "complaint").version == 1
        assert repo.published_version(session, "complaint") == 1  # v2 is not published
        repo.publish_version(session, "complaint", 2, T0 + timedelta(hours=2))
    with db.transaction() as session:
        live = repo.published_script(session, "complaint")
        assert (live.version, live.published_at, live.text) == (2, T0 + timedelta(hours=2), "v: 2")
        assert repo.publish_version(session, "complaint", 1, T0 + timedelta(hours=3)).published_at == T0
        assert repo.published_script(session, "complaint").version == 2  # still the highest published
        assert (repo.published_version(session, "complaint"), repo.published_version(session, "survey")) == (2, 1)
        assert repo.script_version(session, "complaint", 1).text == "v: 1"
        assert repo.script_version(session, "complaint", 9) is None
        assert [v.version for v in repo.script_versions(session, "complaint")] == [1, 2]
        assert repo.script_versions(session, "nothing") == []
        with pytest.raises(LookupError):
            repo.publish_version(session, "complaint", 9, T0)


def test_concurrent_script_versions_get_distinct_numbers(db: Database) -> None:
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        with db.transaction() as session:
            repo.add_script_version(session, script_id="complaint", text=threading.current_thread().name,
                                    author="file", source="file", publish=True, now=T0)

    run_threads(worker, 4)
    with db.transaction() as session:
        assert [v.version for v in repo.script_versions(session, "complaint")] == [1, 2, 3, 4]


# ---------------------------------------------------------------------- outbox

def queue(db: Database, *rows: tuple[str, int | None, str | None]) -> list[int]:
    """Add outbox rows (kind, contact_id, channel), due at T0; returns their ids."""
    with db.transaction() as session:
        added = [repo.add_outbox(session, kind=kind, payload={"n": i}, channel=channel, contact_id=contact_id, now=T0)
                 for i, (kind, contact_id, channel) in enumerate(rows)]
        session.flush()
        return [row.id for row in added]


def claim(db: Database, now: datetime = T0, limit: int = 100, lease: float = 60, **kw: Any) -> list[int]:
    with db.transaction() as session:
        return [row.id for row in repo.claim_outbox(session, now=now, limit=limit, lease_seconds=lease, **kw)]


def outcome(db: Database, action, row_id: int, **kw: Any) -> None:
    with db.transaction() as session:
        action(session, row_id, **kw)


def test_add_outbox_queues_a_pending_row_due_now(db: Database, cipher: DataCipher) -> None:
    contact = contact_for(db, cipher)
    with db.transaction() as session:
        row = repo.add_outbox(session, kind="reply", payload={}, channel="sms", contact_id=contact, now=T0)
        assert (row.status, row.attempts, row.next_attempt_at, row.lease_until) == ("pending", 0, T0, None)


def test_claim_takes_due_rows_oldest_first_and_leases_them(db: Database) -> None:
    ids = queue(db, *[("submission", None, None)] * 5)
    assert claim(db, now=T0 - timedelta(seconds=1)) == []  # not due yet
    assert claim(db, limit=2) == ids[:2]
    assert claim(db, limit=10) == ids[2:]
    with db.transaction() as session:
        row = session.get(Outbox, ids[0])
        assert (row.status, row.attempts, row.lease_until) == ("sending", 1, T0 + timedelta(seconds=60))


def test_a_contacts_replies_are_claimed_one_at_a_time_in_order(db: Database, cipher: DataCipher) -> None:
    a, b = contact_for(db, cipher, "+621"), contact_for(db, cipher, "+622")
    a1, a2, b1, s1, a3 = queue(db, ("reply", a, "sms"), ("reply", a, "sms"), ("reply", b, "sms"),
                               ("submission", a, None), ("notification", a, "sms"))
    assert claim(db) == [a1, b1, s1]  # a2 waits for a1; a submission never waits
    assert claim(db) == []
    outcome(db, repo.finish_outbox, a1, now=T0)
    assert claim(db) == [a2]
    outcome(db, repo.retry_outbox, a2, error="timeout", next_attempt_at=T0 + timedelta(seconds=100), now=T0)
    assert claim(db, now=T0 + timedelta(seconds=1)) == []  # a3 waits behind the pending retry of a2
    outcome(db, repo.dead_outbox, a2, error="blocked by the user", now=T0)
    assert claim(db, now=T0 + timedelta(seconds=1)) == [a3]  # a dead row holds nothing up
    with db.transaction() as session:
        done, dead = session.get(Outbox, a1), session.get(Outbox, a2)
        assert (done.status, done.done_at, done.lease_until) == ("done", T0, None)
        assert (dead.status, dead.last_error, dead.attempts, dead.done_at) == ("dead", "blocked by the user", 1, None)


def test_a_claim_returns_what_the_worker_needs_and_a_send_is_recorded_with_its_message(
        db: Database, cipher: DataCipher) -> None:
    contact = contact_for(db, cipher)
    with db.transaction() as session:
        message = repo.insert_message(session, contact_id=contact, conversation_id=None, direction="out",
                                      channel="sms", text="Nama: [disamarkan]", text_enc=cipher.encrypt("Nama: Siti"),
                                      payload={"choices": [["1", "Ya"]]}, status="queued", now=T0)
        repo.insert_outbox(session, kind="reply", channel="sms", contact_id=contact, message_id=message,
                           payload={"n": 1}, now=T0)
    with db.transaction() as session:
        [row] = repo.claim_outbox(session, now=T0, limit=10, lease_seconds=60)
        assert (row.kind, row.channel, row.attempts, row.payload, row.next_attempt_at) == ("reply", "sms", 1,
                                                                                          {"n": 1}, T0)
        out = row.outgoing
        assert out is not None
    assert (out.message_id, out.channel, out.contact_id, out.last_inbound_at) == (message, "sms", contact, T0)
    assert cipher.decrypt(out.sender_enc) == PHONE and cipher.decrypt(out.text_enc or b"") == "Nama: Siti"
    assert (out.text, out.payload) == ("Nama: [disamarkan]", {"choices": [["1", "Ya"]]})
    later = T0 + timedelta(seconds=5)
    with db.transaction() as session:
        repo.finish_sends(session, [repo.Sent(row.id, message, "SM1", "sent", later)])
    with db.transaction() as session:
        stored, sent = session.get(Outbox, row.id), session.get(Message, message)
        assert (stored.status, stored.done_at, stored.lease_until) == ("done", later, None)
        assert (sent.status, sent.provider_message_id, sent.updated_at) == ("sent", "SM1", later)


def test_a_queued_reply_is_its_message_and_its_outbox_row(db: Database, cipher: DataCipher) -> None:
    contact = contact_for(db, cipher)
    with db.transaction() as session:
        for n in (1, 2):
            repo.queue_reply(session, contact_id=contact, conversation_id=None, channel="sms", text=f"bagian {n}",
                             text_enc=b"sealed" if n == 2 else None, payload={"choices": [] if n == 1 else [["1", "Ya"]]},
                             now=T0)
    with db.transaction() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.id)).all()
        assert [(r.kind, r.channel, r.contact_id, r.status, r.attempts, r.reclaims, r.next_attempt_at, r.payload)
                for r in rows] == [("reply", "sms", contact, "pending", 0, 0, T0, {})] * 2
        messages = [session.get_one(Message, r.message_id) for r in rows]
        assert [(m.direction, m.channel, m.contact_id, m.text, m.text_enc, m.payload, m.status, m.created_at)
                for m in messages] == [("out", "sms", contact, "bagian 1", None, {"choices": []}, "queued", T0),
                                       ("out", "sms", contact, "bagian 2", b"sealed", {"choices": [["1", "Ya"]]},
                                        "queued", T0)]


def test_a_postponed_row_gives_its_attempt_back_and_may_note_in_its_payload(db: Database) -> None:
    (row,) = queue(db, ("submission", None, None))
    assert claim(db) == [row]
    later = T0 + timedelta(seconds=2)
    outcome(db, repo.postpone_outbox, row, until=later, now=T0, payload={"n": 0, "waiting": "since"})
    with db.transaction() as session:
        stored = session.get(Outbox, row)
        assert (stored.status, stored.attempts, stored.next_attempt_at, stored.lease_until, stored.payload) == (
            "pending", 0, later, None, {"n": 0, "waiting": "since"})
    assert claim(db, now=later) == [row]
    outcome(db, repo.postpone_outbox, row, until=later, now=later)  # the payload stays as it was
    with db.transaction() as session:
        assert session.get(Outbox, row).payload == {"n": 0, "waiting": "since"}


def test_claim_can_be_limited_to_channels(db: Database, cipher: DataCipher) -> None:
    a, b = contact_for(db, cipher, "+621"), contact_for(db, cipher, "+622")
    whatsapp, telegram, submission = queue(db, ("reply", a, "whatsapp"), ("reply", b, "telegram"),
                                           ("submission", a, None))
    assert claim(db, channels=("telegram",)) == [telegram, submission]
    assert claim(db, channels=()) == []
    assert claim(db) == [whatsapp]
    with pytest.raises(ValueError, match="not a name"):  # channel names are written into the statement
        claim(db, channels=("sms') OR ('1",))


def test_a_crashed_workers_rows_are_claimed_again_when_the_lease_ends(db: Database) -> None:
    (row,) = queue(db, ("submission", None, None))
    assert claim(db, lease=60) == [row]
    assert claim(db, now=T0 + timedelta(seconds=30)) == []
    assert claim(db, now=T0 + timedelta(seconds=60)) == []  # lease_until < now, strictly
    assert claim(db, now=T0 + timedelta(seconds=61)) == [row]
    with db.transaction() as session:
        assert session.get(Outbox, row).attempts == 2


def test_a_claim_takes_rows_whose_lease_ran_out_first_then_the_pending_earliest_due(db: Database) -> None:
    crashed, retried, fresh, later = queue(db, *[("submission", None, None)] * 4)
    assert claim(db, limit=1, lease=10) == [crashed]  # its worker dies: no outcome recorded
    outcome(db, repo.retry_outbox, retried, error="HTTP 503", next_attempt_at=T0 - timedelta(seconds=5), now=T0)
    outcome(db, repo.retry_outbox, later, error="HTTP 503", next_attempt_at=T0 + timedelta(seconds=5), now=T0)
    at = T0 + timedelta(seconds=11)
    assert claim(db, now=at, limit=2, reclaim=False) == [retried, fresh]  # due first, not lowest id first
    assert claim(db, now=at, limit=2) == [crashed, later]  # a reclaiming claim takes the lapsed lease first


def test_a_row_that_used_up_its_reclaims_is_never_claimed_even_between_give_ups(db: Database) -> None:
    """Reproduced: with the give-up sweep skipped (a worker runs it every third of a lease), a
    claim took such a row and sent it once more than MAX_RECLAIMS allows."""
    (row,) = queue(db, ("submission", None, None))
    at = T0
    for reclaim in range(repo.MAX_RECLAIMS + 1):
        assert claim(db, now=at, lease=10, give_up=False) == [row], reclaim
        at += timedelta(seconds=11)
    assert claim(db, now=at, lease=10, give_up=False) == []
    with db.transaction() as session:
        stored = session.get(Outbox, row)
        assert (stored.status, stored.reclaims, stored.attempts) == ("sending", repo.MAX_RECLAIMS,
                                                                     repo.MAX_RECLAIMS + 1)
    assert claim(db, now=at, lease=10) == []  # the sweep gives it up
    with db.transaction() as session:
        assert session.get(Outbox, row).status == "dead"


def test_a_retried_row_comes_back_when_due(db: Database) -> None:
    (row,) = queue(db, ("submission", None, None))
    claim(db)
    later = T0 + timedelta(seconds=100)
    outcome(db, repo.retry_outbox, row, error="HTTP 503", next_attempt_at=later, now=T0 + timedelta(seconds=1))
    with db.transaction() as session:
        stored = session.get(Outbox, row)
        assert (stored.status, stored.last_error, stored.lease_until, stored.next_attempt_at) == (
            "pending", "HTTP 503", None, later)
    assert claim(db, now=later - timedelta(seconds=1)) == []
    assert claim(db, now=later) == [row]


def test_outcomes_of_unknown_rows_raise(db: Database) -> None:
    with pytest.raises(LookupError):
        outcome(db, repo.finish_outbox, 404, now=T0)


def test_concurrent_workers_claim_every_row_once_and_keep_each_contacts_order(db: Database, cipher: DataCipher) -> None:
    contacts = [contact_for(db, cipher, f"+62{i}") for i in range(4)]
    rows = [("reply", contacts[i % 4], "sms") for i in range(16)] + [("submission", None, None)] * 8
    ids = queue(db, *rows)
    log: list[tuple[str, int]] = []
    guard = threading.Lock()

    def worker() -> None:
        while True:
            now = repo.utcnow()
            with db.transaction() as session:
                claimed = [r.id for r in repo.claim_outbox(session, now=now, limit=3, lease_seconds=600)]
            if not claimed:
                with db.transaction() as session:  # anything left is waiting behind another worker's row
                    left = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status != "done"))
                if not left:
                    return
                time.sleep(0.005)
                continue
            with guard:
                log.extend(("claim", i) for i in claimed)
            for row_id in claimed:
                with db.transaction() as session:
                    repo.finish_outbox(session, row_id, now)
                    with guard:  # logged before the commit: any later claim comes after it in the log
                        log.append(("finish", row_id))

    run_threads(worker, 4)
    claimed = [i for what, i in log if what == "claim"]
    assert sorted(claimed) == ids, "a row was claimed twice or never"
    for contact in contacts:
        replies = [i for i, (kind, c, _) in zip(ids, rows, strict=False) if c == contact]
        for earlier, later in zip(replies, replies[1:], strict=False):
            assert log.index(("finish", earlier)) < log.index(("claim", later))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_claimers_skip_rows_locked_by_another(db: Database) -> None:
    ids = queue(db, *[("submission", None, None)] * 10)
    first_claimed, second_done, first_committed = threading.Event(), threading.Event(), threading.Event()
    held: list[int] = []

    def first_worker() -> None:
        with db.transaction() as session:
            held.extend(row.id for row in repo.claim_outbox(session, now=T0, limit=4, lease_seconds=60))
            first_claimed.set()
            second_done.wait(10)
        first_committed.set()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert first_claimed.wait(10)
    second = claim(db, limit=100)  # would block on the four locked rows without SKIP LOCKED
    finished_while_locked = not first_committed.is_set()
    second_done.set()
    thread.join(10)
    assert finished_while_locked
    assert held == ids[:4] and second == ids[4:]
