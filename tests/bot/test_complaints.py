"""bot.complaints through intake: the complaint is filed from the fields the steps declare,
whatever the steps are called; a conversation pinned to a script version this service cannot
run is closed kindly instead of failing every message."""
from __future__ import annotations

import uuid

from sqlalchemy import select, update

from bot.scripts import sync_files
from bot.services import Services
from channels.base import InboundMessage
from storage import repository as repo
from storage.models import Complaint, Conversation, ScriptVersion

LINES = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1", "Jl. Merdeka 1",
         "kemarin", "lewati", "1", "Budi Santoso", "ya"]


def send(services: Services, text: str) -> object:
    return services.intake.handle(InboundMessage("terminal", "+6281234567890", text, uuid.uuid4().hex, repo.utcnow()))


def test_a_copy_of_the_script_with_description_renamed_still_files_the_description(services: Services, settings,
                                                                                 tmp_path) -> None:
    """Reproduced: answers were read by step id, so this copy filed an empty description."""
    renamed = (settings.scripts_dir / "complaint.yaml").read_text(encoding="utf-8") \
        .replace("  - id: description\n", "  - id: cerita\n").replace("  - id: name\n", "  - id: nama_pelapor\n")
    (tmp_path / "complaint.yaml").write_text(renamed, encoding="utf-8")
    assert sync_files(services.db, tmp_path, repo.utcnow())[0].published
    number = [send(services, line) for line in LINES][-1].tracking_number
    with services.db.transaction() as s:
        complaint = repo.complaint_by_tracking(s, number)
        assert complaint.description == "Jalan di depan sekolah rusak parah sejak Januari."
        assert services.cipher.decrypt(complaint.reporter_name_enc) == "Budi Santoso"
        assert complaint.answers["cerita"] == complaint.description and "nama_pelapor" not in complaint.answers


def test_a_conversation_on_a_version_that_cannot_run_starts_afresh(services: Services) -> None:
    for line in LINES[:3]:
        send(services, line)
    with services.db.transaction() as s:  # as if the stored version were in a format this release refuses
        s.execute(update(ScriptVersion).values(text="format: 9\nid: complaint\n"))
        s.add(ScriptVersion(script_id="complaint", version=2, text=(services.settings.scripts_dir / "complaint.yaml")
                            .read_text(encoding="utf-8"), sha256="x", author="test", source="file", published=True,
                            created_at=repo.utcnow(), published_at=repo.utcnow()))
    services.catalog._parsed.clear()  # a fresh process: nothing parsed yet
    result = send(services, "Lubang besar di jalan desa kami sudah sebulan.")
    assert "Terima kasih, laporan Anda kami catat: Lubang besar" in "\n".join(result.replies)  # a new report, from this message
    with services.db.transaction() as s:
        assert sorted(s.execute(select(Conversation.status, Conversation.script_version))) == [("active", 2), ("expired", 1)]
        assert s.scalars(select(Complaint)).all() == []
