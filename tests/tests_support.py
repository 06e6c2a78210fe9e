"""Small helpers shared by tests that start the real `lapor` command."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chat_env(db_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `lapor` subprocess on the test database, with test keys, and
    metrics in a directory of its own (never the checkout's var/)."""
    import tempfile

    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update({
        "LAPOR_CONFIG": str(ROOT / "config.yaml"),
        "LAPOR_DATABASE_URL": db_url,
        "LAPOR_DATA_KEY": "test-data-key",
        "LAPOR_SECRET_KEY": "test-secret-key",
        "LAPOR_METRICS_DIR": tempfile.mkdtemp(prefix="lapor-metrics-"),
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def make_settings(db_url: str, extra_env: dict[str, str] | None = None, **overrides):
    """Settings as `lapor` would load them for the test database (plus ``extra_env``)."""
    from bot.settings import load_settings

    env = {"LAPOR_CONFIG": str(ROOT / "config.yaml"), "LAPOR_DATABASE_URL": db_url,
           "LAPOR_DATA_KEY": "test-data-key", "LAPOR_SECRET_KEY": "test-secret-key", **(extra_env or {})}
    return load_settings(environ=env, **overrides)


class LiveServer:
    """A WSGI app served over real HTTP on 127.0.0.1 (threaded), for the length of a ``with``."""

    def __init__(self, app, port: int = 0):
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        import threading

        self._thread = threading.Thread(target=self._server.serve_forever, name="live-app", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
