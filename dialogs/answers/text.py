"""Free-text answers."""
from __future__ import annotations

from dialogs.answers.context import ParseContext
from dialogs.model import Parsed
from dialogs.normalize import clean_text

__all__ = ["parse"]


def parse(ctx: ParseContext) -> Parsed:
    """Free text, cleaned for storage, within the step's length limits."""
    text = clean_text(ctx.inbound.text)
    step = ctx.step
    if len(text) < step.min_length:
        return ctx.hint("hint_text_short", min=step.min_length, length=len(text))
    if len(text) > step.max_length:
        return ctx.hint("hint_text_long", max=step.max_length, length=len(text))
    return Parsed(value=text)
