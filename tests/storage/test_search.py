"""The complaints' text search (migration 0006: FTS5 trigram on SQLite, pg_trgm on PostgreSQL)
finds what a case-insensitive substring search finds, stays current as complaints change, and
pages by keyset with a bounded count."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text

from storage import repository as repo
from storage.db import Database
from storage.models import Complaint, Contact
from storage.repository import admin as admin_repo

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TITLES = ["Jalan rusak", "Lampu jalan mati", "Pungutan 100% liar", "Antrean_puskesmas lama", 'Kata "kutip" di sini',
          "ÉCOLE tutup", "Banjir di Jl. Merdeka"]
WORDS = ["jalan", "rusak", "parah", "sejak", "Januari", "warga", "RT 05/RW 03", "No. 17", "50%", "a_b", "\\n",
         "Sekolah", "puskesmas"]
QUERIES = ["jalan", "JALAN RUSAK", "n ru", "100%", "100% l", "_pusk", "a_b", '"kutip"', "kutip\" di", "école",
           "jl. merdeka", "no. 17", "rt 05/rw", "\\n", "zzqx", "ja", "%", "_", "lap-", "50%"]


def add(db: Database, cipher, rows: list[tuple[str, str, str]]) -> list[int]:
    with db.transaction() as s:
        contact = Contact(channel="sms", sender_hash=cipher.lookup_hash("+62812"), sender_enc=cipher.encrypt("+62812"))
        s.add(contact)
        s.flush()
        ids = []
        for index, (number, title, description) in enumerate(rows):
            complaint = Complaint(
                tracking_number=number, contact_id=contact.id, channel="sms", language="id", type="complaint",
                title=title, description=description, category="infrastructure", location_text="-",
                anonymous=False, confidential=False, status="received" if index % 3 else "resolved",
                created_at=NOW - timedelta(minutes=len(rows) - index))
            s.add(complaint)
            s.flush()
            ids.append(complaint.id)
    return ids


def reference(db: Database, query: str, status: str | None = None) -> list[int]:
    """Newest first, what a case-insensitive substring match over the three columns finds."""
    with db.reading() as s:
        rows = s.execute(select(Complaint.id, Complaint.tracking_number, Complaint.title, Complaint.description,
                                Complaint.status)).all()
    needle = query.casefold()
    return sorted((row.id for row in rows if (status is None or row.status == status) and any(
        needle in value.casefold() for value in (row.tracking_number, row.title, row.description))), reverse=True)


def found(db: Database, query: str, status: str | None = None, limit: int = 500) -> list[int]:
    with db.reading() as s:
        return [c.id for c in repo.find_complaints(s, text=query, status=status, limit=limit).rows]


@pytest.fixture
def complaints(db: Database, cipher) -> list[int]:
    rng = random.Random(5)
    rows = [(f"LAP-{index:06d}".replace("0", "A"), rng.choice(TITLES),
             " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))) for index in range(150)]
    return add(db, cipher, rows)


def test_search_finds_what_a_substring_match_finds(db: Database, complaints: list[int]) -> None:
    for query in [*QUERIES, "LAP-AAAA1A", "lap-aaaa1a"]:
        assert found(db, query) == reference(db, query), query
    assert found(db, "rusak", status="resolved") == reference(db, "rusak", status="resolved")
    assert found(db, "JALAN") and found(db, "zzqx") == []


def test_the_index_follows_changes(db: Database, complaints: list[int]) -> None:
    with db.transaction() as s:
        s.get(Complaint, complaints[0]).title = "Trotoar ambles total"
        s.get(Complaint, complaints[1]).status = "verified"  # not a searched column
        s.execute(delete(Complaint).where(Complaint.id == complaints[2]))
    assert found(db, "trotoar ambles") == [complaints[0]]
    for query in ("jalan", "rusak", "100%"):
        assert found(db, query) == reference(db, query)


def test_the_search_uses_its_index(db: Database, complaints: list[int]) -> None:
    with db.reading() as s:
        if db.dialect == "postgresql":
            s.execute(text("SET LOCAL enable_seqscan = off"))  # a table this small would be read whole
            plan = "\n".join(s.scalars(text(
                "EXPLAIN SELECT id FROM complaints WHERE title ILIKE '%jalan%' OR description ILIKE '%jalan%' "
                "OR tracking_number ILIKE '%jalan%'")))
            assert "ix_complaints_search" in plan
        else:
            plan = "\n".join(str(row[3]) for row in s.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM complaints_search WHERE complaints_search MATCH '\"jalan\"' "
                "ORDER BY rowid DESC LIMIT 50")))
            assert "VIRTUAL TABLE" in plan


def test_keyset_pages_and_a_bounded_count(db: Database, complaints: list[int], monkeypatch) -> None:
    monkeypatch.setattr(admin_repo, "COUNT_LIMIT", 100)
    newest_first = sorted(complaints, reverse=True)
    with db.reading() as s:
        first = repo.find_complaints(s, limit=40)
        assert [c.id for c in first.rows] == newest_first[:40] and (first.total, first.more) == (100, True)
        assert first.newer is None and first.older == newest_first[39]
        second = repo.find_complaints(s, before=first.older, limit=40)
        assert [c.id for c in second.rows] == newest_first[40:80] and second.newer == newest_first[40]
        back = repo.find_complaints(s, after=second.newer, limit=40)
        assert [c.id for c in back.rows] == newest_first[:40] and back.newer is None
        last = repo.find_complaints(s, before=newest_first[119], limit=40)
        assert [c.id for c in last.rows] == newest_first[120:] and last.older is None
        resolved = repo.find_complaints(s, status="resolved", limit=40)
        assert (resolved.total, resolved.more) == (50, False)
        searched = repo.find_complaints(s, text="jalan", limit=5)
        assert [c.id for c in searched.rows] == reference(db, "jalan")[:5]
        assert searched.total == min(100, len(reference(db, "jalan")))
