"""Settings: ``config.yaml`` overridden by the environment. Secrets only come from the environment.

``load_settings()`` reads ``LAPOR_CONFIG`` (default ``./config.yaml``); relative paths in the
file are relative to the file. The environment variables listed in README.md win.
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

import yaml

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Category:
    """A report category as the registry knows it."""

    code: str
    agency: str | None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider's sending limits: overall messages a second, and seconds between two to one chat."""

    per_second: float
    per_chat_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads at start-up. Immutable; pass it around."""

    database_url: str
    data_key: str
    secret_key: str
    data_key_previous: tuple[str, ...] = field(default=(), repr=False)  # still read, never written
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 8
    proxy_hops: int = 0  # reverse proxies in front that append X-Forwarded-For (the client address)
    scripts_dir: Path = PROJECT_ROOT / "dialogs" / "scripts"
    default_script: str = "complaint"
    idle_timeout: timedelta = timedelta(hours=24)
    resume_after: timedelta = timedelta(minutes=30)
    embedded_worker: bool = True
    batch_size: int = 50
    send_threads: int = 8
    lease_seconds: int = 5
    max_attempts: int = 10
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 900.0
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    telegram_keyboards: bool = True
    registry: str = "local"
    registry_url: str = ""
    registry_max_age: timedelta = timedelta(hours=72)
    registry_poll: timedelta = timedelta(minutes=5)
    registry_timeout: float = 10.0
    categories: Mapping[str, Category] = field(default_factory=dict)
    metrics_dir: Path = PROJECT_ROOT / "var" / "metrics"  # one per service, shared by its processes (bot.metrics)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # provider credentials

    def category(self, value: str) -> Category:
        return self.categories.get(value) or Category(code=value.upper(), agency=None)


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to do."""


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read config.yaml and the environment; keyword overrides win over both (for tests).

    ConfigError when there is no config file: ``lapor`` run from another directory would
    otherwise make a stray ``var/`` (a new database, new keys) wherever it stands.
    """
    env = dict(os.environ if environ is None else environ)
    config_path = Path(env.get("LAPOR_CONFIG", "config.yaml"))
    if not config_path.is_file():
        if "LAPOR_CONFIG" in env:
            raise ConfigError(f"LAPOR_CONFIG is {config_path}, which is not a file")
        raise ConfigError(f"there is no config.yaml in {Path.cwd()}: run lapor from the lapor-intake directory, "
                          "or set LAPOR_CONFIG to the path of its config.yaml")
    raw: dict[str, Any] = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    base = config_path.resolve().parent
    server = raw.get("server") or {}
    dialogs = raw.get("dialogs") or {}
    delivery = raw.get("delivery") or {}
    database_url = env.get("LAPOR_DATABASE_URL") or _sqlite_relative(raw.get("database_url", "sqlite:///var/lapor.sqlite3"), base)
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_key": env.get("LAPOR_DATA_KEY") or _dev_secret(database_url, base, "data.key"),
        "data_key_previous": tuple(k.strip() for k in env.get("LAPOR_DATA_KEY_PREVIOUS", "").split(",") if k.strip()),
        "secret_key": env.get("LAPOR_SECRET_KEY") or _dev_secret(database_url, base, "secret.key"),
        "public_url": env.get("LAPOR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        "host": server.get("host", "127.0.0.1"),
        "port": int(server.get("port", 8000)),
        "workers": int(server.get("workers", 1)),
        "threads": int(server.get("threads", 8)),
        "proxy_hops": int(server.get("proxy_hops", 0)),
        "scripts_dir": (base / dialogs.get("scripts_dir", "dialogs/scripts")).resolve(),
        "default_script": dialogs.get("default_script", "complaint"),
        "idle_timeout": timedelta(minutes=float(dialogs.get("idle_timeout_minutes", 1440))),
        "resume_after": timedelta(minutes=float(dialogs.get("resume_after_minutes", 30))),
        "embedded_worker": bool(delivery.get("embedded_worker", True)),
        "batch_size": int(delivery.get("batch_size", 50)),
        "send_threads": max(1, int(delivery.get("send_threads", 8))),
        "lease_seconds": int(delivery.get("lease_seconds", 5)),
        "max_attempts": int(delivery.get("max_attempts", 10)),
        "backoff_seconds": float(delivery.get("backoff_seconds", 2)),
        "max_backoff_seconds": float(delivery.get("max_backoff_seconds", 900)),
        "rate_limits": {
            name: RateLimit(float(entry.get("per_second", 30)), float(entry.get("per_chat_seconds", 0)))
            for name, entry in (delivery.get("rate_limits") or {}).items()
        },
        "telegram_keyboards": bool((raw.get("telegram") or {}).get("keyboards", True)),
        "registry": env.get("LAPOR_REGISTRY") or (raw.get("registry") or {}).get("kind", "local"),
        "registry_url": env.get("LAPOR_REGISTRY_URL", ""),
        "registry_max_age": timedelta(hours=float((raw.get("registry") or {}).get("max_age_hours", 72))),
        "registry_poll": timedelta(seconds=float((raw.get("registry") or {}).get("poll_seconds", 300))),
        "registry_timeout": float((raw.get("registry") or {}).get("timeout_seconds", 10)),
        "categories": {
            name: Category(code=str(entry.get("code") or name.upper()), agency=entry.get("agency"))
            for name, entry in (raw.get("categories") or {}).items()
        },
        "metrics_dir": Path(env.get("LAPOR_METRICS_DIR") or base / (raw.get("metrics") or {}).get("dir", "var/metrics")).resolve(),
        "env": {k: v for k, v in env.items() if k.startswith(("TWILIO_", "TELEGRAM_", "LAPOR_REGISTRY_", "RASA_"))},
    }
    values.update(overrides)
    return Settings(**values)


def _sqlite_relative(url: str, base: Path) -> str:
    """Make ``sqlite:///relative/path`` relative to the config file, not the working directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        return prefix + str(base / url[len(prefix):])
    return url


def _dev_secret(database_url: str, base: Path, name: str) -> str:
    """A per-installation secret for the embedded SQLite set-up, kept beside the database.

    Production sets LAPOR_DATA_KEY and LAPOR_SECRET_KEY in the environment; on PostgreSQL a
    missing key is an error, because every process must share it.
    """
    if not database_url.startswith("sqlite"):
        raise RuntimeError(f"set LAPOR_{name.split('.')[0].upper()}_KEY in the environment (required with {database_url.split(':')[0]})")
    path = Path(database_url.removeprefix("sqlite:///")).parent / name if database_url != "sqlite://" else base / "var" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        log.warning("generated %s for this embedded installation; set it through the environment in production", path)
    return path.read_text().strip()
