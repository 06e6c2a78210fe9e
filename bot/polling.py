"""Fetching ids and statuses from a registry that does not push them (Open311).

Every ``registry_poll`` interval, complaints that are not final are looked up: a token is
resolved into the registry's id, and a changed status is recorded and told to the citizen
(bot.notify). Several workers may poll at once: the complaint row is locked while a change is
applied, so a change is announced once.
"""
from __future__ import annotations

import logging
from datetime import datetime

from bot.notify import change_status
from bot.registry import PollingRegistry, RegistryError
from bot.scripts import ScriptCatalog
from bot.settings import Settings
from storage import repository as repo
from storage.db import Database

log = logging.getLogger(__name__)
BATCH = 100


class RegistryPoller:
    """Polls one registry; ``maybe_poll`` is cheap to call often (it polls when due)."""

    def __init__(self, db: Database, registry: PollingRegistry, catalog: ScriptCatalog, settings: Settings):
        self._db = db
        self._registry = registry
        self._catalog = catalog
        self._settings = settings
        self._last: datetime | None = None

    def maybe_poll(self, now: datetime | None = None) -> int:
        now = now or repo.utcnow()
        if self._last is not None and now - self._last < self._settings.registry_poll:
            return 0
        self._last = now
        return self.poll_once(now)

    def poll_once(self, now: datetime) -> int:
        """Check one batch of due complaints; returns how many changed status."""
        with self._db.transaction() as session:
            due = [(c.id, c.registry_id, c.registry_token)
                   for c in repo.complaints_to_poll(session, checked_before=now - self._settings.registry_poll,
                                                    limit=BATCH)]
        changed = 0
        for complaint_id, registry_id, token in due:
            try:
                if registry_id is None and token:
                    registry_id = self._registry.resolve_token(token)
                remote = self._registry.fetch_status(registry_id) if registry_id else None
            except RegistryError as exc:
                log.warning("registry poll failed (%s); trying again next round", exc)
                break  # the registry is struggling: do not hammer it with the rest of the batch
            with self._db.transaction() as session:
                complaint = repo.lock_complaint(session, complaint_id)
                complaint.registry_checked_at = now
                if registry_id and complaint.registry_id != registry_id:
                    complaint.registry_id = registry_id
                if remote is not None:
                    changed += change_status(session, self._catalog, self._settings.default_script, complaint,
                                             remote.status, remote.note, now)
        return changed
