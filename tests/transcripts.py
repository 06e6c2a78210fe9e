"""Golden conversation transcripts (tests/conversations/*.yaml) and their checker.

A transcript lists turns: what the citizen sends (``user``), substrings the bot's replies to it
must contain (``bot``), substrings they must not contain (``not``). ``{tracking_number}`` in a
user line is replaced by the last tracking number the bot gave. A turn marked ``storage: true``
needs the database (STATUS answers) and is skipped when replaying through the bare engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DIRECTORY = Path(__file__).resolve().parent / "conversations"
TRACKING = re.compile(r"LAP-[0-9A-HJKMNP-TV-Z]{6}")


@dataclass(frozen=True)
class TurnSpec:
    user: str
    bot: tuple[str, ...]
    absent: tuple[str, ...]
    storage: bool


@dataclass(frozen=True)
class Transcript:
    name: str
    script: str
    language: str | None
    turns: tuple[TurnSpec, ...]


def load_all() -> list[Transcript]:
    transcripts = []
    for path in sorted(DIRECTORY.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for turn in raw["turns"]:
            if not isinstance(turn["user"], str):  # YAML reads a bare yes/no as a boolean
                raise ValueError(f"{path}: quote the user line {turn['user']!r}")
        turns = tuple(
            TurnSpec(str(t["user"]), tuple(t.get("bot", ())), tuple(t.get("not", ())), bool(t.get("storage", False)))
            for t in raw["turns"]
        )
        transcripts.append(Transcript(path.stem, raw.get("script", "complaint"), raw.get("language"), turns))
    return transcripts


def check_turn(transcript: Transcript, index: int, spec: TurnSpec, replies: str) -> None:
    """Assert one turn's replies, with a message that shows the whole exchange."""
    where = f"{transcript.name} turn {index + 1} (user: {spec.user!r})"
    for expected in spec.bot:
        assert expected in replies, f"{where}: expected {expected!r} in:\n{replies}"
    for unexpected in spec.absent:
        assert unexpected not in replies, f"{where}: did not expect {unexpected!r} in:\n{replies}"


def fill(user: str, last_tracking: str | None) -> str:
    return user.replace("{tracking_number}", last_tracking or "LAP-000000")
