"""Golden transcripts replayed through the bare engine (no storage, no HTTP)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import transcripts
from dialogs import engine
from dialogs.loader import load_script
from dialogs.model import Inbound, Status

SCRIPTS = Path(__file__).resolve().parents[2] / "dialogs" / "scripts"
CLOCK = datetime(2024, 5, 20, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("transcript", transcripts.load_all(), ids=lambda t: t.name)
def test_transcript_through_the_bare_engine(transcript: transcripts.Transcript) -> None:
    path = SCRIPTS / f"{transcript.script}.yaml"
    script = load_script(path.read_text(encoding="utf-8"), str(path), version=1)
    state = None
    last_tracking = None
    for index, spec in enumerate(transcript.turns):
        if spec.storage:
            continue
        now = CLOCK + timedelta(minutes=index)
        message = Inbound(text=transcripts.fill(spec.user, last_tracking), received_at=now)
        if state is None or state.status is not Status.ACTIVE:
            command = engine.match_command(script, message.text)
            language = engine.switch_language(script, state.language if state else "id", command[1]) if command and command[0] == "language" else (state.language if state else None)
            turn = engine.start(script, now=now, language=language)
        else:
            turn = engine.step(script, state, message)
        texts = [reply.text for reply in turn.replies]
        if any(event.kind == "completed" for event in turn.events):
            last_tracking = "LAP-7K3M9Q"
            texts.append(engine.completion_reply(script, turn.state.language, last_tracking).text)
        transcripts.check_turn(transcript, index, spec, "\n".join(texts))
        state = turn.state
