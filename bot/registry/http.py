"""HTTP for the registry clients: one pooled client, and every failure classified for the outbox.

A failure becomes a RegistryError: retryable for connection failures, timeouts, 429 (after its
Retry-After) and 5xx; permanent for other 4xx. A timeout once the request was sent is
ambiguous (the registry may have it): the outbox then retries with ``retry=True``.
Reasons never quote the complaint: only status codes and the registry's own error text.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.registry.base import RegistryError
from channels.base import retry_after_seconds
from channels.tls import client_context

ERROR_TEXT_MAX = 300


class RegistryHttp:
    """Requests to one registry, with a timeout and pooled connections (thread-safe)."""

    def __init__(self, name: str, timeout: float, headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None):
        self._name = name
        self._timeout = timeout
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                    headers=dict(headers or {}), transport=transport, follow_redirects=False,
                                    verify=client_context())

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise RegistryError when no HTTP answer came back."""
        try:
            return self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RegistryError(f"{self._name} registry unreachable ({type(exc).__name__})", retryable=True) from None
        except httpx.TimeoutException:
            raise RegistryError(f"{self._name} registry did not answer within {self._timeout:g} s",
                                retryable=True) from None
        except httpx.TransportError as exc:
            raise RegistryError(f"{self._name} registry connection failed ({type(exc).__name__})",
                                retryable=True) from None

    def close(self) -> None:
        self._client.close()


def status_error(name: str, response: httpx.Response, detail: str | None = None) -> RegistryError:
    """The RegistryError for an error answer: 429 and 5xx retryable, other 4xx permanent."""
    reason = f"{name} registry answered {response.status_code}"
    if detail:
        reason += f": {detail[:ERROR_TEXT_MAX]}"
    if response.status_code == 429 or response.status_code >= 500:
        return RegistryError(reason, retryable=True,
                             retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    return RegistryError(reason, retryable=False)


def json_or_none(response: httpx.Response) -> Any:
    """The response's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def id_text(value: Any) -> str | None:
    """An id or token a registry sent (as a number or a string) as text; None if absent or unusable."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    return str(value)[:100] if isinstance(value, (str, int)) else None
