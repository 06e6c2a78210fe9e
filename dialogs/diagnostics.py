"""What the script checks report: one finding, with the file and line an admin must fix."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from dialogs.yamlsrc import LDict


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of the script checker, printed as ``file:line: message``."""

    file: str
    line: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        level = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.file}:{self.line}: {level}{self.message}"


@dataclass
class Lines:
    """Where things were written, for checks that run after the Script is built."""

    top: dict[str, int] = field(default_factory=dict)
    steps: dict[str, LDict] = field(default_factory=dict)


def suggest(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
