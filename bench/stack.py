"""The service under test, in one of its set-ups (``Setup``), on a fresh SQLite file or
PostgreSQL schema; or the bare ceiling app on the same gunicorn set-up.

- "production": ``lapor serve`` (gunicorn, one worker per core, embedded delivery off)
  plus a separate ``lapor worker``;
- "default": exactly what ``make run`` starts: ``lapor serve`` with config.yaml's
  ``server.workers`` and ``delivery.embedded_worker`` untouched;
- scale-out: several ``lapor serve`` processes on ports of their own and several
  ``lapor worker`` processes, all on one PostgreSQL (``bench.scale_out``).

Also: readiness timing, peak RSS per process (``VmHWM``), CPU time per process (the
PostgreSQL backends of this run's connections included), each process's own counts from the
shared metrics directory, killing and restarting processes for the fault scenarios, and the
database side of the audit.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

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


def runs_lapor_worker(pid: int) -> bool:
    """Whether ``pid`` is a ``lapor worker`` (a ``lapor serve``'s delivery process is one)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2:] == [b"worker", b""]
    except OSError:
        return False


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


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def postgres_pids(application_name: str) -> list[int]:
    """The PostgreSQL processes that work for one run: the backends of the connections named
    ``application_name``, the server's background processes (WAL writer, checkpointer,
    autovacuum...) and the postmaster. Backends of other clients (tests running beside the
    benchmark) are left out."""
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            pids: list[int] = list(conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name OR backend_type <> 'client backend'"),
                {"name": application_name}).scalars())
    finally:
        engine.dispose()
    found = set(pids)
    found.update(parent(pid) for pid in pids[:1])  # the postmaster forks every backend
    found.discard(0)
    return sorted(found)


def counted(metrics_dir: Path, pid: int) -> dict[str, float]:
    """What one process has counted in the service's shared metrics directory
    (``bot.metrics``: one ``counter_<pid>.db`` per process), as ``name{label=value,...}`` ->
    value; e.g. ``lapor_replies_total{channel=sms,outcome=sent}``."""
    from prometheus_client.multiprocess import MultiProcessCollector

    path = metrics_dir / f"counter_{pid}.db"
    if not path.is_file():
        return {}
    found: dict[str, float] = {}
    for metric in MultiProcessCollector.merge([str(path)]):
        for sample in metric.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "pid")
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def total(counts: dict[str, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples in ``counted``'s answer that carry ``labels``."""
    wanted = [f"{k}={v}" for k, v in labels.items()]
    return sum(value for key, value in counts.items()
               if key.split("{", 1)[0] == name and all(w in key.split("{", 1)[1].rstrip("}").split(",")
                                                       for w in wanted))


def config_defaults() -> tuple[int, bool]:
    """config.yaml's ``server.workers`` and ``delivery.embedded_worker``, as the service reads them."""
    from bot.settings import load_settings

    settings = load_settings({"LAPOR_CONFIG": str(ROOT / "config.yaml"), "LAPOR_DATABASE_URL": "sqlite://",
                              "LAPOR_DATA_KEY": "unused", "LAPOR_SECRET_KEY": "unused"})
    return settings.workers, settings.embedded_worker  # workers 0 is resolved there: one per core


@dataclass(frozen=True)
class Setup:
    """How the service is run: its processes and how delivery runs."""

    name: str  # "production" | "default" | a scale-out step
    workers: int  # gunicorn workers of each ``lapor serve``
    embedded_worker: bool  # ``lapor serve`` starts its own delivery process (a ``lapor worker``)
    lapor_workers: int  # separate ``lapor worker`` processes
    serves: int = 1  # ``lapor serve`` processes, each on its own port
    from_config: bool = False  # run with config.yaml's server.workers and delivery.embedded_worker untouched

    @classmethod
    def production(cls, workers: int | None = None) -> Setup:
        """gunicorn with one worker per core and no delivery thread, plus one ``lapor worker``."""
        return cls("production", workers or os.cpu_count() or 2, False, 1)

    @classmethod
    def default(cls) -> Setup:
        """What ``make run`` starts: ``lapor serve`` as config.yaml has it (and a ``lapor worker``
        only if config.yaml turned the embedded one off)."""
        workers, embedded = config_defaults()
        return cls("default", workers, embedded, 0 if embedded else 1, from_config=True)

    @classmethod
    def scaled(cls, processes: int, workers: int = 1) -> Setup:
        """``processes`` ``lapor serve`` (``workers`` gunicorn workers each) and as many ``lapor worker``."""
        return cls(f"{processes} serve + {processes} worker", workers, False, processes, processes)

    def describe(self) -> str:
        serve = "`lapor serve`" if self.serves == 1 else f"{self.serves} × `lapor serve` (ports of their own)"
        delivery = ("the `lapor worker` process it starts itself (delivery.embedded_worker)" if self.embedded_worker
                    else "`lapor worker`" if self.lapor_workers == 1 else f"{self.lapor_workers} × `lapor worker`")
        each = "its" if self.serves == 1 else "each with"
        return (f"{serve}, {each} {self.workers} gunicorn worker{'s' if self.workers > 1 else ''}"
                f"{' (config.yaml)' if self.from_config else ''}; {delivery}")


@dataclass
class Database:
    """The database of one run: a fresh one (``create``), or one filled before (``existing``,
    say by ``bench.seed``), whose earlier rows the counts leave out."""

    kind: str  # "sqlite" | "postgresql"
    url: str
    _schema: str | None = None  # a schema this run created, dropped after it
    application_name: str = ""  # PostgreSQL: this run's connections carry it (CpuMeter finds their backends)
    floor: dict[str, int] = field(default_factory=dict)  # table -> highest id before this run

    @classmethod
    def create(cls, kind: str, workdir: Path) -> Database:
        if kind == "sqlite":
            return cls(kind, f"sqlite:///{workdir / 'lapor.sqlite3'}")
        schema = "bench_" + secrets.token_hex(4)
        with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        name = "lapor_" + schema
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}",
                                                        "application_name": name})
        return cls(kind, url.render_as_string(hide_password=False), schema, name)

    @classmethod
    def existing(cls, kind: str, url: str) -> Database:
        """The migrated database at ``url``, kept as it is after the run; ``counts`` sees only
        the rows added from now on (ids above today's highest)."""
        name = ""
        if kind == "postgresql":
            name = "lapor_bench_" + secrets.token_hex(4)
            url = make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)
        database = cls(kind, url, application_name=name)
        database.count_from_here()
        return database

    def count_from_here(self) -> None:
        """Make ``counts`` leave out every row there is now."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                self.floor = {table: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
                              for table in COUNTED}
        finally:
            engine.dispose()

    def counts(self) -> dict[str, int]:
        """What this run added to the database: inbound and outbound messages, complaints, open
        and dead outbox rows (through the primary keys: cheap on a seeded database too)."""
        engine = create_engine(self.url)
        floor = {table: self.floor.get(table, 0) for table in COUNTED}
        try:
            with engine.connect() as conn:
                row = conn.execute(text(
                    "SELECT (SELECT count(*) FROM messages WHERE id > :messages AND direction = 'in'),"
                    " (SELECT count(*) FROM messages WHERE id > :messages AND direction = 'out'),"
                    " (SELECT count(*) FROM messages WHERE id > :messages AND direction = 'out'"
                    "  AND provider_message_id IS NOT NULL),"
                    " (SELECT count(*) FROM complaints WHERE id > :complaints),"
                    " (SELECT count(*) FROM complaints WHERE id > :complaints AND registry_id IS NOT NULL),"
                    " (SELECT count(*) FROM outbox WHERE id > :outbox AND status IN ('pending', 'sending')),"
                    " (SELECT count(*) FROM outbox WHERE id > :outbox AND status = 'dead')"), floor).one()
        finally:
            engine.dispose()
        keys = ("in", "out", "out_sent", "complaints", "complaints_linked", "outbox_open", "outbox_dead")
        values = cast(tuple[int, ...], tuple(row))
        return dict(zip(keys, values, strict=False))

    def drop(self) -> None:
        if self._schema:
            with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE"))


COUNTED = ("messages", "complaints", "outbox")  # the tables Database.counts reads


@dataclass
class _Serve:
    port: int
    process: subprocess.Popen | None = None
    ready_seconds: float = 0.0


@dataclass
class _Worker:
    log_path: Path
    process: subprocess.Popen | None = None
    pids: list[int] = field(default_factory=list)  # every process that has been this worker (restarts)


def service_env(database_url: str, public_url: str, provider_port: int, registry_port: int,
                metrics_dir: Path) -> dict[str, str]:
    """The service's environment against the stand-ins: its keys, the stand-in providers'
    credentials and addresses, the webhook registry's (``bench.profile`` uses it too)."""
    provider = f"http://127.0.0.1:{provider_port}"
    return {
        "LAPOR_DATABASE_URL": database_url, "LAPOR_DATA_KEY": "bench-data-key", "LAPOR_SECRET_KEY": "bench-secret-key",
        "LAPOR_PUBLIC_URL": public_url, "LAPOR_METRICS_DIR": str(metrics_dir),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
        "TWILIO_SMS_FROM": SMS_FROM, "TWILIO_API_BASE_URL": provider,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, "TELEGRAM_API_BASE_URL": provider,
        "LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": f"http://127.0.0.1:{registry_port}/complaints",
        "LAPOR_REGISTRY_SECRET": REGISTRY_SECRET,
    }


class Stack:
    """The service in one ``Setup`` against the stand-in providers and registry.

    With several ``lapor serve`` processes they share everything a deployment behind a load
    balancer shares: the database, the secrets, one public URL (the first port's, which the
    driver signs against whichever port it sends to) and, on one host, the metrics directory."""

    def __init__(self, db: Database, workdir: Path, provider_port: int, registry_port: int, setup: Setup | int,
                 lease_seconds: int = 5):
        self.db = db
        self.setup = setup if isinstance(setup, Setup) else Setup.production(setup)
        self.serves = [_Serve(free_port()) for _ in range(self.setup.serves)]
        self.ports = [serve.port for serve in self.serves]
        self.port = self.ports[0]
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.lease_seconds = lease_seconds
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["database_url"] = db.url
        config["dialogs"]["scripts_dir"] = str(ROOT / "dialogs" / "scripts")
        config["nlu"].update(data_dir=str(ROOT / "dialogs" / "nlu"), model_dir=str(ROOT / "var" / "nlu"))
        config["delivery"].update(lease_seconds=lease_seconds, max_backoff_seconds=30,
                                  rate_limits={})  # instant citizens would measure pacing, not speed
        config["server"] = {**config.get("server", {}), "host": "127.0.0.1", "port": self.port}
        if not self.setup.from_config:
            config["delivery"]["embedded_worker"] = self.setup.embedded_worker
            config["server"]["workers"] = self.setup.workers
        config_path = workdir / "config.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.metrics_dir = workdir / "var" / "metrics"  # beside config.yaml: one per service, shared on the host
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LAPOR_", "TWILIO_", "TELEGRAM_"))},
            "PYTHONPATH": str(ROOT), "LAPOR_CONFIG": str(config_path),
            **service_env(db.url, self.public_url, provider_port, registry_port, self.metrics_dir),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self._serve_log = (workdir / "serve.log").open("a")
        several = self.setup.lapor_workers > 1
        self.workers = [_Worker(workdir / (f"worker-{i + 1}.log" if several else "worker.log"))
                        for i in range(self.setup.lapor_workers)]
        for worker in self.workers:
            worker.log_path.touch()
        self.ready_seconds = 0.0  # the slowest ``lapor serve``

    @property
    def worker(self) -> subprocess.Popen | None:
        """The first ``lapor worker`` (None when delivery is embedded)."""
        return self.workers[0].process if self.workers else None

    def _lapor(self, *args: str, log=subprocess.DEVNULL) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=log)

    def start(self) -> None:
        """Migrate (as a deployment does, before starting), then time each ``lapor serve`` until
        ready, one after the other; then start the ``lapor worker`` processes."""
        if self._lapor("db", "upgrade").wait(timeout=120) != 0:
            raise RuntimeError("lapor db upgrade failed")
        for serve in self.serves:
            started = time.monotonic()
            args = ["serve", "--port", str(serve.port)]
            if not self.setup.from_config:
                args += ["--workers", str(self.setup.workers)]
            serve.process = self._lapor(*args, log=self._serve_log)
            wait_ready(serve.port)
            serve.ready_seconds = time.monotonic() - started
        self.ready_seconds = max(serve.ready_seconds for serve in self.serves)
        if self.workers:
            self.start_worker(*range(len(self.workers)))

    def start_worker(self, *indexes: int, timeout: float = 60.0) -> None:
        """Start ``lapor worker`` number ``index`` (the first by default; several at once) and
        wait until each says it has started."""
        waiting = []
        for index in indexes or (0,):
            worker = self.workers[index]
            seen = worker.log_path.read_text().count("worker started")
            with worker.log_path.open("a") as log:
                worker.process = self._lapor("worker", log=log)
            worker.pids.append(worker.process.pid)
            waiting.append((worker, seen))
        deadline = time.monotonic() + timeout
        for worker, seen in waiting:
            while worker.log_path.read_text().count("worker started") == seen:
                if (worker.process is None or worker.process.poll() is not None) or time.monotonic() > deadline:
                    raise RuntimeError(f"lapor worker did not start: see {worker.log_path}")
                time.sleep(0.01)

    def gunicorn_workers(self, serve: int = 0) -> list[int]:
        process = self.serves[serve].process
        return [pid for pid in children(process.pid) if not runs_lapor_worker(pid)] if process else []

    def delivery_processes(self, serve: int = 0) -> list[int]:
        """The delivery process a ``lapor serve`` started itself (``delivery.embedded_worker``)."""
        process = self.serves[serve].process
        return [pid for pid in children(process.pid) if runs_lapor_worker(pid)] if process else []

    def processes(self) -> dict[str, int]:
        """Role -> pid of every process of the service."""
        found: dict[str, int] = {}
        for k, serve in enumerate(self.serves):
            if serve.process is None:
                continue
            prefix = "gunicorn" if len(self.serves) == 1 else f"serve {k + 1}"
            found[f"{prefix} master"] = serve.process.pid
            found.update({f"{prefix} worker {i + 1}": pid for i, pid in enumerate(self.gunicorn_workers(k))})
            for pid in self.delivery_processes(k):
                found["lapor worker" if len(self.serves) == 1 else f"serve {k + 1} lapor worker"] = pid
        for i, worker in enumerate(self.workers):
            if worker.process is not None:
                found["lapor worker" if len(self.workers) == 1 else f"lapor worker {i + 1}"] = worker.process.pid
        return found

    def groups(self) -> dict[str, list[str]]:
        """Each process of ``work_done`` -> its roles in ``processes`` (a serve's master and workers)."""
        roles = list(self.processes())
        found: dict[str, list[str]] = {}
        for k, serve in enumerate(self.serves):
            prefix = "gunicorn " if len(self.serves) == 1 else f"serve {k + 1} "
            own = [r for r in roles if r.startswith(prefix)]
            if self.setup.embedded_worker and len(self.serves) == 1 and "lapor worker" in roles:
                own.append("lapor worker")  # the serve's own delivery process
            found[f"lapor serve {k + 1} (port {serve.port})"] = own
        for i in range(len(self.workers)):
            found[f"lapor worker {i + 1}"] = ["lapor worker" if len(self.workers) == 1 else f"lapor worker {i + 1}"]
        return found

    def work_done(self) -> dict[str, dict[str, float]]:
        """What each process counted (``bot.metrics``' files in the shared directory): for each
        ``lapor serve`` the messages its gunicorn workers took in (and the replies its own delivery
        process sent), for each ``lapor worker`` the
        replies it sent and the complaints the registry accepted from it."""
        done: dict[str, dict[str, float]] = {}
        for k, serve in enumerate(self.serves):
            counts = [counted(self.metrics_dir, pid) for pid in self.gunicorn_workers(k) + self.delivery_processes(k)]
            done[f"lapor serve {k + 1} (port {serve.port})"] = {
                "messages in": sum(total(c, "lapor_inbound_messages_total") for c in counts),
                "replies sent": sum(total(c, "lapor_replies_total", outcome="sent") for c in counts)}
        for i, worker in enumerate(self.workers):
            counts = [counted(self.metrics_dir, pid) for pid in worker.pids]
            done[f"lapor worker {i + 1}"] = {
                "replies sent": sum(total(c, "lapor_replies_total", outcome="sent") for c in counts),
                "complaints accepted": sum(total(c, "lapor_registry_submissions_total", outcome="accepted")
                                           for c in counts)}
        return done

    def kill_gunicorn_worker(self) -> int:
        pid = self.gunicorn_workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_worker(self, index: int = 0) -> None:
        process = self.workers[index].process
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        processes = [w.process for w in self.workers] + [s.process for s in self.serves]
        for process in processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in processes:
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._serve_log.close()


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
        if self.process is None:
            return {}
        found = {"gunicorn master": self.process.pid}
        found.update({f"gunicorn worker {i + 1}": pid for i, pid in enumerate(children(self.process.pid))})
        return found

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
