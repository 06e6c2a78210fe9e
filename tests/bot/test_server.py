"""bot.server: the master imports what its web workers need before it forks them."""
from __future__ import annotations

import subprocess
import sys

import pytest
from tests_support import ROOT, chat_env

PROBE = ("import sys; from bot.server import _import_app; from bot.settings import load_settings; "
         "_import_app(load_settings()); "
         "print(sorted(m for m in ('bot.app', 'bot.services', 'telegram', 'twilio', 'httpcore', "
         "'prometheus_client', 'psycopg') if m in sys.modules))")


@pytest.mark.parametrize(("url", "driver"), [("sqlite:///unused.db", []),
                                             ("postgresql+psycopg://lapor@127.0.0.1/unused", ["psycopg"])])
def test_import_app_loads_the_workers_modules_and_the_driver_of_the_database_only(url: str,
                                                                                   driver: list[str]) -> None:
    """Imports only: nothing is connected to (the PostgreSQL URL names no running database)."""
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=chat_env(url))
    assert done.returncode == 0, done.stderr
    expected = sorted(["bot.app", "bot.services", "telegram", "twilio", "httpcore", "prometheus_client", *driver])
    assert done.stdout.strip() == str(expected)
