"""The wiring: one place that builds the database, catalog, intake, registry and delivery.

Every entry point (``lapor serve``, ``lapor worker``, ``lapor chat``, tests) builds a
``Services`` from Settings, so they all run the same pipeline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from bot.delivery import Delivery, DeliveryThread
from bot.intake import Intake
from bot.registry import Registry, make_registry
from bot.scripts import ScriptCatalog, sync_files
from bot.settings import Settings
from channels.base import Channel
from storage import repository as repo
from storage.crypto import DataCipher
from storage.db import Database
from storage.migrate import upgrade


@dataclass
class Services:
    """Long-lived objects of one process."""

    settings: Settings
    db: Database
    cipher: DataCipher
    catalog: ScriptCatalog
    registry: Registry
    channels: dict[str, Channel] = field(default_factory=dict)
    intake: Intake = field(init=False)
    delivery: Delivery = field(init=False)
    thread: DeliveryThread | None = None

    def __post_init__(self) -> None:
        self.intake = Intake(self.db, self.catalog, self.settings, self.cipher, on_commit=self._wake)
        self.delivery = Delivery(self.db, self.channels, self.registry, self.settings, self.cipher)

    def _wake(self) -> None:
        if self.thread is not None:
            self.thread.wake()

    def start_worker(self) -> DeliveryThread:
        """Drain the outbox in a background thread of this process (the embedded mode)."""
        if self.thread is None:
            self.thread = DeliveryThread(self.delivery)
            self.thread.start()
        return self.thread

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread.join(timeout=5)
            self.thread = None
        self.db.dispose()


def prepare_database(settings: Settings) -> None:
    """Migrate the schema and import the script files (idempotent; safe to run concurrently)."""
    upgrade(settings.database_url)
    db = Database.from_url(settings.database_url)
    try:
        sync_files(db, settings.scripts_dir, repo.utcnow())
    finally:
        db.dispose()


def build_services(settings: Settings, channels: Mapping[str, Channel] | None = None) -> Services:
    db = Database.from_url(settings.database_url)
    return Services(
        settings=settings,
        db=db,
        cipher=DataCipher.from_secret(settings.data_key),
        catalog=ScriptCatalog(db),
        registry=make_registry(settings),
        channels=dict(channels or {}),
    )
