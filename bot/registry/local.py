"""The local registry: the complaint stays in our database, which admins and exports view."""
from __future__ import annotations

from bot.registry.base import Submission, SubmitResult


class LocalRegistry:
    """Accepts every complaint at once; its registry id is the tracking number."""

    name = "local"

    def submit(self, submission: Submission, *, retry: bool = False) -> SubmitResult:
        return SubmitResult(registry_id=submission.tracking_number, status="received")

    def check(self) -> None:
        """Nothing to check: the complaints stay in our database."""

    def close(self) -> None:
        """Nothing to release."""
