"""The service under test, run the production way: ``lapor serve`` (gunicorn, one worker per
core, no embedded delivery thread) plus a separate ``lapor worker``, on a fresh SQLite file or
PostgreSQL schema; or the bare ceiling app on the same gunicorn set-up.

Also: readiness timing, peak RSS per process (``VmHWM``), killing and restarting processes
for the fault scenarios, and the database side of the audit.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.stubs import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN

ROOT = Path(__file__).resolve().parent.parent
WA_FROM, SMS_FROM = "+14155238886", "+15005550006"
TELEGRAM_SECRET = "bench-telegram-secret"
REGISTRY_SECRET = "bench-registry-secret"
POSTGRES_URL = os.environ.get("LAPOR_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, timeout: float = 60.0) -> float:
    """Seconds until ``GET /readyz`` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"nothing ready on port {port} after {timeout} s")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory_kib(pid: int, field: str = "VmHWM") -> int:
    """A /proc status field in KiB (VmHWM: the peak resident set; VmRSS: the current one)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (its share of the work is reported too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.joinpath("comm").read_text().strip() in ("postgres", "postmaster"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class Database:
    """A fresh database for one run."""

    kind: str  # "sqlite" | "postgresql"
    url: str
    _schema: str | None = None

    @classmethod
    def create(cls, kind: str, workdir: Path) -> Database:
        if kind == "sqlite":
            return cls(kind, f"sqlite:///{workdir / 'lapor.sqlite3'}")
        schema = "bench_" + secrets.token_hex(4)
        with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        return cls(kind, url.render_as_string(hide_password=False), schema)

    def counts(self) -> dict[str, int]:
        """What the database holds: inbound and outbound messages, complaints, outbox states."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                row = conn.execute(text(
                    "SELECT (SELECT count(*) FROM messages WHERE direction = 'in'),"
                    " (SELECT count(*) FROM messages WHERE direction = 'out'),"
                    " (SELECT count(*) FROM messages WHERE direction = 'out' AND provider_message_id IS NOT NULL),"
                    " (SELECT count(*) FROM complaints),"
                    " (SELECT count(*) FROM complaints WHERE registry_id IS NOT NULL),"
                    " (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')),"
                    " (SELECT count(*) FROM outbox WHERE status = 'dead')")).one()
        finally:
            engine.dispose()
        keys = ("in", "out", "out_sent", "complaints", "complaints_linked", "outbox_open", "outbox_dead")
        return dict(zip(keys, row, strict=False))

    def drop(self) -> None:
        if self._schema:
            with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE"))


class Stack:
    """``lapor serve`` + ``lapor worker`` against the stand-in providers and registry."""

    def __init__(self, db: Database, workdir: Path, provider_port: int, registry_port: int, workers: int,
                 lease_seconds: int = 5):
        self.db = db
        self.port = free_port()
        self.workers = workers
        self.lease_seconds = lease_seconds
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["database_url"] = db.url
        config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
        config["nlu"].update(data_dir=str(ROOT / "dialogs" / "nlu"), model_dir=str(ROOT / "var" / "nlu"))
        config["delivery"].update(embedded_worker=False, lease_seconds=lease_seconds, max_backoff_seconds=30,
                                  rate_limits={})  # instant citizens would measure pacing, not speed
        config["server"] = {**config.get("server", {}), "host": "127.0.0.1", "port": self.port, "workers": workers}
        config_path = workdir / "config.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        provider = f"http://127.0.0.1:{provider_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "TWILIO_", "TELEGRAM_"))},
            "PYTHONPATH": str(ROOT), "LAPOR_CONFIG": str(config_path), "LAPOR_DATABASE_URL": db.url,
            "LAPOR_DATA_KEY": "bench-data-key", "LAPOR_SECRET_KEY": "bench-secret-key",
            "LAPOR_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
            "TWILIO_SMS_FROM": SMS_FROM, "TWILIO_API_BASE_URL": provider,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": provider,
            "LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": f"http://127.0.0.1:{registry_port}/complaints",
            "LAPOR_REGISTRY_SECRET": REGISTRY_SECRET,
        }
        self.logs = (workdir / "serve.log").open("a"), (workdir / "worker.log").open("a")
        self.serve: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.ready_seconds = 0.0

    def _lapor(self, *args: str, log=subprocess.DEVNULL) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=log)

    def start(self) -> None:
        """Migrate (as a deployment does, before starting), then time ``lapor serve`` until ready."""
        if self._lapor("db", "upgrade").wait(timeout=120) != 0:
            raise RuntimeError("lapor db upgrade failed")
        started = time.monotonic()
        self.serve = self._lapor("serve", "--port", str(self.port), "--workers", str(self.workers), log=self.logs[0])
        wait_ready(self.port)
        self.ready_seconds = time.monotonic() - started
        self.start_worker()

    def start_worker(self, timeout: float = 60.0) -> None:
        """Start ``lapor worker`` and wait until it says it has started."""
        log_path = Path(self.logs[1].name)
        seen = log_path.read_text().count("worker started")
        self.worker = self._lapor("worker", log=self.logs[1])
        deadline = time.monotonic() + timeout
        while log_path.read_text().count("worker started") == seen:
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lapor worker did not start: see {log_path}")
            time.sleep(0.01)

    def gunicorn_workers(self) -> list[int]:
        return children(self.serve.pid) if self.serve else []

    def processes(self) -> dict[str, int]:
        """Role -> pid of every process of the service."""
        found = {"gunicorn master": self.serve.pid}
        found.update({f"gunicorn worker {i + 1}": pid for i, pid in enumerate(self.gunicorn_workers())})
        if self.worker is not None:
            found["lapor worker"] = self.worker.pid
        return found

    def kill_gunicorn_worker(self) -> int:
        pid = self.gunicorn_workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_worker(self) -> None:
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.worker, self.serve):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in self.logs:
            log.close()


class CeilingStack:
    """The bare Flask app on the same gunicorn set-up."""

    def __init__(self, workers: int):
        self.port = free_port()
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.ready_seconds = 0.0

    def start(self) -> None:
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LAPOR_CONFIG": str(ROOT / "config.yaml"),
               "LAPOR_DATABASE_URL": "sqlite://", "LAPOR_DATA_KEY": "unused", "LAPOR_SECRET_KEY": "unused"}
        self.process = subprocess.Popen([sys.executable, "-m", "bench.ceiling", "--port", str(self.port),
                                         "--workers", str(self.workers)], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(self.port)
        self.ready_seconds = time.monotonic() - started

    def processes(self) -> dict[str, int]:
        found = {"gunicorn master": self.process.pid}
        found.update({f"gunicorn worker {i + 1}": pid for i, pid in enumerate(children(self.process.pid))})
        return found

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
