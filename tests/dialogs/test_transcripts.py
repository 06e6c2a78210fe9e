"""Golden transcripts replayed through the engine's one entry point, ``receive`` (no storage,
no HTTP), each message interpreted first by the built-in interpreter and looked up in the region
index as intake does: the same path as intake, the simulator and `lapor chat`."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import transcripts

from bot.intake import places_for
from bot.nlu.interpreter import BuiltinInterpreter, load_builtin
from bot.places import Gazetteer
from dialogs import engine
from dialogs.loader import load_script
from dialogs.model import Context, EventKind, Inbound, Slot

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "dialogs" / "scripts"
CLOCK = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Jakarta


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return Gazetteer.open(ROOT / "var" / "places")


@pytest.fixture(scope="module")
def interpreter(tmp_path_factory: pytest.TempPathFactory) -> BuiltinInterpreter:
    return load_builtin(ROOT / "dialogs" / "nlu", tmp_path_factory.mktemp("nlu"))


@pytest.mark.parametrize("transcript", transcripts.load_all(), ids=lambda t: t.name)
def test_transcript_through_the_bare_engine(transcript: transcripts.Transcript,
                                            interpreter: BuiltinInterpreter, places: Gazetteer) -> None:
    path = SCRIPTS / f"{transcript.script}.yaml"
    script = load_script(path.read_text(encoding="utf-8"), str(path), version=1)
    state = None
    last_tracking = None
    context = Context(language=transcript.language)
    for index, spec in enumerate(transcript.turns):
        if spec.storage:
            continue
        now = CLOCK + timedelta(minutes=index)
        text = transcripts.fill(spec.user, last_tracking)
        asked = script.steps.get(state.step_id or "") if state is not None and state.step_id else None
        message = Inbound(text=text, received_at=now, meaning=interpreter.interpret(text),
                          places=places_for(places, asked, text, None))
        turn = engine.receive(script, state, message, context)
        if turn.has(EventKind.COMPLETED):
            last_tracking = "LAP-7K3M9Q"
        texts = [reply.fill(last_tracking or "").text for reply in turn.replies
                 if reply.slot not in (Slot.STATUS, Slot.REPORTS)]
        transcripts.check_turn(transcript, index, spec, "\n".join(texts))
        state = turn.state
        if turn.has(EventKind.LANGUAGE):
            context = Context(language=next(e for e in turn.events if e.kind is EventKind.LANGUAGE).data["language"])
