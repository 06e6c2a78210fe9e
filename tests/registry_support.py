"""Helpers for the registry tests: services wired to a registry over real HTTP, and complaints
filed through the real dialog."""
from __future__ import annotations

import uuid

from tests_support import make_settings

from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.base import InboundMessage
from storage import repository as repo

NAME = "Budi Santoso"
PHONE = "+6281234567890"
DESCRIPTION = "Lubang besar di depan SD Negeri 3 sudah sebulan."
PRIVACY = {"public": "1", "anonymous": "2", "confidential": "3", "both": "4"}


def registry_services(db_url: str, env: dict[str, str], **overrides) -> Services:
    """Services on the test database whose registry is the one ``env`` names (no channels: the
    replies wait in the outbox, only submissions go out)."""
    settings = make_settings(db_url, extra_env=env, **overrides)
    services = build_services(settings, channels={})
    sync_files(services.db, settings.scripts_dir, repo.utcnow())
    return services


def file_complaint(services: Services, sender: str = PHONE, *, privacy: str = "public", channel: str = "sms") -> str:
    """Run the whole default dialog as a citizen; returns the tracking number."""
    lines = ["halo", "1", "Jalan berlubang", DESCRIPTION, "1", "Jl. Merdeka 10, Kota Bandung", "kemarin", "lewati",
             PRIVACY[privacy]]
    if privacy in ("public", "confidential"):
        lines.append(NAME)
    lines.append("ya")
    for line in lines:
        result = services.intake.handle(InboundMessage(channel, sender, line, uuid.uuid4().hex, repo.utcnow()))
    assert result.tracking_number, "the dialog did not file a complaint"
    return result.tracking_number
