"""bot (the package): a delivery process loads no command-line tool it never runs."""
from __future__ import annotations

import subprocess
import sys

from tests_support import ROOT

PROBE = ("import sys, bot.worker, httpx, telegram; "
         "assert httpx.Client and telegram.Bot; "
         "print(sorted(m for m in ('click', 'pygments', 'httpx._main') if sys.modules.get(m) is not None))")


def test_the_worker_has_httpx_and_telegram_without_the_httpx_command_line_tool() -> None:
    """Reproduced: httpx imported its CLI (click, pygments) because Flask and pytest installed
    those, some 2 MB of every service process."""
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
