"""`POST /webhooks/registry` over real HTTP: signed, timestamped status updates, and the citizen is
told; replays, stale and out-of-order updates change nothing."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from providers.registry_webhook import status_callback
from sqlalchemy import select
from tests_support import LiveServer, make_settings

from bot.app import create_app
from bot.registry.signing import sign
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.base import InboundMessage
from channels.terminal import TerminalChannel
from storage import repository as repo
from storage.models import Complaint, Message, Outbox

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


def post(url: str, payload: object, *, secret: str | None = SECRET, raw: bytes | None = None,
         at: float | None = None) -> requests.Response:
    """A callback signed as the contract says: HMAC-SHA256 of "<timestamp>.<body>"."""
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time() if at is None else at))
    headers = {"Content-Type": "application/json", "X-Lapor-Timestamp": timestamp}
    if secret is not None:
        signed = timestamp.encode() + b"." + body
        headers["X-Lapor-Signature"] = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return requests.post(f"{url}/webhooks/registry", data=body, headers=headers, timeout=10)


def notifications(services: Services) -> list[str]:
    with services.db.transaction() as s:
        return [s.get(Message, row.message_id).text
                for row in s.scalars(select(Outbox).where(Outbox.kind == "notification").order_by(Outbox.id))]


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
    assert text == f"Kabar laporan {number} (Jembatan putus): sudah diverifikasi.\nCatatan: Diteruskan ke Dinas PU."


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


def test_a_stale_missing_or_old_style_signature_is_403(app_url) -> None:
    """Reproduced: a captured callback could be replayed at any time (the signature covered the
    body alone); the old scheme and a timestamp more than 300 s off are refused now."""
    url, services = app_url
    number = file_complaint(services)
    update = {"tracking_number": number, "status": "resolved"}
    # 305, not 301: the header's whole seconds drop up to one, and the request takes its time
    assert post(url, update, at=time.time() - 305).status_code == 403
    assert post(url, update, at=time.time() + 305).status_code == 403
    body = json.dumps(update).encode()
    old_style = {"Content-Type": "application/json", "X-Lapor-Signature": sign(body, SECRET)}
    assert requests.post(f"{url}/webhooks/registry", data=body, headers=old_style, timeout=10).status_code == 403
    old_style["X-Lapor-Timestamp"] = str(int(time.time()))  # a timestamp, but not signed with the body
    assert requests.post(f"{url}/webhooks/registry", data=body, headers=old_style, timeout=10).status_code == 403
    for bad in ("", "soon", "1e9", "-5"):
        body, headers = status_callback(SECRET, number, "resolved")
        headers["X-Lapor-Timestamp"] = bad
        assert requests.post(f"{url}/webhooks/registry", data=body, headers=headers, timeout=10).status_code == 403
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status)).one() == "queued"


def test_an_exact_replay_changes_nothing_and_tells_the_citizen_nothing(app_url) -> None:
    url, services = app_url
    number = file_complaint(services)
    body, headers = status_callback(SECRET, number, "in_progress", "Tim survei datang Senin.")
    assert requests.post(f"{url}/webhooks/registry", data=body, headers=headers, timeout=10).status_code == 200
    assert post(url, {"tracking_number": number, "status": "resolved", "note": "Selesai."},
                at=int(headers["X-Lapor-Timestamp"]) + 1).status_code == 200
    replay = requests.post(f"{url}/webhooks/registry", data=body, headers=headers, timeout=10)
    assert replay.status_code == 200 and replay.json() == {"status": "ignored"}
    with services.db.transaction() as s:
        assert s.execute(select(Complaint.status, Complaint.status_note)).one() == ("resolved", "Selesai.")
    assert len(notifications(services)) == 2  # in progress, then resolved; the replay told nobody


def test_an_update_older_than_the_last_applied_never_overrides_it(app_url) -> None:
    url, services = app_url
    number = file_complaint(services)
    now = time.time()
    assert post(url, {"tracking_number": number, "status": "resolved"}, at=now).status_code == 200
    late = post(url, {"tracking_number": number, "status": "in_progress", "note": "Sent earlier."}, at=now - 60)
    assert late.status_code == 200 and late.json() == {"status": "ignored"}
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status)).one() == "resolved"
    assert len(notifications(services)) == 1


def test_a_body_that_breaks_the_json_parser_is_400_not_500(app_url) -> None:
    url, _ = app_url
    assert post(url, None, raw=b"[" * 100_000 + b"]" * 100_000).status_code == 400
