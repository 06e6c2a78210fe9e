"""The pure engine through its one entry point, ``receive``: starting, answering, commands inside
and outside a conversation, opting out, expiry, resuming after a pause, the reply slots, and
never crashing."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs import engine
from dialogs.loader import load_script
from dialogs.model import (
    Context,
    DialogState,
    EventKind,
    GeoPoint,
    Inbound,
    Interpretation,
    MediaRef,
    Place,
    Slot,
    Status,
)

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "dialogs" / "scripts" / "complaint.yaml"
SCRIPT = load_script(SCRIPT_PATH.read_text(encoding="utf-8"), str(SCRIPT_PATH), version=4)
T0 = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)
HAPPY = ["1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1", "Jl. Merdeka 1",
         "kemarin", "lewati", "1", "Budi", "ya"]


CTX = Context()


def msg(text: str, minutes: float = 1, **extra) -> Inbound:
    return Inbound(text=text, received_at=T0 + timedelta(minutes=minutes), **extra)


def start(text: str = "halo", context: Context = CTX):
    return engine.receive(SCRIPT, None, Inbound(text=text, received_at=T0), context)


def step(state: DialogState | None, message: Inbound, context: Context = CTX):
    return engine.receive(SCRIPT, state, message, context)


def run(answers: list[str], state: DialogState | None = None):
    state = start().state if state is None else state
    turn = None
    for index, text in enumerate(answers, start=1):
        turn = step(state, msg(text, index))
        state = turn.state
    return turn


def test_start_greets_and_asks_the_first_question() -> None:
    turn = start()
    assert turn.state.step_id == "report_type"
    assert turn.state.script_version == 4 and turn.state.language == "id"
    assert [r.text for r in turn.replies][0] == SCRIPT.text("welcome", "id")
    assert turn.replies[1].text.startswith("Jenis laporan Anda?")
    assert [c.reply for c in turn.replies[-1].choices] == ["1", "2", "3"]
    assert [e.kind for e in turn.events] == ["started"]


def test_a_whole_complaint_completes_with_active_answers() -> None:
    turn = run(HAPPY)
    assert turn.state.status is Status.COMPLETED and turn.state.step_id is None
    completed = [e for e in turn.events if e.kind == "completed"]
    answers = completed[0].data["answers"]
    assert answers["report_type"] == "complaint"
    assert answers["category"] == "infrastructure"
    assert answers["incident_date"] == "2024-05-19"
    assert answers["attachment"] == []
    assert answers["anonymous"] is False and answers["confidential"] is False
    assert answers["name"] == "Budi"
    json.dumps(turn.state.to_json())


def test_state_round_trips_through_json() -> None:
    state = run(HAPPY[:5]).state
    assert DialogState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_anonymous_skips_the_name_and_drops_a_stale_one() -> None:
    turn = run(HAPPY[:7] + ["1", "Budi", "8", "2"])
    assert "Nama" not in turn.replies[-1].text
    final = step(turn.state, msg("ya", 30))
    answers = next(e for e in final.events if e.kind == "completed").data["answers"]
    assert "name" not in answers
    assert answers["anonymous"] is True and answers["confidential"] is False


def test_rejections_count_and_help_comes_on_the_third() -> None:
    state = run(HAPPY[:2]).state
    texts = []
    for attempt in range(3):
        turn = step(state, msg("pendek", attempt))
        state = turn.state
        texts.append(turn.replies[0].text)
    assert state.failures == 3 and state.step_id == "description"
    assert "Perlu bantuan?" not in texts[1]
    assert "Perlu bantuan?" in texts[2] and "Tulis apa masalahnya" in texts[2]
    assert turn.events[0].kind == "rejected" and turn.events[0].data == {"step": "description", "failures": 3}
    ok = step(state, msg("Cukup panjang untuk diterima sebagai isi."))
    assert ok.state.failures == 0 and ok.state.step_id == "category"


@pytest.mark.parametrize("word, command", [("BANTUAN", "help"), ("help", "help"), ("Kembali.", "back"), ("/start", "start"),
                                           ("BERHENTI", "stop"), ("stop", "stop"), ("mulai ulang", "restart"),
                                           ("status lap-7k3m9q", "status"), ("cek 7K3M9Q", "status"), ("bahasa english", "language")])
def test_command_words(word: str, command: str) -> None:
    assert engine.match_command(SCRIPT, word)[0] == command


@pytest.mark.parametrize("text", ["status jalan di desa kami rusak parah", "batal karena hujan", "help me please", "bahasa jawa"])
def test_text_that_starts_with_a_command_word_is_an_answer(text: str) -> None:
    assert engine.match_command(SCRIPT, text) is None


def test_stop_and_start_are_events_and_keep_the_place() -> None:
    state = run(HAPPY[:3]).state
    asked = step(state, msg("STOP"))  # in the middle of a report, STOP is confirmed first
    assert asked.events == () and "Berhenti menerima pesan" in asked.replies[0].text
    stop = step(asked.state, msg("ya"))
    assert [e.kind for e in stop.events] == ["opt_out"] and stop.state.step_id == state.step_id
    again = step(stop.state, msg("MULAI"))
    assert [e.kind for e in again.events] == ["opt_in"]
    assert "Kategori laporan?" in again.replies[-1].text


def test_status_query_is_an_event_and_the_question_follows() -> None:
    state = run(HAPPY[:1]).state
    turn = step(state, msg("STATUS LAP-7K3M9Q"))
    assert turn.events[0].kind == "status_query" and turn.events[0].data["number"] == "lap-7k3m9q"
    assert turn.state.step_id == state.step_id and "judul" in turn.replies[-1].text


def test_cancel_and_restart() -> None:
    state = run(HAPPY[:4]).state
    cancelled = step(state, msg("batal"))
    assert cancelled.state.status is Status.CANCELLED
    restarted = step(state, msg("ulang"))
    assert restarted.state.step_id == "report_type" and restarted.state.answers == {}
    assert restarted.events[0].kind == "restarted"


def test_back_walks_the_history() -> None:
    state = run(HAPPY[:3]).state
    assert state.step_id == "category" and state.history == ("report_type", "title", "description")
    back = step(state, msg("kembali"))
    assert back.state.step_id == "description" and back.state.history == ("report_type", "title")


def test_shared_location_and_media_fill_their_steps() -> None:
    state = run(HAPPY[:4]).state
    located = step(state, msg("", location=GeoPoint(-6.2, 106.8, "Monas")))
    assert located.state.answers["location"] == {"text": "Monas", "latitude": -6.2, "longitude": 106.8}
    dated = step(located.state, msg("hari ini"))
    photo = step(dated.state, msg("", media=(MediaRef("https://x/1.jpg", "image/jpeg"),)))
    assert photo.state.answers["attachment"] == [{"url": "https://x/1.jpg", "content_type": "image/jpeg"}]
    assert photo.state.step_id == "privacy"


def test_a_conversation_stays_on_its_version() -> None:
    state = run(HAPPY[:2]).state
    newer = load_script(SCRIPT_PATH.read_text(encoding="utf-8").replace("Ceritakan apa", "Jelaskan apa"), "v5", version=5)
    assert state.script_version == 4
    assert "Ceritakan apa" in engine.question(SCRIPT, state).text
    assert "Jelaskan apa" in engine.question(newer, state.evolve(script_version=5)).text


def test_expiry_is_measured_from_the_last_message() -> None:
    state = run(HAPPY[:2]).state
    assert not engine.is_expired(state, state.updated_at + timedelta(hours=23), timedelta(hours=24))
    assert engine.is_expired(state, state.updated_at + timedelta(hours=25), timedelta(hours=24))
    assert not engine.is_expired(run(HAPPY).state, T0 + timedelta(days=9), timedelta(hours=24))


def test_an_expired_conversation_restarts_kindly_on_the_live_script() -> None:
    state = run(HAPPY[:2]).state
    newer = load_script(SCRIPT_PATH.read_text(encoding="utf-8"), "v5", version=5)
    turn = step(state, msg("halo", 60 * 25), Context(live_script=newer))
    assert [e.kind for e in turn.events] == [EventKind.EXPIRED, EventKind.STARTED]
    assert turn.replies[0].text.startswith("Sesi sebelumnya berakhir")
    assert turn.state.script_version == 5 and turn.state.step_id == "report_type"


def test_commands_outside_a_conversation_open_none() -> None:
    status = start("STATUS LAP-7K3M9Q")
    assert status.state is None and [e.kind for e in status.events] == [EventKind.STATUS_QUERY]
    assert [(r.slot, r.argument) for r in status.replies] == [(Slot.STATUS, "lap-7k3m9q")]
    assert status.replies[0].fill("Laporan LAP-7K3M9Q: selesai.").text == "Laporan LAP-7K3M9Q: selesai."
    listed = start("status")  # no number: the caller lists the citizen's reports
    assert listed.state is None and [(r.slot, e.kind) for r, e in zip(listed.replies, listed.events, strict=True)] == [
        (Slot.REPORTS, EventKind.STATUS_LIST)]
    mistyped = start("LAP-7K3M9")
    assert mistyped.state is None and "LAP- dan 6 huruf/angka" in mistyped.replies[0].text
    stop = start("BERHENTI")
    assert stop.state is None and [e.kind for e in stop.events] == [EventKind.OPT_OUT]
    english = start("bahasa english")
    assert english.state.language == "en" and english.has(EventKind.LANGUAGE) and english.has(EventKind.STARTED)


def test_a_citizen_who_opted_out_hears_nothing_until_start() -> None:
    silent = start("halo", Context(opted_out=True))
    assert silent.state is None and silent.replies == () and silent.has(EventKind.IGNORED)
    state = run(HAPPY[:2]).state
    inside = step(state, msg("ya"), Context(opted_out=True))
    assert inside.replies == () and inside.state == state
    back = start("mulai", Context(opted_out=True))
    assert [e.kind for e in back.events] == [EventKind.OPT_IN, EventKind.STARTED] and back.state.step_id == "report_type"


def test_the_completion_reply_has_a_slot_for_the_tracking_number() -> None:
    turn = run(HAPPY)
    last = turn.replies[-1]
    assert last.slot is Slot.TRACKING_NUMBER and "{tracking_number}" in last.text
    assert last.fill("LAP-7K3M9Q").text == SCRIPT.text("submitted", "id", tracking_number="LAP-7K3M9Q")


def test_a_returning_citizen_is_told_where_they_are() -> None:
    """Reproduced: "halo" after a lunch break got "Maaf, pilihan tidak dikenal"."""
    state = run(HAPPY[:3]).state  # waiting at the category menu
    later = state.updated_at + timedelta(minutes=45)
    back = step(state, Inbound(text="halo", received_at=later))
    assert [e.kind for e in back.events] == [EventKind.RESUMED]
    assert back.replies[0].text.startswith("Selamat datang kembali") and "Kategori laporan?" in back.replies[0].text
    assert "tidak dikenal" not in back.replies[0].text
    assert back.state.failures == 0 and back.state.step_id == "category" and back.state.updated_at == later
    answered = step(state, Inbound(text="1", received_at=later))  # an answer after the pause is an answer
    assert answered.has(EventKind.ANSWERED) and answered.state.step_id == "location"
    soon = step(state, Inbound(text="halo", received_at=state.updated_at + timedelta(minutes=5)))
    assert soon.has(EventKind.REJECTED)  # no pause: an ordinary wrong answer
    custom = step(state, Inbound(text="halo", received_at=later), Context(resume_after=timedelta(hours=1)))
    assert custom.has(EventKind.REJECTED)


def test_a_finished_state_fed_again_starts_over() -> None:
    done = run(HAPPY).state
    turn = step(done, msg("halo lagi"))
    assert turn.state.status is Status.ACTIVE and turn.state.step_id == "report_type"


ANY_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(max_size=5000),
    st.sampled_from(["", " ", "\x00", "😀😀", "ya", "1", "99", "kembali", "batal", "ulang", "bahasa", "status", "stop",
                     "mulai", "lewati", "hari ini", "31/02/2024", "0812345", "-6.2, 106.8", "<script>alert(1)</script>",
                     "\u202e\u200b", "a" * 100_000]),
    st.sampled_from(HAPPY),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ANY_TEXT, max_size=25))
def test_the_engine_never_crashes(texts: list[str]) -> None:
    turn = start()
    for index, text in enumerate(texts):
        turn = step(turn.state, msg(text, index))
        state = turn.state
        if state is None:  # STATUS or STOP with no conversation open
            assert turn.replies
            continue
        assert state.step_id is None or state.step_id in SCRIPT.steps
        assert state.status is not Status.ACTIVE or state.step_id is not None
        assert turn.replies or turn.events
        json.dumps(state.to_json())


# ---------------------------------------------------------------------------- understanding (Inbound.meaning)

WHOLE = "sy mau lapor, jln rusak parah bgt di desa sukamaju sejak 2 minggu lalu"
REPORTED = Interpretation("report", 0.95, "infrastructure", 0.8)


def understood(text: str, meaning: Interpretation, state: DialogState | None = None, minutes: float = 1,
               context: Context = CTX):
    return engine.receive(SCRIPT, state, msg(text, minutes, meaning=meaning), context)


def test_a_whole_complaint_first_is_acknowledged_by_its_title_and_its_category_proposed() -> None:
    turn = understood(WHOLE, REPORTED)
    assert [e.kind for e in turn.events] == [EventKind.STARTED, EventKind.PREFILLED]
    assert turn.replies[0].text == "Terima kasih, laporan Anda kami catat: Jln rusak parah bgt"
    assert turn.replies[1].text.startswith("Sepertinya ini soal Infrastruktur. Benar? Balas YA, atau pilih nomor:\n1.")
    assert "Balas 1, 2" not in turn.replies[1].text and turn.state.step_id == "category"
    assert turn.state.prefilled == ("report_type", "title", "description", "location", "incident_date")
    yes = step(turn.state, msg("iya", 2))
    assert yes.state.answers["category"] == "infrastructure" and yes.state.step_id == "attachment"
    assert yes.state.proposals == {}


def test_a_proposal_is_declined_by_no_or_replaced_by_a_number() -> None:
    proposed = understood(WHOLE, REPORTED).state
    declined = step(proposed, msg("bukan", 2))
    assert declined.state.step_id == "category" and "category" not in declined.state.answers
    assert declined.replies[0].text.startswith("Kategori laporan?") and "Sepertinya" not in declined.replies[0].text
    assert step(proposed, msg("2", 2)).state.answers["category"] == "health"
    assert step(proposed, msg("kesehatan", 2)).state.answers["category"] == "health"


def test_a_state_with_prefilled_steps_and_a_proposal_survives_json() -> None:
    state = understood(WHOLE, REPORTED).state
    assert DialogState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_stop_in_the_middle_is_confirmed_and_anything_else_goes_on() -> None:
    state = run(HAPPY[:2]).state
    asked = step(state, msg("STOP", 3))
    assert asked.state.pending == "stop" and asked.events == ()
    assert [e.kind for e in step(asked.state, msg("stop", 4)).events] == [EventKind.OPT_OUT]  # twice is yes
    no = step(asked.state, msg("tidak", 4))
    assert no.state.pending is None and no.replies[0].text == "Baik, kita lanjutkan." and no.events == ()
    answered = step(asked.state, msg("Jalan di depan sekolah rusak parah sejak Januari.", 4))
    assert answered.state.pending is None and answered.state.step_id == "category"  # taken as the answer


def test_cancel_at_the_summary_asks_before_throwing_the_report_away() -> None:
    summary = run(HAPPY[:-1]).state
    asked = step(summary, msg("batal", 20))
    assert asked.state.status is Status.ACTIVE and "sudah lengkap. Yakin dibatalkan?" in asked.replies[0].text
    assert step(asked.state, msg("ya", 21)).state.status is Status.CANCELLED
    kept = step(asked.state, msg("tidak", 21))
    assert kept.state.status is Status.ACTIVE and "Periksa laporan Anda" in kept.replies[1].text
    assert step(run(HAPPY[:2]).state, msg("batal", 3)).state.status is Status.CANCELLED  # mid-flow: at once


def test_an_options_own_word_beats_a_command_word_at_its_menu() -> None:
    at_category = run(HAPPY[:3]).state
    assert step(at_category, msg("bantuan", 4)).state.answers["category"] == "social_assistance"
    assert step(run(HAPPY[:1]).state, msg("bantuan", 2)).has(EventKind.HELP)  # elsewhere, it is HELP


@pytest.mark.parametrize(("text", "argument"), [("LAP-7K3M9Q", "lap-7k3m9q"), ("lap 7k3m9q", "lap 7k3m9q"),
                                                ("status lap-7k3m9q", "lap-7k3m9q")])
def test_a_bare_or_lowercase_tracking_number_asks_its_status_anywhere(text: str, argument: str) -> None:
    outside = start(text)
    assert outside.state is None and [(r.slot, r.argument) for r in outside.replies] == [(Slot.STATUS, argument)]
    inside = step(run(HAPPY[:2]).state, msg(text, 3))
    assert inside.replies[0].slot is Slot.STATUS and inside.state.step_id == "description"


@pytest.mark.parametrize("text", ["LAP-7K3M9", "lap7k3m9qq", "status lap-12"])
def test_a_mistyped_tracking_number_gets_a_hint_not_a_new_report(text: str) -> None:
    turn = start(text)
    assert turn.state is None and "LAP- dan 6 huruf/angka" in turn.replies[0].text


@pytest.mark.parametrize("text", ["laporan", "lapor", "lapangan", "laporanku"])
def test_words_that_begin_like_a_tracking_number_are_words(text: str) -> None:
    assert start(text).state is not None


def test_a_status_question_lists_the_reports_and_thanks_starts_nothing() -> None:
    for text, meaning in [("cek status", None), ("laporan saya sudah sampai mana", Interpretation("status", 0.9))]:
        turn = understood(text, meaning) if meaning else start(text)
        assert turn.state is None and [r.slot for r in turn.replies] == [Slot.REPORTS]
        assert turn.has(EventKind.STATUS_LIST)
    thanks = understood("makasih ya", Interpretation("thanks", 0.9))
    assert thanks.state is None and thanks.replies[0].text.startswith("Sama-sama")


def test_an_answer_the_question_cannot_take_may_still_mean_a_command() -> None:
    at_menu = run(HAPPY[:3]).state  # the category menu
    status = understood("laporan saya sudah sampai mana", Interpretation("status", 0.9), at_menu, 4)
    assert [r.slot for r in status.replies] == [Slot.REPORTS, None] and "Kategori" in status.replies[1].text
    cancel = understood("gak jadi deh", Interpretation("cancel", 0.9), at_menu, 4)
    assert cancel.state.pending == "cancel" and "Batalkan laporan ini?" in cancel.replies[0].text
    assert step(cancel.state, msg("iya", 5)).state.status is Status.CANCELLED
    english = understood("can we speak english", Interpretation("change_language", 0.9), at_menu, 4)
    assert english.state.language == "en" and english.has(EventKind.LANGUAGE)
    at_text = run(HAPPY[:2]).state  # free text: a description is never taken for a command
    described = understood("gak jadi deh ternyata jalannya sudah diperbaiki", Interpretation("cancel", 0.9), at_text, 3)
    assert described.state.step_id == "category"


def test_english_in_the_welcome_and_the_language_of_a_first_message() -> None:
    assert "English: reply EN." in start().replies[0].text
    assert start("english").state.language == "en" and start("inggris").state.language == "en"
    assert start("en").state.language == "en"
    english = understood("The bridge near the Kosambi market has been broken since last week", REPORTED)
    assert english.state.language == "en" and english.replies[0].text.startswith("Thank you, we noted your report")
    chosen = understood("The bridge near the Kosambi market has been broken since last week", REPORTED,
                        context=Context(language="id"))
    assert chosen.state.language == "en"  # whatever was chosen before: the language it is written in
    short = understood("Jembatan putus", REPORTED, context=Context(language="en"))
    assert short.state.language == "en"  # too short to tell: the contact's language


def test_an_aspiration_is_worded_as_one_and_never_asked_when_it_happened() -> None:
    state = run(["2", "Lampu jalan di gang kami"]).state
    assert engine.question(SCRIPT, state).text.startswith("Tulis usulan atau saran Anda")
    later = run(["Mohon dipasang lampu jalan di gang Melati, malam gelap", "1", "Gang Melati, Garut"], state)
    assert later.state.step_id == "attachment"


def test_a_text_over_the_limit_is_kept_up_to_it_and_the_citizen_is_told() -> None:
    at_title = run(HAPPY[:1]).state
    long_title = "Jalan rusak " * 20  # 240 characters; the title takes 150
    turn = step(at_title, msg(long_title, 2))
    assert turn.state.step_id == "description" and len(turn.state.answers["title"]) <= 150
    assert turn.state.answers["title"].startswith("Jalan rusak Jalan rusak")
    assert turn.replies[0].text == f"Jawaban Anda panjang: kami simpan {len(turn.state.answers['title'])} huruf pertama."
    assert turn.replies[1].text.startswith("Ceritakan apa yang terjadi")


# ---------------------------------------------------------------- evidence and place

BANDUNG = {"province": {"code": "32", "name": "Jawa Barat"}, "regency": {"code": "32.73", "name": "Kota Bandung"},
           "district": None, "village": None}
KAB_BANDUNG = {"province": {"code": "32", "name": "Jawa Barat"},
               "regency": {"code": "32.04", "name": "Kabupaten Bandung"}, "district": None, "village": None}
PLACES = (Place("Kota Bandung, Jawa Barat", BANDUNG), Place("Kab. Bandung, Jawa Barat", KAB_BANDUNG))


def at_location():
    """A conversation waiting for the location (after type, title, description, category)."""
    turn = run(HAPPY[:4])
    assert turn.state.step_id == "location"
    return turn.state


def test_a_voice_note_answers_the_description_and_is_filed_as_an_attachment() -> None:
    state = run(HAPPY[:2]).state
    assert state.step_id == "description"
    note = MediaRef("tg-file:AwACAgIAAxk", "audio/ogg")
    turn = step(state, msg("", 3, media=(note,)))
    assert turn.state.step_id == "category"
    assert turn.state.answers["description"] == "(Pesan suara terlampir)"
    assert turn.state.answers["description.voice"] == [{"url": "tg-file:AwACAgIAAxk", "content_type": "audio/ogg"}]
    state = turn.state
    for index, text in enumerate(HAPPY[3:], start=4):
        turn = step(state, msg(text, index))
        state = turn.state
    done = next(e for e in turn.events if e.kind is EventKind.COMPLETED)
    assert done.data["fields"]["voice_notes"] == [{"url": "tg-file:AwACAgIAAxk", "content_type": "audio/ogg"}]


def test_a_photo_does_not_answer_the_description_and_typing_drops_earlier_notes() -> None:
    state = run(HAPPY[:2]).state
    turn = step(state, msg("", 3, media=(MediaRef("tg-file:photo", "image/jpeg"),)))
    assert turn.state.step_id == "description" and turn.has(EventKind.REJECTED)
    voiced = step(state, msg("", 3, media=(MediaRef("tg-file:note", "audio/ogg"),))).state
    back = step(voiced, msg("kembali", 4)).state
    assert back.step_id == "description"
    typed = step(back, msg(HAPPY[2], 5)).state
    assert typed.answers["description"] == HAPPY[2] and typed.answers["description.voice"] == []


def test_one_place_found_becomes_the_locations_region() -> None:
    turn = step(at_location(), msg("Kota Bandung", 6, places=PLACES[:1]))
    assert turn.state.step_id == "incident_date"
    assert turn.state.answers["location"] == {"text": "Kota Bandung", "latitude": None, "longitude": None,
                                              "region": BANDUNG}


def test_an_ambiguous_place_is_asked_with_a_numbered_choice() -> None:
    turn = step(at_location(), msg("Bandung", 6, places=PLACES))
    assert turn.state.step_id == "location" and turn.state.pending == "place"
    assert turn.replies[0].text.splitlines() == ["Maksud Anda yang mana?", "1. Kota Bandung, Jawa Barat",
                                                 "2. Kab. Bandung, Jawa Barat", "3. Bukan salah satunya",
                                                 "Balas 1, 2 atau 3."]
    assert [c.reply for c in turn.replies[0].choices] == ["1", "2", "3"]
    state = DialogState.from_json(json.loads(json.dumps(turn.state.to_json())))  # it survives storage
    picked = step(state, msg("2", 7))
    assert picked.state.step_id == "incident_date" and picked.state.pending is None and picked.state.places == ()
    assert picked.state.answers["location"]["region"] == KAB_BANDUNG
    assert picked.state.answers["location"]["text"] == "Bandung"


@pytest.mark.parametrize("answer", ["3", "tidak"])
def test_none_of_the_places_keeps_the_text_alone(answer: str) -> None:
    asked = step(at_location(), msg("Bandung", 6, places=PLACES)).state
    turn = step(asked, msg(answer, 7))
    assert turn.state.step_id == "incident_date"
    assert turn.state.answers["location"] == {"text": "Bandung", "latitude": None, "longitude": None}


def test_another_answer_to_the_place_question_is_a_new_location() -> None:
    asked = step(at_location(), msg("Bandung", 6, places=PLACES)).state
    turn = step(asked, msg("Jl. Merdeka 10, Kota Bandung", 7, places=PLACES[:1]))
    assert turn.state.step_id == "incident_date"
    assert turn.state.answers["location"]["text"] == "Jl. Merdeka 10, Kota Bandung"
    assert turn.state.answers["location"]["region"] == BANDUNG


def test_an_unknown_place_is_kept_as_text() -> None:
    turn = step(at_location(), msg("depan pasar lama", 6))
    assert turn.state.step_id == "incident_date"
    assert turn.state.answers["location"] == {"text": "depan pasar lama", "latitude": None, "longitude": None}


def test_a_shared_point_takes_the_region_found_for_it_and_the_summary_names_it() -> None:
    turn = step(at_location(), msg("", 6, location=GeoPoint(-6.8915, 107.6107), places=PLACES[:1]))
    assert turn.state.answers["location"]["region"] == BANDUNG
    state = turn.state
    for index, text in enumerate(HAPPY[5:-1], start=7):
        state = step(state, msg(text, index)).state
    summary = engine.question(SCRIPT, state).text
    assert "Lokasi: Kota Bandung" in summary


@pytest.mark.parametrize("answer", ["2", "dua", "yg 2", "no. 2", "kedua"])
def test_the_place_menu_takes_numbers_as_citizens_write_them(answer: str) -> None:
    asked = step(at_location(), msg("Bandung", 6, places=PLACES)).state
    turn = step(asked, msg(answer, 7))
    assert turn.state.step_id == "incident_date"
    assert turn.state.answers["location"] == {"text": "Bandung", "latitude": None, "longitude": None,
                                              "region": KAB_BANDUNG}


def test_help_status_and_language_keep_the_place_menu_and_back_asks_the_location_again() -> None:
    asked = step(at_location(), msg("Bandung", 6, places=PLACES)).state
    helped = step(asked, msg("bantuan", 7))
    assert helped.state.pending == "place" and "Maksud Anda yang mana?" in helped.replies[-1].text
    assert step(helped.state, msg("2", 8)).state.answers["location"]["region"] == KAB_BANDUNG
    english = step(asked, msg("english", 7))
    assert english.state.pending == "place" and english.replies[-1].text.startswith("Which one do you mean?")
    back = step(asked, msg("kembali", 7))
    assert back.state.step_id == "location" and back.state.pending is None
    assert back.replies[-1].text.startswith("Di mana")


def test_a_number_off_the_place_menu_asks_it_again() -> None:
    asked = step(at_location(), msg("Bandung", 6, places=PLACES)).state
    turn = step(asked, msg("7", 7))
    assert turn.state.pending == "place" and turn.replies[0].text.startswith("Maksud Anda yang mana?")
