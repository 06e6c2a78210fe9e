"""Yes/no answers."""
from __future__ import annotations

from dialogs.answers.context import ParseContext
from dialogs.i18n import NO_WORDS, YES_WORDS
from dialogs.model import Parsed
from dialogs.normalize import loose

__all__ = ["parse", "yes_no"]


def parse(ctx: ParseContext) -> Parsed:
    """Yes or no, as a word, 1/2, or a leading word the rest does not contradict."""
    words = loose(ctx.norm).split()
    answer = yes_no(ctx.norm, words)
    return ctx.hint("hint_yes_no") if answer is None else Parsed(value=answer)


def yes_no(norm: str, words: list[str]) -> bool | None:
    """True/False for a whole yes/no word (or 1/2), or a leading one the rest does not contradict."""
    if norm in YES_WORDS or norm == "1":
        return True
    if norm in NO_WORDS or norm == "2":
        return False
    if not words:
        return None
    head, rest = words[0], words[1:]
    if head in YES_WORDS and not any(word in NO_WORDS for word in rest):
        return True
    if head in NO_WORDS and not any(word in YES_WORDS for word in rest):
        return False
    return None
