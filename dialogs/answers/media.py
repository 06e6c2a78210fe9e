"""Media answers (photos, documents)."""
from __future__ import annotations

from dialogs.answers.context import ParseContext
from dialogs.answers.skip import is_skip
from dialogs.model import Parsed

__all__ = ["parse"]


def parse(ctx: ParseContext) -> Parsed:
    """The attachments sent, or, on an optional step, LEWATI/SKIP or any common way of saying
    there is none ("gak ada", "belum ada foto", "tidak ada pak", "no photo")."""
    if ctx.inbound.media:
        return Parsed(value=[{"url": m.url, "content_type": m.content_type} for m in ctx.inbound.media])
    if ctx.step.optional and is_skip(ctx.norm, ctx.bare_loose):
        return Parsed(value=[])
    return ctx.hint("hint_media")
