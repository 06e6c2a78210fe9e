"""Where citizens struggle: a funnel per script step, drawn server-side as SVG.

For one script (all its versions): how many conversations started and completed, how many
reached each step, how many were abandoned there (cancelled, expired, or idle past the idle
timeout), and how often, on average, the step had to ask again (``DialogState.reprompts``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

ABANDONED = ("cancelled", "expired")
BAR_WIDTH, ROW, LABEL = 420, 30, 170


@dataclass(frozen=True, slots=True)
class StepRow:
    step_id: str
    reached: int
    abandoned: int
    reprompts: float  # per conversation that reached the step


@dataclass(frozen=True, slots=True)
class Funnel:
    started: int
    completed: int
    steps: tuple[StepRow, ...]


def build(rows: Iterable[tuple[str, str | None, dict[str, Any], datetime]], steps: list[str], now: datetime,
          idle: timedelta) -> Funnel:
    """The funnel of conversations ``rows`` (status, step id, state, updated_at) over ``steps``."""
    started = completed = 0
    reached: Counter[str] = Counter()
    abandoned: Counter[str] = Counter()
    reprompts: Counter[str] = Counter()
    for status, step_id, state, updated_at in rows:
        started += 1
        history = list(state.get("history") or [])
        seen = set(history) | ({step_id} if step_id else set())
        reached.update(seen)
        reprompts.update({step: int(count) for step, count in (state.get("reprompts") or {}).items()})
        if status == "completed":
            completed += 1
        elif status in ABANDONED or (status == "active" and now - updated_at > idle):
            last = step_id or (history[-1] if history else None)
            if last:
                abandoned[last] += 1
    return Funnel(started, completed, tuple(
        StepRow(step, reached[step], abandoned[step],
                round(reprompts[step] / reached[step], 2) if reached[step] else 0.0)
        for step in steps))


def svg(funnel: Funnel) -> Markup:
    """Bars per step: reached (blue) with the abandoned share (red); text alongside, so the
    chart reads without colour too. Everything admin-written is escaped."""
    height = ROW * (len(funnel.steps) + 1) + 10
    width = LABEL + BAR_WIDTH + 150
    scale = BAR_WIDTH / max(1, funnel.started)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="funnel-title" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="funnel">',
             f'<title id="funnel-title">Corong: {funnel.started} dimulai, {funnel.completed} selesai</title>']
    for index, row in enumerate(funnel.steps):
        y = 10 + index * ROW
        reached, lost = row.reached * scale, row.abandoned * scale
        parts += [
            f'<text x="0" y="{y + 18}" font-size="14">{escape(row.step_id)}</text>',
            f'<rect x="{LABEL}" y="{y + 4}" width="{reached:.1f}" height="20" fill="#0b3d91"/>',
            f'<rect x="{LABEL}" y="{y + 4}" width="{lost:.1f}" height="20" fill="#b00020"/>',
            f'<text x="{LABEL + reached + 6:.1f}" y="{y + 18}" font-size="13">{row.reached} '
            f'(hilang {row.abandoned}, ulang {row.reprompts:g})</text>',
        ]
    y = 10 + len(funnel.steps) * ROW
    parts += [f'<text x="0" y="{y + 18}" font-size="14" font-weight="bold">selesai</text>',
              f'<rect x="{LABEL}" y="{y + 4}" width="{funnel.completed * scale:.1f}" height="20" fill="#1b7f3b"/>',
              f'<text x="{LABEL + funnel.completed * scale + 6:.1f}" y="{y + 18}" '
              f'font-size="13">{funnel.completed}</text>',
              "</svg>"]
    return Markup("".join(parts))
