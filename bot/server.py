"""``lapor serve``: the app under gunicorn, with the embedded delivery worker per process."""
from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.settings import Settings

log = logging.getLogger(__name__)


class _Server(BaseApplication):
    """Gunicorn configured in code: gthread workers, each building its own services after fork."""

    def __init__(self, settings: Settings, options: dict[str, Any]):
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        # Imported here, in each worker: the master only supervises, and stays small.
        from bot.app import create_app
        from bot.services import build_services

        services = build_services(self._settings)
        if self._settings.embedded_worker:
            services.start_worker()
        return create_app(self._settings, services)


def gunicorn_options(settings: Settings, host: str | None = None, port: int | None = None,
                     workers: int | None = None) -> dict[str, Any]:
    """The production gunicorn set-up (the benchmark's bare ceiling app runs on the same)."""
    return {
        "bind": f"{host or settings.host}:{port or settings.port}",
        "workers": workers or settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,  # access logs would carry phone numbers in query strings of some providers
        "errorlog": "-",
        "loglevel": "info",
        # No control socket: its path is one per user ($XDG_RUNTIME_DIR/gunicorn.ctl), so a second
        # service on the host would take it over, and stopping either would remove it.
        "control_socket_disable": True,
    }


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int | None = None) -> int:
    """Migrate, import scripts, then serve until stopped. The workers share their metrics
    through ``settings.metrics_dir`` (``bot.metrics``), set up here before any of them forks."""
    from bot import metrics
    from bot.prepare import prepare

    metrics.share(settings.metrics_dir, forget_dead=True)
    if not prepare(settings):
        return 1
    options = {**gunicorn_options(settings, host, port, workers), "child_exit": metrics.forget_worker}
    log.info("serving on http://%s (registry: %s)", options["bind"], settings.registry)
    _Server(settings, options).run()
    return 0
