"""`lapor chat` as a citizen uses it: a real process, piped stdin, the real database."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import transcripts
from tests_support import chat_env

ROOT = Path(__file__).resolve().parents[2]
LAPOR = [sys.executable, "-m", "bot.cli", "chat"]


def run_chat(env: dict[str, str], lines: list[str], *args: str) -> list[tuple[str, str]]:
    """Pipe ``lines`` into `lapor chat`; returns (user line, bot output) pairs."""
    done = subprocess.run(LAPOR + list(args), input="\n".join(lines) + "\n", capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    pairs: list[tuple[str, str]] = []
    for line in done.stdout.splitlines():
        if line.startswith("> "):
            pairs.append((line[2:], ""))
        else:
            assert pairs, f"bot spoke before the citizen: {line!r}"
            user, said = pairs[-1]
            pairs[-1] = (user, said + line.removeprefix("LAPOR> ").strip() + "\n")
    return pairs


@pytest.mark.slow
@pytest.mark.parametrize("transcript", transcripts.load_all(), ids=lambda t: t.name)
def test_transcript_through_lapor_chat(transcript: transcripts.Transcript, db, db_url: str) -> None:
    env = chat_env(db_url)
    sender = f"chat-{transcript.name}"
    last_tracking = None
    index = 0
    turns = list(transcript.turns)
    while index < len(turns):
        # Feed turns up to (not including) the next one that needs the tracking number we do not know yet.
        batch_end = index + 1
        while batch_end < len(turns) and "{tracking_number}" not in turns[batch_end].user:
            batch_end += 1
        batch = turns[index:batch_end]
        pairs = run_chat(env, [transcripts.fill(t.user, last_tracking) for t in batch], "--sender", sender)
        assert len(pairs) == len(batch)
        for offset, (spec, (_, said)) in enumerate(zip(batch, pairs, strict=False)):
            transcripts.check_turn(transcript, index + offset, spec, said)
            found = transcripts.TRACKING.findall(said)
            if found and "STATUS" not in spec.user.upper():
                last_tracking = found[0]
        index = batch_end


@pytest.mark.slow
def test_piped_complaints_in_both_languages_get_tracking_numbers(db, db_url: str) -> None:
    env = chat_env(db_url)
    indonesian = ["halo", "1", "Lampu jalan mati", "Lampu jalan di gang kami mati sejak dua minggu lalu.", "1",
                  "Gang Melati, Yogyakarta", "12/11/2026", "lewati", "2", "ya"]
    english = ["hi", "1", "More trash bins", "Please add more trash bins near the market entrance.", "other",
               "Pasar Kranggan", "yesterday", "skip", "public", "Ani", "yes"]
    out_id = run_chat(env, indonesian, "--sender", "+628111")
    out_en = run_chat(env, english, "--sender", "+628222", "--lang", "en")
    number_id = transcripts.TRACKING.search(out_id[-1][1]).group(0)
    number_en = transcripts.TRACKING.search(out_en[-1][1]).group(0)
    assert "Terima kasih" in out_id[-1][1] and "Thank you" in out_en[-1][1] and number_id != number_en
    status = run_chat(env, [f"STATUS {number_en}"], "--sender", "+628222", "--lang", "en")
    assert re.search(rf"Report {number_en} \(More trash bins\): (received by the agency|received, waiting)",
                     status[0][1])


@pytest.mark.slow
def test_a_conversation_resumes_in_a_new_process(db, db_url: str) -> None:
    env = chat_env(db_url)
    first = run_chat(env, ["halo", "1"], "--sender", "+628333")
    assert "judul singkat" in first[-1][1]
    resumed = run_chat(env, ["Taman kota perlu lampu"], "--sender", "+628333")  # the process was gone in between
    assert "Ceritakan apa yang terjadi" in resumed[0][1] and "Selamat datang" not in resumed[0][1]
