"""The one small interface every registry client implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Submission:
    """A complaint as registries receive it (the webhook body of DESIGN section 3).

    ``reporter`` is None for anonymous complaints: the reporter's name and contact never leave
    our database for those.
    """

    tracking_number: str
    type: str
    title: str
    description: str
    category: str
    agency: str | None
    location: dict[str, Any]
    incident_date: str | None
    anonymous: bool
    confidential: bool
    reporter: dict[str, Any] | None
    attachments: list[dict[str, str]] = field(default_factory=list)
    language: str = "id"
    submitted_at: str = ""
    category_code: str = ""


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The registry's answer: its own id (when it gives one), or a token to resolve into one
    later (Open311), and the complaint's status."""

    registry_id: str | None
    status: str = "received"
    token: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteStatus:
    """A complaint's state as the registry reports it (polled, or pushed to /webhooks/registry)."""

    status: str  # received | verified | in_progress | resolved | rejected
    note: str | None = None


class RegistryError(Exception):
    """A failed submission; ``retryable`` ones (timeouts, 429, 5xx) are tried again later."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Registry(Protocol):
    name: str

    def submit(self, submission: Submission, *, retry: bool = False) -> SubmitResult:
        """Hand one complaint over, idempotently by tracking number, or raise RegistryError.

        ``retry`` is True when an earlier attempt may have reached the registry (for example a
        timeout after the request was sent): a client without server-side idempotency must then
        look for the complaint before posting it again."""
        ...

    def check(self) -> None:
        """Verify our configuration against the registry at start-up; raise RegistryError
        (permanent: the configuration is wrong; retryable: the registry is unreachable)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class PollingRegistry(Registry, Protocol):
    """A registry whose ids and statuses we fetch (Open311)."""

    def resolve_token(self, token: str) -> str | None:
        """The registry id a token became, or None while it is still pending."""
        ...

    def fetch_status(self, registry_id: str) -> RemoteStatus | None:
        """The complaint's current status, or None when the registry does not know it."""
        ...
