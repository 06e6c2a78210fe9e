"""What a service process loads: no command-line tool it never runs, no phone metadata until a
script asks for a phone number."""
from __future__ import annotations

import subprocess
import sys

from tests_support import ROOT

PROBE = ("import sys, bot.worker, bot.app, httpx, telegram; "
         "assert httpx.Client and telegram.Bot; "
         "print(sorted(m for m in ('click', 'pygments', 'httpx._main', 'phonenumbers') if sys.modules.get(m)))")


def test_the_service_has_httpx_and_telegram_without_the_httpx_command_line_tool_or_phonenumbers() -> None:
    """Reproduced: httpx imported its CLI (pygments, and click in the worker) because pytest and
    Flask installed those, and the phone answer's module phonenumbers' metadata: 1-3 MB of each
    service process. Click stays where Flask needs it (``bot.app``)."""
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['click']"
    worker = subprocess.run([sys.executable, "-c", PROBE.replace(", bot.app", "")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.strip() == "[]"
