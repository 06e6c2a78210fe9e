"""Number answers."""
from __future__ import annotations

import re

from dialogs.answers.context import ParseContext
from dialogs.i18n import NUMBER_WORDS
from dialogs.model import Parsed

__all__ = ["parse", "to_number"]

_NUMBER_SHAPE = re.compile(r"[+-]?[0-9][0-9.,]*")
_GROUPED = {sep: re.compile(rf"[1-9][0-9]{{0,2}}(?:\{sep}[0-9]{{3}})+") for sep in ".,"}
_MAX_DIGITS = 15  # what a float holds exactly; longer is no sensible answer


def parse(ctx: ParseContext) -> Parsed:
    """A number in digits (Indonesian or English separators) or a small one in words, in range."""
    number = to_number(ctx.norm)
    if number is None:
        return ctx.hint("hint_number")
    low, high = ctx.step.min_value, ctx.step.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            return ctx.hint("hint_number_range", min=_plain(low), max=_plain(high))
        if low is not None:
            return ctx.hint("hint_number_min", min=_plain(low))
        return ctx.hint("hint_number_max", max=_plain(high if high is not None else number))
    return Parsed(value=number)


def to_number(norm: str) -> int | float | None:
    """"3", "-2", "3,5", "3.5", "1.000", "1.000.000", "1,000", "1.000,5", "tiga" -> a number.

    A separator followed by exact groups of three digits groups thousands ("1.000" is one
    thousand, "0.500" and "1.5" are decimals); with both separators the last one is decimal.
    """
    if norm in NUMBER_WORDS:
        return NUMBER_WORDS[norm]
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


def _plain(number: float) -> str:
    """12.0 -> "12", 2.5 -> "2.5" (for hints)."""
    return str(int(number)) if float(number).is_integer() else str(number)
