"""Choice answers: a menu reply matched by number (digits, number words, ordinals, "yg 2",
"pilih 3"), label, synonym, phrase or small typo, or a confident interpretation of the text on
the category step. An answer that names two or more options is asked again with them."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dialogs.answers.context import ParseContext
from dialogs.display import number_list
from dialogs.i18n import CHOICE_JOIN_WORDS, CHOICE_NUMBER_WORDS, NUMBER_WORDS, ORDINAL_WORDS
from dialogs.model import Option, Parsed, Step
from dialogs.normalize import loose, normalize

__all__ = ["osa_distance", "parse"]

_Candidate = tuple[str, frozenset[str], int, Option]  # (word, its letters, max typos, option)


@dataclass(frozen=True, slots=True)
class _ChoiceTable:
    """A choice step's lookups: numbers, exact words, phrases, typo candidates and values."""

    by_number: dict[int, Option]
    exact: dict[str, tuple[Option, ...]]  # loose word -> its options (two or more: it is ambiguous)
    phrases: tuple[tuple[str, Option], ...]  # (" word ", option) for whole-phrase containment
    fuzzy: dict[int, tuple[_Candidate, ...]]  # typo candidates by length
    by_value: dict[str, Option]


_TABLES: dict[int, tuple[Step, _ChoiceTable]] = {}
_TABLES_LIMIT = 4096
_NUMBER_FILLERS = frozenset(loose(word) for word in CHOICE_NUMBER_WORDS + CHOICE_JOIN_WORDS)
_NUMBER_WORDS = {**NUMBER_WORDS, **ORDINAL_WORDS}
_NUMBER_TOKEN = re.compile(r"(?:ke)?([0-9]{1,6})(?:st|nd|rd|th|nya)?")  # "2", "ke2", "2nd"
_ORDINAL_PRONOUNS = frozenset({"one", "nya"})  # "the second one", "yang kedua nya"
_NUMBER_SCAN = 12  # words looked at for leading menu numbers
_PHRASE_MAX = 160  # containment is tried on answers up to one SMS long
_FUZZY_MAX = 40  # typo matching only on short answers
_MAX_TYPOS = 2
_MEANING_FIELD = "category"  # the field whose step may take the interpreter's category


def _table(step: Step) -> _ChoiceTable:
    """The step's lookup tables, built on first use and cached (keyed by identity; the cache
    holds the step, so its id cannot be reused while cached)."""
    cached = _TABLES.get(id(step))
    if cached is not None and cached[0] is step:
        return cached[1]
    exact: dict[str, tuple[Option, ...]] = {}
    for option in step.options:
        words = list(option.label.values()) + [w for ws in option.synonyms.values() for w in ws]
        for word in {loose(normalize(w)) for w in words} - {""}:
            exact[word] = tuple(_distinct((*exact.get(word, ()), option)))
    unique = [(word, options[0]) for word, options in exact.items() if len(options) == 1]
    table = _ChoiceTable(
        by_number={option.number: option for option in step.options},
        exact=exact,
        phrases=tuple((f" {word} ", option) for word, option in unique),
        fuzzy=_by_length((word, frozenset(word), 1 if len(word) < 8 else _MAX_TYPOS, option)
                         for word, option in unique if len(word) >= 4),
        by_value={option.value: option for option in step.options},
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
    """A menu answer, tried in this order: a label or synonym (the whole answer, with or
    without the politeness around it); menu numbers leading the answer ("2", "no. 2", "yg
    kedua", "pilih tiga", "1. Pengaduan"); then, except on ``strict`` steps, a phrase holding
    one option's word, a small typo of one, and on the step filling ``category`` the
    interpreter's category (``inbound.meaning``). Two or more options named ("1 atau 3", a word
    of two options, "1 aspirasi") is ambiguous: the hint names them."""
    table = _table(ctx.step)
    strict = ctx.step.strict
    key = loose(ctx.norm)
    for word in (key, ctx.bare_loose):
        if word in table.exact:
            return _verdict(ctx, table.exact[word])
    numbers, rest = _leading_numbers(ctx.bare_loose)
    if numbers:
        return _numbered(ctx, table, numbers, rest)
    if strict or not key:
        return _choice_hint(ctx, "hint_choice")
    found = _words(table, ctx.bare_loose)
    if found:
        return _verdict(ctx, found)
    meaning = ctx.inbound.meaning
    if meaning is not None and meaning.category and ctx.step.fills == _MEANING_FIELD:
        option = table.by_value.get(meaning.category)
        if option is not None and meaning.category_confidence > 0:
            return _picked(option)
    return _choice_hint(ctx, "hint_choice")


def _words(table: _ChoiceTable, key: str) -> list[Option]:
    """The options a free answer names: by the longest phrases it holds, else a small typo."""
    found = _contained(table, key) if len(key) <= _PHRASE_MAX else []
    if not found and len(key) <= _FUZZY_MAX:
        found = _closest(table, key)
    return found


def _leading_numbers(key: str) -> tuple[list[int], str]:
    """The menu numbers the answer starts with (digits, number words, ordinals, among filler
    words: "no", "yg", "pilih", "atau"...) and the words after them."""
    words = key.split(" ", _NUMBER_SCAN)
    numbers: list[int] = []
    after_ordinal = False
    for index, word in enumerate(words):
        if index == _NUMBER_SCAN:
            return numbers, word
        if word in _NUMBER_FILLERS or (after_ordinal and word in _ORDINAL_PRONOUNS):  # "the second one"
            after_ordinal = False
            continue
        after_ordinal = word in ORDINAL_WORDS
        if (match := _NUMBER_TOKEN.fullmatch(word)) is not None:
            numbers.append(int(match.group(1)))
        elif word in _NUMBER_WORDS:
            numbers.append(_NUMBER_WORDS[word])
        else:
            return numbers, " ".join(words[index:])
    return numbers, ""


def _numbered(ctx: ParseContext, table: _ChoiceTable, numbers: list[int], rest: str) -> Parsed:
    """An answer that starts with menu numbers: one number alone, or with the words of the
    same option after it ("1. Pengaduan"), picks it; other numbers or words make it ambiguous."""
    distinct = list(dict.fromkeys(numbers))
    named = [table.by_number[n] for n in distinct if n in table.by_number]
    if len(distinct) > 1:
        return _verdict(ctx, named) if len(named) > 1 else _choice_hint(ctx, "hint_choice")
    if rest:
        said = list(table.exact.get(rest, ()))
        if not said and not ctx.step.strict:
            said = _words(table, rest)
        if not said:
            return _choice_hint(ctx, "hint_choice")
        named = _distinct([*named, *said])
    return _verdict(ctx, named)


def _verdict(ctx: ParseContext, options: Iterable[Option]) -> Parsed:
    """The one option named, the ambiguity hint for several, the choice hint for none."""
    named = _distinct(options)
    if len(named) == 1:
        return _picked(named[0])
    if not named:
        return _choice_hint(ctx, "hint_choice")
    order = {id(option): index for index, option in enumerate(ctx.step.options)}
    numbers = [option.number for option in sorted(named, key=lambda option: order[id(option)])]
    return _choice_hint(ctx, "hint_choice_ambiguous", candidates=number_list(ctx.script, numbers, ctx.language))


def _picked(option: Option) -> Parsed:
    return Parsed(value=option.value, sets=dict(option.sets))


def _contained(table: _ChoiceTable, key: str) -> list[Option]:
    """The distinct options one of whose words or phrases occurs in ``key`` as whole words; a
    phrase inside a longer one found ("anonim" in "anonim dan rahasia") does not count."""
    padded = f" {key} "
    matched = [(phrase, option) for phrase, option in table.phrases if phrase in padded]
    if len(matched) > 1:
        matched = [(phrase, option) for phrase, option in matched
                   if not any(phrase != longer and phrase in longer for longer, _ in matched)]
    return _distinct(option for _, option in matched)


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


def _choice_hint(ctx: ParseContext, key: str, **params: str) -> Parsed:
    """``key`` with ``numbers``: every option's number ("1, 2 atau 3"), and ``params``."""
    return ctx.hint(key, numbers=number_list(ctx.script, [o.number for o in ctx.step.options], ctx.language),
                    **params)


def menu_number(text: str) -> int | None:
    """The one menu number an answer is, as citizens write it ("2", "dua", "yg 2", "no. 2",
    "kedua", "the second one"); None for anything else."""
    numbers, rest = _leading_numbers(loose(normalize(text)))
    return numbers[0] if len(numbers) == 1 and not rest else None


def named_option(step: Step, text: str) -> Option | None:
    """The option whose label or synonym is the whole of ``text`` (any case or accent): at a
    menu, "bantuan" is Bantuan Sosial, not the HELP command."""
    options = _table(step).exact.get(loose(normalize(text)), ())
    return options[0] if len(options) == 1 else None
