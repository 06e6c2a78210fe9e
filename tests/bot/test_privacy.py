"""bot.privacy through the real pipeline: the reporter's name, phone numbers and shared contacts
are nowhere in clear in the database (its WAL included) or the logs; an anonymous reporter is
shown to no role, even one who typed the name before switching to anonymous."""
from __future__ import annotations

import io
import logging
import uuid
from pathlib import Path

import pytest
from admin_support import admin_site, signed_in
from sqlalchemy import select, text

from bot import privacy
from bot.services import Services
from channels.base import InboundMessage
from dialogs.loader import load_script
from storage import repository as repo
from storage.crypto import DataCipher, is_sealed
from storage.db import Database
from storage.models import Conversation, Message

NAME = "Budi Santoso"
PHONE = "+6281299887766"
CONTACT_PHONE = "+6285711223344"  # a contact card shared from Telegram
START = ["halo", "1", "Jalan berlubang", "Lubang besar di depan SD Negeri 3 sudah sebulan.", "1",
         "Jl. Merdeka 10, Kota Bandung", "kemarin", "lewati"]


def say(services: Services, text_: str, *, sender: str = PHONE, channel: str = "terminal", **extra) -> object:
    return services.intake.handle(InboundMessage(channel, sender, text_, uuid.uuid4().hex, repo.utcnow(), **extra))


def everything_stored(db: Database) -> bytes:
    """Every byte the database keeps: the SQLite file and its WAL, or every PostgreSQL row as text."""
    if db.dialect == "sqlite":
        path = Path(db.engine.url.database)
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    with db.transaction() as session:
        tables = session.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
        return "\n".join(str(row) for table in tables
                         for row in session.scalars(text(f'SELECT t::text FROM "{table}" t'))).encode()


def test_seal_and_unseal_keep_only_personal_answers_encrypted(cipher: DataCipher) -> None:
    script = load_script(Path("dialogs/scripts/complaint.yaml").read_text(encoding="utf-8"))
    state = {"answers": {"name": NAME, "title": "Jalan", "anonymous": False}, "step_id": "confirm"}
    sealed = privacy.seal_state(cipher, script, state)
    assert is_sealed(sealed["answers"]["name"]) and sealed["answers"]["title"] == "Jalan"
    assert NAME not in str(sealed)
    assert privacy.unseal_state(cipher, sealed) == state
    assert privacy.without_personal(script, state["answers"]) == {"title": "Jalan", "anonymous": False}


def test_redaction_takes_whole_words_longest_first() -> None:
    values = ("Budi Santoso", "Budi")
    assert privacy.redact("9. Nama: Budi Santoso", values) == f"9. Nama: {privacy.REDACTED}"
    assert privacy.redact("budi ada di Budiman", ("Budi",)) == f"{privacy.REDACTED} ada di Budiman"


def test_the_name_phones_and_a_shared_contact_are_nowhere_in_clear(services: Services, outbox_terminal: io.StringIO,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for line in START:
        say(services, line)
    say(services, "1")  # public
    say(services, CONTACT_PHONE, shared_contact=True)  # a contact card is no name: asked again
    say(services, NAME)
    result = say(services, "ya")
    assert result.tracking_number
    services.delivery.drain()
    assert f"Nama: {NAME}" in outbox_terminal.getvalue()  # the citizen read the whole summary

    stored = everything_stored(services.db)
    for secret in (NAME, "Santoso", PHONE, PHONE[1:], CONTACT_PHONE[1:]):
        assert secret.encode() not in stored, f"{secret!r} is stored in clear"
        assert secret not in caplog.text, f"{secret!r} was logged"
    with services.db.transaction() as session:
        redacted = session.scalars(select(Message.text).where(Message.text_enc.is_not(None))).all()
        assert privacy.REDACTED in redacted  # the contact card and the name answer
        assert any(f"Nama: {privacy.REDACTED}" in t for t in redacted)  # the summary
        state = session.scalars(select(Conversation.state)).one()
        assert "name" not in state["answers"]  # the ended conversation keeps none


def test_a_name_in_the_middle_of_a_dialog_is_sealed_in_its_state(services: Services) -> None:
    for line in [*START, "1", NAME]:
        say(services, line)
    with services.db.transaction() as session:
        state = session.scalars(select(Conversation.state)).one()
        assert state["step_id"] == "confirm" and is_sealed(state["answers"]["name"])
    assert NAME.encode() not in everything_stored(services.db)
    assert "Nama: Budi Santoso" in say(services, "halo").replies[0]  # unsealed for the engine


def test_an_anonymous_reporter_is_shown_to_no_role_even_after_typing_the_name(db, db_url: str) -> None:
    with admin_site(db_url) as (url, services):
        for line in [*START, "1", NAME]:  # public first, with the name...
            say(services, line)
        say(services, "8")  # ...then the privacy answer is changed from the summary
        say(services, "2")  # anonymous
        number = say(services, "ya").tracking_number
        for line in [*START, "1", "Siti Aminah"]:  # and a public report, for contrast
            say(services, line, sender="+6281200000002")
        public = say(services, "ya", sender="+6281200000002").tracking_number

        with services.db.transaction() as session:
            complaint = repo.complaint_by_tracking(session, number)
            assert complaint.anonymous and complaint.reporter_name_enc is None
            assert session.scalars(select(Message.text_enc).where(
                Message.conversation_id == complaint.conversation_id, Message.text_enc.is_not(None))).all() == []
        for who in ("ani", "vina"):  # admin and viewer
            page = signed_in(url, who).get(f"{url}/admin/complaints/{number}", timeout=10).text
            assert NAME not in page and "Santoso" not in page and privacy.REDACTED in page
            other = signed_in(url, who).get(f"{url}/admin/complaints/{public}", timeout=10).text
            assert other.count("Siti Aminah") == 3  # reporter, answer and summary: read whole
        assert NAME.encode() not in everything_stored(services.db)
