"""Per-channel rendering of a reply: the same numbered text everywhere, cut to what each
channel carries, never mid-word, and kept in GSM-7 on SMS where punctuation allows.

Each part becomes its own outbox row, so a part is sent exactly once and parts keep their order.
"""
from __future__ import annotations

from channels.sms import MAX_SEGMENTS, split_sms

LIMITS = {"whatsapp": 1600, "telegram": 4096}  # characters per message (Twilio, Bot API)

# Typography that would switch a whole SMS to UCS-2 (70 characters a segment) for nothing.
_GSM_FRIENDLY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "-",
})


def render_parts(channel: str, text: str) -> list[str]:
    """The messages that carry ``text`` on ``channel``, in order (at least one)."""
    if channel == "sms":
        return split_sms(text.translate(_GSM_FRIENDLY), max_segments=MAX_SEGMENTS) or [""]
    limit = LIMITS.get(channel)
    return split_length(text, limit) if limit else [text]


def split_length(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a line break or space when possible."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts
