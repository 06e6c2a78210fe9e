"""`POST /webhooks/registry` over real HTTP: signed status updates, and the citizen is told."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from bot.app import create_app
from bot.registry.signing import sign
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.base import InboundMessage
from channels.terminal import TerminalChannel
from storage import repository as repo
from storage.models import Complaint, Message, Outbox
from tests_support import LiveServer, make_settings

SECRET = "registry-shared-secret"
LINES = ["halo", "1", "Jembatan putus", "Jembatan di dekat pasar putus sejak banjir minggu lalu.", "1",
         "Pasar Baru", "kemarin", "lewati", "anonim", "ya"]


@pytest.fixture
def app_url(db, db_url: str) -> Iterator[tuple[str, Services]]:
    import io

    settings = make_settings(db_url, extra_env={"LAPOR_REGISTRY_SECRET": SECRET})
    services = build_services(settings, channels={"terminal": TerminalChannel(io.StringIO())})
    sync_files(services.db, settings.scripts_dir, repo.utcnow())
    try:
        with LiveServer(create_app(settings, services)) as live:
            yield live.url, services
    finally:
        services.close()


def file_complaint(services: Services) -> str:
    for line in LINES:
        result = services.intake.handle(InboundMessage("terminal", "+628123", line, uuid.uuid4().hex, repo.utcnow()))
    return result.tracking_number


def post(url: str, payload: object, *, secret: str | None = SECRET, raw: bytes | None = None) -> requests.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Lapor-Signature"] = sign(body, secret)
    return requests.post(f"{url}/webhooks/registry", data=body, headers=headers, timeout=10)


def test_a_signed_update_changes_the_status_and_tells_the_citizen(app_url) -> None:
    url, services = app_url
    number = file_complaint(services)
    response = post(url, {"tracking_number": number.lower(), "status": "verified", "note": "Diteruskan ke Dinas PU."})
    assert response.status_code == 200
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.status, complaint.status_note) == ("verified", "Diteruskan ke Dinas PU.")
        row = s.scalars(select(Outbox).where(Outbox.kind == "notification")).one()
        text = s.get(Message, row.message_id).text
    assert text == f"Kabar laporan {number}: sudah diverifikasi.\nCatatan: Diteruskan ke Dinas PU."


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_bad_signature_is_403_and_changes_nothing(app_url, secret) -> None:
    url, services = app_url
    number = file_complaint(services)
    assert post(url, {"tracking_number": number, "status": "resolved"}, secret=secret).status_code == 403
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status)).one() == "queued"


def test_an_unknown_tracking_number_is_404(app_url) -> None:
    url, _ = app_url
    assert post(url, {"tracking_number": "LAP-000000", "status": "resolved"}).status_code == 404


@pytest.mark.parametrize("payload", [{"status": "resolved"}, {"tracking_number": "LAP-000000", "status": "lost"},
                                     {"tracking_number": "LAP-000000", "status": "resolved", "note": 5}, [1]])
def test_a_malformed_update_is_400(app_url, payload) -> None:
    url, _ = app_url
    assert post(url, payload).status_code == 400
    assert post(url, None, raw=b"{nope").status_code == 400
