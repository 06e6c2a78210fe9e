"""Text as the engine matches it (``normalize``, ``loose``) and as it is stored (``clean_text``).

Pure and fast: the usual ASCII message takes the short paths, and the fold table for other
characters is filled lazily and bounded.
"""
from __future__ import annotations

import re
import unicodedata

from dialogs.i18n import HONORIFIC_WORDS, PARTICLE_WORDS

__all__ = ["clean_text", "cut_at_word", "loose", "normalize", "strip_politeness"]

# Punctuation that may surround an answer ("Ya!", '"2".', "¿ok?"); never "-" (a skip word).
_EDGE = " .,!?;:\"'`\u00a1\u00bf\u2018\u2019\u201c\u201d\u00ab\u00bb"
_ASCII_JUNK = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")  # controls that are not whitespace
_FOLD_CACHE_LIMIT = 20_000


class _FoldTable(dict[int, int | str | None]):
    """str.translate table for non-ASCII text: drops combining marks (accents) and invisible
    control/format characters, turns other whitespace-like controls into spaces. Filled lazily
    and bounded, so a message full of rare characters cannot grow it without limit."""

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Mn", "Me"):
            result: int | str | None = None
        elif category in ("Cc", "Cf", "Cs"):
            result = " " if char.isspace() else None
        else:
            result = code
        if len(self) < _FOLD_CACHE_LIMIT:
            self[code] = result
        return result


_FOLD = _FoldTable()


def normalize(text: str) -> str:
    """Text for matching: NFKC, casefolded, accents and control characters removed, runs of
    whitespace collapsed to one space, surrounding spaces and punctuation (.,!?;:"') stripped.

    ``normalize(" Ya!! ") == "ya"``, ``normalize("Pendídikan") == "pendidikan"``.
    """
    if text.isascii():
        text = _ASCII_JUNK.sub("", text.lower())
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        if not text.isascii():
            text = unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_FOLD))
        text = _ASCII_JUNK.sub("", text)
    return " ".join(text.split()).strip(_EDGE)


_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BLANKS = re.compile(r"[^\S\n]+")
_BLANK_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Free text fit for storage: NFC; NUL, other control characters, lone surrogates and bidi
    overrides removed (newlines kept, any line break style becomes "\\n"); runs of spaces and
    tabs become one space; at most two newlines in a row; stripped."""
    text = unicodedata.normalize("NFC", text)
    if text.isprintable():  # no line break, tab, control or format character: the usual case
        return " ".join(text.split())
    text = _NEWLINES.sub("\n", text)
    text = _BLANKS.sub(" ", _CONTROLS.sub("", text))
    text = _MANY_NEWLINES.sub("\n\n", _BLANK_AROUND_NEWLINE.sub("\n", text))
    return text.strip()


_NON_WORD = re.compile(r"[\W_]+")


def loose(norm: str) -> str:
    """A normalized text with punctuation and symbols (emoji too) turned into single spaces."""
    return _NON_WORD.sub(" ", norm).strip()


_LEADING = frozenset(HONORIFIC_WORDS)
_TRAILING = frozenset(HONORIFIC_WORDS) | frozenset(PARTICLE_WORDS)
_TRAILING_LONGEST = max(len(word.split()) for word in _TRAILING)
_POLITE_MAX = 200  # longer answers are no short reply wrapped in politeness
_HAS_WORD = re.compile(r"[^\W_]")


def strip_politeness(norm: str) -> str:
    """A normalized answer without the honorifics before it and the honorifics, particles,
    thanks and lone emoji or punctuation after it; never its last word, and inner punctuation
    kept (dates need it). ``"iya pak" -> "iya"``, ``"tidak ada, bu!" -> "tidak ada"``,
    ``"pak, 2 aja ya" -> "2"``, ``"ya" -> "ya"``, ``"kemarin 🙏" -> "kemarin"``."""
    if len(norm) > _POLITE_MAX or " " not in norm:
        return norm
    words = norm.split(" ")
    while len(words) > 1 and words[0].strip(_EDGE) in _LEADING:
        del words[0]
    while len(words) > 1:
        for size in range(min(_TRAILING_LONGEST, len(words) - 1), 0, -1):
            tail = " ".join(words[-size:]).strip(_EDGE)
            if tail in _TRAILING or not _HAS_WORD.search(tail):
                del words[-size:]
                break
        else:
            break
    return " ".join(words).strip(_EDGE)


def cut_at_word(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary (the last space or line
    break; mid-word only when that would keep less than half the limit), without the spaces and
    punctuation left dangling at the cut. A text within the limit is returned as it is."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    head = text[: limit + 1]
    cut = max(head.rfind(" "), head.rfind("\n"))
    kept = head[:cut] if cut >= limit // 2 else text[:limit]  # a boundary that keeps too little: mid-word
    return kept.rstrip(" \n\t.,;:-([{/").rstrip() or text[:limit]
