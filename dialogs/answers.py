"""Answer parsers: a citizen's message -> a stored value, or a hint that says what went wrong.

``parse_answer`` handles every question type except ``confirm`` and ``message`` (the engine
owns those). It never raises on any text: whatever arrives (empty, huge, emoji, control
characters), the result is a value or a hint. Values stay JSON-serialisable: dates are ISO
text, numbers are ints or finite floats, locations and attachments are plain dicts.

Everything here is pure and fast: regexes compile at import, the lookup tables of a choice
step are built once per step, and typo matching only runs on short answers.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Iterable

from dialogs.i18n import NO_WORDS, SKIP_WORDS, YES_WORDS
from dialogs.model import AnswerType, Inbound, Option, Parsed, Script, Step, iso

# ---------------------------------------------------------------------------- normalizing

# Punctuation that may surround an answer ("Ya!", '"2".', "¿ok?"); never "-" (a skip word).
_EDGE = " .,!?;:\"'`\u00a1\u00bf\u2018\u2019\u201c\u201d\u00ab\u00bb"
_ASCII_JUNK = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")  # controls that are not whitespace
_FOLD_CACHE_LIMIT = 20_000


class _FoldTable(dict):
    """str.translate table for non-ASCII text: drops combining marks (accents) and invisible
    control/format characters, turns other whitespace-like controls into spaces. Filled lazily
    and bounded, so a message full of rare characters cannot grow it without limit."""

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Mn", "Me"):
            result: int | str | None = None
        elif category in ("Cc", "Cf", "Cs"):
            result = " " if char.isspace() else None
        else:
            result = code
        if len(self) < _FOLD_CACHE_LIMIT:
            self[code] = result
        return result


_FOLD = _FoldTable()


def normalize(text: str) -> str:
    """Text for matching: NFKC, casefolded, accents and control characters removed, runs of
    whitespace collapsed to one space, surrounding spaces and punctuation (.,!?;:"') stripped.

    ``normalize(" Ya!! ") == "ya"``, ``normalize("Pendídikan") == "pendidikan"``.
    """
    if text.isascii():
        text = _ASCII_JUNK.sub("", text.lower())
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        if not text.isascii():
            text = unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_FOLD))
        text = _ASCII_JUNK.sub("", text)
    return " ".join(text.split()).strip(_EDGE)


_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BLANKS = re.compile(r"[^\S\n]+")
_BLANK_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Free text fit for storage: NFC; NUL, other control characters, lone surrogates and bidi
    overrides removed (newlines kept, any line break style becomes "\\n"); runs of spaces and
    tabs become one space; at most two newlines in a row; stripped."""
    text = unicodedata.normalize("NFC", text)
    if text.isprintable():  # no line break, tab, control or format character: the usual case
        return " ".join(text.split())
    text = _NEWLINES.sub("\n", text)
    text = _BLANKS.sub(" ", _CONTROLS.sub("", text))
    text = _MANY_NEWLINES.sub("\n\n", _BLANK_AROUND_NEWLINE.sub("\n", text))
    return text.strip()


_NON_WORD = re.compile(r"[\W_]+")


def _loose(norm: str) -> str:
    """A normalized text with punctuation and symbols (emoji too) turned into single spaces."""
    return _NON_WORD.sub(" ", norm).strip()


# ---------------------------------------------------------------------------- entry points


def parse_answer(script: Script, step: Step, inbound: Inbound, language: str, today: date) -> Parsed:
    """Parse the citizen's answer to ``step`` (any type but confirm and message).

    ``today`` is the citizen's local date (for "hari ini", "kemarin", future checks). Returns
    ``Parsed(value=...)`` (``sets`` filled for a choice option that sets extra answers) or
    ``Parsed(hint=...)`` in ``language``. A skipped optional answer is ``Parsed(value=None)``
    (``[]`` for media). Raises ValueError only for confirm/message steps, never for input text.
    """
    parser = _PARSERS.get(step.type)
    if parser is None:
        raise ValueError(f"step '{step.id}': {step.type.value} steps are handled by the engine")
    ctx = _Context(script, step, inbound, language, today, normalize(inbound.text))
    if ctx.norm in SKIP_WORDS and step.optional and step.type in _SKIPPABLE:
        return Parsed(value=None)
    parsed = parser(ctx)
    if parsed.rejected and not ctx.norm and not inbound.media and inbound.location is None and not clean_text(inbound.text):
        return Parsed(hint=script.text("hint_empty", language, question_hint=parsed.hint))
    return parsed


def option_menu(step: Step, language: str) -> list[tuple[int, str]]:
    """The (number, label) pairs of a choice step's menu, in order, labels in ``language``."""
    return [(option.number, _label(option, language)) for option in step.options]


_MONTH_NAMES = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
}
_ATTACHMENTS = {"id": ("{n} lampiran", "{n} lampiran"), "en": ("{n} attachment", "{n} attachments")}
_SUMMARY_TEXT_MAX = 40


def display_value(script: Script, step: Step, value: Any, language: str) -> str:
    """A short text for an answer in the confirm summary, in ``language``.

    Choice: the option's label; date: "12 Mei 2024"/"12 May 2024"; yes/no: Ya/Tidak;
    location: its text or "lat, long"; media: "2 lampiran"/"2 attachments"; text: at most
    40 characters (cut ones end in "..."); None or nothing: the "none" message.
    """
    kind = step.type
    if value is None or value == [] or value == "":
        return script.text("none", language)
    if kind is AnswerType.CHOICE:
        option = next((o for o in step.options if o.value == value), None)
        return _label(option, language, script.default_language) if option else str(value)
    if kind is AnswerType.YES_NO and isinstance(value, bool):
        return script.text("yes" if value else "no", language)
    if kind is AnswerType.DATE and isinstance(value, str):
        return _display_date(value, language)
    if kind is AnswerType.LOCATION and isinstance(value, dict):
        return _display_location(script, value, language)
    if kind is AnswerType.MEDIA and isinstance(value, list):
        singular, plural = _ATTACHMENTS.get(language, _ATTACHMENTS["en"])
        return (singular if len(value) == 1 else plural).format(n=len(value))
    text = " ".join(str(value).split())
    if len(text) > _SUMMARY_TEXT_MAX:
        return text[: _SUMMARY_TEXT_MAX - 3].rstrip() + "..."
    return text


def _label(option: Option, language: str, default_language: str = "") -> str:
    label = option.label
    return label.get(language) or label.get(default_language) or next(iter(label.values()), option.value)


def _display_date(value: str, language: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    names = _MONTH_NAMES.get(language, _MONTH_NAMES["en"])
    return f"{day.day} {names[day.month - 1]} {day.year}"


def _display_location(script: Script, value: dict[str, Any], language: str) -> str:
    if value.get("text"):
        return str(value["text"])
    if value.get("latitude") is not None and value.get("longitude") is not None:
        return f"{value['latitude']}, {value['longitude']}"
    return script.text("none", language)


# ---------------------------------------------------------------------------- shared


@dataclass(slots=True)
class _Context:
    """One parse call's inputs, with the normalized text computed once."""

    script: Script
    step: Step
    inbound: Inbound
    language: str
    today: date
    norm: str

    def hint(self, key: str, **params: Any) -> Parsed:
        return Parsed(hint=self.script.text(key, self.language, **params))


_SKIPPABLE = frozenset({AnswerType.TEXT, AnswerType.NUMBER, AnswerType.DATE, AnswerType.PHONE, AnswerType.LOCATION})

# Small numbers in words, for number answers and "dua hari lalu".
_NUMBER_WORDS = {
    word: value
    for value, words in enumerate(
        (
            ("nol", "zero"),
            ("satu", "one"),
            ("dua", "two"),
            ("tiga", "three"),
            ("empat", "four"),
            ("lima", "five"),
            ("enam", "six"),
            ("tujuh", "seven"),
            ("delapan", "eight"),
            ("sembilan", "nine"),
            ("sepuluh", "ten"),
        )
    )
    for word in words
}


def _plain(number: float) -> str:
    """12.0 -> "12", 2.5 -> "2.5" (for hints)."""
    return str(int(number)) if float(number).is_integer() else str(number)


# ---------------------------------------------------------------------------- choice


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
_CHOICE_NUMBER = re.compile(r"(?:(?:no|nomor|nomer|number|pilihan|pilih|option|opsi) ?)?([0-9]{1,6})")
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
        for word in {_loose(normalize(w)) for w in words} - {""}:
            exact[word] = option if exact.get(word, option) is option else None
    unique = [(word, option) for word, option in exact.items() if option is not None]
    table = _ChoiceTable(
        by_number={option.number: option for option in step.options},
        exact=exact,
        phrases=tuple((f" {word} ", option) for word, option in unique),
        fuzzy=_by_length((word, frozenset(word), 1 if len(word) < 8 else _MAX_TYPOS, option) for word, option in unique if len(word) >= 4),
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


def _parse_choice(ctx: _Context) -> Parsed:
    table = _table(ctx.step)
    key = _loose(ctx.norm)
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
        distance = _osa_distance(key, word, limit)
        if distance > limit or distance > best:
            continue
        if distance < best:
            best, nearest = distance, []
        nearest.append(option)
    return _distinct(nearest)


def _distinct(options: Iterable[Option]) -> list[Option]:
    """Options without repeats (Options are not hashable: they hold mappings)."""
    return list({id(option): option for option in options}.values())


def _osa_distance(a: str, b: str, limit: int) -> int:
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


def _choice_hint(ctx: _Context, key: str) -> Parsed:
    return ctx.hint(key, numbers=number_list(ctx.script, [o.number for o in ctx.step.options], ctx.language))


def number_list(script: Script, numbers: list[int], language: str) -> str:
    """"1, 2 atau 3" / "1, 2 or 3": the numbers a citizen may reply."""
    words = [str(n) for n in numbers]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {script.text('or', language)} {words[-1]}"


# ---------------------------------------------------------------------------- text


def _parse_text(ctx: _Context) -> Parsed:
    text = clean_text(ctx.inbound.text)
    step = ctx.step
    if len(text) < step.min_length:
        return ctx.hint("hint_text_short", min=step.min_length, length=len(text))
    if len(text) > step.max_length:
        return ctx.hint("hint_text_long", max=step.max_length, length=len(text))
    return Parsed(value=text)


# ---------------------------------------------------------------------------- number

_NUMBER_SHAPE = re.compile(r"[+-]?[0-9][0-9.,]*")
_GROUPED = {sep: re.compile(rf"[1-9][0-9]{{0,2}}(?:\{sep}[0-9]{{3}})+") for sep in ".,"}
_MAX_DIGITS = 15  # what a float holds exactly; longer is no sensible answer


def _parse_number(ctx: _Context) -> Parsed:
    number = _to_number(ctx.norm)
    if number is None:
        return ctx.hint("hint_number")
    low, high = ctx.step.min_value, ctx.step.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            return ctx.hint("hint_number_range", min=_plain(low), max=_plain(high))
        if low is not None:
            return ctx.hint("hint_number_min", min=_plain(low))
        return ctx.hint("hint_number_max", max=_plain(high))
    return Parsed(value=number)


def _to_number(norm: str) -> int | float | None:
    """"3", "-2", "3,5", "3.5", "1.000", "1.000.000", "1,000", "1.000,5", "tiga" -> a number.

    A separator followed by exact groups of three digits groups thousands ("1.000" is one
    thousand, "0.500" and "1.5" are decimals); with both separators the last one is decimal.
    """
    if norm in _NUMBER_WORDS:
        return _NUMBER_WORDS[norm]
    text = norm[0] + norm[1:].lstrip() if norm.startswith(("+", "-")) else norm  # "- 2"
    if len(text) > 2 * _MAX_DIGITS or not _NUMBER_SHAPE.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    whole, fraction = _split_number(body)
    if whole is None or len(whole) + len(fraction) > _MAX_DIGITS:
        return None
    if not fraction.strip("0"):
        return sign * int(whole)
    return sign * float(f"{whole}.{fraction}")


def _split_number(body: str) -> tuple[str | None, str]:
    """(integer digits, decimal digits) of an unsigned number, or (None, "") when malformed."""
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        head, _, fraction = body.rpartition(decimal)
        if decimal in head or not _GROUPED[grouping].fullmatch(head):
            return None, ""
        return head.replace(grouping, ""), fraction
    if not has_dot and not has_comma:
        return body, ""
    sep = "." if has_dot else ","
    parts = body.split(sep)
    if len(parts) == 2 and not (len(parts[1]) == 3 and parts[0][0] != "0"):
        return parts[0], parts[1]
    if not _GROUPED[sep].fullmatch(body):
        return None, ""
    return body.replace(sep, ""), ""


# ---------------------------------------------------------------------------- date

_RELATIVE_DAYS = {
    "hari ini": 0, "today": 0, "sekarang": 0, "tadi": 0, "now": 0, "barusan": 0,
    "kemarin": 1, "kemaren": 1, "yesterday": 1,
    "kemarin lusa": 2, "kemaren lusa": 2,
    "minggu lalu": 7, "seminggu lalu": 7, "seminggu yang lalu": 7, "last week": 7, "a week ago": 7,
}  # fmt: skip
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "pebruari", "february", "feb", "peb"),
            ("maret", "march", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("agustus", "august", "agu", "agt", "ags", "agus", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov", "nop"),
            ("desember", "december", "des", "dec"),
        ),
        start=1,
    )
    for name in names
}
_DATE_PREFIX = re.compile(r"(?:(?:pada|tanggal|tgl|on)\.? )+")
_AGO = re.compile(r"([0-9]{1,4}|[a-z]+) (?:(hari|day|days)|(minggu|week|weeks)) (?:(?:yang|yg) )?(?:lalu|ago)")
_NUMERIC_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?")
_NUMERIC_YMD = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(rf"([0-9]{{1,2}}){_ORDINAL}[ ./-]*([a-z]+)\.?(?:[ ./,-]+([0-9]{{4}}|[0-9]{{2}}))?")
_MONTH_DAY = re.compile(rf"([a-z]+)\.? ?([0-9]{{1,2}}){_ORDINAL}(?:,? ([0-9]{{4}}))?")
_DATE_MAX = 40


def _parse_date(ctx: _Context) -> Parsed:
    found = _to_date(ctx.norm, ctx.today, ctx.step.allow_future) if len(ctx.norm) <= _DATE_MAX else None
    if found is None:
        return ctx.hint("hint_date")
    if found > ctx.today and not ctx.step.allow_future:
        return ctx.hint("hint_date_future")
    max_age = ctx.step.max_age_days
    if max_age is not None and (ctx.today - found).days > max_age:
        return ctx.hint("hint_date_too_old", days=max_age)
    return Parsed(value=iso(found))


def _to_date(norm: str, today: date, allow_future: bool) -> date | None:
    """The calendar date a normalized answer names, or None. Numbers are day first."""
    prefix = _DATE_PREFIX.match(norm)
    text = norm[prefix.end() :] if prefix else norm
    if text in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[text])
    if match := _AGO.fullmatch(text):
        count = int(match.group(1)) if match.group(1).isdigit() else _NUMBER_WORDS.get(match.group(1))
        return None if count is None else today - timedelta(days=count * (7 if match.group(3) else 1))
    if match := _NUMERIC_YMD.fullmatch(text):
        return _calendar(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    if match := _NUMERIC_DMY.fullmatch(text):
        return _day_month_year(int(match.group(1)), int(match.group(3)), match.group(4), today, allow_future)
    if match := _DAY_MONTH.fullmatch(text):
        month = _MONTHS.get(match.group(2))
        return _day_month_year(int(match.group(1)), month, match.group(3), today, allow_future) if month else None
    if match := _MONTH_DAY.fullmatch(text):
        month = _MONTHS.get(match.group(1))
        return _day_month_year(int(match.group(2)), month, match.group(3), today, allow_future) if month else None
    return None


def _day_month_year(day: int, month: int, year: str | None, today: date, allow_future: bool) -> date | None:
    """A date from its parts; a 2-digit year is 20YY. Without a year: this year, or last year
    when this year's date does not exist (29 Feb) or would be in the future on a step that
    does not allow future dates."""
    if year is not None:
        return _calendar(2000 + int(year) if len(year) == 2 else int(year), month, day)
    this_year = _calendar(today.year, month, day)
    if this_year is not None and (allow_future or this_year <= today):
        return this_year
    return _calendar(today.year - 1, month, day) or this_year


def _calendar(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- yes / no


def _parse_yes_no(ctx: _Context) -> Parsed:
    words = _loose(ctx.norm).split()
    answer = _yes_no(ctx.norm, words)
    return ctx.hint("hint_yes_no") if answer is None else Parsed(value=answer)


def _yes_no(norm: str, words: list[str]) -> bool | None:
    """True/False for a whole yes/no word (or 1/2), or a leading one the rest does not contradict."""
    if norm in YES_WORDS or norm == "1":
        return True
    if norm in NO_WORDS or norm == "2":
        return False
    if not words:
        return None
    head, rest = words[0], words[1:]
    if head in YES_WORDS and not any(word in NO_WORDS for word in rest):
        return True
    if head in NO_WORDS and not any(word in YES_WORDS for word in rest):
        return False
    return None


# ---------------------------------------------------------------------------- phone

_PHONE_JUNK = re.compile(r"[\s().-]+")
_PHONE_SHAPE = re.compile(r"\+?[0-9]{1,20}")


def _parse_phone(ctx: _Context) -> Parsed:
    number = _to_e164(ctx.norm)
    return ctx.hint("hint_phone") if number is None else Parsed(value=number)


def _to_e164(norm: str) -> str | None:
    """An E.164 number from any common way of writing one, assuming Indonesia (+62)."""
    if len(norm) > 40:
        return None
    digits = _PHONE_JUNK.sub("", norm.replace("(0)", ""))
    if not _PHONE_SHAPE.fullmatch(digits):
        return None
    if digits.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = "+" + digits[2:]
    elif digits.startswith("62"):
        number = "+" + digits
    elif digits.startswith("0"):
        number = "+62" + digits[1:]
    elif digits.startswith("8"):
        number = "+62" + digits
    else:
        return None
    if number.startswith("+62"):
        national = number[3:]
        return number if 8 <= len(national) <= 12 and national[0] != "0" else None
    return number if 8 <= len(number) - 1 <= 15 and number[1] != "0" else None


# ---------------------------------------------------------------------------- location

_COORDINATES = re.compile(r"(-?[0-9]{1,3}\.[0-9]{1,12}) ?[,; ] ?(-?[0-9]{1,3}\.[0-9]{1,12})")
_LOCATION_MIN, _LOCATION_MAX = 3, 300


def _parse_location(ctx: _Context) -> Parsed:
    shared = ctx.inbound.location
    if shared is not None and _valid_point(shared.latitude, shared.longitude):
        text = clean_text(shared.address)[:_LOCATION_MAX]
        return Parsed(value={"text": text, "latitude": float(shared.latitude), "longitude": float(shared.longitude)})
    text = clean_text(ctx.inbound.text)
    if match := _COORDINATES.fullmatch(ctx.norm):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not _valid_point(latitude, longitude):
            return ctx.hint("hint_location")
        return Parsed(value={"text": text, "latitude": latitude, "longitude": longitude})
    if not _LOCATION_MIN <= len(text) <= _LOCATION_MAX or not _loose(ctx.norm):
        return ctx.hint("hint_location")
    return Parsed(value={"text": text, "latitude": None, "longitude": None})


def _valid_point(latitude: float, longitude: float) -> bool:
    return math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180


# ---------------------------------------------------------------------------- media


def _parse_media(ctx: _Context) -> Parsed:
    if ctx.inbound.media:
        return Parsed(value=[{"url": m.url, "content_type": m.content_type} for m in ctx.inbound.media])
    if ctx.norm in SKIP_WORDS and ctx.step.optional:
        return Parsed(value=[])
    return ctx.hint("hint_media")


_PARSERS: dict[AnswerType, Callable[[_Context], Parsed]] = {
    AnswerType.CHOICE: _parse_choice,
    AnswerType.TEXT: _parse_text,
    AnswerType.NUMBER: _parse_number,
    AnswerType.DATE: _parse_date,
    AnswerType.YES_NO: _parse_yes_no,
    AnswerType.PHONE: _parse_phone,
    AnswerType.LOCATION: _parse_location,
    AnswerType.MEDIA: _parse_media,
}
