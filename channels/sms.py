"""SMS text rules: the GSM-7 alphabet, segment counts and word-safe splitting.

A GSM-7 message fits 160 septets in one segment, 153 per segment when concatenated; the
extension characters (``^{}\\[~]|€`` and form feed) take two septets. Anything outside GSM-7
forces UCS-2 for the whole message: 70 UTF-16 units in one segment, 67 when concatenated.
"""
from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# The most segments one SMS may take (concatenated on the phone): replies are cut into parts of
# at most this many, and the script linter warns about a prompt that needs more.
MAX_SEGMENTS = 3


@dataclass(frozen=True, slots=True)
class SmsSize:
    """How a text travels as SMS."""

    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def non_gsm7(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch)
    return list(seen)


def sms_size(text: str) -> SmsSize:
    """Encoding, length in units and number of segments of ``text``."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsSize(encoding, units, segments)


def split_sms(text: str, max_segments: int = 1) -> list[str]:
    """Split ``text`` into parts of at most ``max_segments`` segments each, between words.

    A line break is preferred over a space; a single word longer than a part is the only
    thing ever cut. Joining the parts with single spaces/newlines restores the words.
    """
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if sms_size(rest).segments <= max_segments:
            parts.append(rest)
            break
        cut = _longest_fit(rest, max_segments)
        window = rest[:cut]
        at = max(window.rfind("\n"), window.rfind(" "))
        if at <= 0:
            at = cut  # one enormous word: cut it
        parts.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    return parts


def _longest_fit(text: str, max_segments: int) -> int:
    low, high = 1, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if sms_size(text[:mid]).segments <= max_segments:
            low = mid
        else:
            high = mid - 1
    return low
