"""The whole loop over real HTTP: a citizen reports anonymously on WhatsApp, the webhook registry
receives the complaint without their name or number, pushes a status update back, and the
citizen is told on WhatsApp, in their language, through the real twilio client."""
from __future__ import annotations

from providers.registry_webhook import WebhookRegistryServer
from providers.twilio_api import TwilioApiServer
from stacks import whatsapp_service
from tests_support import wait_for

from storage import repository as repo

CITIZEN = "+6281298765432"
SECRET = "roundtrip-secret"
LINES = ["hi", "bahasa en", "1", "Broken bridge", "The bridge near the market has been broken since May.", "1",
         "Pasar Baru", "yesterday", "skip", "2", "yes"]


def test_anonymous_report_reaches_the_registry_without_the_reporter_and_the_update_comes_back(db, db_url: str) -> None:
    with TwilioApiServer() as twilio, WebhookRegistryServer(SECRET) as registry, \
            whatsapp_service(db_url, twilio, CITIZEN, registry) as (send, services):
        for line in LINES:
            send(line)
        [body] = wait_for(lambda: registry.received, timeout=10)
        number = body["tracking_number"]
        assert body["anonymous"] is True and body["reporter"] is None and body["language"] == "en"
        assert CITIZEN[1:].encode() not in registry.raw[0]

        response = registry.push_status(services.settings.public_url, number, "in_progress",
                                        "Forwarded to the public works office.")
        assert response.status_code == 200
        told = wait_for(lambda: [m for m in twilio.messages if number in m["Body"] and "Forwarded" in m["Body"]],
                        timeout=10)
        with services.db.transaction() as session:
            complaint = repo.complaint_by_tracking(session, number)
            assert (complaint.status, complaint.registry_id) == ("in_progress", registry.id_of(number))
    assert told[0]["To"] == f"whatsapp:{CITIZEN}"
    assert "Forwarded to the public works office." in told[0]["Body"]
    assert twilio.violations == [] and registry.violations == []
