"""The outbox and dead letter in /admin: the last error shown, retry and discard, audited;
admins only."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from admin_support import admin_site, field, signed_in
from sqlalchemy import select

from bot.services import Services
from channels.base import InboundMessage
from storage import repository as repo
from storage.models import AuditEntry, Outbox


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services, list[int]]]:
    with admin_site(db_url) as (url, services):  # no channels: the replies stay queued
        for sender in ("+628111", "+628222"):
            services.intake.handle(InboundMessage("sms", sender, "halo", uuid.uuid4().hex, repo.utcnow()))
        with services.db.transaction() as s:
            ids = [row.id for row in s.scalars(select(Outbox).order_by(Outbox.id))]
            repo.dead_outbox(s, ids[0], error="Twilio 21610: Attempt to send to unsubscribed recipient",
                             now=repo.utcnow())
        yield url, services, ids


def statuses(services: Services) -> list[tuple[str, int]]:
    with services.db.transaction() as s:
        return [(row.status, row.attempts) for row in s.scalars(select(Outbox).order_by(Outbox.id))]


def test_the_dead_letter_shows_the_reason_and_a_retry_requeues_it(admin_app) -> None:
    url, services, ids = admin_app
    admin = signed_in(url, "ani")
    page = admin.get(f"{url}/admin/deliveries/", timeout=10).text
    assert "Twilio 21610: Attempt to send to unsubscribed recipient" in page and "Selamat datang" in page
    retried = admin.post(f"{url}/admin/deliveries/{ids[0]}/retry", data={"csrf_token": field(page)}, timeout=10)
    assert f"Baris {ids[0]}: dikirim ulang" in retried.text
    assert statuses(services) == [("pending", 0), ("pending", 0)]


def test_discard_keeps_the_row_but_takes_it_out_of_the_queue(admin_app) -> None:
    url, services, ids = admin_app
    admin = signed_in(url, "ani")
    page = admin.get(f"{url}/admin/deliveries/?status=pending", timeout=10).text
    admin.post(f"{url}/admin/deliveries/{ids[1]}/discard", data={"csrf_token": field(page)}, timeout=10)
    assert statuses(services)[1][0] == "dead"
    dead_view = admin.get(f"{url}/admin/deliveries/?status=dead", timeout=10).text
    assert f"<td>{ids[1]}</td>" not in dead_view and f"<td>{ids[0]}</td>" in dead_view
    done = admin.post(f"{url}/admin/deliveries/{ids[1]}/retry", data={"csrf_token": field(page)}, timeout=10)
    assert done.status_code == 200  # a discarded row can still be retried if an admin changes their mind
    with services.db.transaction() as s:
        assert [(e.actor, e.action) for e in s.scalars(select(AuditEntry)) if e.action.startswith("delivery-")] == [
            ("ani", "delivery-discard"), ("ani", "delivery-retry")]


def test_only_admins_see_deliveries(admin_app) -> None:
    url, _, ids = admin_app
    viewer = signed_in(url, "vina")
    assert viewer.get(f"{url}/admin/deliveries/", timeout=10).status_code == 403
    page = viewer.get(f"{url}/admin/", timeout=10).text
    assert viewer.post(f"{url}/admin/deliveries/{ids[0]}/retry", data={"csrf_token": field(page)},
                       timeout=10).status_code == 403
