"""`lapor serve` over real HTTP on loopback, and readiness when the database is away."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests_support import chat_env, make_settings

from bot.app import create_app
from bot.scripts import sync_files
from bot.services import build_services
from storage import repository as repo

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_lapor_serve_answers_health_and_readiness(db, db_url: str) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], cwd=ROOT,
                              env=chat_env(db_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "lapor serve did not start within 30 s"
                time.sleep(0.1)
        assert (status, body) == (200, {"status": "ok"})
        assert get(f"http://127.0.0.1:{port}/readyz") == (200, {"status": "ready", "database": True, "data_key": True, "script": True})
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path) -> None:
    settings = make_settings(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=1")
    services = build_services(settings, channels={})
    try:
        client = create_app(settings, services).test_client()
        response = client.get("/readyz")
        assert response.status_code == 503 and response.get_json()["database"] is False
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        services.close()


def test_readyz_is_503_before_the_script_is_published(db, db_url: str) -> None:
    settings = make_settings(db_url)
    services = build_services(settings, channels={})
    try:
        response = create_app(settings, services).test_client().get("/readyz")
        assert response.status_code == 503 and response.get_json() == {"status": "unavailable", "database": True, "data_key": True, "script": False}
    finally:
        services.close()


def test_readyz_is_503_with_a_data_key_that_cannot_read_the_database(db, db_url: str) -> None:
    from bot.services import check_key

    check_key(make_settings(db_url))  # the database now holds data of the test key
    settings = make_settings(db_url, extra_env={"LAPOR_DATA_KEY": "another-key"})
    services = build_services(settings, channels={})
    sync_files(services.db, settings.scripts_dir, repo.utcnow())
    try:
        response = create_app(settings, services).test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "database": True, "data_key": False}
    finally:
        services.close()
