"""Cost as the data grows: the admin pages timed on a full database, with their query plans.

``run(kind, url)`` serves the real app (``bot.app.create_app`` and the real services, through
Flask's test client, signed in as an admin the way a browser is) on a database that
``bench.seed`` filled, and times each admin page: a few warm-up requests, then the median and
the maximum of several. While each page answers once more, every SQL statement it sends is
recorded, and the plan of each statement that reads the big tables is collected
(PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)``; SQLite: ``EXPLAIN QUERY PLAN``). The streamed
export is checked too: time to its first rows, its pace, and how much the process grows while
the first rows stream (it must stay flat: rows are read in batches from one snapshot).
``render(results)`` is the markdown section for the report.

    python -m bench.growth --databases sqlite,postgresql [--complaints N --messages M]
    python -m bench.growth --url sqlite=sqlite:///PATH --url postgresql=postgresql+psycopg://...

The first form seeds a fresh SQLite file and a fresh PostgreSQL schema (as ``bench.stack``
does), measures, and drops them; the second measures databases seeded before (``bench.seed``
with its default data key).
"""
from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parent.parent
DATA_KEY = "bench-data-key"  # bench.seed's default
REPEATS = 7
WARM_UP = 2
BUDGET_MS = 300.0
EXPORT_ROWS = 20_000  # rows of the export streamed for the flatness check
INTAKE_CONCURRENCY = 8
INTAKE_PEOPLE = 48  # bench.run's c=8 cell at scale 1
INTAKE_BUDGET = 0.20  # the seeded database's latency at most this much above the empty one's
BIG_TABLES = ("complaints", "messages", "outbox", "conversations", "funnel_counts", "attachments")


@dataclass(frozen=True)
class PageTiming:
    name: str
    path: str
    status: int
    median_ms: float
    max_ms: float
    bytes: int


@dataclass(frozen=True)
class Plan:
    page: str
    statement: str
    plan: str


@dataclass(frozen=True)
class ExportCheck:
    first_rows_ms: float  # until the first chunk of rows arrived
    rows: int
    rows_per_second: float
    rss_growth_kib: int  # resident memory gained while those rows streamed


@dataclass(frozen=True)
class Latency:
    """One c=8 run's latencies, in ms: to the service's 2xx (intake) and to the reply at the
    provider, with its audit's verdict."""

    messages: int
    ack_p50_ms: float
    ack_p99_ms: float
    reply_p50_ms: float
    reply_p99_ms: float
    problems: tuple[str, ...]

    @classmethod
    def of(cls, result: Any) -> Latency:
        from bench.driver import percentile

        stats = result.stats
        problems = tuple(result.audit.problems) if result.audit else ("not audited",)
        return cls(stats.sent, percentile(stats.acks, .5) * 1000, percentile(stats.acks, .99) * 1000,
                   stats.percentile(.5) * 1000, stats.percentile(.99) * 1000, problems)


@dataclass(frozen=True)
class IntakeComparison:
    """The same c=8 load on an empty database and on the seeded one, one set-up."""

    setup: str
    empty: Latency
    seeded: Latency

    def change(self, name: str) -> float:
        """How much slower (+) or faster (-) the seeded database was, for one Latency figure."""
        before, after = getattr(self.empty, name), getattr(self.seeded, name)
        return after / before - 1 if before else float("nan")

    @property
    def within_budget(self) -> bool:
        """The target: the seeded database within INTAKE_BUDGET of the empty one, at the median
        and at the 99th percentile, to the reply (which includes the intake)."""
        return all(self.change(name) <= INTAKE_BUDGET for name in ("reply_p50_ms", "reply_p99_ms"))


@dataclass
class GrowthResult:
    kind: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows
    pages: list[PageTiming] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    export: ExportCheck | None = None
    seed_summary: str = ""
    repeats: int = REPEATS
    intake: list[IntakeComparison] = field(default_factory=list)
    backlog: int = 0  # seeded outbox rows set aside before the intake runs (set_backlog_aside)

    def over_budget(self) -> list[PageTiming]:
        return [page for page in self.pages if page.median_ms > BUDGET_MS]


def _rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Statements:
    """The SQL statements (and parameters) sent while ``recording``, on every engine."""

    def __init__(self) -> None:
        self.recording = False
        self.seen: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        event.listen(Engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if self.recording and not executemany:
            with self._lock:
                self.seen.append((statement, parameters))

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._record)

    @contextmanager
    def record(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen = []
        self.recording = True
        try:
            yield self.seen
        finally:
            self.recording = False


def _reads_big_tables(statement: str) -> bool:
    lowered = statement.lower()
    return lowered.lstrip().startswith(("select", "with")) and \
        any(re.search(rf"\b(from|join)\s+{table}\b", lowered) for table in (*BIG_TABLES, "complaints_search"))


CLAIM_STATEMENTS = ("select", "update", "with")  # how a claim's statements begin


def _claim_plans(engine: Engine, statements: _Statements) -> list[Plan]:
    """The plans of a delivery worker's claim (with the sweep for lapsed leases), run on the
    seeded outbox and rolled back: its UPDATEs, which pick the rows they claim, included (on
    PostgreSQL the claim is an UPDATE in a WITH)."""
    from sqlalchemy.orm import Session

    from storage import repository as repo

    with statements.record() as seen, Session(engine) as session:
        repo.claim_outbox(session, now=repo.utcnow(), limit=32, lease_seconds=30)
        session.rollback()
    return [Plan("delivery claim", statement, _explain(engine, statement, parameters))
            for statement, parameters in list(seen) if statement.lower().lstrip().startswith(CLAIM_STATEMENTS)]


def _explain(engine: Engine, statement: str, parameters: Any) -> str:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            lines = [f"{'  ' * _depth(rows, parent)}{detail}"
                     for rows in [cursor.fetchall()] for node, parent, _, detail in rows]
        connection.rollback()
        return "\n".join(lines)
    finally:
        connection.close()


def _depth(rows: Sequence[Any], parent: int) -> int:
    parents = {row[0]: row[1] for row in rows}
    depth = 0
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth


def _pages(sample: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of each admin page measured."""
    return [
        ("complaints list", "/admin/complaints/"),
        ("list, filtered (status, province)", "/admin/complaints/?status=in_progress&province=32"),
        ("list, filtered (rare combination)", f"/admin/complaints/?status=rejected&regency={sample['regency']}"
                                              "&category=education&channel=telegram"),
        ("list, deep page (keyset)", f"/admin/complaints/?before={sample['middle_id']}"),
        ("search, common phrase", "/admin/complaints/?q=jalan+rusak"),
        ("search, rare phrase", f"/admin/complaints/?q={sample['rare'].replace(' ', '+')}"),
        ("search, no match", "/admin/complaints/?q=zzqx+tidak+ada"),
        ("search, tracking number", f"/admin/complaints/?q={sample['number']}"),
        ("search + filter", "/admin/complaints/?q=puskesmas&status=resolved"),
        ("complaint detail", f"/admin/complaints/{sample['number']}"),
        ("deliveries: dead letter", "/admin/deliveries/?status=dead"),
        ("deliveries: done", "/admin/deliveries/?status=done"),
        ("deliveries: pending", "/admin/deliveries/?status=pending"),
        ("funnel", "/admin/scripts/complaint/funnel"),
    ]


def _sample(engine: Engine) -> dict[str, Any]:
    """What the pages ask for: a complaint from the middle of the table (its tracking number and
    a rare phrase of its description), a regency, the middle id."""
    with engine.connect() as connection:
        middle = int(connection.execute(text("SELECT (MIN(id) + MAX(id)) / 2 FROM complaints")).scalar_one())
        number, description, regency = (str(value) for value in connection.execute(text(
            "SELECT tracking_number, description, regency_code FROM complaints WHERE id >= :id "
            "AND regency_code IS NOT NULL ORDER BY id LIMIT 1"), {"id": middle}).one())
    found = re.search(r"(No\. \d+|RT \d+/RW \d+)", description)
    rare = found.group(1) if found else description[10:24]
    street = re.search(r"(Jl\. [A-Z][a-z]+|Gang [A-Z][a-z]+)", description)
    return {"middle_id": int(middle), "number": number, "regency": regency,
            "rare": f"{street.group(1)} {rare}" if street else rare}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("contacts", "conversations", "complaints", "messages", "attachments", "outbox")}


def _signed_in(app: Any, services: Any) -> Any:
    """A test client signed in as a fresh admin account, the way a browser signs in."""
    from bot.admin.passwords import hash_password
    from storage import repository as repo

    name, password = f"growth-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    with services.db.transaction() as s:
        repo.add_admin_user(s, name=name, role="admin", password_hash=hash_password(password), now=repo.utcnow())
    client = app.test_client()
    form = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    response = client.post("/admin/login", data={"csrf_token": token.group(1) if token else "", "name": name,
                                                 "password": password})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"could not sign in to /admin: {response.status_code}")
    return client


def _export(client: Any) -> ExportCheck:
    """Stream the CSV export for EXPORT_ROWS rows: the first rows' delay, the pace, the memory."""
    before = _rss_kib()
    peak = before
    started = time.perf_counter()
    response = client.get("/admin/complaints/export.csv", buffered=False)
    first = 0.0
    rows = 0
    iterator = iter(response.response)
    try:
        for chunk in iterator:
            if not first:
                first = time.perf_counter() - started
            rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
            if rows % 2000 < 2:
                peak = max(peak, _rss_kib())
            if rows >= EXPORT_ROWS:
                break
    finally:
        response.close()
    elapsed = time.perf_counter() - started
    return ExportCheck(round(first * 1000, 1), rows, round(rows / elapsed) if elapsed else 0.0,
                       max(peak, _rss_kib()) - before)


def run(kind: str, url: str, *, repeats: int = REPEATS, data_key: str = DATA_KEY) -> GrowthResult:
    """Time every admin page on the seeded database at ``url`` (``kind``: "sqlite" or
    "postgresql"), collect the plans of their queries, and check the export streams flat."""
    import logging

    from bot.app import create_app
    from bot.services import build_services, prepare_database
    from bot.settings import load_settings

    logging.disable(logging.WARNING)
    env = {"LAPOR_CONFIG": str(ROOT / "config.yaml"), "LAPOR_DATABASE_URL": url, "LAPOR_DATA_KEY": data_key,
           "LAPOR_SECRET_KEY": "bench-secret-key"}
    settings = load_settings(environ=env, embedded_worker=False)
    prepare_database(settings)  # migrated already: this imports the script files
    services = build_services(settings, channels={})
    statements = _Statements()
    result = GrowthResult(kind, repeats=repeats)
    try:
        app = create_app(settings, services)
        client = _signed_in(app, services)
        engine = services.db.engine
        result.rows = _counts(engine)
        sample = _sample(engine)
        for name, path in _pages(sample):
            for _ in range(WARM_UP):
                client.get(path)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(path)
                body = response.get_data()
                times.append((time.perf_counter() - started) * 1000)
            result.pages.append(PageTiming(name, path, response.status_code, round(statistics.median(times), 1),
                                           round(max(times), 1), len(body)))
            with statements.record() as seen:
                client.get(path)
            for statement, parameters in list(seen):
                if _reads_big_tables(statement):
                    result.plans.append(Plan(name, statement, _explain(engine, statement, parameters)))
        result.plans += _claim_plans(engine, statements)
        result.export = _export(client)
    finally:
        statements.close()
        services.close()
        logging.disable(logging.NOTSET)
    return result


def set_backlog_aside(url: str) -> int:
    """Postpone the seeded database's open outbox rows (the seeder leaves 7% of complaints
    queued for the registry and a few replies pending) to the year 9999, and say how many.
    The intake comparison measures the data's volume; a backlog's drain would load the worker
    and is what the registry-drain benchmark measures. The rows stay pending, as they were."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from storage.db import make_engine
    from storage.models import Outbox

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            return conn.execute(update(Outbox).where(Outbox.status.in_(("pending", "sending")))
                                .values(status="pending", lease_until=None,
                                        next_attempt_at=datetime(9999, 1, 1, tzinfo=UTC))).rowcount
    finally:
        engine.dispose()


def intake(kind: str, database: Any, setups: Sequence[Any], concurrency: int = INTAKE_CONCURRENCY,
           people: int = INTAKE_PEOPLE) -> list[IntakeComparison]:
    """For each set-up (``bench.stack.Setup``), the load matrix's c=8 cell on a fresh, empty
    database of ``kind``, then on ``database`` (a seeded ``bench.stack.Database``, kept; the
    audit counts only what the run added; ``set_backlog_aside`` first). Every run has citizens
    of its own, so none finds a conversation of an earlier one."""
    import asyncio

    from bench.driver import citizens
    from bench.load import conversations, measured

    found = []
    for index, setup in enumerate(setups):
        runs = {}
        for label, seeded_db in (("empty", None), ("seeded", database)):
            first = 200_000 + 10_000 * (2 * index + (seeded_db is not None))
            if seeded_db is not None:
                seeded_db.count_from_here()
            scenario = conversations(citizens(people, first), concurrency, warm_from=first + 5_000)
            result = asyncio.run(measured(f"{kind} c={concurrency} {label}", kind, setup, scenario,
                                          database=seeded_db))
            runs[label] = Latency.of(result)
            print(f"growth intake {setup.name} {kind} {label}: reply p50 {runs[label].reply_p50_ms:.0f} ms, "
                  f"p99 {runs[label].reply_p99_ms:.0f} ms, {'clean' if not runs[label].problems else 'PROBLEMS'}",
                  flush=True)
        found.append(IntakeComparison(setup.name, runs["empty"], runs["seeded"]))
    return found


def _intake_lines(results: Sequence[GrowthResult]) -> list[str]:
    rows = [(result.kind, comparison) for result in results for comparison in result.intake]
    if not rows:
        return []
    lines = ["", f"Intake at c={INTAKE_CONCURRENCY} ({INTAKE_PEOPLE} citizens' whole conversations after a warm-up, "
             f"the load matrix's cell), on an empty database and then on the seeded one, one after the other; "
             f"ms, webhook to the service's 2xx (intake) and to the reply at the provider. Target: the seeded "
             f"database's reply p50 and p99 within {INTAKE_BUDGET:.0%} of the empty one's. The seeded "
             f"backlog ({', '.join(f'{r.backlog:,} open outbox rows, {r.kind}' for r in results if r.intake)}) "
             f"was postponed first: this measures the data's volume, not a backlog's drain.", "",
             "| set-up | database | intake p50 / p99, empty | seeded | reply p50 / p99, empty | seeded "
             "| reply change p50 / p99 | target | audits |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for kind, c in rows:
        problems = [*c.empty.problems, *c.seeded.problems]
        lines.append(
            f"| {c.setup} | {kind} | {c.empty.ack_p50_ms:.1f} / {c.empty.ack_p99_ms:.1f} "
            f"| {c.seeded.ack_p50_ms:.1f} / {c.seeded.ack_p99_ms:.1f} "
            f"| {c.empty.reply_p50_ms:.0f} / {c.empty.reply_p99_ms:.0f} "
            f"| {c.seeded.reply_p50_ms:.0f} / {c.seeded.reply_p99_ms:.0f} "
            f"| {c.change('reply_p50_ms'):+.0%} / {c.change('reply_p99_ms'):+.0%} "
            f"| {'✓' if c.within_budget else '✗ missed'} | {'clean' if not problems else '; '.join(problems)} |")
    return lines


def render(results: Sequence[GrowthResult]) -> str:
    """The "Cost as the data grows" markdown section: page x database -> median (max) ms, the
    export check, and the query plans in collapsible blocks."""
    lines = ["## Cost as the data grows", ""]
    for result in results:
        sizes = ", ".join(f"{count:,} {table}" for table, count in result.rows.items())
        lines.append(f"- **{result.kind}**: {sizes}" + (f" ({result.seed_summary})" if result.seed_summary else ""))
    repeats = max((result.repeats for result in results), default=REPEATS)
    lines += ["", f"Each admin page, served by the real app (Flask test client, signed in), median (max) of "
              f"{repeats} requests after {WARM_UP} warm-up ones, in ms; budget {BUDGET_MS:g} ms.", ""]
    kinds = [result.kind for result in results]
    lines.append("| page | " + " | ".join(kinds) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in kinds) + " |")
    names = list(dict.fromkeys(page.name for result in results for page in result.pages))
    for name in names:
        cells = []
        for result in results:
            page = next((p for p in result.pages if p.name == name), None)
            if page is None:
                cells.append("-")
                continue
            flag = "" if page.status == 200 and page.median_ms <= BUDGET_MS else " ⚠" if page.status == 200 else \
                f" (HTTP {page.status})"
            cells.append(f"{page.median_ms:.0f} ({page.max_ms:.0f}){flag}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += _intake_lines(results)
    lines.append("")
    for result in results:
        if result.export is not None:
            export = result.export
            lines.append(f"- Export ({result.kind}, CSV, streamed): first rows after {export.first_rows_ms:.0f} ms, "
                         f"{export.rows:,} rows at {export.rows_per_second:,.0f} rows/s, the process grew by "
                         f"{export.rss_growth_kib / 1024:.1f} MiB while they streamed.")
    for result in results:
        lines += ["", "<details><summary>Query plans, " + result.kind + "</summary>", ""]
        for plan in result.plans:
            statement = re.sub(r"\s+", " ", plan.statement).strip()
            lines += [f"**{plan.page}**", "", "```sql", statement, "```", "```", plan.plan, "```", ""]
        lines.append("</details>")
    return "\n".join(lines) + "\n"


def _fresh(kind: str, workdir: Path) -> Any:
    from bench.stack import Database

    return Database.create(kind, workdir)


def seeded(kinds: Sequence[str], complaints: int = 1_000_000, messages: int = 10_000_000, *,
           repeats: int = REPEATS, setups: Sequence[Any] = ()) -> list[GrowthResult]:
    """``run`` on a fresh database of each kind, migrated and seeded first (``bench.seed``),
    then ``intake`` on it for each of ``setups``."""
    from bench.seed import seed
    from storage.migrate import upgrade

    results = []
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="lapor-growth-") as tmp:
            database = _fresh(kind, Path(tmp))
            try:
                upgrade(database.url)
                stats = seed(database.url, complaints, messages)
                result = run(kind, database.url, repeats=repeats)
                result.seed_summary = f"seeded in {stats.seconds:.0f} s"
                if setups:
                    result.backlog = set_backlog_aside(database.url)
                    result.intake = intake(kind, database, setups)
                results.append(result)
            finally:
                database.drop()
    return results


def _kinds(text: str) -> list[str]:
    return [kind.strip() for kind in text.split(",") if kind.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="fresh databases to seed and measure")
    parser.add_argument("--url", action="append", default=[], metavar="KIND=URL",
                        help="measure this seeded database instead (repeatable)")
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--setups", default="default,production",
                        help="set-ups whose c=8 intake is compared on an empty and the seeded database ('' for none)")
    args = parser.parse_args(argv)
    from bench.stack import Database, Setup

    known = {"default": Setup.default, "production": Setup.production}
    setups = [known[name]() for name in _kinds(args.setups)]
    results = []
    if args.url:
        for item in args.url:
            kind, _, url = item.partition("=")
            result = run(kind, url, repeats=args.repeats)
            if setups:
                result.backlog = set_backlog_aside(url)
                result.intake = intake(kind, Database.existing(kind, url), setups)
            results.append(result)
    else:
        results = seeded(_kinds(args.databases), args.complaints, args.messages, repeats=args.repeats,
                         setups=setups)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

