"""Free-text answers."""
from __future__ import annotations

import re

from dialogs.answers.context import ParseContext
from dialogs.fields import voice_key
from dialogs.model import Parsed
from dialogs.normalize import clean_text, cut_at_word

__all__ = ["letters", "parse"]

_NAME_FIELD = "reporter_name"
_DIGIT = re.compile(r"[0-9]")
_NAME_MAX_DIGITS = 5  # more digits than this in a name: a phone or ID number, not a name


def letters(text: str) -> int:
    """How many letters ``text`` has (any script; not digits, spaces, punctuation or emoji)."""
    return sum(1 for char in text if char.isalpha())


def parse(ctx: ParseContext) -> Parsed:
    """Free text, cleaned for storage. ``min_length`` counts letters only ("....." or "12345"
    is no description). A name (the step filling ``reporter_name``) must have letters and no
    phone number. A text over ``max_length`` is kept, cut at a word, with a notice.

    On a step with ``voice: true``, a voice note (audio media) answers it: the answer is the
    script's ``voice_note_text`` (with the caption, if any), the notes are kept under the
    step's ``voice_key`` and filed as attachments; a typed answer there drops its earlier notes."""
    text = clean_text(ctx.inbound.text)
    step = ctx.step
    if step.voice:
        notes = [{"url": m.url, "content_type": m.content_type} for m in ctx.inbound.media
                 if m.content_type.startswith("audio/")]
        if notes:
            said = ctx.script.text("voice_note_text", ctx.language)
            value = cut_at_word(f"{text}\n{said}" if text else said, step.max_length)
            return Parsed(value=value, sets={voice_key(step.id): notes})
        parsed = _typed(ctx, text)
        return parsed if parsed.rejected else Parsed(value=parsed.value, sets={voice_key(step.id): []},
                                                     notice=parsed.notice)
    return _typed(ctx, text)


def _typed(ctx: ParseContext, text: str) -> Parsed:
    step = ctx.step
    count = letters(text)
    if step.fills == _NAME_FIELD and text and (count == 0 or len(_DIGIT.findall(text)) > _NAME_MAX_DIGITS):
        return ctx.hint("hint_name")
    if count < step.min_length:
        return ctx.hint("hint_text_short", min=step.min_length, length=count)
    if len(text) > step.max_length:
        kept = cut_at_word(text, step.max_length)
        return Parsed(value=kept, notice=ctx.script.text("notice_truncated", ctx.language, kept=len(kept)))
    return Parsed(value=text)
