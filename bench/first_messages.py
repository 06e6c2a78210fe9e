"""Messages to a tracking number for citizens who write the whole complaint first.

Each of ``COMPLAINTS`` (written as citizens write: informal, abbreviated, some English) is sent
as a first message through the built-in interpreter and the engine; a scripted citizen then
answers whatever is asked (YES to a proposed category, a number at a menu, "gk ada" to the
attachment question, anonymous or a name, the place and the date when asked) until the tracking
number. Prints each count, the median and the maximum, and the interpreter's latency.

    .venv/bin/python -m bench.first_messages
"""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.nlu.interpreter import BuiltinInterpreter, load_builtin
from dialogs import engine
from dialogs.loader import load_script
from dialogs.model import AnswerType, Context, DialogState, EventKind, Inbound, Script

ROOT = Path(__file__).resolve().parent.parent
COMPLAINTS = (
    "sy mau lapor, jln rusak parah bgt di desa sukamaju sejak 2 minggu lalu",
    "Lampu jalan di Jl. Merdeka No. 10 mati sejak kemarin, gelap sekali kalau malam",
    "pak tolong, got di gang kami mampet tiap hujan rumah warga kebanjiran, sudah 3 bulan",
    "Puskesmas di kecamatan Cibeunying tutup jam 11 padahal jadwalnya sampai jam 2, kemarin sy ditolak",
    "anak sy dimintai uang seragam 750rb di SD Negeri 2 Sukamaju minggu lalu, katanya wajib",
    "e-KTP sy blm jadi udah 6 bulan, tiap ke dukcapil disuruh balik lagi",
    "bansos PKH ibu sy ga cair 3 bulan padahal namanya terdaftar, di desa Cikoneng banyak yg sama",
    "Sampah di pasar Kosambi menumpuk sejak kemarin dan baunya sampai ke rumah warga",
    "mau lapor pungli di kantor kelurahan, buat surat pindah diminta 200 ribu tadi pagi",
    "Air PDAM di perumahan Griya Asri mati total sudah seminggu, warga beli air galon",
    "jembatan gantung di dusun Krajan talinya putus sebagian, anak sekolah tetap lewat situ tiap hari",
    "RSUD menolak pasien BPJS kemarin malam dengan alasan kamar penuh, ibu saya terpaksa pulang",
    "The road in front of the Cibeunying market is full of potholes since last week, two motorbikes fell",
    "The street light near SD Negeri 3 has been broken for a month, it is very dark at night",
    "My child's school in Bandung asks for extra fees every month, is that allowed?",
    "guru honorer di sekolah kami belum digaji 4 bulan, kasihan pak",
    "jalan desa kami berlubang dan becek kalau hujan, motor sering jatuh",
    "Listrik di kampung kami sering padam, hampir tiap malam sejak bulan lalu",
    "Akta kelahiran anak saya salah nama, sudah 2 kali ke kantor dukcapil belum dibetulkan",
    "Parkir liar di depan pasar Baru bikin macet tiap pagi, mohon ditertibkan",
)
ANSWERS = {  # what the scripted citizen says to each question (by step id)
    "report_type": "1", "title": "Laporan warga", "description": "Masalah ini sudah lama dan belum ditangani juga.",
    "category": "ya", "location": "Desa Sukamaju, Kec. Cilawu, Garut", "incident_date": "kemarin",
    "attachment": "gk ada",
    "privacy": "2", "name": "Siti Aminah", "confirm": "sudah benar",
}
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def messages_to_tracking_number(script: Script, interpreter: BuiltinInterpreter, first: str) -> int:
    """How many messages the citizen sends until the tracking number (the first one included)."""
    state: DialogState | None = None
    text = first
    for sent in range(1, 31):
        at = NOW + timedelta(minutes=sent)
        turn = engine.receive(script, state, Inbound(text, at, meaning=interpreter.interpret(text)),
                              Context(live_script=script))
        if turn.has(EventKind.COMPLETED):
            return sent
        state = turn.state
        assert state is not None and state.step_id is not None, f"the dialog ended without a report: {first!r}"
        step = script.steps[state.step_id]
        text = ANSWERS.get(step.id) or ("ya" if step.type is AnswerType.CONFIRM else "1")
    raise AssertionError(f"no tracking number after 30 messages: {first!r}")


def main() -> None:
    script = load_script((ROOT / "dialogs/scripts/complaint.yaml").read_text(encoding="utf-8"), "complaint.yaml", 1)
    interpreter = load_builtin(ROOT / "dialogs" / "nlu", Path(tempfile.mkdtemp(prefix="lapor-nlu-")))
    counts = [messages_to_tracking_number(script, interpreter, text) for text in COMPLAINTS]
    for text, count in zip(COMPLAINTS, counts, strict=True):
        print(f"{count}  {text}")
    print(f"messages to a tracking number: median {statistics.median(counts)}, max {max(counts)}, "
          f"n={len(counts)}")
    texts = [text for text in COMPLAINTS for _ in range(50)]
    for text in COMPLAINTS:
        interpreter.interpret(text)  # warm: the first calls fill Python's caches
    times = []
    for text in texts:
        started = time.perf_counter()
        interpreter.interpret(text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"built-in interpreter on these texts: p50 {times[len(times) // 2]:.3f} ms, "
          f"p99 {times[int(len(times) * 0.99)]:.3f} ms")


if __name__ == "__main__":
    main()
