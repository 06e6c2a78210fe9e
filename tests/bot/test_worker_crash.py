"""A `lapor worker` process SIGKILLed in the middle of a submission: the complaint is neither
lost nor counted twice at the registry, for each registry protocol, whether or not the registry
had taken the request the dead worker was sending; its row is taken over within 10 s. A worker
that lives renews its lease, so a slow registry never has its row taken over."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from providers.open311_server import API_KEY, Open311Server
from providers.registry_webhook import WebhookRegistryServer
from registry_support import file_complaint, registry_services
from sqlalchemy import select
from tests_support import ROOT, chat_env, wait_for

from storage import repository as repo
from storage.models import Outbox

SECRET = "crash-test-secret"
TAKEOVER_SECONDS = 10  # a dead worker's rows are someone else's within this long


def worker_config(tmp_path: Path) -> Path:
    """The shipped config.yaml (its lease and its worker's idle wait), for separate workers."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["delivery"]["embedded_worker"] = False
    config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
    config["nlu"].update(data_dir=str(ROOT / "dialogs" / "nlu"), model_dir=str(ROOT / "var" / "nlu"))  # trained once
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
        worker_env = chat_env(db_url, LAPOR_CONFIG=str(worker_config(tmp_path)), **env)
        try:
            number = file_complaint(services)
            server.hang_next(60, store=registry_took_it)
            first = start_worker(worker_env)
            try:
                assert server.hanging.wait(30), "the worker never reached the registry"
            finally:
                os.kill(first.pid, signal.SIGKILL)  # inside the HTTP call, after the request was sent
                killed_at = time.monotonic()
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
                taken_over_after = time.monotonic() - killed_at
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
        assert taken_over_after < TAKEOVER_SECONDS  # it was 60 s and more with the old fixed lease


@pytest.mark.slow
def test_a_living_worker_keeps_its_row_however_slow_the_registry(db, db_url: str, tmp_path: Path) -> None:
    """The registry takes longer than a lease to answer (within its request timeout) while a
    second worker waits for work: the first worker renews its lease, so the second never sends
    the complaint again."""
    lease = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["delivery"]["lease_seconds"]
    with registry_server("webhook") as server:
        env = registry_env("webhook", server)
        services = registry_services(db_url, env)
        worker_env = chat_env(db_url, LAPOR_CONFIG=str(worker_config(tmp_path)), **env)
        workers = []
        try:
            number = file_complaint(services)
            server.hang_next(lease + 3, store=True)
            workers.append(start_worker(worker_env))
            assert server.hanging.wait(30), "the worker never reached the registry"
            workers.append(start_worker(worker_env))  # idle, and watching for expired leases
            def done():
                with services.db.transaction() as session:
                    row = session.scalars(select(Outbox).where(Outbox.kind == "submission")).one()
                    return row if row.status == "done" else None
            row = wait_for(done, timeout=lease + 30)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=10)
            services.close()
        assert (row.attempts, row.reclaims) == (1, 0)
        assert server.duplicates == 0 and [b["tracking_number"] for b in server.received] == [number]
