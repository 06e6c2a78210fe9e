"""Registry clients: where finished complaints go. Only this package knows registry protocols."""
from __future__ import annotations

from bot.registry.base import PollingRegistry, Registry, RegistryError, RemoteStatus, Submission, SubmitResult
from bot.registry.local import LocalRegistry
from bot.settings import Settings

__all__ = ["LocalRegistry", "PollingRegistry", "Registry", "RegistryError", "RemoteStatus", "Submission", "SubmitResult",
           "make_registry"]


def make_registry(settings: Settings) -> Registry:
    """The registry client that ``settings.registry`` names."""
    if settings.registry == "local":
        return LocalRegistry()
    raise ValueError(f"registry '{settings.registry}' is not available in this version (use local)")
