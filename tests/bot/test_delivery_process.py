"""bot.delivery_process: lapor serve's one delivery process, started, restarted and stopped by
gunicorn's master. Real processes throughout: a stand-in command for the back-off and the
stop, and a real `lapor serve` whose delivery process is killed while citizens write."""
from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from providers.telegram_api import TOKEN, TelegramApiServer
from tests_support import ROOT, chat_env

from bot.delivery_process import DeliveryProcess

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
STUBBORN = [sys.executable, "-c", "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(120)"]
SECRET = "s3cret-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def killed(delivery: DeliveryProcess) -> None:
    """SIGKILL the running process and wait until ``delivery`` has noticed."""
    assert delivery.pid is not None
    os.kill(delivery.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while delivery.pid is not None:
        assert time.monotonic() < deadline, "the death went unnoticed"
        time.sleep(0.02)
        delivery.poll()


def test_a_process_that_dies_is_started_again_after_a_back_off_that_doubles() -> None:
    clock = Clock()
    delivery = DeliveryProcess(SLEEPER, first_backoff=1.0, clock=clock)
    delivery.start()
    try:
        first = delivery.pid
        assert first is not None
        delivery.tend()
        assert (delivery.pid, delivery.starts) == (first, 1)  # alive: left alone
        killed(delivery)
        delivery.tend()
        assert delivery.starts == 1  # not before its back-off
        clock.now += 1.0
        delivery.tend()
        assert delivery.starts == 2 and delivery.pid not in (None, first)
        killed(delivery)  # it died quickly again: two seconds now
        clock.now += 1.0
        delivery.tend()
        assert delivery.pid is None
        clock.now += 1.0
        delivery.tend()
        assert delivery.starts == 3
        clock.now += 60  # this one ran a minute: the back-off starts over
        killed(delivery)
        clock.now += 1.0
        delivery.tend()
        assert delivery.starts == 4
    finally:
        delivery.stop()
    assert delivery.pid is None


def test_stop_ends_the_process_and_nothing_starts_after() -> None:
    delivery = DeliveryProcess(SLEEPER, first_backoff=0.0)
    delivery.start()
    pid = delivery.pid
    delivery.stop(wait=False)  # SIGTERM now: it ends while the web workers stop
    delivery.stop()
    assert delivery.pid is None and not Path(f"/proc/{pid}").exists()
    delivery.tend()
    assert delivery.starts == 1


def test_a_process_deaf_to_sigterm_is_killed_after_the_graceful_time() -> None:
    delivery = DeliveryProcess(STUBBORN, graceful_seconds=0.5)
    delivery.start()
    time.sleep(0.5)  # its SIGTERM handler is in place
    started = time.monotonic()
    delivery.stop()
    assert 0.4 < time.monotonic() - started < 5
    assert delivery.pid is None


# --- in lapor serve -----------------------------------------------------------------------------

_ids = itertools.count(900_000_001)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def update(text: str, chat: int) -> dict:
    return {"update_id": next(_ids),
            "message": {"message_id": next(_ids) % 100000, "date": int(time.time()), "text": text,
                        "chat": {"id": chat, "type": "private", "first_name": "Budi"},
                        "from": {"id": chat, "is_bot": False, "first_name": "Budi"}}}


def family(pid: int) -> list[int]:
    """``pid``'s children, by /proc."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def delivery_child(server: int) -> int | None:
    for child in family(server):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command[-2:] == [b"worker", b""]:
            return child
    return None


def wait_for[T](found: Callable[[], T], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


@pytest.mark.slow
def test_lapor_serve_delivers_from_one_process_of_its_own_and_starts_another_when_it_dies(
        db_url: str, tmp_path: Path) -> None:
    with TelegramApiServer() as telegram:
        number = free_port()
        url = f"http://127.0.0.1:{number}"
        env = chat_env(db_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                       TELEGRAM_API_BASE_URL=telegram.base_url, LAPOR_PUBLIC_URL=url)
        log = tmp_path / "serve.log"
        with log.open("w") as stderr:
            server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(number),
                                       "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            def ready() -> bool:
                try:
                    return requests.get(f"{url}/readyz", timeout=5).status_code == 200
                except requests.ConnectionError:
                    assert server.poll() is None, log.read_text()
                    return False

            wait_for(ready, timeout=30)
            first = wait_for(lambda: delivery_child(server.pid))
            assert len(family(server.pid)) == 3  # two web workers and the delivery process

            def post(text: str, chat: int) -> None:
                response = requests.post(f"{url}/webhooks/telegram", data=json.dumps(update(text, chat)), timeout=15,
                                         headers={"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": SECRET})
                assert response.status_code == 200

            post("halo", 7_000_001)
            wait_for(lambda: telegram.calls_to("sendMessage"))
            os.kill(first, signal.SIGKILL)
            second = wait_for(lambda: (child := delivery_child(server.pid)) not in (None, first) and child)
            answered = len(telegram.calls_to("sendMessage"))
            post("halo", 7_000_002)  # answered by the process started in its place
            wait_for(lambda: len(telegram.calls_to("sendMessage")) > answered)
            assert delivery_child(server.pid) == second
        finally:
            server.terminate()
            server.wait(timeout=30)
        logs = log.read_text()
        for pid in (first, second):
            assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        assert f"the delivery process (pid {first}) ended with exit status -9" in logs, logs
        assert "Traceback" not in logs, logs
        assert telegram.violations == []
