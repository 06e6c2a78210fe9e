"""Small helpers shared by tests that start the real `lapor` command."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chat_env(db_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `lapor` subprocess on the test database, with test keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update({
        "LAPOR_CONFIG": str(ROOT / "config.yaml"),
        "LAPOR_DATABASE_URL": db_url,
        "LAPOR_DATA_KEY": "test-data-key",
        "LAPOR_SECRET_KEY": "test-secret-key",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def make_settings(db_url: str, **overrides):
    """Settings as `lapor` would load them for the test database."""
    from bot.settings import load_settings

    env = {"LAPOR_CONFIG": str(ROOT / "config.yaml"), "LAPOR_DATABASE_URL": db_url,
           "LAPOR_DATA_KEY": "test-data-key", "LAPOR_SECRET_KEY": "test-secret-key"}
    return load_settings(environ=env, **overrides)
