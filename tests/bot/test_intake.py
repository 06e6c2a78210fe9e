"""Intake against real SQLite and PostgreSQL: one transaction per message, nothing lost or doubled."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bot.scripts import sync_files
from bot.services import Services
from channels.base import InboundMessage, Location, Media
from storage import repository as repo
from storage.models import Attachment, Complaint, Contact, Conversation, Message, Outbox

PHONE = "+6281234567890"
HAPPY = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
         "Jl. Merdeka 1", "kemarin", "lewati", "1", "Budi Santoso", "ya"]


def send(services: Services, text: str, sender: str = PHONE, at: datetime | None = None, pmid: str | None = None, **extra):
    message = InboundMessage(channel="terminal", sender=sender, text=text, provider_message_id=pmid or uuid.uuid4().hex,
                             received_at=at or repo.utcnow(), **extra)
    return services.intake.handle(message)


def count(services: Services, model, *where) -> int:
    with services.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_whole_complaint_is_filed_queued_and_submitted(services: Services, outbox_terminal) -> None:
    results = [send(services, line) for line in HAPPY]
    number = results[-1].tracking_number
    assert number and number.startswith("LAP-") and number in results[-1].replies[-1]
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.type, complaint.category, complaint.category_code) == ("complaint", "infrastructure", "INFRA")
        assert complaint.agency == "Kementerian Pekerjaan Umum dan Perumahan Rakyat"
        assert complaint.anonymous is False and complaint.confidential is False
        assert services.cipher.decrypt(complaint.reporter_name_enc) == "Budi Santoso"
        assert complaint.status == "queued"
        kinds = sorted(row.kind for row in s.scalars(select(Outbox)))
        assert kinds.count("submission") == 1 and kinds.count("reply") == len(results)  # one message a turn
    delivered = services.delivery.drain()
    assert delivered == len(kinds)
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert complaint.status == "received" and complaint.registry_id == number and complaint.submitted_at
        assert set(s.scalars(select(Outbox.status))) == {"done"}
        assert set(s.scalars(select(Message.status).where(Message.direction == "out"))) == {"sent"}
    printed = outbox_terminal.getvalue()
    assert printed.count("LAPOR> ") == len(kinds) - 1 and number in printed


def test_the_same_provider_message_twice_is_one_step(services: Services) -> None:
    send(services, "halo")
    first = send(services, "1", pmid="SM-dup")
    again = send(services, "1", pmid="SM-dup")
    third = send(services, "1", pmid="SM-dup")
    assert not first.duplicate and again.duplicate and third.duplicate and again.replies == ()
    assert count(services, Message, Message.direction == "in") == 2
    with services.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        assert conversation.step_id == "title"


def test_status_is_told_only_to_the_contact_who_filed(services: Services) -> None:
    number = [send(services, line) for line in HAPPY][-1].tracking_number
    services.delivery.drain()
    mine = send(services, f"status {number.lower()}")
    assert mine.replies == (f"Laporan {number} (Jalan rusak): diterima instansi.",)
    theirs = send(services, f"STATUS {number}", sender="+6289999999999")
    assert theirs.replies == (f"Nomor {number} tidak ditemukan untuk nomor Anda. Periksa lagi nomornya.",)
    unknown = send(services, "STATUS LAP-000000")
    assert "tidak ditemukan" in unknown.replies[0]
    assert count(services, Conversation, Conversation.status == "active") == 0  # no report was opened by STATUS


def test_stop_silences_until_start(services: Services) -> None:
    send(services, "halo")
    asked = send(services, "BERHENTI")  # in the middle of a report: confirmed first
    assert asked.replies[0].startswith("Berhenti menerima pesan LAPOR!?")
    stopped = send(services, "ya")
    assert "tidak akan menerima pesan lagi" in stopped.replies[0]
    assert send(services, "1").replies == ()
    assert send(services, "halo?").replies == ()
    assert count(services, Message, Message.direction == "in") == 5  # still recorded
    back = send(services, "MULAI")
    assert back.replies[0] == "Selamat datang kembali." and "Jenis laporan" in back.replies[1]
    with services.db.transaction() as s:
        assert s.scalars(select(Contact)).one().opted_out is False


def test_stop_with_no_conversation_opens_none(services: Services) -> None:
    result = send(services, "stop")
    assert "no more" in result.replies[0] or "tidak akan" in result.replies[0]
    assert send(services, "halo").replies == ()
    assert "Selamat datang" in send(services, "start").replies[0]


def test_an_idle_conversation_expires_and_restarts(services: Services) -> None:
    t0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    send(services, "halo", at=t0)
    send(services, "1", at=t0 + timedelta(minutes=1))
    late = send(services, "judul yang terlambat", at=t0 + timedelta(days=2))
    assert late.replies[0].startswith("Sesi sebelumnya berakhir") and "Jenis laporan" in late.replies[1]
    with services.db.transaction() as s:
        statuses = sorted(s.scalars(select(Conversation.status)))
    assert statuses == ["active", "expired"]


def test_a_citizen_back_after_a_pause_is_told_where_they_were(services: Services) -> None:
    t0 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    for minute, line in enumerate(HAPPY[:4]):
        send(services, line, at=t0 + timedelta(minutes=minute))
    back = send(services, "halo", at=t0 + timedelta(hours=2))  # the default resume_after is 30 minutes
    assert back.replies[0].startswith("Selamat datang kembali") and "Kategori laporan?" in back.replies[0]
    assert "tidak dikenal" not in back.replies[0]
    with services.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        assert (conversation.status, conversation.step_id, conversation.state["failures"]) == ("active", "category", 0)


def test_a_running_conversation_keeps_its_script_version(services: Services, settings, tmp_path) -> None:
    send(services, "halo")
    send(services, "1")
    changed = (settings.scripts_dir / "complaint.yaml").read_text(encoding="utf-8").replace("Ceritakan apa", "Jelaskan apa")
    (tmp_path / "complaint.yaml").write_text(changed, encoding="utf-8")
    results = sync_files(services.db, tmp_path, repo.utcnow())
    assert results[0].version == 2 and results[0].published
    old = send(services, "Judul yang lama")
    assert "Ceritakan apa" in old.replies[0]
    fresh = [send(services, line, sender="+6281111111111") for line in ("halo", "1", "Judul baru")][-1]
    assert "Jelaskan apa" in fresh.replies[0]
    with services.db.transaction() as s:
        versions = sorted(s.scalars(select(Conversation.script_version)))
    assert versions == [1, 2]


def test_concurrent_messages_from_one_sender_are_serialised(services: Services) -> None:
    send(services, "halo")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            send(services, "1")  # the first moves on to the title; the other seven are too short for it
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with services.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        assert conversation.step_id == "title"
        assert conversation.state["failures"] == 7  # no lost update
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 9
        assert s.scalar(select(func.count()).select_from(Contact)) == 1


def test_phone_numbers_and_names_are_not_stored_in_clear(services: Services) -> None:
    for line in HAPPY:
        send(services, line)
    with services.db.transaction() as s:
        for table in ("contacts", "complaints", "messages", "outbox", "conversations"):
            rows = s.execute(text(f"SELECT * FROM {table}")).all()
            dump = repr(rows)
            assert PHONE not in dump and "81234567890" not in dump, table
            if table in ("contacts", "complaints"):
                assert "Budi Santoso" not in dump, table


def test_an_anonymous_complaint_has_no_reporter(services: Services) -> None:
    lines = HAPPY[:8] + ["anonim", "ya"]
    number = [send(services, line) for line in lines][-1].tracking_number
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert complaint.tracking_number == number
        assert complaint.anonymous is True and complaint.reporter_name_enc is None
        submission = services.delivery._submission(complaint, [], repo.utcnow())
    assert submission.reporter is None and submission.anonymous is True


def test_media_and_shared_location_reach_the_complaint(services: Services) -> None:
    for line in HAPPY[:5]:
        send(services, line)
    send(services, "", location=Location(-6.2, 106.816, "Monas, Jakarta"))
    send(services, "hari ini")
    send(services, "", media=(Media("https://example.invalid/m/1.jpg", "image/jpeg"),))
    for line in ("rahasia", "Budi", "ya"):
        send(services, line)
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.latitude, complaint.longitude, complaint.location_text) == (-6.2, 106.816, "Monas, Jakarta")
        assert complaint.attachments == [{"url": "https://example.invalid/m/1.jpg", "content_type": "image/jpeg"}]
        assert complaint.confidential is True and complaint.anonymous is False
        # the shared point resolved to its region, and so to the agency of the place
        assert complaint.region["regency"] == {"code": "31.71", "name": "Kota Administrasi Jakarta Pusat"}
        assert (complaint.province_code, complaint.regency_code) == ("31", "31.71")
        assert complaint.agency == "Pemerintah Provinsi DKI Jakarta"
        [attachment] = s.scalars(select(Attachment)).all()  # recorded with its message, to be downloaded
        assert (attachment.status, attachment.ref) == ("pending", "https://example.invalid/m/1.jpg")


def test_cek_status_lists_only_the_contacts_own_recent_reports_newest_first(services: Services) -> None:
    assert send(services, "cek status").replies == (
        "Belum ada laporan dari nomor Anda. Kirim pesan apa saja untuk membuat laporan.",)
    numbers = []
    for title in ("Jalan rusak", "Lampu mati", "Got mampet", "Pohon tumbang"):
        lines = [*HAPPY[:2], title, *HAPPY[3:]]
        numbers.append([send(services, line) for line in lines][-1].tracking_number)
    [send(services, line, sender="+6289999999999") for line in HAPPY]  # someone else's report
    listed = send(services, "laporan saya sudah sampai mana").replies[0].split("\n")
    assert listed[0] == "Laporan Anda:" and listed[-1] == "Balas nomor laporan untuk rinciannya."
    assert listed[1:-1] == [f"{numbers[3]} Pohon tumbang: diterima sistem, menunggu diteruskan",
                            f"{numbers[2]} Got mampet: diterima sistem, menunggu diteruskan",
                            f"{numbers[1]} Lampu mati: diterima sistem, menunggu diteruskan"]
    assert count(services, Conversation, Conversation.status == "active") == 0  # no report was started


def test_a_whole_complaint_first_is_interpreted_before_the_transaction(services: Services) -> None:
    assert services.interpreter is not None and services.interpreter.name == "builtin"
    first = send(services, "sy mau lapor, jln rusak parah bgt di desa sukamaju sejak kemarin")
    assert first.replies[0].startswith("Terima kasih, laporan Anda kami catat: Jln rusak parah bgt")
    assert "Sepertinya ini soal Infrastruktur. Benar? Balas YA" in first.replies[1]
    rest = [send(services, line) for line in ["ya", "gk ada", "2", "sudah benar"]]
    number = rest[-1].tracking_number
    assert number is not None  # 5 messages from the citizen
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint).where(Complaint.tracking_number == number)).one()
        assert (complaint.title, complaint.category, complaint.location_text) == (
            "Jln rusak parah bgt", "infrastructure", "desa sukamaju")
        assert complaint.incident_date is not None and complaint.anonymous
