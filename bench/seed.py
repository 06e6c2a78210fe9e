"""A database as it looks after years of service: a million complaints, ten million messages.

``seed(url, complaints, messages)`` fills an already-migrated database (``lapor db upgrade``)
with realistic rows, fast, so that the admin pages and intake can be measured at that size
(``bench.growth``; the load driver, for intake latency on a full database):

* contacts: WhatsApp, SMS and Telegram citizens; ``sender_hash`` and ``sender_enc`` made by the
  real ``storage.crypto.DataCipher`` of ``data_key`` (so ``LAPOR_DATA_KEY=<data_key>`` finds and
  reads them), with made-up +62 numbers and chat ids that only ever exist encrypted; the key is
  recorded in ``data_keys`` as the service does. Reporter names and the personal texts of
  messages are encrypted once, as a small pool of blobs reused across rows (encrypting every row
  would be most of the time spent): they decrypt, they just repeat.
* conversations: one per complaint (completed), about 30% more that were cancelled or expired
  part-way (with the step they stopped at, their history and re-prompts), and a few thousand
  active ones, some idle past the idle timeout; states come from a pool of JSON variants.
* complaints: unique tracking numbers, statuses, types, categories, real Kemendagri regions
  (province and regency codes), and varied Indonesian titles and descriptions assembled from
  phrase pools with numbers and street names, so that text search has realistic selectivity.
* messages: the transcript of each conversation, in and out (``messages`` in all), with
  provider ids; outbox rows for every reply (mostly done, some dead or pending), a submission per
  complaint, and a download per attachment (one complaint in ten has a stored photo).

Speed: secondary indexes (and on SQLite the search triggers) are dropped while the rows go in
and built again afterwards, which is much faster than maintaining them row by row; the search
index and the funnel's counts are then rebuilt. PostgreSQL: COPY (``cursor.copy``) with foreign
key triggers off (``session_replication_role = replica``, when allowed), indexes built on two
connections at once, then VACUUM ANALYZE. SQLite: ``executemany`` in large transactions with
``synchronous=OFF`` for the seed only (WAL stays), and ``ANALYZE`` at the end, as ``PRAGMA
optimize`` would. Ids are assigned here, after whatever the database already holds.

    python -m bench.seed --url URL [--complaints N] [--messages M] [--data-key KEY]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url

from storage.crypto import DataCipher
from storage.models import DataKey, FunnelCount
from storage.repository.funnel import conversation_part
from storage.tracking import ALPHABET, PREFIX

CHUNK = 10_000  # conversations per batch
TABLES = ("contacts", "conversations", "complaints", "messages", "attachments", "outbox")
SCRIPT_ID = "complaint"
STEPS = ("report_type", "title", "description", "category", "location", "incident_date", "attachment", "privacy",
         "name", "confirm")
STATUSES = (("received", 20), ("verified", 15), ("in_progress", 25), ("resolved", 28), ("rejected", 5), ("queued", 7))
TYPES = (("complaint", 80), ("aspiration", 12), ("information_request", 8))
CHANNELS = (("whatsapp", 60), ("sms", 25), ("telegram", 15))
CATEGORIES = {"infrastructure": "INFRA", "health": "KES", "education": "PEND", "population": "DUK",
              "social_assistance": "BANSOS", "other": "LAIN"}
# (province code, province, regency code, regency): real Kemendagri codes
REGIONS = (
    ("11", "Aceh", "11.71", "Kota Banda Aceh"), ("12", "Sumatera Utara", "12.71", "Kota Medan"),
    ("12", "Sumatera Utara", "12.07", "Kabupaten Deli Serdang"), ("13", "Sumatera Barat", "13.71", "Kota Padang"),
    ("14", "Riau", "14.71", "Kota Pekanbaru"), ("16", "Sumatera Selatan", "16.71", "Kota Palembang"),
    ("18", "Lampung", "18.71", "Kota Bandar Lampung"), ("31", "DKI Jakarta", "31.71", "Kota Jakarta Selatan"),
    ("31", "DKI Jakarta", "31.72", "Kota Jakarta Timur"), ("31", "DKI Jakarta", "31.73", "Kota Jakarta Pusat"),
    ("31", "DKI Jakarta", "31.74", "Kota Jakarta Barat"), ("31", "DKI Jakarta", "31.75", "Kota Jakarta Utara"),
    ("32", "Jawa Barat", "32.73", "Kota Bandung"), ("32", "Jawa Barat", "32.04", "Kabupaten Bandung"),
    ("32", "Jawa Barat", "32.01", "Kabupaten Bogor"), ("32", "Jawa Barat", "32.71", "Kota Bogor"),
    ("32", "Jawa Barat", "32.75", "Kota Bekasi"), ("32", "Jawa Barat", "32.16", "Kabupaten Bekasi"),
    ("33", "Jawa Tengah", "33.74", "Kota Semarang"), ("33", "Jawa Tengah", "33.72", "Kota Surakarta"),
    ("34", "Daerah Istimewa Yogyakarta", "34.71", "Kota Yogyakarta"),
    ("34", "Daerah Istimewa Yogyakarta", "34.04", "Kabupaten Sleman"), ("35", "Jawa Timur", "35.78", "Kota Surabaya"),
    ("35", "Jawa Timur", "35.73", "Kota Malang"), ("35", "Jawa Timur", "35.15", "Kabupaten Sidoarjo"),
    ("36", "Banten", "36.71", "Kota Tangerang"), ("36", "Banten", "36.03", "Kabupaten Tangerang"),
    ("51", "Bali", "51.71", "Kota Denpasar"), ("52", "Nusa Tenggara Barat", "52.71", "Kota Mataram"),
    ("53", "Nusa Tenggara Timur", "53.71", "Kota Kupang"), ("61", "Kalimantan Barat", "61.71", "Kota Pontianak"),
    ("64", "Kalimantan Timur", "64.72", "Kota Samarinda"), ("64", "Kalimantan Timur", "64.71", "Kota Balikpapan"),
    ("71", "Sulawesi Utara", "71.71", "Kota Manado"), ("73", "Sulawesi Selatan", "73.71", "Kota Makassar"),
    ("91", "Papua", "91.71", "Kota Jayapura"),
)
STREETS = ("Jl. Merdeka", "Jl. Sudirman", "Jl. Diponegoro", "Jl. Ahmad Yani", "Jl. Gatot Subroto", "Jl. Pemuda",
           "Jl. Pahlawan", "Jl. Imam Bonjol", "Jl. Gajah Mada", "Jl. Hayam Wuruk", "Jl. Veteran", "Jl. Kartini",
           "Jl. Cendrawasih", "Jl. Melati", "Jl. Mawar", "Jl. Anggrek", "Jl. Kenanga", "Jl. Flamboyan",
           "Jl. Raya Bogor", "Jl. Raya Pasar Minggu", "Jl. Dago", "Jl. Asia Afrika", "Jl. Malioboro",
           "Jl. Pattimura", "Jl. Teuku Umar", "Jl. Cut Nyak Dien", "Jl. Wahid Hasyim", "Jl. Hasanuddin",
           "Gang Delima", "Gang Masjid", "Perumahan Griya Asri", "Kompleks Bumi Indah", "Pasar Baru", "Pasar Induk",
           "Terminal Kampung Rambutan", "Stasiun Manggarai", "Puskesmas Cempaka", "RSUD Kota")
PROBLEMS = {
    "infrastructure": ("Jalan berlubang", "Jalan rusak parah", "Lampu jalan mati", "Saluran air tersumbat",
                       "Jembatan retak", "Trotoar rusak", "Banjir setiap hujan", "Drainase meluap",
                       "Tiang listrik miring", "Pohon tumbang menutup jalan", "Sampah menumpuk", "Aspal mengelupas"),
    "health": ("Antrean puskesmas terlalu lama", "Obat tidak tersedia", "Petugas puskesmas tidak ramah",
               "Layanan BPJS ditolak", "Ambulans terlambat datang", "Posyandu tutup", "Biaya rumah sakit tidak jelas"),
    "education": ("Pungutan liar di sekolah", "Gedung sekolah rusak", "Guru sering tidak hadir",
                  "Zonasi PPDB tidak adil", "Dana BOS tidak transparan", "Seragam wajib dibeli di sekolah"),
    "population": ("KTP elektronik belum jadi", "Pembuatan KK dipersulit", "Akta kelahiran lama selesai",
                   "Blangko KTP habis", "Pungutan di kantor kelurahan", "Data kependudukan salah"),
    "social_assistance": ("Bansos tidak tepat sasaran", "BLT belum diterima", "Nama hilang dari DTKS",
                          "Sembako bantuan kurang", "Kartu PKH diblokir", "Bantuan dipotong oknum"),
    "other": ("Pelayanan kantor lambat", "Parkir liar", "Pedagang kaki lima menutup trotoar", "Kebisingan malam",
              "Pungutan liar", "Informasi layanan tidak jelas"),
}
OPENINGS = ("Sudah {n} minggu", "Sejak {month} lalu", "Sudah lebih dari {n} bulan", "Sejak awal tahun",
            "Beberapa hari terakhir", "Sudah {n} kali kami laporkan tetapi", "Sejak musim hujan")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
DETAILS = ("kondisinya semakin parah dan membahayakan pengendara motor",
           "warga sekitar sangat terganggu terutama anak sekolah", "belum ada tindakan dari pihak terkait",
           "sudah ada korban jatuh di lokasi", "petugas hanya datang melihat lalu pergi",
           "kami diminta membayar biaya tambahan tanpa kuitansi", "antrean mengular sampai siang",
           "lokasinya dekat sekolah dan pasar", "air menggenang setinggi lutut orang dewasa",
           "banyak lansia yang kesulitan", "kami sudah menghubungi RT dan RW", "tidak ada papan peringatan",
           "malam hari sangat gelap dan rawan kejahatan", "pihak kelurahan menyuruh menunggu tanpa kepastian")
CLOSINGS = ("Mohon segera ditindaklanjuti.", "Kami berharap ada perbaikan secepatnya.", "Terima kasih.",
            "Mohon dicek ke lokasi.", "Tolong dibantu, Bapak/Ibu.", "Semoga cepat ditangani.", "")
WORDS = ("warga", "motor", "mobil", "angkot", "ojek", "sekolah", "masjid", "pasar", "kantor", "balai", "desa",
         "kampung", "kelurahan", "kecamatan", "petugas", "lurah", "camat", "ketua", "pemuda", "ibu", "bapak")
BOT_PROMPTS = (
    "Selamat datang di LAPOR!, layanan pengaduan publik. Jawab beberapa pertanyaan singkat. Balas BANTUAN kapan "
    "saja.\nEnglish: reply EN.\n\nApa yang ingin Anda sampaikan?\n1. Pengaduan\n2. Aspirasi\n3. Permintaan informasi",
    "Tulis judul singkat laporan Anda.", "Ceritakan apa yang terjadi, selengkap mungkin.",
    "Pilih kategori:\n1. Infrastruktur\n2. Kesehatan\n3. Pendidikan\n4. Kependudukan\n5. Bantuan sosial\n6. Lainnya",
    "Di mana kejadiannya? Tulis alamat atau kirim lokasi.", "Kapan kejadiannya? Misalnya: kemarin, 12 Januari.",
    "Kirim foto atau dokumen pendukung, atau balas LEWATI.",
    "Bagaimana laporan ini ditampilkan?\n1. Dengan nama saya\n2. Anonim\n3. Rahasia", "Siapa nama Anda?",
    "Ringkasan laporan Anda:\n1. Jenis: Pengaduan\n2. Judul: ...\nBalas YA untuk mengirim atau nomor untuk mengubah.",
    "Terima kasih. Laporan Anda sudah diterima dengan nomor {number}. Balas STATUS {number} untuk cek status.",
)
REPLIES = ("1", "ya", "lewati", "kemarin", "2", "1", "3", "tadi pagi", "minggu lalu", "benar", "oke")
NAMES = ("Budi Santoso", "Siti Aminah", "Agus Salim", "Dewi Lestari", "Rudi Hartono", "Sri Wahyuni", "Andi Pratama",
         "Rina Marlina", "Joko Susilo", "Nur Hidayah", "Ahmad Fauzi", "Yuni Kartika")
REDACTED = "[disembunyikan]"  # bot.privacy.REDACTED
ERRORS = ("Twilio 21610: Attempt to send to unsubscribed recipient", "Telegram 403: bot was blocked by the user",
          "registry 422: location_text is required", "Twilio 63016: outside the 24-hour window")
DAY = 86_400
SPAN_DAYS = 730  # the seeded history: two years


@dataclass
class SeedStats:
    """What ``seed`` wrote, and how long each phase took."""

    url: str
    dialect: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        load = self.phases.get("load", self.seconds)
        return self.total_rows / load if load else 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{table} {count:,}" for table, count in self.rows.items())
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
        return (f"seeded {self.dialect}: {counts} in {self.seconds:.1f} s ({phases}; "
                f"{self.rows_per_second:,.0f} rows/s while loading)")


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]], count: int) -> list[str]:
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs], k=count)


class _Clock:
    """Timestamps as the text both databases read (naive UTC, PostgreSQL's session zone is UTC),
    formatted cheaply: everything but the seconds is cached per minute."""

    SECONDS = tuple(f"{second:02d}.000000" for second in range(60))

    def __init__(self) -> None:
        self._minutes: dict[int, str] = {}

    def __call__(self, epoch: int) -> str:
        minute, second = divmod(epoch, 60)
        prefix = self._minutes.get(minute)
        if prefix is None:
            prefix = self._minutes[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M:")
        return prefix + self.SECONDS[second]


class _Text:
    """Titles and descriptions from the phrase pools."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def complaint(self, category: str) -> tuple[str, str, str]:
        """(title, description, location text)."""
        rng = self.rng
        problem = rng.choice(PROBLEMS[category])
        street = rng.choice(STREETS)
        place = f"{street} No. {rng.randint(1, 250)}" if rng.random() < 0.6 else \
            f"{street} RT {rng.randint(1, 15):02d}/RW {rng.randint(1, 12):02d}"
        title = f"{problem} di {street}" if rng.random() < 0.7 else problem
        opening = rng.choice(OPENINGS).format(n=rng.randint(2, 9), month=rng.choice(MONTHS))
        parts = [f"{opening} {problem.lower()} di {place}.",
                 f"{rng.choice(DETAILS).capitalize()}, {rng.choice(DETAILS)}."]
        if rng.random() < 0.5:
            parts.append(f"Banyak {rng.choice(WORDS)} dan {rng.choice(WORDS)} yang mengeluh.")
        if rng.random() < 0.3:
            parts.append(f"Kejadian terakhir tanggal {rng.randint(1, 28)} {rng.choice(MONTHS)}.")
        parts.append(rng.choice(CLOSINGS))
        return title[:200], " ".join(p for p in parts if p), place


def _state_pool(rng: random.Random) -> dict[str, list[tuple[str, str | None, str]]]:
    """(status, step_id, state JSON) variants per kind of conversation: completed (named and
    anonymous), abandoned at each step, active at each step."""

    def state(status: str, step: str, history: Sequence[str], reprompts: dict[str, int], anonymous: bool) -> str:
        answers = {"report_type": "complaint", "category": rng.choice(list(CATEGORIES)), "incident_date": "2026-11-20",
                   "privacy": "anonymous" if anonymous else "named", "attachment": None}
        return json.dumps({
            "script_id": SCRIPT_ID, "script_version": 1, "language": rng.choice(("id", "id", "id", "en")),
            "step_id": step, "status": status, "answers": {k: v for k, v in answers.items() if k in history},
            "history": list(history), "failures": 0, "reprompts": reprompts, "editing": None,
            "started_at": "2026-11-20T06:00:00+00:00", "updated_at": "2026-11-20T06:09:00+00:00",
            "prefilled": [], "proposals": {}, "pending": None, "places": []}, separators=(",", ":"))

    def reprompts() -> dict[str, int]:
        roll = rng.random()
        if roll < 0.6:
            return {}
        return {rng.choice(STEPS[:8]): rng.randint(1, 3) for _ in range(1 if roll < 0.9 else 2)}

    pool: dict[str, list[tuple[str, str | None, str]]] = {"completed": [], "abandoned": [], "active": []}
    for _ in range(48):
        anonymous = rng.random() < 0.25
        steps = [s for s in STEPS if not (anonymous and s == "name")]
        pool["completed"].append(("completed", "confirm", state("completed", "confirm", steps[:-1], reprompts(),
                                                                anonymous)))
        stop = rng.randrange(len(STEPS) - 1)
        status = rng.choice(("cancelled", "expired", "expired"))
        pool["abandoned"].append((status, STEPS[stop], state(status, STEPS[stop], STEPS[:stop], reprompts(), False)))
        stop = rng.randrange(len(STEPS) - 1)
        pool["active"].append(("active", STEPS[stop], state("active", STEPS[stop], STEPS[:stop], reprompts(), False)))
    return pool


def _tracking_numbers(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    numbers: list[str] = []
    for value in rng.sample(range(len(ALPHABET) ** 6), count + len(taken)):
        digits = []
        for _ in range(6):
            value, index = divmod(value, len(ALPHABET))
            digits.append(ALPHABET[index])
        number = PREFIX + "".join(digits)
        if number not in taken:
            numbers.append(number)
            if len(numbers) == count:
                break
    return numbers


class _Writer:
    """Writes batches of rows (tuples in column order) into one database."""

    dialect = ""

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError


class _SQLiteWriter(_Writer):
    dialect = "sqlite"

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        self.cursor = self.connection.cursor()
        for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000", "temp_store=MEMORY"):
            self.cursor.execute(f"PRAGMA {pragma}")
        self.cursor.execute("BEGIN")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            marks = ", ".join("?" * len(columns))
            self.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.cursor.execute("COMMIT")
        self.cursor.execute("BEGIN")

    def close(self) -> None:
        self.cursor.execute("COMMIT")
        self.connection.close()


class _PostgresWriter(_Writer):
    dialect = "postgresql"

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        driver = self.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        with self.driver.cursor() as cursor:
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute("SET synchronous_commit = off")
            try:
                cursor.execute("SET session_replication_role = replica")  # no FK triggers per row
            except Exception:  # noqa: BLE001 (not a superuser: the foreign keys are checked, slower)
                self.driver.rollback()
                cursor.execute("SET TimeZone = 'UTC'")
                cursor.execute("SET synchronous_commit = off")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.driver.commit()

    def close(self) -> None:
        self.driver.commit()
        self.connection.close()


CONTACT_COLUMNS = ("id", "channel", "sender_hash", "sender_enc", "name_enc", "language", "opted_out", "created_at",
                   "updated_at", "last_inbound_at")
CONVERSATION_COLUMNS = ("id", "contact_id", "script_id", "script_version", "status", "step_id", "state", "started_at",
                        "updated_at", "ended_at")
COMPLAINT_COLUMNS = (
    "id", "tracking_number", "contact_id", "conversation_id", "channel", "language", "type", "title", "description",
    "category", "category_code", "agency", "location_text", "latitude", "longitude", "region", "province_code",
    "regency_code", "incident_date", "anonymous", "confidential", "reporter_name_enc", "attachments", "answers",
    "status", "registry_id", "registry_token", "registry_checked_at", "status_note", "callback_at", "callback_digest",
    "created_at", "updated_at", "submitted_at")
MESSAGE_COLUMNS = ("id", "contact_id", "conversation_id", "direction", "channel", "provider_message_id", "text",
                   "text_enc", "payload", "status", "error", "created_at", "updated_at")
ATTACHMENT_COLUMNS = ("id", "contact_id", "message_id", "position", "channel", "ref", "declared_type", "status", "kind",
                      "content_type", "size", "sha256", "thumb_sha256", "transcript", "error", "created_at",
                      "updated_at")
OUTBOX_COLUMNS = ("id", "kind", "channel", "contact_id", "message_id", "complaint_id", "attachment_id", "payload",
                  "status", "attempts", "reclaims", "next_attempt_at", "lease_until", "last_error", "created_at",
                  "updated_at", "done_at")
GOLDEN = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: i * GOLDEN mod 2**128 is a bijection (unique, random-looking ids)


class _Generator:
    """Makes the rows, batch by batch."""

    def __init__(self, complaints: int, messages: int, cipher: DataCipher, start: dict[str, int], now: int,
                 taken_numbers: set[str], seed: int = 14) -> None:
        self.rng = random.Random(seed)
        self.cipher = cipher
        self.clock = _Clock()
        self.text = _Text(self.rng)
        self.now = now
        self.ids = dict(start)  # table -> next id
        self.complaints = complaints
        self.abandoned = complaints * 3 // 10
        self.active = min(3000, max(5, complaints // 100))
        self.conversations = complaints + self.abandoned + self.active
        self.contacts = max(1, complaints * 3 // 4)
        spare = messages - 3 * self.abandoned - 4 * self.active
        self.per_complaint, self.extra = divmod(max(spare, 2 * complaints), max(1, complaints))
        self.messages_target = messages
        self.states = _state_pool(self.rng)
        self.numbers = _tracking_numbers(self.rng, complaints, taken_numbers)
        self.names = [cipher.encrypt(name) for name in NAMES]
        self.regions = [(p, r, json.dumps({"province": {"code": p, "name": pn}, "regency": {"code": r, "name": rn},
                                           "district": None, "village": None}, separators=(",", ":")))
                        for p, pn, r, rn in REGIONS]
        self.contact_channels: list[str] = []
        self.contact_base = self.ids["contacts"]
        self.variants: Counter[tuple[str, int]] = Counter()  # (kind, state variant) -> conversations

    def funnel_rows(self) -> list[tuple[Any, ...]]:
        """The funnel counts of the ended conversations made (what ``count_ended`` would have
        added up), from the state variants used."""
        totals: dict[str, list[int]] = {}
        for (kind, variant), times in self.variants.items():
            if kind == "active":
                continue
            status, step_id, state = self.states[kind][variant]
            for step, part in conversation_part(status, step_id, json.loads(state)).items():
                counts = totals.setdefault(step, [0, 0, 0, 0])
                for index, value in enumerate((part.reached, part.abandoned, part.reprompts, part.completed)):
                    counts[index] += value * times
        return [(SCRIPT_ID, step, 0, *counts) for step, counts in sorted(totals.items())]

    # ------------------------------------------------------------------ contacts

    def contact_rows(self) -> Iterator[list[tuple[Any, ...]]]:
        rng, clock, cipher = self.rng, self.clock, self.cipher
        channels = _weighted(rng, CHANNELS, self.contacts)
        self.contact_channels = channels
        batch: list[tuple[Any, ...]] = []
        for index, channel in enumerate(channels):
            contact_id = self.contact_base + index
            # made-up numbers and chat ids, never stored in clear
            sender = str(7_000_000_000 + contact_id * 7919 % 2_000_000_000) if channel == "telegram" else \
                f"+62857{contact_id * 7919 % 100_000_000:08d}"
            at = clock(self.now - rng.randrange(SPAN_DAYS * DAY))
            batch.append((contact_id, channel, cipher.lookup_hash(sender), cipher.encrypt(sender), None,
                          "en" if rng.random() < 0.05 else "id", rng.random() < 0.01, at, at, at))
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    # ------------------------------------------------------------------ conversations and all they made

    def batches(self) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
        """Conversations (completed, then abandoned, then active) with their messages,
        complaints, attachments and outbox rows, oldest first within each kind."""
        kinds = ["completed"] * self.complaints + ["abandoned"] * self.abandoned + ["active"] * self.active
        self.rng.shuffle(kinds)
        kinds.sort(key=lambda kind: kind == "active")  # the active ones are the newest
        complaint_index = 0
        for start in range(0, len(kinds), CHUNK):
            out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES if table != "contacts"}
            for position, kind in enumerate(kinds[start:start + CHUNK], start=start):
                if kind == "completed":
                    self._conversation(out, kind, position, complaint_index)
                    complaint_index += 1
                else:
                    self._conversation(out, kind, position, None)
            yield out

    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _conversation(self, out: dict[str, list[tuple[Any, ...]]], kind: str, position: int,
                      complaint_index: int | None) -> None:
        rng, clock = self.rng, self.clock
        contact_id = self.contact_base + rng.randrange(self.contacts)
        channel = self.contact_channels[contact_id - self.contact_base]
        variant = rng.randrange(len(self.states[kind]))
        self.variants[kind, variant] += 1
        status, step_id, state = self.states[kind][variant]
        if kind == "active":  # the last two days; some idle past the 24 h timeout
            started = self.now - rng.randrange(2 * DAY)
            count = 4
        else:  # spread over the span, in order
            started = self.now - SPAN_DAYS * DAY + int(position / self.conversations * (SPAN_DAYS - 2) * DAY)
            started += rng.randrange(3600)
            count = 3 if kind == "abandoned" else self.per_complaint + (complaint_index < self.extra
                                                                        if complaint_index is not None else 0)
        ended = started + 40 * count
        conversation_id = self._next("conversations")
        out["conversations"].append((conversation_id, contact_id, SCRIPT_ID, 1, status, step_id, state, clock(started),
                                     clock(ended), None if kind == "active" else clock(ended)))
        complaint: tuple[int, str, str, str, bool] | None = None
        photo = complaint_index is not None and rng.random() < 0.1
        if complaint_index is not None:
            complaint = self._complaint(out, contact_id, conversation_id, channel, ended, complaint_index,
                                        self._ref(self.ids["attachments"], channel) if photo else None)
        for index in range(count):
            at = started + 40 * index
            self._message(out, contact_id, conversation_id, channel, index, count, at, complaint, photo)

    def _complaint(self, out: dict[str, list[tuple[Any, ...]]], contact_id: int, conversation_id: int, channel: str,
                   at: int, index: int, photo: str | None) -> tuple[int, str, str, str, bool]:
        rng, clock = self.rng, self.clock
        complaint_id = self._next("complaints")
        number = self.numbers[index]
        category = rng.choice(list(CATEGORIES))
        title, description, place = self.text.complaint(category)
        status = _weighted(rng, STATUSES, 1)[0]
        province, regency, region = rng.choice(self.regions) if rng.random() < 0.85 else (None, None, "{}")
        anonymous = rng.random() < 0.25
        registry_id = None if status == "queued" else f"LPR-{2_000_000 + complaint_id}"
        created = clock(at)
        updated = clock(min(self.now, at + rng.randrange(30 * DAY))) if status != "queued" else created
        out["complaints"].append((
            complaint_id, number, contact_id, conversation_id, channel, "id", _weighted(rng, TYPES, 1)[0], title,
            description, category, CATEGORIES[category], f"Pemerintah {regency}" if regency else None, place,
            None, None, region, province, regency, "2026-11-20", anonymous, rng.random() < 0.1,
            None if anonymous else rng.choice(self.names),
            f'[{{"url":"{photo}","content_type":"image/jpeg"}}]' if photo else "[]",
            '{"report_type":"complaint","incident_date":"2026-11-20"}', status, registry_id, None, None,
            "Sudah diteruskan ke dinas terkait." if status in ("in_progress", "resolved") else None,
            None, None, created, updated, None if status == "queued" else clock(at + 5)))
        dead = status != "queued" and rng.random() < 0.002
        out["outbox"].append((
            self._next("outbox"), "submission", None, contact_id, None, complaint_id, None,
            f'{{"tracking_number":"{number}"}}', "pending" if status == "queued" else "dead" if dead else "done",
            1, 0, clock(at), None, ERRORS[2] if dead else None, clock(at), clock(at + 5),
            None if status == "queued" or dead else clock(at + 5)))
        return complaint_id, number, title, description, anonymous

    def _message(self, out: dict[str, list[tuple[Any, ...]]], contact_id: int, conversation_id: int, channel: str,
                 index: int, count: int, at: int, complaint: tuple[int, str, str, str, bool] | None,
                 photo: bool) -> None:
        rng, clock = self.rng, self.clock
        message_id = self._next("messages")
        created = clock(at)
        text_enc = None
        if index % 2 == 0:  # the citizen
            turn = index // 2
            payload = "{}"
            # a complaint's transcript, squeezed into its messages: greeting, title, description,
            # the photo, the name (redacted, kept encrypted) and the other short answers
            if turn == 0:
                body = "halo"
            elif complaint is None:
                body = rng.choice(REPLIES)
            elif turn == 1:
                body = complaint[2]
            elif turn == 2:
                body = complaint[3]
            elif turn == 3 and photo:
                body, payload = "", '{"media":[{"url":"ref","content_type":"image/jpeg"}]}'
            elif turn == 4 and not complaint[4]:
                body, text_enc = REDACTED, rng.choice(self.names)
            else:
                body = rng.choice(REPLIES)
            provider_id = str(800_000_000 + message_id) if channel == "telegram" else \
                f"SM{message_id * GOLDEN % 2**128:032x}"
            out["messages"].append((message_id, contact_id, conversation_id, "in", channel, provider_id, body,
                                    text_enc, payload, "received", None, created, created))
            if photo and body == "" and complaint is not None:
                self._photo(out, contact_id, message_id, channel, at)
            return
        turn = index // 2
        if complaint is not None and index == count - 1:
            body = BOT_PROMPTS[-1].format(number=complaint[1])
        else:
            body = BOT_PROMPTS[min(turn, len(BOT_PROMPTS) - 2)]
        roll = rng.random()
        state = "done" if roll < 0.995 else "dead" if roll < 0.998 else "pending"
        sent_id = None if state != "done" else str(1000 + index) if channel == "telegram" else \
            f"SM{(message_id + 2**64) * GOLDEN % 2**128:032x}"
        out["messages"].append((message_id, contact_id, conversation_id, "out", channel, sent_id, body, None,
                                '{"choices":[]}', "delivered" if state == "done" else "failed" if state == "dead"
                                else "queued", None, created, created))
        error = rng.choice(ERRORS[:2] + ERRORS[3:]) if state == "dead" else None
        out["outbox"].append((self._next("outbox"), "reply", channel, contact_id, message_id, None, None, "{}", state,
                              1 if state != "pending" else 0, 0, created, None, error, created, clock(at + 1),
                              clock(at + 1) if state == "done" else None))

    @staticmethod
    def _ref(attachment_id: int, channel: str) -> str:
        return f"tg-file:{attachment_id:x}" if channel == "telegram" else \
            f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM{attachment_id:030x}/Media/ME1"

    def _photo(self, out: dict[str, list[tuple[Any, ...]]], contact_id: int, message_id: int, channel: str,
               at: int) -> None:
        attachment_id = self._next("attachments")
        digest = f"{attachment_id * GOLDEN % 2**256:064x}"[-64:]
        ref = self._ref(attachment_id, channel)
        created, done = self.clock(at), self.clock(at + 3)
        out["attachments"].append((attachment_id, contact_id, message_id, 0, channel, ref, "image/jpeg", "stored",
                                   "image", "image/jpeg", 48_213 + attachment_id % 9000, digest, digest[::-1], None,
                                   None, created, done))
        out["outbox"].append((self._next("outbox"), "download", channel, contact_id, message_id, None, attachment_id,
                              "{}", "done", 1, 0, created, None, None, created, done, done))


COLUMNS = {"contacts": CONTACT_COLUMNS, "conversations": CONVERSATION_COLUMNS, "complaints": COMPLAINT_COLUMNS,
           "messages": MESSAGE_COLUMNS, "attachments": ATTACHMENT_COLUMNS, "outbox": OUTBOX_COLUMNS}


FUNNEL_COLUMNS = ("script_id", "step_id", "shard", "reached", "abandoned", "reprompts", "completed")


def _produce(generator: _Generator, queue: Any) -> None:
    """The producer process: every batch of rows, then the funnel counts."""
    for batch in generator.contact_rows():
        queue.put(("rows", {"contacts": batch}))
    for out in generator.batches():
        queue.put(("rows", out))
    queue.put(("done", generator.funnel_rows()))


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _secondary_ddl(engine: Engine) -> list[tuple[str, str, str]]:
    """(kind, name, DDL) of the indexes (and SQLite triggers) on the seeded tables that are not
    part of a primary key or unique constraint: dropped while loading, made again after."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text(
                "SELECT 'index', i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                "  (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"),
                {"tables": list(TABLES)}).all()
        else:
            rows = connection.execute(text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join(repr(t) for t in TABLES)})")).all()
    return [(str(kind), str(name), str(ddl)) for kind, name, ddl in rows]


def _execute(engine: Engine, statements: Iterable[str]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _build_indexes(engine: Engine, ddl: list[tuple[str, str, str]]) -> None:
    if engine.dialect.name != "postgresql":
        _execute(engine, [statement for _, _, statement in ddl])
        return

    def build(statement: str) -> None:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            connection.exec_driver_sql(statement)
            connection.commit()

    biggest_first = sorted(ddl, key=lambda item: (" messages " not in item[2], " outbox " not in item[2]))
    with ThreadPoolExecutor(2) as pool:  # two cores: two index builds at a time
        list(pool.map(build, [statement for _, _, statement in biggest_first]))


def seed(url: str, complaints: int = 1_000_000, messages: int = 10_000_000, *,
         data_key: str = "bench-data-key", progress: Callable[[str], None] | None = _say) -> SeedStats:
    """Fill the migrated database at ``url`` with ``complaints`` complaints and about ``messages``
    messages (and the contacts, conversations, attachments and outbox rows that go with them).
    ``data_key`` is the LAPOR_DATA_KEY that reads the personal data. Returns what was written."""
    say = progress or (lambda line: None)
    begun = time.monotonic()
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg")
                           if make_url(url).get_backend_name() == "postgresql" else url)
    stats = SeedStats(url=make_url(url).render_as_string(hide_password=True), dialect=engine.dialect.name)
    cipher = DataCipher.from_secret(data_key)
    try:
        with engine.connect() as connection:
            start = {table: int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()) + 1
                     for table in TABLES}
            taken: set[str] = set(connection.execute(text("SELECT tracking_number FROM complaints")).scalars())
        now = int(time.time()) // 60 * 60
        generator = _Generator(complaints, messages, cipher, start, now, taken)
        ddl = _secondary_ddl(engine)
        _execute(engine, [f"DROP {kind.upper()} IF EXISTS {name}" for kind, name, _ in ddl])
        stats.phases["prepare"] = time.monotonic() - begun
        phase = time.monotonic()
        writer: _SQLiteWriter | _PostgresWriter = _PostgresWriter(engine) if engine.dialect.name == "postgresql" \
            else _SQLiteWriter(engine)
        rows = dict.fromkeys(TABLES, 0)
        context = multiprocessing.get_context("fork")
        queue: Any = context.Queue(maxsize=3)
        producer = context.Process(target=_produce, args=(generator, queue), daemon=True)
        producer.start()  # the rows are made on the other core while this one writes
        funnel: list[tuple[Any, ...]] = []
        try:
            last, conversations = time.monotonic(), 0
            while True:
                kind, payload = queue.get()
                if kind == "done":
                    funnel = payload
                    break
                for table, batch in payload.items():
                    writer.write(table, COLUMNS[table], batch)
                    rows[table] += len(batch)
                writer.commit()
                conversations += len(payload.get("conversations", ()))
                if time.monotonic() - last > 10:
                    elapsed = time.monotonic() - phase
                    done = sum(rows.values())
                    say(f"  {conversations:,}/{generator.conversations:,} conversations, {rows['messages']:,} "
                        f"messages, {done:,} rows in {elapsed:.0f} s ({done / elapsed:,.0f} rows/s)")
                    last = time.monotonic()
        finally:
            writer.close()
            producer.join(timeout=10)
            if producer.is_alive():
                producer.kill()
        stats.rows = rows
        stats.phases["load"] = time.monotonic() - phase
        phase = time.monotonic()
        say(f"  building {len(ddl)} indexes and triggers")
        _build_indexes(engine, ddl)
        stats.phases["indexes"] = time.monotonic() - phase
        phase = time.monotonic()
        _finish(engine, cipher, funnel)
        stats.phases["search, statistics"] = time.monotonic() - phase
    finally:
        engine.dispose()
    stats.seconds = time.monotonic() - begun
    say("  " + stats.summary())
    return stats


def _finish(engine: Engine, cipher: DataCipher, funnel: list[tuple[Any, ...]]) -> None:
    """The search index rebuilt, sequences moved past the ids written,
    the data key recorded, the planner's statistics gathered."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if not postgres and connection.execute(text(
                "SELECT 1 FROM sqlite_master WHERE name = 'complaints_search'")).first():
            connection.exec_driver_sql("INSERT INTO complaints_search (complaints_search) VALUES ('rebuild')")
        if funnel:  # added to what is there, as count_ended adds
            insert = (pg_insert if postgres else sqlite_insert)(FunnelCount).values(
                [dict(zip(FUNNEL_COLUMNS, row, strict=True)) for row in funnel])
            connection.execute(insert.on_conflict_do_update(
                index_elements=["script_id", "step_id", "shard"],
                set_={name: getattr(FunnelCount, name) + getattr(insert.excluded, name)
                      for name in ("reached", "abandoned", "reprompts", "completed")}))
        if postgres:
            for table in TABLES:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        connection.execute((pg_insert if postgres else sqlite_insert)(DataKey)
                           .values(key_id=cipher.key_id, created_at=datetime.now(UTC))
                           .on_conflict_do_nothing(index_elements=["key_id"]))
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(TABLES)}, funnel_counts")
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit = 1000")  # as PRAGMA optimize does
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a migrated database: sqlite:///PATH or postgresql+psycopg://...")
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--data-key", default="bench-data-key", help="the LAPOR_DATA_KEY that will read the data")
    args = parser.parse_args(argv)
    seed(args.url, args.complaints, args.messages, data_key=args.data_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
