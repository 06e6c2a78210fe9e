"""A `lapor worker` process SIGKILLed in the middle of a submission: the complaint is neither
lost nor counted twice at the registry, for each registry protocol, whether or not the registry
had taken the request the dead worker was sending."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from providers.open311_server import API_KEY, Open311Server
from providers.registry_webhook import WebhookRegistryServer
from registry_support import file_complaint, registry_services
from storage import repository as repo
from storage.models import Outbox
from tests_support import ROOT, chat_env, wait_for

SECRET = "crash-test-secret"
LEASE_SECONDS = 2


def short_lease_config(tmp_path: Path) -> Path:
    """config.yaml with a 2 s lease, so the second worker need not wait a minute."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["delivery"]["lease_seconds"] = LEASE_SECONDS
    config["delivery"]["embedded_worker"] = False
    config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def registry_server(protocol: str):
    return WebhookRegistryServer(SECRET) if protocol == "webhook" else Open311Server()


def registry_env(protocol: str, server) -> dict[str, str]:
    if protocol == "webhook":
        return {"LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": server.url, "LAPOR_REGISTRY_SECRET": SECRET}
    return {"LAPOR_REGISTRY": "open311", "LAPOR_REGISTRY_URL": server.url, "LAPOR_REGISTRY_API_KEY": API_KEY}


def stored(protocol: str, server, number: str) -> int:
    """How many copies of the complaint the registry holds."""
    if protocol == "webhook":
        return sum(body["tracking_number"] == number for body in server.received)
    return len(server.by_tracking_number(number))


@pytest.mark.slow
@pytest.mark.parametrize("registry_took_it", [True, False], ids=["registry-took-it", "registry-lost-it"])
@pytest.mark.parametrize("protocol", ["webhook", "open311"])
def test_sigkill_mid_submission_neither_loses_nor_doubles(db, db_url: str, tmp_path: Path, protocol: str,
                                                          registry_took_it: bool) -> None:
    with registry_server(protocol) as server:
        env = registry_env(protocol, server)
        services = registry_services(db_url, env)  # this process only takes the citizen's messages
        worker_env = chat_env(db_url, LAPOR_CONFIG=str(short_lease_config(tmp_path)), **env)
        try:
            number = file_complaint(services)
            server.hang_next(60, store=registry_took_it)
            first = start_worker(worker_env)
            try:
                assert server.hanging.wait(30), "the worker never reached the registry"
            finally:
                os.kill(first.pid, signal.SIGKILL)  # inside the HTTP call, after the request was sent
                first.wait(timeout=10)
            assert first.returncode == -signal.SIGKILL
            with services.db.transaction() as session:
                row = session.scalars(select(Outbox).where(Outbox.kind == "submission")).one()
                assert (row.status, row.attempts) == ("sending", 1)  # leased to the dead worker
            server.release()  # the registry finishes (or drops) what the dead worker sent
            wait_for(lambda: stored(protocol, server, number) == (1 if registry_took_it else 0), timeout=10)

            second = start_worker(worker_env)
            try:
                def linked():
                    with services.db.transaction() as session:
                        complaint = repo.complaint_by_tracking(session, number)
                        return complaint.registry_id
                registry_id = wait_for(linked, timeout=30)
            finally:
                second.terminate()
                second.wait(timeout=10)
            with services.db.transaction() as session:
                row = session.scalars(select(Outbox).where(Outbox.kind == "submission")).one()
                assert (row.status, row.attempts) == ("done", 2)  # taken over after the lease
        finally:
            services.close()
        assert stored(protocol, server, number) == 1  # exactly once at the registry
        assert server.violations == []
        if protocol == "webhook":
            assert server.duplicates == (1 if registry_took_it else 0)  # the resend was a 409
            assert registry_id == server.id_of(number)
        else:
            assert server.searches == 1  # the retry looked before posting
            assert server.posts == 1  # requests it created (the dropped one was not)
            assert registry_id == server.by_tracking_number(number)[0]["service_request_id"]
