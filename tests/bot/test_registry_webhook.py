"""The webhook registry protocol, against a local registry that checks it byte for byte."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from providers.registry_webhook import KEYS, WebhookRegistryServer
from registry_support import DESCRIPTION, NAME, PHONE, file_complaint, registry_services
from sqlalchemy import select
from tests_support import free_port

from bot.registry import RegistryError, Submission
from bot.registry.webhook import WebhookRegistry, encode
from storage import repository as repo
from storage.models import Complaint, Outbox

SECRET = "registry-shared-secret"
SHA = "2e59a24c6a7094e1957b1caf1595183025bec39e10a1cdd9949fc37395b38d5b"
REGION = {"province": {"code": "32", "name": "Jawa Barat"}, "regency": {"code": "32.73", "name": "Kota Bandung"},
          "district": None, "village": None}


def submission(tracking_number: str = "LAP-7K3M9Q", anonymous: bool = False, **changes) -> Submission:
    values = dict(
        tracking_number=tracking_number, type="complaint", title="Jalan berlubang", description=DESCRIPTION,
        category="infrastructure", agency="Kementerian PUPR",
        location={"text": "Jl. Merdeka 10", "latitude": -6.9, "longitude": 107.6, "region": REGION},
        incident_date="2026-11-27", anonymous=anonymous, confidential=False,
        reporter=None if anonymous else {"name": NAME, "channel": "whatsapp", "contact": PHONE},
        attachments=[{"url": f"https://lapor.example/media/{SHA}.jpg?expires=1796810509&signature=ab12",
                      "content_type": "image/jpeg", "size": 48213, "sha256": SHA}],
        language="id", submitted_at="2026-11-28T06:00:00Z")
    values.update(changes)
    return Submission(**values)


@pytest.fixture
def registry():
    with WebhookRegistryServer(SECRET, api_key="k-123") as server:
        yield server


def client(server: WebhookRegistryServer, timeout: float = 5.0) -> WebhookRegistry:
    return WebhookRegistry(server.url, SECRET, api_key="k-123", timeout=timeout)


def test_the_body_headers_and_signature_are_exactly_the_contract(registry: WebhookRegistryServer) -> None:
    result = client(registry).submit(submission())
    assert registry.violations == []
    assert result.registry_id == "REG-000001"
    raw, headers = registry.raw[0], registry.headers[0]
    assert raw == encode(submission())
    assert headers["X-Lapor-Signature"] == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["Idempotency-Key"] == "LAP-7K3M9Q"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer k-123"
    body = json.loads(raw)
    assert tuple(body) == KEYS
    assert body["reporter"] == {"name": NAME, "channel": "whatsapp", "contact": PHONE}
    assert body["location"]["region"] == REGION
    assert body["attachments"] == [{"url": f"https://lapor.example/media/{SHA}.jpg?expires=1796810509&signature=ab12",
                                    "content_type": "image/jpeg", "size": 48213, "sha256": SHA}]


def test_a_location_without_a_region_says_null_for_every_level(registry: WebhookRegistryServer) -> None:
    client(registry).submit(submission(location={"text": "depan pasar", "latitude": None, "longitude": None}))
    assert registry.violations == []
    assert registry.received[0]["location"]["region"] == {"province": None, "regency": None, "district": None,
                                                          "village": None}


def test_non_ascii_text_is_signed_as_the_bytes_sent(registry: WebhookRegistryServer) -> None:
    client(registry).submit(submission(title="Jembatan rusak — “darurat” ✓", description="Tulisan Jawa: ꦗꦮ " * 3))
    assert registry.violations == []
    assert json.loads(registry.raw[0])["title"] == "Jembatan rusak — “darurat” ✓"


def test_an_anonymous_report_carries_neither_name_nor_contact(registry: WebhookRegistryServer) -> None:
    client(registry).submit(submission(anonymous=True))
    assert registry.violations == []
    assert registry.received[0]["reporter"] is None
    assert NAME.encode() not in registry.raw[0] and PHONE.encode() not in registry.raw[0]
    assert b"6281234567890" not in registry.raw[0]


def test_a_repeat_is_a_409_and_counts_as_success(registry: WebhookRegistryServer) -> None:
    registry_client = client(registry)
    first = registry_client.submit(submission())
    again = registry_client.submit(submission(), retry=True)
    assert again.registry_id == first.registry_id == "REG-000001"
    assert len(registry.received) == 1 and registry.duplicates == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable(registry: WebhookRegistryServer, status: int) -> None:
    registry.fail_next(status)
    with pytest.raises(RegistryError) as failure:
        client(registry).submit(submission())
    assert failure.value.retryable and str(status) in str(failure.value)
    assert registry.received == []


def test_429_is_retryable_after_its_retry_after(registry: WebhookRegistryServer) -> None:
    registry.fail_next(429, retry_after=7)
    with pytest.raises(RegistryError) as failure:
        client(registry).submit(submission())
    assert failure.value.retryable and failure.value.retry_after == 7.0


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_4xx_are_permanent_with_the_registrys_reason(registry: WebhookRegistryServer, status: int) -> None:
    registry.fail_next(status)
    with pytest.raises(RegistryError) as failure:
        client(registry).submit(submission())
    assert not failure.value.retryable
    assert f"answered {status}: injected {status}" in str(failure.value)


def test_a_wrong_secret_is_refused_by_the_registry_and_dead_letters(registry: WebhookRegistryServer) -> None:
    with pytest.raises(RegistryError) as failure:
        WebhookRegistry(registry.url, "not-the-secret", api_key="k-123").submit(submission())
    assert not failure.value.retryable and "403" in str(failure.value)
    assert registry.violations and registry.received == []


def test_a_timeout_is_retryable_and_the_retry_is_a_duplicate_not_a_second_complaint(registry: WebhookRegistryServer) -> None:
    registry.hang_next(1.5)
    with pytest.raises(RegistryError) as failure:
        client(registry, timeout=0.3).submit(submission())
    assert failure.value.retryable and "did not answer" in str(failure.value)
    registry.release()
    registry_client = client(registry)
    for _ in range(50):  # the held request lands after the client gave up
        if registry.received:
            break
        time.sleep(0.05)
    result = registry_client.submit(submission(), retry=True)
    assert result.registry_id == "REG-000001"
    assert len(registry.received) == 1 and registry.duplicates == 1


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(RegistryError) as failure:
        WebhookRegistry(f"http://127.0.0.1:{free_port()}/complaints", SECRET).submit(submission())
    assert failure.value.retryable and "unreachable" in str(failure.value)


def test_a_malformed_2xx_answer_is_accepted_without_an_id(registry: WebhookRegistryServer) -> None:
    registry.malformed_next()
    result = client(registry).submit(submission())
    assert result.registry_id is None and len(registry.received) == 1


def test_it_needs_url_and_secret() -> None:
    with pytest.raises(ValueError, match="LAPOR_REGISTRY_SECRET"):
        WebhookRegistry("http://127.0.0.1:9/complaints", "")


# ---------------------------------------------------------------------- through the outbox


def env_for(server: WebhookRegistryServer) -> dict[str, str]:
    return {"LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": server.url, "LAPOR_REGISTRY_SECRET": SECRET,
            "LAPOR_REGISTRY_API_KEY": "k-123"}


def test_a_finished_dialog_reaches_the_registry_once_and_is_linked(db, db_url: str, registry) -> None:
    services = registry_services(db_url, env_for(registry))
    try:
        number = file_complaint(services, privacy="public")
        services.delivery.drain()
        services.delivery.drain()
        with services.db.transaction() as session:
            complaint = repo.complaint_by_tracking(session, number)
            assert (complaint.registry_id, complaint.status) == ("REG-000001", "received")
    finally:
        services.close()
    assert registry.violations == []
    [body] = registry.received
    assert body["tracking_number"] == number
    assert body["reporter"] == {"name": NAME, "channel": "sms", "contact": PHONE}
    assert body["category"] == "infrastructure" and body["description"] == DESCRIPTION


@pytest.mark.parametrize("privacy", ["anonymous", "both"])
def test_an_anonymous_dialog_sends_no_name_or_contact(db, db_url: str, registry, privacy: str) -> None:
    services = registry_services(db_url, env_for(registry))
    try:
        file_complaint(services, privacy=privacy)
        services.delivery.drain()
    finally:
        services.close()
    [raw] = registry.raw
    body = json.loads(raw)
    assert body["anonymous"] is True and body["reporter"] is None
    assert body["confidential"] is (privacy == "both")
    assert PHONE[1:].encode() not in raw and b"Budi" not in raw


def test_an_outage_queues_complaints_and_they_drain_in_order(db, db_url: str, registry) -> None:
    services = registry_services(db_url, env_for(registry))
    try:
        registry.down()
        numbers = [file_complaint(services, f"+62812345000{i:02d}") for i in range(6)]
        services.delivery.drain()  # the first fails and holds the rest
        with services.db.transaction() as session:
            rows = session.scalars(select(Outbox).where(Outbox.kind == "submission").order_by(Outbox.id)).all()
            assert [row.status for row in rows] == ["pending"] * 6
            assert "503" in rows[0].last_error
            due = max(row.next_attempt_at for row in rows)
        registry.up()
        services.delivery.run_once(now=due + timedelta(seconds=1))
        with services.db.transaction() as session:
            linked = {c.tracking_number: c.registry_id for c in session.scalars(select(Complaint))}
    finally:
        services.close()
    assert [body["tracking_number"] for body in registry.received] == numbers
    assert all(linked[number] for number in numbers)  # linked once the registry answered


def test_a_permanent_refusal_is_dead_lettered_for_admins(db, db_url: str, registry) -> None:
    services = registry_services(db_url, env_for(registry))
    try:
        number = file_complaint(services)
        registry.fail_next(422)
        services.delivery.drain()
        with services.db.transaction() as session:
            row = session.scalars(select(Outbox).where(Outbox.kind == "submission")).one()
            complaint = repo.complaint_by_tracking(session, number)
            assert row.status == "dead" and "422" in row.last_error
            assert complaint.status == "queued" and complaint.registry_id is None
    finally:
        services.close()
