"""The whole loop over real HTTP: a citizen reports anonymously on WhatsApp, the webhook registry
receives the complaint without their name or number, pushes a status update back, and the
citizen is told on WhatsApp, in their language, through the real twilio client."""
from __future__ import annotations

import uuid

import requests
from providers.registry_webhook import WebhookRegistryServer
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer
from providers.twilio_api import sign as twilio_sign
from tests_support import LiveServer, free_port, make_settings, wait_for

from bot.app import create_app
from bot.scripts import sync_files
from bot.services import build_services
from channels.twilio import TwilioChannel
from storage import repository as repo

WA_FROM = "+14155238886"
CITIZEN = "+6281298765432"
SECRET = "roundtrip-secret"
LINES = ["hi", "bahasa en", "1", "Broken bridge", "The bridge near the market has been broken since May.", "1",
         "Pasar Baru", "yesterday", "skip", "2", "yes"]


def test_anonymous_report_reaches_the_registry_without_the_reporter_and_the_update_comes_back(db, db_url: str) -> None:
    port = free_port()
    with TwilioApiServer() as twilio, WebhookRegistryServer(SECRET) as registry:
        env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
               "TWILIO_API_BASE_URL": twilio.base_url, "LAPOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": registry.url, "LAPOR_REGISTRY_SECRET": SECRET}
        settings = make_settings(db_url, extra_env=env)
        services = build_services(settings, channels={"whatsapp": TwilioChannel.from_env("whatsapp", settings.env,
                                                                                          settings.public_url)})
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        services.start_worker()
        try:
            with LiveServer(create_app(settings, services), port) as app:
                for line in LINES:
                    url = f"{app.url}/webhooks/twilio/whatsapp"
                    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{CITIZEN}",
                            "To": f"whatsapp:{WA_FROM}", "Body": line, "NumMedia": "0"}
                    response = requests.post(url, data=form, headers={"X-Twilio-Signature": twilio_sign(url, form, AUTH_TOKEN)},
                                             timeout=10)
                    assert response.status_code == 200
                [body] = wait_for(lambda: registry.received, timeout=10)
                number = body["tracking_number"]
                assert body["anonymous"] is True and body["reporter"] is None and body["language"] == "en"
                assert CITIZEN[1:].encode() not in registry.raw[0]

                response = registry.push_status(app.url, number, "in_progress", "Forwarded to the public works office.")
                assert response.status_code == 200
                told = wait_for(lambda: [m for m in twilio.messages if number in m["Body"] and "Forwarded" in m["Body"]],
                                timeout=10)
            with services.db.transaction() as session:
                complaint = repo.complaint_by_tracking(session, number)
                assert (complaint.status, complaint.registry_id) == ("in_progress", registry.id_of(number))
        finally:
            services.close()
    assert told[0]["To"] == f"whatsapp:{CITIZEN}"
    assert "Forwarded to the public works office." in told[0]["Body"]
    assert twilio.violations == [] and registry.violations == []
