"""The built-in interpreter, trained once per test session on the real training data (into a
model directory of its own, never the checkout's var/nlu)."""
from __future__ import annotations

import pytest
from tests_support import ROOT

from bot.nlu.interpreter import BuiltinInterpreter, load_builtin

NLU = ROOT / "dialogs" / "nlu"


@pytest.fixture(scope="session")
def builtin_interpreter(tmp_path_factory: pytest.TempPathFactory) -> BuiltinInterpreter:
    return load_builtin(NLU, tmp_path_factory.mktemp("nlu-models"))
