"""GET /metrics: names and labels, what is counted, the outbox gauges on both databases, and
exact totals from a real `lapor serve --workers 2` (plus a separate `lapor worker`), whichever
worker answers the scrape. Also: two `lapor serve` side by side, with no gunicorn control socket."""
from __future__ import annotations

import itertools
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from providers.telegram_api import TOKEN, TelegramApiServer
from sqlalchemy import func, select
from tests_support import chat_env, free_port, make_settings, wait_for

from bot.app import create_app
from bot.registry import RegistryError, SubmitResult
from bot.server import gunicorn_options
from bot.services import Services
from channels.base import DeliveryError, InboundMessage, OutboundMessage, SendResult
from storage import repository as repo
from storage.db import Database
from storage.models import Complaint, Outbox

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+6281234567890"
SECRET = "metrics-Secret_token"
HAPPY = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
         "Jl. Merdeka 1", "kemarin", "lewati", "2", "ya"]
FAMILIES = {  # name -> (type, label names)
    "lapor_inbound_messages": ("counter", {"channel"}),
    "lapor_inbound_duplicates": ("counter", {"channel"}),
    "lapor_replies": ("counter", {"channel", "outcome"}),
    "lapor_registry_submissions": ("counter", {"outcome"}),
    "lapor_media_downloads": ("counter", {"outcome"}),
    "lapor_conversations": ("counter", {"event"}),
    "lapor_webhook_seconds": ("histogram", {"endpoint", "code"}),
    "lapor_outbox_depth": ("gauge", {"kind"}),
    "lapor_outbox_oldest_age_seconds": ("gauge", {"kind"}),
}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(body: str) -> Samples:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


_ids = itertools.count(700_000_001)


def telegram_update(text: str, chat: int) -> dict:
    return {"update_id": next(_ids),
            "message": {"message_id": next(_ids) % 100000, "date": int(time.time()), "text": text,
                        "chat": {"id": chat, "type": "private", "first_name": "Budi"},
                        "from": {"id": chat, "is_bot": False, "first_name": "Budi"}}}


# ---------------------------------------------------------------------- in one process

class Channel:
    """A provider that answers as scripted: the failures first, then success."""

    def __init__(self, failures: list[Exception] | None = None):
        self.failures = list(failures or [])
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendResult(provider_message_id=f"P{len(self.sent)}")


class Registry:
    name = "scripted"

    def __init__(self, failures: list[Exception]):
        self.failures = list(failures)

    def submit(self, submission, *, retry: bool = False) -> SubmitResult:
        if self.failures:
            raise self.failures.pop(0)
        return SubmitResult(registry_id=f"R-{submission.tracking_number}", status="received")


def say(services: Services, text: str, *, sender: str = PHONE, channel: str = "terminal",
        at: datetime | None = None, message_id: str | None = None) -> None:
    services.intake.handle(InboundMessage(channel, sender, text, message_id or uuid.uuid4().hex, at or repo.utcnow()))


def scrape(client) -> tuple[Samples, str]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    body = response.get_data(as_text=True)
    return parse(body), body


def test_metrics_names_labels_and_what_a_conversation_counts(services: Services) -> None:
    client = create_app(services.settings, services).test_client()
    before, _ = scrape(client)  # counters live in this process here: compare what changes
    for line in HAPPY:
        say(services, line)
    say(services, HAPPY[-1], message_id="again")
    say(services, HAPPY[-1], message_id="again")  # the provider delivered it twice
    say(services, "halo", sender="+6281111111111")
    say(services, "batal", sender="+6281111111111")
    services.delivery.drain()
    after, body = scrape(client)  # no sign-in needed

    families = {family.name: family for family in text_string_to_metric_families(body)
                if not family.name.endswith("_created")}  # only unshared counters have these
    assert set(families) == set(FAMILIES)
    for name, (kind, labels) in FAMILIES.items():
        assert families[name].type == kind
        assert all(set(sample.labels) - {"le"} == labels for sample in families[name].samples), name
    with services.db.reading() as session:
        number = session.scalar(select(Complaint.tracking_number))
        replies = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == "reply"))
    assert number and number not in body and PHONE not in body and "6281111111111" not in body
    assert "Jalan" not in body and "Merdeka" not in body  # no text either

    assert delta(before, after, "lapor_inbound_messages_total", channel="terminal") == len(HAPPY) + 3
    assert delta(before, after, "lapor_inbound_duplicates_total", channel="terminal") == 1
    assert [delta(before, after, "lapor_conversations_total", event=e) for e in ("started", "completed", "cancelled")] \
        == [3, 1, 1]  # "ya" again, after the complaint was filed, starts a new conversation
    assert delta(before, after, "lapor_replies_total", channel="terminal", outcome="sent") == replies
    assert delta(before, after, "lapor_registry_submissions_total", outcome="accepted") == 1
    for kind in ("reply", "submission", "notification"):
        assert value(after, "lapor_outbox_depth", kind=kind) == 0
        assert value(after, "lapor_outbox_oldest_age_seconds", kind=kind) == 0


def test_a_conversation_found_idle_too_long_counts_as_expired(services: Services) -> None:
    client = create_app(services.settings, services).test_client()
    before, _ = scrape(client)
    long_ago = repo.utcnow() - services.settings.idle_timeout - timedelta(hours=1)
    say(services, "halo", at=long_ago)
    say(services, "1")  # the citizen writes again after the idle timeout: noticed now
    after, _ = scrape(client)
    assert delta(before, after, "lapor_conversations_total", event="expired") == 1
    assert delta(before, after, "lapor_conversations_total", event="started") == 2


def test_failed_and_dead_replies_and_submissions_are_counted(services: Services) -> None:
    client = create_app(services.settings, services).test_client()
    before, _ = scrape(client)
    services.delivery._channels["terminal"] = Channel([DeliveryError("HTTP 503", retryable=True),
                                                       DeliveryError("blocked by the user", retryable=False)])
    services.delivery._channels["whatsapp"] = Channel()
    services.delivery._registry = Registry([RegistryError("HTTP 500", retryable=True),
                                            RegistryError("HTTP 422", retryable=False)])
    say(services, "halo")
    later = repo.utcnow() + timedelta(days=1)
    services.delivery.run_once(now=later)  # failed, retried later
    services.delivery.run_once(now=later + timedelta(days=1))  # dead
    say(services, "halo", channel="whatsapp")
    services.delivery.run_once(now=later + timedelta(days=2))  # outside the 24-hour window: dead at once
    services.delivery._channels["terminal"] = Channel()
    for line in HAPPY:
        say(services, line, sender="+6282222222222")
    services.delivery.drain()
    services.delivery.run_once(now=later + timedelta(days=3))  # the complaint is retried: dead now
    after, _ = scrape(client)
    assert delta(before, after, "lapor_replies_total", channel="terminal", outcome="failed") == 1
    assert delta(before, after, "lapor_replies_total", channel="terminal", outcome="dead") == 1
    assert delta(before, after, "lapor_replies_total", channel="whatsapp", outcome="dead") == 1
    assert delta(before, after, "lapor_replies_total", channel="terminal", outcome="sent") == len(HAPPY)
    assert [delta(before, after, "lapor_registry_submissions_total", outcome=o) for o in ("accepted", "retried", "dead")] \
        == [0, 1, 1]


def test_webhooks_are_timed_by_endpoint_and_status_class_never_by_path(services: Services) -> None:
    client = create_app(services.settings, services).test_client()
    before, _ = scrape(client)
    assert client.post("/webhooks/telegram", json={}).status_code == 404  # not enabled here
    assert client.post("/webhooks/twilio/sms").status_code == 404
    assert client.post("/webhooks/twilio/made-up").status_code == 404
    after, body = scrape(client)
    assert delta(before, after, "lapor_webhook_seconds_count", endpoint="telegram", code="4xx") == 1
    assert delta(before, after, "lapor_webhook_seconds_count", endpoint="twilio_sms", code="4xx") == 1
    assert "made-up" not in body
    assert value(after, "lapor_webhook_seconds_bucket", endpoint="telegram", code="4xx", le="15.0") >= 1


def test_a_webhook_that_fails_is_timed_as_5xx(settings, services: Services, monkeypatch) -> None:
    from channels.telegram import TelegramChannel

    services.channels["telegram"] = TelegramChannel.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET})
    client = create_app(settings, services).test_client()
    before, _ = scrape(client)
    monkeypatch.setattr(services.intake, "handle", lambda message: 1 / 0)  # a bug
    response = client.post("/webhooks/telegram", json=telegram_update("halo", 4242),
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 500
    after, _ = scrape(client)
    assert delta(before, after, "lapor_webhook_seconds_count", endpoint="telegram", code="5xx") == 1


def add_row(session, kind: str, status: str, age: timedelta) -> None:
    created = repo.utcnow() - age
    row = repo.add_outbox(session, kind=kind, payload={}, channel=None if kind == "submission" else "sms", now=created)
    row.status = status


def test_outbox_gauges_count_what_is_still_to_do_per_kind(db: Database, settings, services: Services) -> None:
    with db.transaction() as session:
        add_row(session, "reply", "pending", timedelta(seconds=30))
        add_row(session, "reply", "sending", timedelta(minutes=5))
        add_row(session, "reply", "done", timedelta(hours=2))  # finished and dead rows are not waiting
        add_row(session, "reply", "dead", timedelta(hours=3))
        add_row(session, "submission", "pending", timedelta(hours=1))
    with db.reading() as session:
        backlog = repo.outbox_backlog(session)
    assert {kind: count for kind, (count, _) in backlog.items()} == {"reply": 2, "submission": 1}
    samples, _ = scrape(create_app(settings, services).test_client())
    assert [value(samples, "lapor_outbox_depth", kind=k) for k in ("reply", "submission", "notification")] == [2, 1, 0]
    assert 300 <= value(samples, "lapor_outbox_oldest_age_seconds", kind="reply") < 360
    assert 3600 <= value(samples, "lapor_outbox_oldest_age_seconds", kind="submission") < 3660
    assert value(samples, "lapor_outbox_oldest_age_seconds", kind="notification") == 0


def test_the_metrics_page_still_counts_when_the_database_is_away() -> None:
    from bot.services import build_services

    settings = make_settings(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=1")
    services = build_services(settings, channels={})
    try:
        samples, _ = scrape(create_app(settings, services).test_client())
    finally:
        services.close()
    assert ("lapor_inbound_messages_total", (("channel", "sms"),)) in samples
    assert not any(name.startswith("lapor_outbox") for name, _ in samples)


# ---------------------------------------------------------------------- real processes

def config_file(where: Path, *, embedded_worker: bool = True) -> Path:
    """The shipped config.yaml with its metrics under ``where`` (and no per-chat pause)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["metrics"] = {"dir": "metrics"}  # relative to the file, like the database
    config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
    config["nlu"].update(data_dir=str(ROOT / "dialogs" / "nlu"), model_dir=str(ROOT / "var" / "nlu"))  # trained once
    config["delivery"]["embedded_worker"] = embedded_worker
    config["delivery"]["rate_limits"] = {}
    where.mkdir(parents=True, exist_ok=True)
    path = where / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Lapor:
    """A `lapor` command running in the background, its log in a file."""

    def __init__(self, log: Path, *args: str, env: dict[str, str]):
        self._log = log
        with log.open("w") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env,
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        self.pid = self.process.pid

    def wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, "lapor serve was not ready within 30 s"
            time.sleep(0.1)

    def stop(self) -> str:
        """Stop it (SIGTERM) and return its log."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        return self.log()

    def log(self) -> str:
        return self._log.read_text(encoding="utf-8")


COUNT_INBOUND = ("import sys; from pathlib import Path; from bot import metrics; metrics.share(Path(sys.argv[1]));"
                 "[metrics.inbound(sys.argv[2], duplicate=False) for _ in range(int(sys.argv[3]))];"
                 "print('counted', flush=True); sys.stdin.read()")


def counting_process(directory: Path, channel: str, times: int, *, stay: bool) -> subprocess.Popen:
    """Another process of the service that counted ``times`` messages on ``channel``: still
    running (``stay``), like a `lapor worker`, or gone, like the processes of an earlier run."""
    process = subprocess.Popen([sys.executable, "-c", COUNT_INBOUND, str(directory), channel, str(times)], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
                               stdin=subprocess.PIPE if stay else subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert process.stdout.readline() == "counted\n"
    if not stay:
        process.wait(timeout=10)
    return process


def per_process(directory: Path, name: str, **labels: str) -> dict[int, float]:
    """What each process's own files hold, by pid."""
    found = {}
    for path in directory.glob("counter_*.db"):
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in MultiProcessCollector.merge([str(path)]) for s in family.samples}
        found[int(path.stem.split("_")[1])] = value(samples, name, **labels)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("delivery", ["embedded", "lapor worker"])
def test_two_gunicorn_workers_and_a_separate_worker_report_exact_totals(db, db_url: str, tmp_path: Path,
                                                                       delivery: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    directory = tmp_path / "metrics"
    config = config_file(tmp_path, embedded_worker=delivery == "embedded")
    earlier_run = counting_process(directory, "telegram", 1000, stay=False)
    running = counting_process(directory, "sms", 7, stay=True)
    with TelegramApiServer() as telegram:
        env = chat_env(db_url, LAPOR_CONFIG=str(config), TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                       TELEGRAM_API_BASE_URL=telegram.base_url, LAPOR_PUBLIC_URL=url)
        del env["LAPOR_METRICS_DIR"]  # the config file's metrics.dir, which both processes read
        server = Lapor(tmp_path / "serve.log", "serve", "--workers", "2", "--port", str(port), env=env)
        worker = Lapor(tmp_path / "worker.log", "worker", env=env) if delivery == "lapor worker" else None
        try:
            server.wait_ready(url)
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
            assert not list(directory.glob(f"*_{earlier_run.pid}.db"))  # an earlier run's counts are gone
            assert list(directory.glob(f"counter_{running.pid}.db"))  # a running process's stay

            def post(update: dict, secret: str = SECRET) -> int:
                return requests.post(f"{url}/webhooks/telegram", data=json.dumps(update), timeout=15, headers={
                    "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}).status_code

            chats = itertools.count(6_000_001)
            started = 0
            with ThreadPoolExecutor(8) as pool:  # new chats, a connection each, until both workers took some
                while started < 24 or len([n for n in per_process(directory, "lapor_inbound_messages_total",
                                                                  channel="telegram").values() if n]) < 2:
                    assert started < 400, "gunicorn never handed a webhook to its second worker"
                    assert list(pool.map(post, [telegram_update("/start", next(chats)) for _ in range(8)])) == [200] * 8
                    started += 8
            for text in HAPPY:  # one complaint, completed
                assert post(telegram_update(text, 5_000_001)) == 200
            again = telegram_update("halo", 5_000_002)
            assert [post(again), post(again), post(telegram_update("batal", 5_000_002))] == [200, 200, 200]
            assert post(telegram_update("halo", 5_000_003), secret="forged") == 403
            inbound = started + len(HAPPY) + 2

            def settled() -> Samples | None:
                samples = parse(requests.get(f"{url}/metrics", timeout=5).text)
                depth = sum(value(samples, "lapor_outbox_depth", kind=k) for k in ("reply", "submission", "notification"))
                return samples if depth == 0 and value(samples, "lapor_registry_submissions_total", outcome="accepted") else None

            wait_for(settled, timeout=60, interval=0.2)
            replies = len(telegram.calls_to("sendMessage"))
            with db.reading() as session:
                assert replies == session.scalar(select(func.count()).select_from(Outbox).where(
                    Outbox.kind == "reply", Outbox.status == "done"))
            expected = {
                ("lapor_inbound_messages_total", "telegram"): inbound,
                ("lapor_inbound_messages_total", "sms"): 7,  # the running process's
                ("lapor_inbound_duplicates_total", "telegram"): 1,
                ("lapor_replies_total", "telegram", "sent"): replies,
                ("lapor_replies_total", "telegram", "failed"): 0,
                ("lapor_registry_submissions_total", "accepted"): 1,
                ("lapor_conversations_total", "started"): started + 2,
                ("lapor_conversations_total", "completed"): 1,
                ("lapor_conversations_total", "cancelled"): 1,
                ("lapor_webhook_seconds_count", "telegram", "2xx"): inbound + 1,
                ("lapor_webhook_seconds_count", "telegram", "4xx"): 1,
                ("lapor_outbox_depth", "reply"): 0,
                ("lapor_outbox_oldest_age_seconds", "submission"): 0,
            }
            label_names = {"lapor_inbound_messages_total": ["channel"], "lapor_inbound_duplicates_total": ["channel"],
                           "lapor_replies_total": ["channel", "outcome"], "lapor_registry_submissions_total": ["outcome"],
                           "lapor_conversations_total": ["event"], "lapor_webhook_seconds_count": ["endpoint", "code"],
                           "lapor_outbox_depth": ["kind"], "lapor_outbox_oldest_age_seconds": ["kind"]}
            for _ in range(12):  # each scrape, on a connection of its own, may reach either worker
                samples = parse(requests.get(f"{url}/metrics", timeout=5).text)
                got = {key: value(samples, key[0], **dict(zip(label_names[key[0]], key[1:], strict=False))) for key in expected}
                assert got == expected
            handled = per_process(directory, "lapor_inbound_messages_total", channel="telegram")
            assert len([n for n in handled.values() if n]) >= 2 and sum(handled.values()) == inbound
            if worker is not None:  # every reply left from the separate worker
                sent = per_process(directory, "lapor_replies_total", channel="telegram", outcome="sent")
                assert sent.get(worker.pid) == replies
        finally:
            logs = server.stop() + (worker.stop() if worker is not None else "")
            running.communicate("", timeout=10)
        assert not any(word in logs for word in (" ERROR ", "[ERROR]", "Traceback")), logs
        assert telegram.violations == []


@pytest.mark.slow
def test_two_lapor_serve_run_side_by_side_without_a_control_socket(tmp_path: Path) -> None:
    runtime, home = tmp_path / "run", tmp_path / "home"
    runtime.mkdir(mode=0o700)
    home.mkdir()
    services: dict[str, tuple[str, Lapor]] = {}
    try:
        for name in ("a", "b"):
            port = free_port()
            env = chat_env(f"sqlite:///{tmp_path / name / 'lapor.sqlite3'}", XDG_RUNTIME_DIR=str(runtime),
                           HOME=str(home), LAPOR_CONFIG=str(config_file(tmp_path / name)))
            del env["LAPOR_METRICS_DIR"]  # each service's own config file says where
            services[name] = (f"http://127.0.0.1:{port}",
                              Lapor(tmp_path / f"{name}.log", "serve", "--workers", "2", "--port", str(port), env=env))
        for url, server in services.values():
            server.wait_ready(url)
        for url, _ in services.values():
            assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
            assert requests.get(f"{url}/readyz", timeout=5).json()["status"] == "ready"
        assert not (runtime / "gunicorn.ctl").exists() and not (home / ".gunicorn").exists()
        services["a"][1].stop()
        assert requests.get(f"{services['b'][0]}/readyz", timeout=5).json()["status"] == "ready"
    finally:
        logs = [server.stop() for _, server in services.values()]
    assert not any("Control socket" in log for log in logs), logs
    for name in ("a", "b"):  # and each keeps its metrics to itself, privately
        assert stat.S_IMODE((tmp_path / name / "metrics").stat().st_mode) == 0o700
    assert gunicorn_options(make_settings(f"sqlite:///{tmp_path / 'a' / 'lapor.sqlite3'}"))["control_socket_disable"]
