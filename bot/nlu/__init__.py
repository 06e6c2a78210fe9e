"""Understanding what citizens write, before the engine: one interface (``Interpreter``), two
backends: ``builtin`` (a linear classifier trained at start-up from ``dialogs/nlu``) and ``rasa``
(a Rasa 3.6 NLU server, with the built-in one as its fallback). ``make_interpreter`` picks one
from the settings."""
from __future__ import annotations

from bot.nlu.interpreter import Interpreter, make_interpreter

__all__ = ["Interpreter", "make_interpreter"]
