"""A citizen who writes the whole complaint first reaches a tracking number in at most 7
messages (bench.first_messages, through the built-in interpreter and the engine)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.first_messages import COMPLAINTS, ROOT, messages_to_tracking_number
from bot.nlu.interpreter import BuiltinInterpreter, load_builtin
from dialogs.loader import load_script
from dialogs.model import Script


@pytest.fixture(scope="module")
def script() -> Script:
    return load_script((ROOT / "dialogs/scripts/complaint.yaml").read_text(encoding="utf-8"), "complaint.yaml", 1)


@pytest.fixture(scope="module")
def interpreter(tmp_path_factory: pytest.TempPathFactory) -> BuiltinInterpreter:
    return load_builtin(ROOT / "dialogs" / "nlu", Path(tmp_path_factory.mktemp("nlu")))


@pytest.mark.parametrize("first", COMPLAINTS)
def test_the_whole_complaint_first_takes_at_most_seven_messages(script, interpreter, first: str) -> None:
    assert messages_to_tracking_number(script, interpreter, first) <= 7
