"""The wiring: one place that builds the database, catalog, intake, registry and delivery.

Every entry point (``lapor serve``, ``lapor worker``, ``lapor chat``, tests) builds a
``Services`` from Settings, so they all run the same pipeline.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

from bot.delivery import Delivery, DeliveryThread
from bot.intake import Intake
from bot.media.downloads import Downloads, fetchers_for
from bot.media.fetch import Fetcher
from bot.media.links import MediaLinks
from bot.media.speech import transcriber_from
from bot.nlu.interpreter import Interpreter, make_interpreter
from bot.places import Gazetteer
from bot.polling import RegistryPoller
from bot.registry import PollingRegistry, Registry, RegistryError, make_registry
from bot.scripts import ScriptCatalog, sync_files
from bot.settings import Settings
from channels.base import Channel
from storage import repository as repo
from storage.blobs import BlobStore, FilesystemBlobStore, S3BlobStore
from storage.crypto import DataCipher
from storage.db import Database
from storage.keys import check_data_key
from storage.migrate import upgrade
from storage.notify import Doorbell

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Long-lived objects of one process."""

    settings: Settings
    db: Database
    cipher: DataCipher
    catalog: ScriptCatalog
    registry: Registry
    channels: dict[str, Channel] = field(default_factory=dict)
    interpreter: Interpreter | None = None  # what citizens' texts mean (bot.nlu); None: words alone
    places: Gazetteer | None = None  # the region index (bot.places); None: locations stay text
    blobs: BlobStore | None = None  # where citizens' files are kept; None: media.store of the settings
    fetchers: Mapping[str, Fetcher] | None = None  # who downloads them, by channel; None: the channels' own
    intake: Intake = field(init=False)
    links: MediaLinks = field(init=False)  # the signed /media links of submissions
    delivery: Delivery = field(init=False)
    poller: RegistryPoller | None = field(init=False)
    thread: DeliveryThread | None = None
    doorbell: Doorbell | None = field(init=False)

    def __post_init__(self) -> None:
        self.doorbell = Doorbell.for_database(self.settings.database_url)
        self.intake = Intake(self.db, self.catalog, self.settings, self.cipher, on_commit=self._wake,
                             interpreter=self.interpreter, places=self.places)
        self.blobs = self.blobs or blob_store(self.settings)
        self.links = MediaLinks(self.settings.secret_key, self.settings.public_url, self.settings.media_url_ttl)
        fetchers = self.fetchers if self.fetchers is not None else fetchers_for(self.settings.env, self.channels)
        downloads = Downloads(fetchers, self.blobs, transcriber_from(self.settings))
        self.delivery = Delivery(self.db, self.channels, self.registry, self.settings, self.cipher,
                                 downloads=downloads, catalog=self.catalog, links=self.links)
        polls = hasattr(self.registry, "fetch_status")  # Open311: statuses are fetched, not pushed
        self.poller = RegistryPoller(self.db, cast(PollingRegistry, self.registry), self.catalog, self.settings) \
            if polls else None

    def _wake(self) -> None:
        """New outbox work was committed: wake this process's delivery thread, or ring a
        separate worker's doorbell on SQLite (PostgreSQL workers got a NOTIFY already)."""
        if self.thread is not None:
            self.thread.wake()
        elif self.doorbell is not None:
            self.doorbell.ring()

    def start_worker(self) -> DeliveryThread:
        """Drain the outbox in a background thread of this process (the embedded mode)."""
        if self.thread is None:
            self.thread = DeliveryThread(self.delivery, poller=self.poller)
            self.thread.start()
        return self.thread

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread.join(timeout=5)
            self.thread = None
        self.delivery.close()
        for channel in self.channels.values():
            if hasattr(channel, "close"):
                channel.close()
        self.registry.close()
        if self.interpreter is not None and hasattr(self.interpreter, "close"):
            self.interpreter.close()
        if self.places is not None:
            self.places.close()
        if self.doorbell is not None:
            self.doorbell.close()
        self.db.dispose()


def check_registry(settings: Settings) -> bool:
    """Check the registry configuration at start-up (Open311 reads its services list).

    False, with the reason logged, when the configuration is wrong; an unreachable registry is
    only a warning, since complaints queue in the outbox until it answers."""
    registry = make_registry(settings)
    if settings.registry != "local" and urlsplit(settings.public_url).hostname in ("127.0.0.1", "localhost", "::1"):
        log.warning("LAPOR_PUBLIC_URL is %s: the %s registry cannot open the attachments' links there; set the "
                    "service's public address", settings.public_url, settings.registry)
    try:
        registry.check()
    except RegistryError as exc:
        if not exc.retryable:
            log.error("%s", exc)
            return False
        log.warning("could not check the %s registry at start-up (%s); complaints queue until it answers",
                    registry.name, exc)
    finally:
        registry.close()
    return True


def data_cipher(settings: Settings) -> DataCipher:
    """The cipher of ``LAPOR_DATA_KEY``, reading ``LAPOR_DATA_KEY_PREVIOUS`` too."""
    return DataCipher.from_secret(settings.data_key, settings.data_key_previous)


def check_key(settings: Settings) -> None:
    """Refuse to start (WrongDataKey, its message naming LAPOR_DATA_KEY) with a data key that
    cannot read this database; record the key otherwise. Run after ``prepare_database``."""
    db = Database.from_url(settings.database_url)
    try:
        check_data_key(db, data_cipher(settings), repo.utcnow())
    finally:
        db.dispose()


def prepare_database(settings: Settings) -> None:
    """Migrate the schema and import the script files (idempotent; safe to run concurrently),
    and build the region index if this version of it is missing (``bot.places``)."""
    Gazetteer.open(settings.places_dir).close()
    upgrade(settings.database_url)
    db = Database.from_url(settings.database_url)
    try:
        sync_files(db, settings.scripts_dir, repo.utcnow())
    finally:
        db.dispose()


def import_clients(settings: Settings) -> None:
    """Import what ``provider_channels``, their first requests and the first connection load
    lazily: the channels' clients, httpx's transport and, when the database is PostgreSQL, its
    driver. ``lapor serve``'s master and ``lapor worker`` call it while their preparing child
    works on the other core; it connects to nothing and starts nothing."""
    import httpcore  # noqa: F401

    import channels.telegram  # noqa: F401
    import channels.twilio  # noqa: F401

    if settings.database_url.startswith("postgres"):
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401


def provider_channels(settings: Settings) -> dict[str, Channel]:
    """The provider channels whose credentials are set; the others are disabled, and logged so."""
    from channels.telegram import TelegramChannel
    from channels.twilio import TwilioChannel

    found: dict[str, Channel] = {}
    for kind in ("whatsapp", "sms"):
        if channel := TwilioChannel.from_env(kind, settings.env, settings.public_url):
            found[kind] = channel
    if telegram := TelegramChannel.from_env(settings.env, keyboards=settings.telegram_keyboards):
        found["telegram"] = telegram
    for name in ("whatsapp", "sms", "telegram"):
        if name not in found:
            log.warning("channel %s is disabled: its credentials are not set in the environment", name)
    return found


def blob_store(settings: Settings) -> BlobStore:
    """Where evidence files go (``media.store``): ``var/media``, or an S3 bucket whose endpoint
    and credentials come from the environment (``LAPOR_S3_ENDPOINT_URL``, ``AWS_*``)."""
    if settings.media_store == "s3":
        import boto3

        env = settings.env
        client = boto3.client("s3", endpoint_url=env.get("LAPOR_S3_ENDPOINT_URL") or None,
                              region_name=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or None,
                              aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
                              aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None)
        return S3BlobStore(client, settings.media_s3_bucket)
    return FilesystemBlobStore(settings.media_dir)


def build_services(settings: Settings, channels: Mapping[str, Channel] | None = None, *,
                   intake: bool = True) -> Services:
    """Wire a process. ``channels`` None means the provider channels configured in the
    environment. ``intake`` False (``lapor worker``, which only delivers) leaves out what only
    intake needs: the interpreter and the region index (a few MB less memory)."""
    if channels is None:
        channels = provider_channels(settings)
    db = Database.from_url(settings.database_url)
    return Services(
        settings=settings,
        db=db,
        cipher=data_cipher(settings),
        catalog=ScriptCatalog(db),
        registry=make_registry(settings),
        channels=dict(channels or {}),
        interpreter=make_interpreter(settings) if intake else None,
        places=Gazetteer.open(settings.places_dir) if intake else None,
    )
