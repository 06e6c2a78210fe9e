"""Fixtures for the service layer: settings and fully wired services on each test database."""
from __future__ import annotations

import io

import pytest
from tests_support import make_settings

from bot.scripts import sync_files
from bot.services import Services, build_services
from bot.settings import Settings
from channels.terminal import TerminalChannel
from storage.repository import utcnow


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def outbox_terminal() -> io.StringIO:
    """What the terminal channel printed: the replies as the citizen would read them."""
    return io.StringIO()


@pytest.fixture
def services(db, settings: Settings, outbox_terminal: io.StringIO) -> Services:
    svc = build_services(settings, channels={"terminal": TerminalChannel(outbox_terminal)})
    sync_files(svc.db, settings.scripts_dir, utcnow())
    yield svc
    svc.close()
