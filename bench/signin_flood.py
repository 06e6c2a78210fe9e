"""Webhook latency while a flood of wrong admin passwords hits the same service.

    python -m bench.signin_flood [--clients 20] [--webhooks 300] [--pace SECONDS]

Runs `lapor serve` (gunicorn, SQLite, the shipped config) on a fresh database with one admin
account, then times Telegram webhooks sent one after another: first alone, then while
``--clients`` clients, each from its own loopback address (127.0.1.N), keep posting wrong
passwords for made-up names (credential stuffing: no account ever locks) to /admin/login (each as fast as it is
answered, or one attempt per ``--pace`` seconds). Prints p50/p99 of the webhook answers and how many sign-in answers
were 401 (a password was hashed) and 429 (throttled before hashing). Nothing is sent to any
provider (replies stay queued: no worker runs), so the figure is the intake path alone.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
import yaml
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-token"
PASSWORD = "kata-sandi-bench-panjang"


class _From(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flood(url: str, address: str, stop: threading.Event, answers: Counter, pace: float) -> None:
    browser = requests.Session()
    browser.mount("http://", _From(address))
    token = ""
    while not stop.wait(pace):  # a form when there is one; then a post, whatever the form said
        form = browser.get(f"{url}/admin/login", timeout=30)
        if found := re.search(r'name="csrf_token" value="([^"]*)"', form.text):
            token = found.group(1)
        answer = browser.post(f"{url}/admin/login", timeout=30,
                              data={"csrf_token": token, "name": f"tamu{secrets.randbelow(10**6)}",
                                    "password": "not-the-password"})
        answers[answer.status_code] += 1


def _webhooks(url: str, count: int, first_id: int) -> list[float]:
    times = []
    session = requests.Session()
    for n in range(count):
        update = {"update_id": first_id + n, "message": {
            "message_id": n + 1, "date": int(time.time()), "text": "halo",
            "chat": {"id": 10_000 + n, "type": "private", "first_name": "Warga"},
            "from": {"id": 10_000 + n, "is_bot": False, "first_name": "Warga"}}}
        started = time.perf_counter()
        answer = session.post(f"{url}/webhooks/telegram", data=json.dumps(update), timeout=30,
                              headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"webhook answered {answer.status_code}")
    return times


def _line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    return f"{name}: p50 {statistics.median(ordered):.1f} ms, p99 {ordered[int(len(ordered) * 0.99) - 1]:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=300)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between one client's attempts (0: flat out)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lapor-flood-"))
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["database_url"] = f"sqlite:///{work / 'lapor.sqlite3'}"
    config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
    config["nlu"].update(data_dir=str(ROOT / "dialogs" / "nlu"), model_dir=str(ROOT / "var" / "nlu"))
    config["delivery"]["embedded_worker"] = False
    port = _port()
    config["server"] = {**config["server"], "port": port}
    (work / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "LAPOR_CONFIG": str(work / "config.yaml"), "LAPOR_DATA_KEY": secrets.token_urlsafe(32),
           "LAPOR_SECRET_KEY": secrets.token_urlsafe(32), "TELEGRAM_BOT_TOKEN": "1:bench",
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
           "LAPOR_ADMIN_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    lapor = [sys.executable, "-m", "bot.cli"]
    subprocess.run(lapor + ["admin", "create-user", "ani", "--role", "admin"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    server = subprocess.Popen(lapor + ["serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        _webhooks(url, 30, 1)  # warm-up
        alone = _webhooks(url, args.webhooks, 1_000)
        stop, answers = threading.Event(), Counter()
        flooders = [threading.Thread(target=_flood, args=(url, f"127.0.1.{n + 1}", stop, answers, args.pace),
                                     daemon=True)
                    for n in range(args.clients)]
        for thread in flooders:
            thread.start()
        time.sleep(1.0)
        flooded = _webhooks(url, args.webhooks, 100_000)
        stop.set()
        for thread in flooders:
            thread.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(_line("webhooks alone", alone))
    print(_line(f"webhooks while {args.clients} clients send wrong passwords", flooded))
    print("sign-in answers during the flood: " + ", ".join(f"{code}: {n}" for code, n in sorted(answers.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
