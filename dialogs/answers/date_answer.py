"""Date answers ("hari ini", "kemarin", "3 hari lalu", "12/05/2024", "12 Mei 2024", "May 12")."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from dialogs.answers.context import ParseContext
from dialogs.i18n import (
    AGO_WORDS,
    DATE_PREFIX_WORDS,
    DAY_WORDS,
    MONTHS,
    NUMBER_WORDS,
    RELATIVE_DAYS,
    THAT_WORDS,
    WEEK_WORDS,
)
from dialogs.model import Parsed, iso

__all__ = ["parse", "to_date"]


def _any(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in words)


_DATE_PREFIX = re.compile(rf"(?:(?:{_any(DATE_PREFIX_WORDS)})\.? )+")
_AGO = re.compile(rf"([0-9]{{1,4}}|[a-z]+) (?:({_any(DAY_WORDS)})|({_any(WEEK_WORDS)})) "
                  rf"(?:(?:{_any(THAT_WORDS)}) )?(?:{_any(AGO_WORDS)})")
_NUMERIC_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?")
_NUMERIC_YMD = re.compile(r"([0-9]{4})([/-])([0-9]{1,2})\2([0-9]{1,2})")
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(rf"([0-9]{{1,2}}){_ORDINAL}[ ./-]*([a-z]+)\.?(?:[ ./,-]+([0-9]{{4}}|[0-9]{{2}}))?")
_MONTH_DAY = re.compile(rf"([a-z]+)\.? ?([0-9]{{1,2}}){_ORDINAL}(?:,? ([0-9]{{4}}))?")
_DATE_MAX = 40


def parse(ctx: ParseContext) -> Parsed:
    """A calendar date: relative words, "3 hari lalu", day-first numbers, month names."""
    found = to_date(ctx.norm, ctx.today, ctx.step.allow_future) if len(ctx.norm) <= _DATE_MAX else None
    if found is None:
        return ctx.hint("hint_date")
    if found > ctx.today and not ctx.step.allow_future:
        return ctx.hint("hint_date_future")
    max_age = ctx.step.max_age_days
    if max_age is not None and (ctx.today - found).days > max_age:
        return ctx.hint("hint_date_too_old", days=max_age)
    return Parsed(value=iso(found))


def to_date(norm: str, today: date, allow_future: bool) -> date | None:
    """The calendar date a normalized answer names, or None. Numbers are day first."""
    prefix = _DATE_PREFIX.match(norm)
    text = norm[prefix.end() :] if prefix else norm
    if text in RELATIVE_DAYS:
        return today - timedelta(days=RELATIVE_DAYS[text])
    if match := _AGO.fullmatch(text):
        count = int(match.group(1)) if match.group(1).isdigit() else NUMBER_WORDS.get(match.group(1))
        return None if count is None else today - timedelta(days=count * (7 if match.group(3) else 1))
    if match := _NUMERIC_YMD.fullmatch(text):
        return _calendar(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    if match := _NUMERIC_DMY.fullmatch(text):
        return _day_month_year(int(match.group(1)), int(match.group(3)), match.group(4), today, allow_future)
    if match := _DAY_MONTH.fullmatch(text):
        month = MONTHS.get(match.group(2))
        return _day_month_year(int(match.group(1)), month, match.group(3), today, allow_future) if month else None
    if match := _MONTH_DAY.fullmatch(text):
        month = MONTHS.get(match.group(1))
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
