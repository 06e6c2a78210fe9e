"""Registry clients: where finished complaints go. Only this package knows registry protocols."""
from __future__ import annotations

from bot.registry.base import PollingRegistry, Registry, RegistryError, RemoteStatus, Submission, SubmitResult
from bot.registry.local import LocalRegistry
from bot.settings import Settings

__all__ = ["LocalRegistry", "PollingRegistry", "Registry", "RegistryError", "RemoteStatus", "Submission",
           "SubmitResult", "make_registry"]


def make_registry(settings: Settings) -> Registry:
    """The registry client that ``settings.registry`` names (local, webhook or open311)."""
    if settings.registry == "local":
        return LocalRegistry()
    if settings.registry == "webhook":
        from bot.registry.webhook import WebhookRegistry

        return WebhookRegistry.from_settings(settings)
    if settings.registry == "open311":
        from bot.registry.open311 import Open311Registry

        return Open311Registry.from_settings(settings)
    raise ValueError(f"unknown registry '{settings.registry}' (use local, webhook or open311)")
