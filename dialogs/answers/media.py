"""Media answers (photos, documents)."""
from __future__ import annotations

from dialogs.answers.context import ParseContext
from dialogs.i18n import SKIP_WORDS
from dialogs.model import Parsed

__all__ = ["parse"]


def parse(ctx: ParseContext) -> Parsed:
    """The attachments sent, or LEWATI/SKIP on an optional step."""
    if ctx.inbound.media:
        return Parsed(value=[{"url": m.url, "content_type": m.content_type} for m in ctx.inbound.media])
    if ctx.norm in SKIP_WORDS and ctx.step.optional:
        return Parsed(value=[])
    return ctx.hint("hint_media")
