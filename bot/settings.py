"""Settings: ``config.yaml`` (typed and checked by ``bot.config``) overridden by the environment.
Secrets only come from the environment.

``load_settings()`` reads ``LAPOR_CONFIG`` (default ``./config.yaml``); relative paths in the
file are relative to the file. The environment variables listed in README.md win.
"""
from __future__ import annotations

import logging
import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import REGISTRY_KINDS, ConfigError, read_config

__all__ = ["AgencyRule", "Category", "ConfigError", "RateLimit", "Settings", "load_settings"]

# The environment variables the service's parts read credentials and addresses from.
PROVIDER_ENV = ("TWILIO_", "TELEGRAM_", "LAPOR_REGISTRY_", "RASA_", "AWS_", "LAPOR_S3_", "LAPOR_SPEECH_")

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Category:
    """A report category as the registry knows it, and who handles it: ``agency`` where no
    region is known, ``local_agency`` (a template naming {province}, {regency}, {district}) in
    the region the report's location resolved to (``bot.agencies``)."""

    code: str
    agency: str | None
    local_agency: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyRule:
    """Reports of ``category`` ("*": any) in a region whose code starts with ``region`` go to
    ``agency`` (a template, like ``Category.local_agency``)."""

    category: str
    region: str
    agency: str


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider's sending limits: overall messages a second, and seconds between two to one chat."""

    per_second: float
    per_chat_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads at start-up (``load_settings``). Immutable; pass it around.
    The defaults live in one place: ``bot.config``."""

    database_url: str
    data_key: str
    secret_key: str
    data_key_previous: tuple[str, ...] = field(repr=False)  # still read, never written
    public_url: str
    host: str
    port: int
    workers: int
    threads: int
    proxy_hops: int  # reverse proxies in front that append X-Forwarded-For (the client address)
    scripts_dir: Path
    default_script: str
    idle_timeout: timedelta
    resume_after: timedelta
    embedded_worker: bool
    batch_size: int
    send_threads: int
    lease_seconds: int
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    rate_limits: Mapping[str, RateLimit]
    telegram_keyboards: bool
    registry: str
    registry_url: str
    registry_max_age: timedelta
    registry_poll: timedelta
    registry_timeout: float
    categories: Mapping[str, Category]
    nlu_backend: str  # builtin | rasa
    nlu_dir: Path  # training data
    nlu_model_dir: Path  # the built-in models, trained once per data version
    nlu_rasa_timeout: float
    media_store: str  # filesystem | s3
    media_dir: Path
    media_s3_bucket: str
    media_url_ttl: timedelta  # how long a signed /media URL in a submission opens its file
    media_submit_wait: timedelta  # how long a submission waits for its attachments' downloads
    speech_url: str  # a speech-to-text server for voice notes; empty: off
    speech_timeout: float
    places_dir: Path  # the region index (bot.places)
    agency_rules: tuple[AgencyRule, ...]
    metrics_dir: Path  # one per service, shared by its processes (bot.metrics)
    env: Mapping[str, str] = field(repr=False)  # provider credentials

    def category(self, value: str) -> Category:
        return self.categories.get(value) or Category(code=value.upper(), agency=None)


def cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's cpuset, not the host's
    count)."""
    return len(os.sched_getaffinity(0))


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read config.yaml (``bot.config``: typed, validated) and the environment; keyword
    overrides win over both (for tests).

    ConfigError for an unknown key or a wrong type in the file (naming the key), a wrong value
    in the environment (naming the variable), and when there is no config file: ``lapor`` run
    from another directory would otherwise make a stray ``var/`` (a new database, new keys)
    wherever it stands.
    """
    env = dict(os.environ if environ is None else environ)
    config_path = Path(env.get("LAPOR_CONFIG", "config.yaml"))
    if not config_path.is_file():
        if "LAPOR_CONFIG" in env:
            raise ConfigError(f"LAPOR_CONFIG is {config_path}, which is not a file")
        raise ConfigError(f"there is no config.yaml in {Path.cwd()}: run lapor from the lapor-intake directory, "
                          "or set LAPOR_CONFIG to the path of its config.yaml")
    config = read_config(config_path)
    base = config_path.resolve().parent
    registry = env.get("LAPOR_REGISTRY") or config.registry.kind
    if registry not in REGISTRY_KINDS:
        raise ConfigError(f"LAPOR_REGISTRY is {registry!r}: use one of {', '.join(REGISTRY_KINDS)}")
    if config.media.store == "s3" and not config.media.s3_bucket:
        raise ConfigError(f"{config_path}: media.s3_bucket: media.store is s3, so name the bucket")
    rules = _agency_rules(config, config_path)
    database_url = env.get("LAPOR_DATABASE_URL") or _sqlite_relative(config.database_url, base)
    server, dialogs, delivery = config.server, config.dialogs, config.delivery
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_key": env.get("LAPOR_DATA_KEY") or _dev_secret(database_url, base, "data.key"),
        "data_key_previous": tuple(k.strip() for k in env.get("LAPOR_DATA_KEY_PREVIOUS", "").split(",") if k.strip()),
        "secret_key": env.get("LAPOR_SECRET_KEY") or _dev_secret(database_url, base, "secret.key"),
        "public_url": env.get("LAPOR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        "host": server.host,
        "port": server.port,
        "workers": server.workers or cores(),  # 0: one per core
        "threads": server.threads,
        "proxy_hops": server.proxy_hops,
        "scripts_dir": (base / dialogs.scripts_dir).resolve(),
        "default_script": dialogs.default_script,
        "idle_timeout": timedelta(minutes=dialogs.idle_timeout_minutes),
        "resume_after": timedelta(minutes=dialogs.resume_after_minutes),
        "embedded_worker": delivery.embedded_worker,
        "batch_size": delivery.batch_size,
        "send_threads": delivery.send_threads,
        "lease_seconds": delivery.lease_seconds,
        "max_attempts": delivery.max_attempts,
        "backoff_seconds": delivery.backoff_seconds,
        "max_backoff_seconds": delivery.max_backoff_seconds,
        "rate_limits": {name: RateLimit(limit.per_second, limit.per_chat_seconds)
                        for name, limit in delivery.rate_limits.items()},
        "telegram_keyboards": config.telegram.keyboards,
        "registry": registry,
        "registry_url": env.get("LAPOR_REGISTRY_URL", ""),
        "registry_max_age": timedelta(hours=config.registry.max_age_hours),
        "registry_poll": timedelta(seconds=config.registry.poll_seconds),
        "registry_timeout": config.registry.timeout_seconds,
        "categories": {name: Category(code=entry.code or name.upper(), agency=entry.agency,
                                      local_agency=entry.local_agency)
                       for name, entry in config.categories.items()},
        "nlu_backend": "rasa" if env.get("RASA_URL") else config.nlu.backend,
        "nlu_dir": (base / config.nlu.data_dir).resolve(),
        "nlu_model_dir": (base / config.nlu.model_dir).resolve(),
        "nlu_rasa_timeout": config.nlu.rasa_timeout_seconds,
        "media_store": config.media.store,
        "media_dir": (base / config.media.dir).resolve(),
        "media_s3_bucket": config.media.s3_bucket,
        "media_url_ttl": timedelta(hours=config.media.url_ttl_hours),
        "media_submit_wait": timedelta(seconds=config.media.submit_wait_seconds),
        "speech_url": env.get("LAPOR_SPEECH_URL") or config.media.speech_url,
        "speech_timeout": config.media.speech_timeout_seconds,
        "places_dir": (base / config.places.index_dir).resolve(),
        "agency_rules": rules,
        "metrics_dir": Path(env.get("LAPOR_METRICS_DIR") or base / config.metrics.dir).resolve(),
        "env": {k: v for k, v in env.items() if k.startswith(PROVIDER_ENV)},
    }
    values.update(overrides)
    return Settings(**values)


def _agency_rules(config: Any, path: Path) -> tuple[AgencyRule, ...]:
    """``agency_rules`` of config.yaml, checked: each names a region code (digits, dots allowed)
    and an agency, and a category that config.yaml lists (or "*")."""
    problems, rules = [], []
    for index, rule in enumerate(config.agency_rules):
        at = f"{path}: agency_rules[{index}]"
        region = rule.region.replace(".", "").strip()
        if not region.isdigit():
            problems.append(f"{at}.region: expected a Kemendagri region code such as 32 or 32.73, got {rule.region!r}")
        if not rule.agency.strip():
            problems.append(f"{at}.agency: name the agency")
        if rule.category != "*" and rule.category not in config.categories:
            problems.append(f"{at}.category: {rule.category!r} is not one of the categories (or *)")
        problems += _template_problems(rule.agency, f"{at}.agency")
        rules.append(AgencyRule(rule.category, region, rule.agency.strip()))
    for name, entry in config.categories.items():
        problems += _template_problems(entry.local_agency or "", f"{path}: categories.{name}.local_agency")
    if problems:
        raise ConfigError("\n".join(problems))
    return tuple(rules)


_TEMPLATE_FIELDS = ("province", "regency", "district", "village")


def _template_problems(template: str, at: str) -> list[str]:
    """What is wrong with an agency template: a field other than the region levels, or a brace
    that does not close."""
    try:
        wanted = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return [f"{at}: {exc} in {template!r}"]
    wrong = [name for name in wanted if name not in _TEMPLATE_FIELDS]
    return [f"{at}: {{{name}}} is not one of {{province}}, {{regency}}, {{district}}, {{village}}" for name in wrong]


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
        raise RuntimeError(f"set LAPOR_{name.split('.')[0].upper()}_KEY in the environment "
                           f"(required with {database_url.split(':')[0]})")
    path = (Path(database_url.removeprefix("sqlite:///")).parent / name if database_url != "sqlite://"
            else base / "var" / name)
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
