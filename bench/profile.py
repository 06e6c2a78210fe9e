"""Where a message's CPU goes, measured in one process under cProfile.

Whole conversations go through the real WSGI app (the driver's signed Twilio webhooks and
Telegram updates, through Flask's test client) and then through the real delivery worker,
which sends each reply over loopback to the stand-in provider (``bench.stubs``) and each
complaint to the stand-in registry. Intake and delivery are profiled apart. The report groups
each phase's CPU time by the package whose code ran (our own, SQLAlchemy, the database driver,
Flask and Werkzeug, the provider SDKs, HTTP clients...) and lists the functions that cost the
most time of their own.

    python -m bench.profile [--database sqlite|postgresql] [--conversations 60] [--top 20]

It is the explanation beside the load figures, not a load figure itself: the profiler slows
every call down, so only the shares compare, not the absolute milliseconds.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import minihttp
from bench.driver import LINES, Driver, citizens
from bench.stack import REGISTRY_SECRET, Database, service_env
from bench.stubs import ProviderStub, RegistryStub

if TYPE_CHECKING:
    from bot.services import Services

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "http://127.0.0.1:8000"
GROUPS = (  # path fragment -> group, first match wins
    ("/sqlalchemy/", "SQLAlchemy"), ("/psycopg", "psycopg"), ("sqlite3", "sqlite3"),
    ("/flask/", "Flask and Werkzeug"), ("/werkzeug/", "Flask and Werkzeug"),
    ("/twilio/", "twilio SDK"), ("/telegram/", "python-telegram-bot"),
    ("/requests/", "requests and urllib3"), ("/urllib3/", "requests and urllib3"),
    ("/httpx/", "httpx and httpcore"), ("/httpcore/", "httpx and httpcore"), ("/anyio/", "httpx and httpcore"),
    ("/cryptography/", "cryptography"), ("/json/", "json"), ("/logging/", "logging"),
    ("/prometheus_client/", "prometheus_client"),
    ("/bot/", "lapor-intake"), ("/channels/", "lapor-intake"), ("/dialogs/", "lapor-intake"),
    ("/storage/", "lapor-intake"), ("/asyncio/", "asyncio"), ("/concurrent/", "threads"), ("threading", "threads"),
)


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase's profile: CPU ms per message, by group, and the costliest functions."""

    name: str
    messages: int
    ms_per_message: float  # CPU time of the process without the profiler
    profiled_ms: float  # the same under the profiler (the groups add up to it)
    groups: tuple[tuple[str, float], ...]  # (group, ms per message), most first
    top: tuple[tuple[str, float, int], ...]  # (function, own ms per message, calls per message)


def _group(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "Python built-ins"
    for fragment, name in GROUPS:
        if fragment in filename:
            return name
    return "other Python"


def _phase(name: str, profile: cProfile.Profile, messages: int, top: int, unprofiled: float) -> Phase:
    stats = pstats.Stats(profile)
    groups: Counter[str] = Counter()
    functions: list[tuple[str, float, int]] = []
    for (filename, line, function), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        groups[_group(filename)] += own
        where = filename.rsplit("site-packages/", 1)[-1].replace(str(ROOT) + "/", "")
        functions.append((f"{function} ({where}:{line})", own, calls))
    total = sum(groups.values())
    per = 1000 / max(1, messages)
    return Phase(name, messages, unprofiled * per, total * per,
                 tuple((group, seconds * per) for group, seconds in groups.most_common()),
                 tuple((function, own * per, round(calls / max(1, messages)))
                       for function, own, calls in sorted(functions, key=lambda f: -f[1])[:top]))


class _Stubs:
    """The stand-in provider and registry on an event loop of their own thread."""

    def __init__(self) -> None:
        self.provider, self.registry = ProviderStub(), RegistryStub(REGISTRY_SECRET)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._servers = [self._loop.run_until_complete(minihttp.serve(h))
                         for h in (self.provider.handle, self.registry.handle)]
        self.ports = [s.sockets[0].getsockname()[1] for s in self._servers]
        self._ready.set()
        self._loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:  # the connections' handlers: let them close their sockets
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(5)


@contextmanager
def _services(database: str, workdir: Path, stubs: _Stubs) -> Iterator[Services]:
    from bot.services import build_services, prepare_database
    from bot.settings import load_settings

    db = Database.create(database, workdir)
    env = {"LAPOR_CONFIG": str(ROOT / "config.yaml"),
           **service_env(db.url, PUBLIC_URL, stubs.ports[0], stubs.ports[1], workdir / "metrics")}
    settings = load_settings(environ=env, embedded_worker=False, rate_limits={})
    prepare_database(settings)
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()
        db.drop()


def run(database: str = "sqlite", conversations: int = 60, top: int = 20) -> tuple[Phase, Phase]:
    """(intake, delivery) of ``conversations`` whole conversations timed without the profiler,
    then as many again under it (after a few untimed ones)."""
    from bot.app import create_app

    logging.disable(logging.INFO)
    stubs = _Stubs()
    try:
        with tempfile.TemporaryDirectory(prefix="lapor-profile-") as tmp, \
                _services(database, Path(tmp), stubs) as services:
            client = create_app(services.settings, services).test_client()
            driver = Driver(8000, stubs.provider)
            intake, delivery = cProfile.Profile(), cProfile.Profile()
            plain = {"intake": 0.0, "delivery": 0.0}
            warm, timed, profiled = citizens(6, 900_000), citizens(conversations), citizens(conversations, 10_000)
            sent = 0
            for number, person in enumerate(warm + timed + profiled):
                phase = "warm" if number < len(warm) else "timed" if number < len(warm) + len(timed) else "profiled"
                for line in LINES:
                    path, headers, body = driver.webhook(person, line)
                    started = time.process_time()
                    if phase == "profiled":
                        intake.enable()
                    response = client.post(path, headers=headers, data=body)
                    if phase == "profiled":
                        intake.disable()
                    plain["intake"] += time.process_time() - started if phase == "timed" else 0.0
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data()[:200]!r}")
                    started = time.process_time()
                    if phase == "profiled":
                        delivery.enable()
                    while services.delivery.run_once():
                        pass
                    if phase == "profiled":
                        delivery.disable()
                        sent += 1
                    plain["delivery"] += time.process_time() - started if phase == "timed" else 0.0
            everyone = len(warm) + len(timed) + len(profiled)
            deadline = time.monotonic() + 10
            while len(stubs.registry.stored) < everyone and time.monotonic() < deadline:
                services.delivery.run_once()
            if refused := stubs.provider.violations + stubs.registry.violations:
                raise RuntimeError(f"the stand-ins refused calls: {refused}")
    finally:
        stubs.close()
        logging.disable(logging.NOTSET)
    return (_phase("intake (webhook to commit)", intake, sent, top, plain["intake"]),
            _phase("delivery (claim to recorded send)", delivery, sent, top, plain["delivery"]))


def render(database: str, phases: tuple[Phase, ...]) -> str:
    """The phases as markdown: a group table and the top functions of each."""
    lines = [f"Profile on {database} (`python -m bench.profile --database {database}`; cProfile inflates every "
             f"call, so compare the shares): {phases[0].messages} messages.", ""]
    for phase in phases:
        lines += [f"**{phase.name}**: {phase.ms_per_message:.2f} ms of CPU per message ({phase.profiled_ms:.2f} ms "
                  "under the profiler, as the shares below).", "",
                  "| package | ms per message | share |", "| --- | ---: | ---: |"]
        lines += [f"| {group} | {ms:.3f} | {ms / phase.profiled_ms:.0%} |" for group, ms in phase.groups if ms >= 0.005]
        lines += ["", "| function (own time) | ms per message | calls per message |", "| --- | ---: | ---: |"]
        lines += [f"| `{function}` | {ms:.3f} | {calls} |" for function, ms, calls in phase.top]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    print(render(args.database, run(args.database, args.conversations, args.top)))


if __name__ == "__main__":
    main()
