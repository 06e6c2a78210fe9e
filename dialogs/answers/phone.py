"""Phone number answers, read and checked with phonenumbers (Google's libphonenumber metadata):
any common way of writing an Indonesian number, or an international one with its +code."""
from __future__ import annotations

import re

from dialogs.answers.context import ParseContext
from dialogs.model import Parsed

__all__ = ["parse", "to_e164"]

REGION = "ID"  # numbers without a country code are Indonesian
_MAX_LENGTH = 40
_SHAPE = re.compile(r"\+?[0-9 ().-]+")  # ASCII digits and separators only: no letters (no keypad spelling)


def parse(ctx: ParseContext) -> Parsed:
    """A valid phone number, stored in E.164 (``+6281234567890``)."""
    number = to_e164(ctx.inbound.text)
    return ctx.hint("hint_phone") if number is None else Parsed(value=number)


def to_e164(text: str) -> str | None:
    """The E.164 form of a valid number written any usual way ("0812-3456-7890", "+62 812
    3456 7890", "62812...", "812...", "0062..."), or None when it is not a valid number
    (too short, too long, no such prefix: "81234567" is not one), or written with anything
    but ASCII digits, spaces, ``+``, ``-``, ``.`` and parentheses."""
    text = text.strip()
    if len(text) > _MAX_LENGTH or not _SHAPE.fullmatch(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("62") or text.startswith("8"):
        text = ("+" if text.startswith("62") else "+62") + text
    import phonenumbers  # here, not at the top: its metadata (1.3 MB) only where a script asks for a phone

    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
