"""Tracking numbers: ``LAP-`` and 6 random Crockford base32 characters, e.g. ``LAP-7K3M9Q``.

Citizens type them back in any case, with or without the prefix, and may confuse I/L with 1 and
O with 0; ``normalize_tracking_number`` reads all of that. Uniqueness is the repository's job
(``storage.repository.new_tracking_number``).
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
PREFIX = "LAP-"
LENGTH = 6

_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SHAPE = re.compile(rf"(?:LAP[\s_-]*)?([0-9A-Z]{{{LENGTH}}})")
_SURROUNDING = " \t\r\n.,;:!?\"'()[]"


def random_tracking_number() -> str:
    """A fresh random tracking number (not checked for uniqueness)."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_tracking_number(text: str) -> str | None:
    """The canonical ``LAP-XXXXXX`` form of what a citizen typed, or None if it is not one.

    Accepts any case, the prefix as ``LAP-``, ``LAP `` or missing, surrounding spaces and
    punctuation, and I/L for 1 and O for 0. Does not say whether the number exists.
    """
    match = _SHAPE.fullmatch(text.strip(_SURROUNDING).upper())
    if match is None:
        return None
    code = match.group(1).translate(_CONFUSABLE)
    if any(ch not in ALPHABET for ch in code):
        return None
    return PREFIX + code
