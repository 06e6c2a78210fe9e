"""The open311 registry protocol (GeoReport v2), against a local GeoReport v2 server."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from providers.open311_server import API_KEY, Open311Server
from registry_support import DESCRIPTION, NAME, PHONE, file_complaint, registry_services
from sqlalchemy import select
from tests_support import ROOT, chat_env, free_port, make_settings

from bot.registry import RegistryError, Submission
from bot.registry.open311 import Open311Registry
from bot.services import check_registry
from storage import repository as repo
from storage.models import Message, Outbox

CODES = {"infrastructure": "INFRA", "health": "KES"}


def submission(tracking_number: str = "LAP-7K3M9Q", anonymous: bool = False, **changes) -> Submission:
    values = dict(
        tracking_number=tracking_number, type="complaint", title="Jalan berlubang", description=DESCRIPTION,
        category="infrastructure", category_code="INFRA", agency=None,
        location={"text": "Jl. Merdeka 10", "latitude": -6.9147, "longitude": 107.6098, "region": REGION},
        incident_date="2026-11-27",
        anonymous=anonymous, confidential=True,
        reporter=None if anonymous else {"name": NAME, "channel": "whatsapp", "contact": PHONE},
        attachments=[{"url": "https://lapor.example/media/aa.pdf?expires=1&signature=s", "content_type": "application/pdf",
                      "size": 10, "sha256": "aa"},
                     {"url": "https://lapor.example/media/bb.jpg?expires=1&signature=s", "content_type": "image/jpeg",
                      "size": 20, "sha256": "bb"}],
        language="id", submitted_at=repo.utcnow().isoformat().replace("+00:00", "Z"))
    values.update(changes)
    return Submission(**values)


REGION = {"province": {"code": "32", "name": "Jawa Barat"}, "regency": {"code": "32.73", "name": "Kota Bandung"},
          "district": None, "village": None}


@pytest.fixture
def server():
    with Open311Server() as running:
        yield running


def client(server: Open311Server, timeout: float = 5.0, codes=CODES) -> Open311Registry:
    return Open311Registry(server.url, API_KEY, codes, timeout=timeout)


def test_a_request_is_posted_with_the_mapped_service_and_attributes(server: Open311Server) -> None:
    result = client(server).submit(submission())
    assert server.violations == []
    assert result.registry_id == "1001" and result.token is None
    form = server.requests[0]["form"]
    assert form["service_code"] == "INFRA" and form["api_key"] == API_KEY
    assert form["description"] == f"[LAP-7K3M9Q] {DESCRIPTION}"
    assert (form["lat"], form["long"], form["address_string"]) == ("-6.9147", "107.6098", "Jl. Merdeka 10")
    assert form["media_url"] == "https://lapor.example/media/bb.jpg?expires=1&signature=s"  # the first image
    assert (form["first_name"], form["last_name"], form["phone"]) == ("Budi", "Santoso", PHONE)
    assert form["attribute[tracking_number]"] == "LAP-7K3M9Q"
    assert form["attribute[confidential]"] == "true" and form["attribute[title]"] == "Jalan berlubang"
    assert (form["attribute[province_code]"], form["attribute[province]"]) == ("32", "Jawa Barat")
    assert (form["attribute[regency_code]"], form["attribute[regency]"]) == ("32.73", "Kota Bandung")
    assert "attribute[district]" not in form and "attribute[village_code]" not in form  # not known
    assert form["attribute[attachments]"] == "https://lapor.example/media/aa.pdf?expires=1&signature=s"  # the others


def test_an_anonymous_request_carries_neither_name_nor_phone(server: Open311Server) -> None:
    client(server).submit(submission(anonymous=True))
    form = server.requests[0]["form"]
    assert not {"first_name", "last_name", "phone", "email"} & set(form)
    assert not any(NAME.split()[0] in value or PHONE[1:] in value for value in form.values())


def test_a_one_word_name_is_a_first_name(server: Open311Server) -> None:
    client(server).submit(submission(reporter={"name": "Sukarni", "channel": "telegram", "contact": "4242"}))
    form = server.requests[0]["form"]
    assert form["first_name"] == "Sukarni" and "last_name" not in form
    assert "phone" not in form  # a Telegram chat id is no phone number


def test_a_token_answer_is_resolved_later(server: Open311Server) -> None:
    server.tokens = True
    registry = client(server)
    result = registry.submit(submission())
    assert result.registry_id is None and result.token == "tok-1"
    assert registry.resolve_token("tok-1") is None  # still pending
    server.release_tokens()
    assert registry.resolve_token("tok-1") == "1001"
    assert registry.resolve_token("tok-unknown") is None


def test_statuses_are_mapped(server: Open311Server) -> None:
    registry = client(server)
    registry_id = registry.submit(submission()).registry_id
    assert registry.fetch_status(registry_id).status == "received"
    server.set_status(registry_id, "open", "Diteruskan ke Dinas PU.")
    assert (registry.fetch_status(registry_id).status, registry.fetch_status(registry_id).note) == (
        "in_progress", "Diteruskan ke Dinas PU.")
    server.set_status(registry_id, "closed", "Sudah diperbaiki.")
    assert registry.fetch_status(registry_id).status == "resolved"
    assert registry.fetch_status("999999") is None


def test_an_error_array_is_reported_whole_and_is_permanent(server: Open311Server) -> None:
    with pytest.raises(RegistryError) as failure:
        client(server, codes={}).submit(submission(category_code="NOPE"))
    assert not failure.value.retryable
    assert "open311 registry answered 400: 400 service_code 'NOPE' not found" in str(failure.value)
    with pytest.raises(RegistryError) as failure:
        Open311Registry(server.url, "wrong-key", CODES).submit(submission())
    assert not failure.value.retryable and "403 Invalid api_key received" in str(failure.value)


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retryable(server: Open311Server, status: int) -> None:
    server.fail_next(status)
    with pytest.raises(RegistryError) as failure:
        client(server).submit(submission())
    assert failure.value.retryable and server.requests == []


def test_429_is_retryable_after_its_retry_after(server: Open311Server) -> None:
    server.fail_next(429, retry_after=12)
    with pytest.raises(RegistryError) as failure:
        client(server).submit(submission())
    assert failure.value.retryable and failure.value.retry_after == 12.0


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(RegistryError) as failure:
        Open311Registry(f"http://127.0.0.1:{free_port()}/v2", API_KEY, CODES).submit(submission())
    assert failure.value.retryable and "unreachable" in str(failure.value)


def test_after_a_timeout_the_retry_finds_the_request_instead_of_posting_again(server: Open311Server) -> None:
    server.hang_next(1.5)
    sent = submission()
    with pytest.raises(RegistryError) as failure:
        client(server, timeout=0.3).submit(sent)
    assert failure.value.retryable
    server.release()
    deadline = time.monotonic() + 5
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    result = client(server).submit(sent, retry=True)
    assert result.registry_id == "1001"
    assert server.posts == 1 and server.searches == 1 and len(server.by_tracking_number("LAP-7K3M9Q")) == 1


def test_a_retry_posts_when_the_first_attempt_never_arrived(server: Open311Server) -> None:
    result = client(server).submit(submission(), retry=True)
    assert result.registry_id == "1001" and server.posts == 1 and server.searches == 1


def test_a_malformed_answer_is_retried_and_the_retry_adopts_the_request(server: Open311Server) -> None:
    server.malformed_next()
    with pytest.raises(RegistryError) as failure:
        client(server).submit(submission())
    assert failure.value.retryable and "without a JSON array" in str(failure.value)
    assert client(server).submit(submission(), retry=True).registry_id == "1001"
    assert server.posts == 1


def test_the_service_mapping_is_checked_at_start_up(server: Open311Server, tmp_path) -> None:
    client(server).check()  # INFRA and KES are offered
    with pytest.raises(RegistryError) as failure:
        client(server, codes={"infrastructure": "INFRA", "water": "AIR"}).check()
    assert not failure.value.retryable and "water -> AIR" in str(failure.value)


def test_check_registry_refuses_a_wrong_mapping_and_tolerates_an_outage(db_url: str) -> None:
    with Open311Server(services={"INFRA": "Infrastruktur"}) as partial:
        env = {"LAPOR_REGISTRY": "open311", "LAPOR_REGISTRY_URL": partial.url, "LAPOR_REGISTRY_API_KEY": API_KEY}
        assert check_registry(make_settings(db_url, extra_env=env)) is False
    with Open311Server() as complete:
        env["LAPOR_REGISTRY_URL"] = complete.url
        assert check_registry(make_settings(db_url, extra_env=env)) is True
    env["LAPOR_REGISTRY_URL"] = f"http://127.0.0.1:{free_port()}/v2"
    assert check_registry(make_settings(db_url, extra_env=env)) is True  # down: complaints queue


# ---------------------------------------------------------------------- through the outbox


def env_for(server: Open311Server) -> dict[str, str]:
    return {"LAPOR_REGISTRY": "open311", "LAPOR_REGISTRY_URL": server.url, "LAPOR_REGISTRY_API_KEY": API_KEY}


@pytest.mark.parametrize("privacy", ["anonymous", "both"])
def test_an_anonymous_dialog_sends_no_name_or_phone(db, db_url: str, server: Open311Server, privacy: str) -> None:
    services = registry_services(db_url, env_for(server))
    try:
        file_complaint(services, privacy=privacy)
        services.delivery.drain()
    finally:
        services.close()
    assert server.violations == []
    [request] = server.requests
    assert not {"first_name", "last_name", "phone"} & set(request["form"])
    assert not any("Budi" in value or PHONE[1:] in value for value in request["form"].values())
    assert request["form"]["attribute[confidential]"] == ("true" if privacy == "both" else "false")


def test_token_status_and_notification_flow(db, db_url: str, server: Open311Server) -> None:
    """Submitted with a token; the poller links the id, then tells the citizen of each change."""
    server.tokens = True
    services = registry_services(db_url, env_for(server), registry_poll=timedelta(seconds=0))
    try:
        number = file_complaint(services, privacy="public")
        services.delivery.drain()
        with services.db.transaction() as session:
            complaint = repo.complaint_by_tracking(session, number)
            assert (complaint.registry_id, complaint.registry_token) == (None, "tok-1")
        assert services.poller.poll_once(repo.utcnow() + timedelta(seconds=1)) == 0  # still a token
        server.release_tokens()
        assert services.poller.poll_once(repo.utcnow() + timedelta(seconds=2)) == 0  # linked, no change yet
        server.set_status("1001", "open", "Diteruskan ke Dinas PU Kota Bandung.")
        assert services.poller.poll_once(repo.utcnow() + timedelta(seconds=3)) == 1
        server.set_status("1001", "closed", "Lubang sudah ditambal.")
        assert services.poller.poll_once(repo.utcnow() + timedelta(seconds=4)) == 1
        assert services.poller.poll_once(repo.utcnow() + timedelta(seconds=5)) == 0  # no change, no message
        with services.db.transaction() as session:
            complaint = repo.complaint_by_tracking(session, number)
            assert (complaint.registry_id, complaint.status) == ("1001", "resolved")
            told = session.scalars(select(Message).join(Outbox, Outbox.message_id == Message.id)
                                   .where(Outbox.kind == "notification").order_by(Message.id)).all()
            assert [m.channel for m in told] == ["sms", "sms"]
            assert number in told[0].text and "Diteruskan ke Dinas PU Kota Bandung." in told[0].text
            assert "Lubang sudah ditambal." in told[1].text
    finally:
        services.close()
    assert server.violations == []


def test_lapor_worker_refuses_to_start_on_a_wrong_mapping(db_url: str) -> None:
    with Open311Server(services={"INFRA": "Infrastruktur"}) as partial:
        env = chat_env(db_url, LAPOR_REGISTRY="open311", LAPOR_REGISTRY_URL=partial.url, LAPOR_REGISTRY_API_KEY=API_KEY)
        done = subprocess.run([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert "health -> KES" in done.stderr and "it offers: INFRA" in done.stderr


def test_a_status_note_is_cleaned_before_it_is_stored(server: Open311Server) -> None:
    registry = client(server)
    registry_id = registry.submit(submission()).registry_id
    server.set_status(registry_id, "open", "Dite\x00ruskan\x07 ke Dinas PU.")
    assert registry.fetch_status(registry_id).note == "Diteruskan ke Dinas PU."
