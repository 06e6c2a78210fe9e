"""``lapor nlu evaluate``: score an interpreter on a file of labelled examples (Rasa NLU YAML).

The file's labels say which classifier is scored: intents (``out_of_scope`` included: an
example the interpreter leaves without an intent counts as out of scope) or categories (one it
leaves without a category counts as wrong). Scored exactly as the service interprets, guards
and thresholds included.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.nlu.data import OUT_OF_SCOPE, read_examples, task_of
from bot.nlu.interpreter import BuiltinInterpreter, RasaInterpreter

__all__ = ["Score", "evaluate", "render"]
NO_CATEGORY = "(none)"


@dataclass
class Score:
    """What ``evaluate`` measured."""

    backend: str
    task: str
    n: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)  # precision, recall, f1, support
    median_ms: float = 0.0
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)  # (text, expected, got)

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "task": self.task, "n": self.n, "accuracy": round(self.accuracy, 4),
                "macro_f1": round(self.macro_f1, 4), "median_ms": round(self.median_ms, 3),
                "per_label": {label: {k: round(v, 4) for k, v in values.items()}
                              for label, values in self.per_label.items()}}


def evaluate(path: Path, interpreter: BuiltinInterpreter | RasaInterpreter) -> Score:
    """Score ``interpreter`` on the examples of ``path``; a Rasa that does not answer is an
    error (RuntimeError), never silently the built-in one."""
    examples = read_examples(path)
    task = task_of(set(examples))
    expected, predicted, times, texts = [], [], [], []
    for label, items in examples.items():
        for text in items:
            started = time.perf_counter()
            if isinstance(interpreter, RasaInterpreter):
                ranking = interpreter.rank(text)
                if ranking is None:
                    raise RuntimeError("the Rasa server did not answer: is it running (make rasa) and RASA_URL right?")
                meaning = interpreter.guard(ranking, text)
            else:
                meaning = interpreter.interpret(text)
            times.append((time.perf_counter() - started) * 1000)
            got = (meaning.intent or OUT_OF_SCOPE) if task == "intent" else (meaning.category or NO_CATEGORY)
            expected.append(label)
            predicted.append(got)
            texts.append(text)
    labels = sorted(examples)
    per_label: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(e == p == label for e, p in zip(expected, predicted, strict=True))
        guessed = predicted.count(label)
        actual = expected.count(label)
        precision = tp / guessed if guessed else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": float(actual)}
    n = len(expected)
    correct = sum(e == p for e, p in zip(expected, predicted, strict=True))
    times.sort()
    return Score(interpreter.name, task, n, correct / n if n else 0.0,
                 sum(v["f1"] for v in per_label.values()) / len(per_label) if per_label else 0.0, per_label,
                 times[len(times) // 2] if times else 0.0,
                 [(t, e, p) for t, e, p in zip(texts, expected, predicted, strict=True) if e != p])


def render(score: Score) -> str:
    """The score as the table the README shows."""
    lines = [f"{score.backend} {score.task}: n={score.n}, accuracy {score.accuracy:.3f}, "
             f"macro F1 {score.macro_f1:.3f}, median {score.median_ms:.2f} ms per example", "",
             f"{'label':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}"]
    for label, values in score.per_label.items():
        lines.append(f"{label:<20} {values['precision']:>9.3f} {values['recall']:>7.3f} {values['f1']:>6.3f} "
                     f"{int(values['support']):>4}")
    return "\n".join(lines)
