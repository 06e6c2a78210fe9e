"""Text as the engine matches it (``normalize``, ``loose``) and as it is stored (``clean_text``).

Pure and fast: the usual ASCII message takes the short paths, and the fold table for other
characters is filled lazily and bounded.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "loose", "normalize"]

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
