"""Skipping an optional step: LEWATI/SKIP, and the many ways of saying there is nothing to give
("gak ada", "gaada", "belum ada foto", "tidak punya bukti", "no photo", "tidak ada pak")."""
from __future__ import annotations

import re
from collections.abc import Iterable

from dialogs.i18n import (
    SELF_WORDS,
    SKIP_ENGLISH_NO,
    SKIP_HAVE_WORDS,
    SKIP_NEGATIONS,
    SKIP_OBJECT_WORDS,
    SKIP_WORDS,
    WITHOUT_WORDS,
)
from dialogs.normalize import loose

__all__ = ["is_skip"]


def _any(words: Iterable[str]) -> str:
    """A regex alternation of loose-normalised words, longest first (so "nggak" is tried before "ngga")."""
    return "|".join(re.escape(word) for word in sorted({loose(w) for w in words} - {""}, key=len, reverse=True))


_SKIP_LOOSE = frozenset(loose(word) for word in SKIP_WORDS) - {""}
_OBJECTS = rf"(?: (?:{_any(SKIP_OBJECT_WORDS)}))*"
_NOTHING = re.compile(
    rf"(?:(?:{_any(SELF_WORDS)}) )?(?:{_any(SKIP_NEGATIONS)}) ?(?:{_any(SKIP_HAVE_WORDS)}){_OBJECTS}"
    rf"|(?:{_any(WITHOUT_WORDS)})(?: (?:{_any(SKIP_OBJECT_WORDS)}))+"
    rf"|(?:{_any(SKIP_ENGLISH_NO)}){_OBJECTS}"
)
_SKIP_MAX = 80  # longer answers are no "nothing to give"


def is_skip(norm: str, bare_loose: str) -> bool:
    """True when the answer says "skip" or "there is none". ``norm`` is the normalized text,
    ``bare_loose`` the loose text without the politeness around it (ParseContext.bare_loose)."""
    if norm in SKIP_WORDS or bare_loose in _SKIP_LOOSE:
        return True
    return len(bare_loose) <= _SKIP_MAX and _NOTHING.fullmatch(bare_loose) is not None
