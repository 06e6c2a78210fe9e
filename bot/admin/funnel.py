"""Where citizens struggle: a funnel per script step, drawn server-side as SVG.

For one script (all its versions): how many conversations started and completed, how many
reached each step, how many were abandoned there (cancelled, expired, or idle past the idle
timeout), and how often, on average, the step had to ask again (``DialogState.reprompts``).

The page reads the ended conversations' counts pre-aggregated (``storage.models.FunnelCount``,
added to as each conversation ends) and only the active conversations row by row: its cost
follows the number of conversations under way, not of all there ever were. ``build`` is the
same computation over every conversation's row (the reference the aggregate is tested against).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from storage.repository import FunnelCounts

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


@dataclass(slots=True)
class _Tally:
    started: int = 0
    completed: int = 0
    reached: Counter[str] = field(default_factory=Counter)
    abandoned: Counter[str] = field(default_factory=Counter)
    reprompts: Counter[str] = field(default_factory=Counter)

    def add(self, rows: Iterable[tuple[str, str | None, dict[str, Any], datetime]], now: datetime,
            idle: timedelta) -> _Tally:
        for status, step_id, state, updated_at in rows:
            self.started += 1
            history = list(state.get("history") or [])
            seen = set(history) | ({step_id} if step_id else set())
            self.reached.update(seen)
            self.reprompts.update({step: int(count) for step, count in (state.get("reprompts") or {}).items()})
            if status == "completed":
                self.completed += 1
            elif status in ABANDONED or (status == "active" and now - updated_at > idle):
                last = step_id or (history[-1] if history else None)
                if last:
                    self.abandoned[last] += 1
        return self

    def funnel(self, steps: list[str]) -> Funnel:
        return Funnel(self.started, self.completed, tuple(
            StepRow(step, self.reached[step], self.abandoned[step],
                    round(self.reprompts[step] / self.reached[step], 2) if self.reached[step] else 0.0)
            for step in steps))


def build(rows: Iterable[tuple[str, str | None, dict[str, Any], datetime]], steps: list[str], now: datetime,
          idle: timedelta) -> Funnel:
    """The funnel of conversations ``rows`` (status, step id, state, updated_at) over ``steps``."""
    return _Tally().add(rows, now, idle).funnel(steps)


def combine(ended: Mapping[str, FunnelCounts], active: Iterable[tuple[str, str | None, dict[str, Any], datetime]],
            steps: list[str], now: datetime, idle: timedelta) -> Funnel:
    """The same funnel as ``build`` over every conversation, from the pre-aggregated counts of
    the ended ones (``storage.repository.ended_funnel``) and the rows of the active ones (of
    which those idle past ``idle`` count as abandoned at their step)."""
    tally = _Tally().add(active, now, idle)
    for step, counts in ended.items():
        if step == "":  # the script as a whole
            tally.started += counts.reached
            tally.completed += counts.completed
            continue
        tally.reached[step] += counts.reached
        tally.abandoned[step] += counts.abandoned
        tally.reprompts[step] += counts.reprompts
    return tally.funnel(steps)


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
