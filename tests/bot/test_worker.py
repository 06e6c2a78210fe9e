"""`lapor worker` as its own process: it drains what intake queued, woken by NOTIFY on PostgreSQL."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer
from tests_support import chat_env, make_settings, wait_for

from bot.scripts import sync_files
from bot.services import build_services
from channels.base import InboundMessage
from storage import repository as repo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_separate_worker_delivers_at_once(db, db_url: str) -> None:
    with TwilioApiServer() as twilio:
        env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_SMS_FROM": "+15005550006",
               "TWILIO_API_BASE_URL": twilio.base_url, "LAPOR_PUBLIC_URL": "http://127.0.0.1:9"}
        settings = make_settings(db_url, extra_env=env)
        services = build_services(settings, channels={})  # this process only takes messages in
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=chat_env(db_url, **env),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2.5)  # let it start and fall idle
            assert worker.poll() is None, worker.stderr.read()
            started = time.monotonic()
            services.intake.handle(InboundMessage("sms", "+6281234567890", "halo", uuid.uuid4().hex, repo.utcnow()))
            wait_for(lambda: len(twilio.messages) == 1, timeout=10)
            elapsed = time.monotonic() - started
            time.sleep(0.5)  # idle again, resting on its listener
            stopping = time.monotonic()
            worker.terminate()
            worker.wait(timeout=10)
            stopped = time.monotonic() - stopping
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            services.close()
        assert twilio.violations == []
        # The worker's idle wait is 5 s on PostgreSQL; only a NOTIFY explains an answer well before it.
        # On SQLite intake rings the worker's doorbell (a Unix datagram socket) after its commit.
        assert elapsed < 2.0, f"the reply took {elapsed:.2f} s"
    # SIGTERM interrupts the rest at once, where it used to wait out the 5 s idle wait.
    assert worker.returncode == 0 and stopped < 3.0, (worker.returncode, stopped)
