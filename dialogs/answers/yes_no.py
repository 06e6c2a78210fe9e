"""Yes/no answers: ``meaning`` reads one (the engine's summary confirmation uses it too)."""
from __future__ import annotations

import re

from dialogs.answers.context import ParseContext
from dialogs.i18n import ALREADY_WORDS, NO_WORDS, YES_WORDS
from dialogs.model import Parsed
from dialogs.normalize import loose, strip_politeness

__all__ = ["meaning", "parse", "yes_no"]

_REPEATS = re.compile(r"(.)\1+")


def _squeeze(text: str) -> str:
    """Runs of one letter as one: "iyaaa" -> "iya", "sipp" -> "sip", "okeee" -> "oke"."""
    return _REPEATS.sub(r"\1", text)


def _table(words: frozenset[str]) -> frozenset[str]:
    """The words as written, loose, and squeezed: what an answer is looked up in."""
    looser = {loose(word) for word in words} - {""}
    return frozenset(words | looser | {_squeeze(word) for word in looser})


_YES = _table(YES_WORDS)
_NO = _table(NO_WORDS)
_ALREADY = frozenset(ALREADY_WORDS)
_MEANING_MAX = 200  # a longer message is no yes or no


def parse(ctx: ParseContext) -> Parsed:
    """Yes or no, as a word or phrase (politeness around it ignored), 1/2, or a leading word
    the rest does not contradict."""
    answer = yes_no(ctx.norm)
    return ctx.hint("hint_yes_no") if answer is None else Parsed(value=answer)


def meaning(norm: str) -> bool | None:
    """True for a yes, False for a no, None when the normalized answer is neither or both.

    Words and phrases of YES_WORDS/NO_WORDS, with honorifics, particles and thanks around them
    ignored ("iya pak", "sudah benar bu", "sip deh", "gak kok"), repeated letters forgiven
    ("iyaaa", "sipp"), "sudah"/"udah" before a yes ("udah oke"), or a leading yes/no word the
    rest does not contradict ("ya betul", "gak mau"; "ya tidak" is None). Digits are no
    answer here: in the summary they pick a line to change.
    """
    if len(norm) > _MEANING_MAX:
        return None
    bare = strip_politeness(norm)
    for text in (norm, bare):
        if text in YES_WORDS:
            return True
        if text in NO_WORDS:
            return False
    words = loose(bare).split()
    if not words:
        return None
    if "," not in bare and ";" not in bare:  # "tidak benar" is a no; "tidak, benar" says both
        found = _word(" ".join(words))
        if found is not None:
            return found
    if words[0] in _ALREADY and len(words) > 1 and _word(" ".join(words[1:])) is True:
        return True
    head, rest = _word(words[0]), [_word(word) for word in words[1:]]
    if head is True and False not in rest:
        return True
    if head is False and True not in rest:
        return False
    return None


def _word(text: str) -> bool | None:
    """A whole yes or no word/phrase, letters squeezed; None otherwise."""
    if text in _YES or _squeeze(text) in _YES:
        return True
    if text in _NO or _squeeze(text) in _NO:
        return False
    return None


def yes_no(norm: str, words: list[str] | None = None) -> bool | None:
    """``meaning``, with 1 for yes and 2 for no (a yes/no step's menu). ``words`` is ignored
    (kept for older callers)."""
    if norm in ("1", "2"):
        return norm == "1"
    return meaning(norm)
