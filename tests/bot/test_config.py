"""bot.config: config.yaml is typed and checked; a wrong key or type stops `lapor serve` at start
with the key's name, and the shipped file holds only what the defaults allow."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests_support import ROOT, chat_env

from bot.config import ConfigError, ConfigFile, read_config
from bot.prepare import prepare
from bot.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid_and_an_empty_one_takes_the_defaults(tmp_path: Path) -> None:
    shipped = read_config(ROOT / "config.yaml")
    assert shipped.delivery.lease_seconds == 5 and shipped.categories["health"].code == "KES"
    empty = read_config(write(tmp_path, ""))
    assert empty == ConfigFile()
    assert (empty.server.port, empty.dialogs.resume_after_minutes, empty.registry.kind) == (8000, 30, "local")


@pytest.mark.parametrize(("text", "fragment"), [
    ("delivery:\n  lease_secs: 5\n", "delivery.lease_secs: unknown key (did you mean 'lease_seconds'?)"),
    ("servr:\n  port: 8000\n", "servr: unknown key (did you mean 'server'?)"),
    ("delivery:\n  lease_seconds: five\n", "delivery.lease_seconds: expected a whole number, got 'five'"),
    ("server:\n  port: '8000'\n", "server.port: expected a whole number, got '8000'"),
    ("server:\n  port: 70000\n", "server.port: must be from 1 to 65535, got 70000"),
    ("delivery:\n  backoff_seconds: 0\n", "delivery.backoff_seconds: must be above 0, got 0"),
    ("registry:\n  kind: soap\n", "registry.kind: expected one of local, webhook, open311, got 'soap'"),
    ("telegram:\n  keyboards: sometimes\n", "telegram.keyboards: expected true or false, got 'sometimes'"),
    ("server:\n  workers: true\n", "server.workers: expected a whole number, got True"),
    ("categories:\n  health: {code: KES, agensi: x}\n", "categories.health.agensi: unknown key (did you mean 'agency'?)"),
    ("delivery:\n  rate_limits: {telegram: {per_second: fast}}\n", "delivery.rate_limits.telegram.per_second: expected a number"),
    ("- a list\n", "(the file): expected a mapping of keys to values"),
])
def test_a_wrong_key_or_type_names_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        read_config(path)
    assert f"{path}: {fragment}" in str(refused.value)


def test_a_wrong_registry_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    env = {"LAPOR_CONFIG": str(write(tmp_path, "")), "LAPOR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
           "LAPOR_DATA_KEY": "k", "LAPOR_SECRET_KEY": "s", "LAPOR_REGISTRY": "soap"}
    with pytest.raises(ConfigError, match="LAPOR_REGISTRY is 'soap': use one of local, webhook, open311"):
        load_settings(environ=env)


@pytest.mark.parametrize(("url", "fragment"), [
    ("mysql://u:secret@h/d", "unsupported database URL scheme 'mysql'"),
    ("sqlite://", "SQLite needs a database file"),
    ("sqlite:///:memory:", "SQLite needs a database file"),
    ("not a url", "this is not a database URL"),
])
def test_a_database_url_that_cannot_work_stops_the_start_as_a_config_error(tmp_path: Path, url: str,
                                                                         fragment: str) -> None:
    env = {"LAPOR_CONFIG": str(write(tmp_path, "")), "LAPOR_DATABASE_URL": url, "LAPOR_DATA_KEY": "k",
           "LAPOR_SECRET_KEY": "s"}
    with pytest.raises(ConfigError) as refused:
        prepare(load_settings(environ=env))
    assert f"(LAPOR_DATABASE_URL, else database_url in config.yaml): {fragment}" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_lapor_serve_with_a_wrong_database_url_says_so_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=chat_env("mysql://u@h/d", LAPOR_CONFIG=str(ROOT / "config.yaml")))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("unsupported database URL scheme 'mysql': "
                                        "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    assert "Traceback" not in done.stderr


def test_lapor_serve_stops_at_start_with_the_key_s_name(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["delivery"]["lease_secnds"] = 5
    path = write(tmp_path, yaml.safe_dump(config))
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=chat_env(f"sqlite:///{tmp_path / 'x.sqlite3'}", LAPOR_CONFIG=str(path)))
    assert done.returncode == 2
    assert "delivery.lease_secnds: unknown key (did you mean 'lease_seconds'?)" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # stopped before touching anything
