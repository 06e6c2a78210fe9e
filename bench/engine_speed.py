"""Engine benchmark: steps per second for the whole default complaint script.

Runs the pure engine (no storage, no HTTP) through complete complaints in Indonesian and
English, with a typo and a rejected answer on the way, and prints steps/s.

    .venv/bin/python bench/engine_speed.py [--seconds 3]
"""
from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dialogs import engine
from dialogs.loader import load_script
from dialogs.model import Context, EventKind, Inbound

SCRIPT = Path(__file__).resolve().parent.parent / "dialogs" / "scripts" / "complaint.yaml"
CONVERSATIONS = (
    ["halo", "1", "Jalan berlubang", "Jalan di depan SD 3 berlubang besar sejak sebulan.", "infrastruktr",
     "Jl. Merdeka 10, Kota Bandung", "kemarin", "lewati", "9", "1", "Budi Santoso", "ya"],
    ["hello", "language en", "complaint", "Broken street light", "The street light on my road is broken for weeks.",
     "4", "Jl. Sudirman 5", "12/05/2024", "skip", "anonymous", "yes"],
)


CONTEXT = Context()


def run(seconds: float) -> tuple[int, int, float]:
    script = load_script(SCRIPT.read_text(encoding="utf-8"), source=str(SCRIPT), version=1)
    clock = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)
    steps = complaints = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for lines in CONVERSATIONS:
            turn = engine.receive(script, None, Inbound(text=lines[0], received_at=clock), CONTEXT)
            for text in lines[1:]:
                turn = engine.receive(script, turn.state,
                                      Inbound(text=text, received_at=clock + timedelta(seconds=steps)), CONTEXT)
                steps += 1
            complaints += turn.has(EventKind.COMPLETED)
    return steps, complaints, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    steps, complaints, elapsed = run(args.seconds)
    print(f"engine: {steps / elapsed:,.0f} steps/s, {complaints / elapsed:,.0f} complete complaints/s "
          f"({steps} steps in {elapsed:.2f} s, {len(CONVERSATIONS)} scripted conversations)")


if __name__ == "__main__":
    main()
