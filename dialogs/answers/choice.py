"""Choice answers: a menu reply matched by number, label, synonym, phrase or small typo."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dialogs.answers.context import ParseContext
from dialogs.display import number_list
from dialogs.i18n import CHOICE_NUMBER_WORDS
from dialogs.model import Option, Parsed, Step
from dialogs.normalize import loose, normalize

__all__ = ["osa_distance", "parse"]

_Candidate = tuple[str, frozenset[str], int, Option]  # (word, its letters, max typos, option)


@dataclass(frozen=True, slots=True)
class _ChoiceTable:
    """A choice step's lookups: numbers, exact words, phrases and typo candidates."""

    by_number: dict[int, Option]
    exact: dict[str, Option | None]  # loose word -> option; None when two options share it
    phrases: tuple[tuple[str, Option], ...]  # (" word ", option) for whole-phrase containment
    fuzzy: dict[int, tuple[_Candidate, ...]]  # typo candidates by length


_TABLES: dict[int, tuple[Step, _ChoiceTable]] = {}
_TABLES_LIMIT = 4096
_CHOICE_NUMBER = re.compile(rf"(?:(?:{'|'.join(CHOICE_NUMBER_WORDS)}) ?)?([0-9]{{1,6}})")
_PHRASE_MAX = 160  # containment is tried on answers up to one SMS long
_FUZZY_MAX = 40  # typo matching only on short answers
_MAX_TYPOS = 2


def _table(step: Step) -> _ChoiceTable:
    """The step's lookup tables, built on first use and cached (keyed by identity; the cache
    holds the step, so its id cannot be reused while cached)."""
    cached = _TABLES.get(id(step))
    if cached is not None and cached[0] is step:
        return cached[1]
    exact: dict[str, Option | None] = {}
    for option in step.options:
        words = list(option.label.values()) + [w for ws in option.synonyms.values() for w in ws]
        for word in {loose(normalize(w)) for w in words} - {""}:
            exact[word] = option if exact.get(word, option) is option else None
    unique = [(word, option) for word, option in exact.items() if option is not None]
    table = _ChoiceTable(
        by_number={option.number: option for option in step.options},
        exact=exact,
        phrases=tuple((f" {word} ", option) for word, option in unique),
        fuzzy=_by_length((word, frozenset(word), 1 if len(word) < 8 else _MAX_TYPOS, option)
                         for word, option in unique if len(word) >= 4),
    )
    if len(_TABLES) >= _TABLES_LIMIT:
        _TABLES.clear()
    _TABLES[id(step)] = (step, table)
    return table


def _by_length(candidates: Iterable[_Candidate]) -> dict[int, tuple[_Candidate, ...]]:
    """Typo candidates under every input length they may match (their length +- max typos)."""
    index: dict[int, list[_Candidate]] = {}
    for candidate in candidates:
        word, _, limit, _ = candidate
        for length in range(len(word) - limit, len(word) + limit + 1):
            index.setdefault(length, []).append(candidate)
    return {length: tuple(found) for length, found in index.items()}


def parse(ctx: ParseContext) -> Parsed:
    """A menu answer: its number, a label or synonym, a phrase holding one, or a small typo of
    one (not on ``strict`` steps); an ambiguous answer names the candidates."""
    table = _table(ctx.step)
    key = loose(ctx.norm)
    number = _CHOICE_NUMBER.fullmatch(key)
    if number:
        option = table.by_number.get(int(number.group(1)))
        return _picked(option) if option else _choice_hint(ctx, "hint_choice")
    if key in table.exact:
        option = table.exact[key]
        return _picked(option) if option else _choice_hint(ctx, "hint_choice_ambiguous")
    if ctx.step.strict or not key:
        return _choice_hint(ctx, "hint_choice")
    found = _contained(table, key) if len(key) <= _PHRASE_MAX else []
    if not found and len(key) <= _FUZZY_MAX:
        found = _closest(table, key)
    if len(found) == 1:
        return _picked(found[0])
    return _choice_hint(ctx, "hint_choice_ambiguous" if found else "hint_choice")


def _picked(option: Option) -> Parsed:
    return Parsed(value=option.value, sets=dict(option.sets))


def _contained(table: _ChoiceTable, key: str) -> list[Option]:
    """The distinct options one of whose words or phrases occurs in ``key`` as whole words."""
    padded = f" {key} "
    return _distinct(option for phrase, option in table.phrases if phrase in padded)


def _closest(table: _ChoiceTable, key: str) -> list[Option]:
    """The distinct options nearest to ``key`` within their typo limit (empty when none is)."""
    letters = frozenset(key)
    best = _MAX_TYPOS + 1
    nearest: list[Option] = []
    for word, word_letters, limit, option in table.fuzzy.get(len(key), ()):
        # A cheap bound first: each letter one side lacks costs at least one edit.
        if len(letters - word_letters) > limit or len(word_letters - letters) > limit:
            continue
        distance = osa_distance(key, word, limit)
        if distance > limit or distance > best:
            continue
        if distance < best:
            best, nearest = distance, []
        nearest.append(option)
    return _distinct(nearest)


def _distinct(options: Iterable[Option]) -> list[Option]:
    """Options without repeats (Options are not hashable: they hold mappings)."""
    return list({id(option): option for option in options}.values())


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of ``a`` and ``b`` when it is <= limit, else a larger
    number. The common prefix and suffix are cut first (that keeps the distance), then only
    the diagonal band of width ``limit`` is computed."""
    a, b = _trim_common(a, b)
    over = limit + 1
    if not a or not b:
        return min(len(a) + len(b), over)
    letters_a, letters_b = set(a), set(b)
    if len(letters_a - letters_b) > limit or len(letters_b - letters_a) > limit:
        return over
    len_b = len(b)
    before: list[int] = []
    previous = [j if j <= limit else over for j in range(len_b + 1)]
    for i in range(1, len(a) + 1):
        current = [i if i <= limit else over] + [over] * len_b
        char = a[i - 1]
        row_min = current[0]
        for j in range(max(1, i - limit), min(len_b, i + limit) + 1):
            value = previous[j - 1] if char == b[j - 1] else previous[j - 1] + 1
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == b[j - 1] and before[j - 2] + 1 < value:
                value = before[j - 2] + 1
            current[j] = value
            if value < row_min:
                row_min = value
        if row_min > limit:
            return over
        before, previous = previous, current
    return min(previous[len_b], over)


def _trim_common(a: str, b: str) -> tuple[str, str]:
    """``a`` and ``b`` without their common prefix and suffix."""
    shortest = min(len(a), len(b))
    start = 0
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return a[start : len(a) - end], b[start : len(b) - end]


def _choice_hint(ctx: ParseContext, key: str) -> Parsed:
    return ctx.hint(key, numbers=number_list(ctx.script, [o.number for o in ctx.step.options], ctx.language))
