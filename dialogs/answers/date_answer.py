"""Date answers, exact or approximate.

A day ("hari ini", "kemarin sore", "3 hari lalu", "senin kemarin", "12/05/2024", "12 Mei 2024",
"May 12") is stored as "2024-05-12"; a month ("bulan lalu", "3 bulan yang lalu", "Mei 2024",
"05/2024", "mei") as "2024-05"; a year ("tahun lalu", "2023") as "2023". "Tidak tahu" skips an
optional step, and on a required one asks for an estimate. The future ("besok", "minggu
depan", a later date) is refused unless the step allows it.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dialogs.answers.context import ParseContext
from dialogs.i18n import (
    AGO_WORDS,
    CLOCK_WORDS,
    CLOCK_ZONES,
    DATE_APPROX_WORDS,
    DATE_PREFIX_WORDS,
    DAY_WORDS,
    DONT_KNOW_WORDS,
    ENGLISH_MONTH_WORDS,
    FUTURE_DAYS,
    KNOW_WORDS,
    LAST_WEEK_WORDS,
    LATER_WORDS,
    MONTH_WORDS,
    MONTHS,
    NUMBER_WORDS,
    RELATIVE_DAYS,
    RELATIVE_MONTHS,
    RELATIVE_YEARS,
    SELF_WORDS,
    SKIP_NEGATIONS,
    THAT_WORDS,
    TIME_OF_DAY_WORDS,
    WEEK_WORDS,
    WEEKDAY_PAST_WORDS,
    WEEKDAY_PREFIX_WORDS,
    WEEKDAYS,
    YEAR_WORDS,
)
from dialogs.model import Parsed, iso
from dialogs.normalize import loose

__all__ = ["Period", "dont_know", "parse", "period_of", "to_date", "to_period"]


@dataclass(frozen=True, slots=True)
class Period:
    """The days an answer may mean: one day, a month or a year (``first`` to ``last``), and
    the stored text: "2024-05-12", "2024-05" or "2023"."""

    first: date
    last: date
    value: str


def _any(words: Iterable[str]) -> str:
    """A regex alternation of the words, longest first."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


def _loose_any(words: Iterable[str]) -> str:
    return _any({loose(word) for word in words} - {""})


_PREFIX = re.compile(rf"(?:(?:{_any((*DATE_PREFIX_WORDS, *DATE_APPROX_WORDS))})\.?,? )+")
_UNIT_DAY, _UNIT_WEEK, _UNIT_MONTH, _UNIT_YEAR = (_loose_any(words) for words in (DAY_WORDS, WEEK_WORDS,
                                                                                   MONTH_WORDS, YEAR_WORDS))
_AGO = re.compile(rf"([0-9]{{1,4}}|[a-z]+) (?:({_UNIT_DAY})|({_UNIT_WEEK})|({_UNIT_MONTH})|({_UNIT_YEAR})) "
                  rf"(?:(?:{_loose_any(THAT_WORDS)}) )?(?:({_loose_any(AGO_WORDS)})|{_loose_any(LATER_WORDS)})")
_CLOCK = rf"(?:{_loose_any(CLOCK_WORDS)}) [0-9]{{1,2}}(?: [0-9]{{2}})?(?: ?(?:{_loose_any(CLOCK_ZONES)}))?"
_TIME_SUFFIX = re.compile(rf"(?: (?:{_CLOCK}|{_loose_any(TIME_OF_DAY_WORDS)}))+$")  # " sore", " pagi jam 9.30"
_WEEKDAY = re.compile(rf"(?:(?:{_loose_any(WEEKDAY_PREFIX_WORDS)}) )?(?:(last) )?({_loose_any(WEEKDAYS)})"
                      rf"(?: (?:({_loose_any(LAST_WEEK_WORDS)})|({_loose_any(WEEKDAY_PAST_WORDS)})))?")
_WEEKDAYS = {loose(name): number for name, number in WEEKDAYS.items()}
_ENGLISH_MONTHS = frozenset(ENGLISH_MONTH_WORDS)
_NUMERIC_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?")
_NUMERIC_YMD = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")
_NUMERIC_YM = re.compile(r"([0-9]{4})[/.-]([0-9]{1,2})")  # "2024-05"
_NUMERIC_MY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{4})")  # "05/2024"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(rf"([0-9]{{1,2}}){_ORDINAL}[ ./-]*([a-z]+)\.?(?:[ ./,-]+([0-9]{{4}}|[0-9]{{2}}))?")
_MONTH_DAY = re.compile(rf"([a-z]+)\.? ?([0-9]{{1,2}}){_ORDINAL}(?:,? ([0-9]{{4}}))?")
_MONTH_YEAR = re.compile(rf"(?:(?:{_any(MONTH_WORDS)})\.? )?([a-z]+)\.?(?:[ ./,-]+([0-9]{{4}}|[0-9]{{2}}))?")
_YEAR = re.compile(rf"(?:(?:{_any(YEAR_WORDS)})\.? )?([0-9]{{4}}|(?<=[a-z] )[0-9]{{2}})")  # "2023", "tahun 23"
_NOT_KNOWING = rf"(?:{_loose_any(SKIP_NEGATIONS)}) ?(?:{_loose_any(KNOW_WORDS)})"  # "gak tau", "gatau"
_DONT_KNOW = re.compile(  # then up to five words more: "tidak tahu tanggalnya", "lupa kapan ya"
    rf"(?:(?:{_loose_any(SELF_WORDS)}) )?(?:{_NOT_KNOWING}|{_loose_any(DONT_KNOW_WORDS)})(?: [^\W_]+){{0,5}}"
)
_DATE_MAX = 40
_DONT_KNOW_MAX = 80
_FIRST_YEAR = 1900


def parse(ctx: ParseContext) -> Parsed:
    """A day, month or year (see the module), within the step's future and age limits."""
    step = ctx.step
    found = to_period(ctx.bare, ctx.today, step.allow_future, ctx.language) if len(ctx.bare) <= _DATE_MAX else None
    if found is None:
        if dont_know(ctx.bare_loose):
            return Parsed(value=None) if step.optional else ctx.hint("hint_date_unknown")
        return ctx.hint("hint_date")
    if found.first > ctx.today and not step.allow_future:
        return ctx.hint("hint_date_future")
    max_age = step.max_age_days
    if max_age is not None and (ctx.today - found.last).days > max_age:
        return ctx.hint("hint_date_too_old", days=max_age)
    return Parsed(value=found.value)


def dont_know(bare_loose: str) -> bool:
    """True for "I do not know when" ("tidak tahu", "gak tau pak", "lupa tanggalnya", "not sure")."""
    return len(bare_loose) <= _DONT_KNOW_MAX and _DONT_KNOW.fullmatch(bare_loose) is not None


def to_date(norm: str, today: date, allow_future: bool) -> date | None:
    """The calendar day a normalized answer names, or None (also for a month or a year)."""
    found = to_period(norm, today, allow_future)
    return found.first if found is not None and found.first == found.last else None


def to_period(norm: str, today: date, allow_future: bool, language: str = "") -> Period | None:
    """The day, month or year a normalized answer names, or None. Numbers are day first. A
    month name and two digits are a month and year ("mei 24": May 2024), except in English
    (``language`` "en", or an English-only month name: "may 24" is 24 May)."""
    prefix = _PREFIX.match(norm)
    text = norm[prefix.end() :] if prefix else norm
    plain = loose(text)
    found = _relative(plain, today)
    if found is None and (timeless := _TIME_SUFFIX.sub("", plain)) and timeless != plain:
        found = _relative(timeless, today)  # "kemarin sore", "senin pagi jam 9"
    if found is not None:
        return found
    if match := _NUMERIC_YMD.fullmatch(text):
        return _day_period(_calendar(int(match.group(1)), int(match.group(3)), int(match.group(4))))
    if match := _NUMERIC_YM.fullmatch(text):
        return _month_period(int(match.group(1)), int(match.group(2)))
    if match := _NUMERIC_MY.fullmatch(text):
        return _month_period(int(match.group(2)), int(match.group(1)))
    if match := _NUMERIC_DMY.fullmatch(text):
        return _day_period(_day_month_year(int(match.group(1)), int(match.group(3)), match.group(4), today,
                                           allow_future))
    if match := _DAY_MONTH.fullmatch(text):
        month = MONTHS.get(match.group(2))
        return _day_period(_day_month_year(int(match.group(1)), month, match.group(3), today, allow_future)
                           if month else None)
    month_day = _MONTH_DAY.fullmatch(text)
    if month_day and (month_day.group(3) or len(month_day.group(2)) == 1 or language == "en"
                      or month_day.group(1) in _ENGLISH_MONTHS):
        month = MONTHS.get(month_day.group(1))
        if month:
            return _day_period(_day_month_year(int(month_day.group(2)), month, month_day.group(3), today,
                                               allow_future))
    if (match := _MONTH_YEAR.fullmatch(text)) and match.group(1) in MONTHS:
        return _month_named(match.group(1), match.group(2), today, allow_future)
    if match := _YEAR.fullmatch(text):
        year = match.group(1)
        return _year_period(2000 + int(year) if len(year) == 2 else int(year))
    return None


def _relative(plain: str, today: date) -> Period | None:
    """A day, month or year counted from today: the word tables, "3 hari lalu", weekdays."""
    if plain in RELATIVE_DAYS:
        return _day_period(_shift_days(today, -RELATIVE_DAYS[plain]))
    if plain in FUTURE_DAYS:
        return _day_period(_shift_days(today, FUTURE_DAYS[plain]))
    if plain in RELATIVE_MONTHS:
        return _months_back(today, RELATIVE_MONTHS[plain])
    if plain in RELATIVE_YEARS:
        return _year_period(today.year - RELATIVE_YEARS[plain])
    ago = _AGO.fullmatch(plain)
    count = None if ago is None else int(ago[1]) if ago[1].isdigit() else NUMBER_WORDS.get(ago[1])
    if ago is not None and count is not None:  # not "senin minggu lalu" (a weekday, below)
        back = count if ago[6] else -count  # "lalu"/"ago"; else "lagi": ahead
        if ago[4]:
            return _months_back(today, back)
        if ago[5]:
            return _year_period(today.year - back)
        return _day_period(_shift_days(today, -back * (7 if ago[3] else 1)))
    if match := _WEEKDAY.fullmatch(plain):
        weekday = _WEEKDAYS[match.group(2)]
        if match.group(3):  # "senin minggu lalu": that day of last week (weeks start on Monday)
            return _day_period(_shift_days(today, -today.weekday() - 7 + weekday))
        back = (today.weekday() - weekday) % 7
        if back == 0 and (match.group(1) or match.group(4)):  # "senin kemarin" on a Monday
            back = 7
        return _day_period(_shift_days(today, -back))
    return None


def _month_named(name: str, year: str | None, today: date, allow_future: bool) -> Period | None:
    """"Mei 2024", "mei 24", or "mei" alone: the last May up to today (this year's when the
    future is allowed)."""
    month = MONTHS[name]
    if year is not None:
        return _month_period(2000 + int(year) if len(year) == 2 else int(year), month)
    if allow_future or month <= today.month:
        return _month_period(today.year, month)
    return _month_period(today.year - 1, month)


def _months_back(today: date, count: int) -> Period | None:
    index = today.year * 12 + today.month - 1 - count
    return _month_period(index // 12, index % 12 + 1)


def _shift_days(today: date, days: int) -> date | None:
    try:
        return today + timedelta(days=days)
    except OverflowError:
        return None


def _day_period(day: date | None) -> Period | None:
    return None if day is None else Period(day, day, iso(day))


def _month_period(year: int, month: int) -> Period | None:
    if not (_FIRST_YEAR <= year <= 9999 and 1 <= month <= 12):
        return None
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}")


def _year_period(year: int) -> Period | None:
    if not _FIRST_YEAR <= year <= 9999:
        return None
    return Period(date(year, 1, 1), date(year, 12, 31), f"{year:04d}")


def period_of(value: str) -> Period | None:
    """The period a stored date answer means ("2024-05-12", "2024-05", "2023"), or None. For
    code that needs a calendar day: ``period_of(value).first`` is the earliest it may be."""
    if len(value) == 4 and value.isdigit():
        return _year_period(int(value))
    if len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
        return _month_period(int(value[:4]), int(value[5:]))
    try:
        return _day_period(date.fromisoformat(value)) if len(value) == 10 else None
    except ValueError:
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
