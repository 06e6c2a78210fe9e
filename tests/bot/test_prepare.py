"""bot.prepare: the start-up's preparation runs in a child forked before the service's heavy
modules are loaded, while the starting process loads them (the two overlap on two cores)."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

from tests_support import ROOT, chat_env

from bot.prepare import prepare
from bot.settings import load_settings
from storage.migrate import current


def test_the_starting_process_forks_the_child_before_loading_sqlalchemy_or_the_app() -> None:
    """What `lapor serve` and `lapor worker` have loaded when prepare() forks: none of the heavy
    modules, which the child and the parent then load side by side."""
    probe = ("import sys, bot.cli, bot.server, bot.prepare, bot.metrics, bot.settings; "
             "print(sorted(m for m in ('sqlalchemy', 'flask', 'alembic', 'bot.app', 'bot.services', 'storage.db') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=chat_env("sqlite:///unused.db"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_meanwhile_runs_while_the_child_prepares_and_the_database_comes_out_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lapor.db'}"
    settings = load_settings(environ=chat_env(url))
    seen: list[list[str]] = []
    assert prepare(settings, meanwhile=lambda: seen.append([c.name for c in multiprocessing.active_children()]))
    assert seen == [["lapor-prepare"]]
    assert current(url)
