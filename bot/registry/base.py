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
    """The registry's answer: its own id (when it gives one) and the complaint's status."""

    registry_id: str | None
    status: str = "received"


class RegistryError(Exception):
    """A failed submission; ``retryable`` ones (timeouts, 429, 5xx) are tried again later."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Registry(Protocol):
    name: str

    def submit(self, submission: Submission) -> SubmitResult:
        """Hand one complaint over, idempotently by tracking number, or raise RegistryError."""
        ...
