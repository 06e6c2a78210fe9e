"""``lapor serve``: the app under gunicorn, and with ``delivery.embedded_worker`` its one
delivery process beside the web workers (``bot.delivery_process``)."""
from __future__ import annotations

import logging
import sys
import time
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from bot.delivery_process import DeliveryProcess
from bot.settings import Settings

log = logging.getLogger(__name__)
DELIVERY_START_WAIT_SECONDS = 10.0  # the delivery process starts then even if a web worker is not up yet


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
        # Built here, in each worker (the master imported the modules already: _import_app).
        from bot.app import create_app
        from bot.services import build_services

        return create_app(self._settings, build_services(self._settings))

    def run(self) -> None:
        delivery = DeliveryProcess(graceful_seconds=self.cfg.graceful_timeout) \
            if self._settings.embedded_worker else None
        try:
            _Arbiter(self, delivery).run()
        except RuntimeError as exc:  # what BaseApplication.run does: gunicorn's own start-up errors
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)


class _Arbiter(Arbiter):
    """gunicorn's master, which also keeps the delivery process (when there is one) running:
    started once the web workers are up (they start faster without it competing for the cores:
    the service is ready sooner), watched on every turn of the master's loop and whenever a
    child ends, stopped with the web workers."""

    def __init__(self, app: _Server, delivery: DeliveryProcess | None):
        super().__init__(app)
        self._delivery = delivery
        self._listening_since = 0.0

    def start(self) -> None:
        super().start()
        self._listening_since = time.monotonic()

    def reap_workers(self) -> None:
        if self._delivery is not None:
            self._delivery.poll()  # before gunicorn waits for every child, and its exit status is gone
        super().reap_workers()

    def manage_workers(self) -> None:
        super().manage_workers()
        if self._delivery is None:
            return
        if self._delivery.starts:
            self._delivery.tend()
        elif self._web_workers_up() or time.monotonic() - self._listening_since >= DELIVERY_START_WAIT_SECONDS:
            self._delivery.start()

    def _web_workers_up(self) -> bool:
        """Every web worker has loaded the app and runs its loop. A worker's first heartbeat
        tells: gunicorn's workers set their heartbeat file's time to the monotonic clock from
        their loop on, while the master created it at the wall-clock time (far above)."""
        now = time.monotonic()
        return len(self.WORKERS) >= self.num_workers and \
            all(worker.tmp.last_update() <= now + 1 for worker in self.WORKERS.values())

    def stop(self, graceful: bool = True) -> None:
        if self._delivery is not None:
            self._delivery.stop(wait=False)  # it finishes its round while the web workers finish theirs
        super().stop(graceful)
        if self._delivery is not None:
            self._delivery.stop()


def _import_app(settings: Settings) -> None:
    """Import the modules a web worker needs, while the preparing child works on the other core
    (import only: no connection, thread or file is opened in the master), so that the web
    workers fork with them loaded instead of each importing them again: the app's, and what
    building the services and the first requests load (``import_clients``, and
    prometheus_client, after ``metrics.share``). The service is ready some 0.6 s sooner than
    when each worker imported them, and the workers' pages are laid out once: on PostgreSQL
    they peak 4 MiB lower. The master then holds some 84 MiB (95 on PostgreSQL), shared with
    its workers until written."""
    import prometheus_client  # noqa: F401

    import bot.app  # noqa: F401
    from bot.services import import_clients

    import_clients(settings)


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
    if not prepare(settings, meanwhile=lambda: _import_app(settings)):
        return 1
    options = {**gunicorn_options(settings, host, port, workers), "child_exit": metrics.forget_worker}
    log.info("serving on http://%s (registry: %s)", options["bind"], settings.registry)
    _Server(settings, options).run()
    return 0
