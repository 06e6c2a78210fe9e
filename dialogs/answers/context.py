"""What one parse call knows: the script, the step, the message, the language, today, and the
normalized text with and without the politeness around it (computed once)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dialogs.model import Inbound, Parsed, Script, Step

__all__ = ["ParseContext"]


@dataclass(slots=True)
class ParseContext:
    """One parse call's inputs; ``today`` is the citizen's local date. ``norm`` is the normalized
    text; ``bare`` the same without honorifics and particles around it ("iya pak" -> "iya";
    dialogs.normalize.strip_politeness), ``bare_loose`` that with punctuation and emoji as
    spaces (what word lists are matched against)."""

    script: Script
    step: Step
    inbound: Inbound
    language: str
    today: date
    norm: str
    bare: str = ""
    bare_loose: str = ""

    def hint(self, key: str, **params: Any) -> Parsed:
        """A rejection with the script's message ``key`` in the citizen's language."""
        return Parsed(hint=self.script.text(key, self.language, **params))
