"""The ``webhook`` registry protocol (DESIGN section 3).

``POST LAPOR_REGISTRY_URL`` with the complaint as JSON, ``Idempotency-Key: <tracking number>``,
``X-Lapor-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` and, when an API key is set,
``Authorization: Bearer <key>``. 2xx is accepted (``{"id": ...}`` in the body links the
registry's id), 409 means the registry already has it and counts as success, 429 and 5xx are
retried, other 4xx are permanent. The registry dedupes on the key, so a repeat is harmless.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from bot.registry.base import Submission, SubmitResult
from bot.registry.http import RegistryHttp, id_text, json_or_none, status_error
from bot.registry.signing import sign
from bot.settings import Settings
from dialogs.model import REGION_LEVELS

log = logging.getLogger(__name__)


def payload(submission: Submission) -> dict[str, Any]:
    """The JSON body, its keys in DESIGN's order; ``reporter`` is null for anonymous reports."""
    return {
        "tracking_number": submission.tracking_number,
        "type": submission.type,
        "title": submission.title,
        "description": submission.description,
        "category": submission.category,
        "agency": submission.agency,
        "location": {"text": submission.location.get("text"), "latitude": submission.location.get("latitude"),
                     "longitude": submission.location.get("longitude"),
                     "region": submission.location.get("region") or dict.fromkeys(REGION_LEVELS)},
        "incident_date": submission.incident_date,
        "anonymous": submission.anonymous,
        "confidential": submission.confidential,
        "reporter": None if submission.anonymous else submission.reporter,
        "attachments": [_attachment(item) for item in submission.attachments],
        "language": submission.language,
        "submitted_at": submission.submitted_at,
    }


def _attachment(item: Mapping[str, Any]) -> dict[str, Any]:
    """A kept file: its signed link, type, size and SHA-256 (and a voice note's transcript)."""
    body = {"url": item["url"], "content_type": item.get("content_type", "application/octet-stream"),
            "size": item.get("size"), "sha256": item.get("sha256")}
    if item.get("transcript"):
        body["transcript"] = item["transcript"]
    return body


def encode(submission: Submission) -> bytes:
    """The exact bytes that are signed and sent (compact UTF-8 JSON)."""
    return json.dumps(payload(submission), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookRegistry:
    """Submits complaints to a registry that speaks the webhook protocol."""

    name = "webhook"

    def __init__(self, url: str, secret: str, api_key: str | None = None, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        if not url or not secret:
            raise ValueError("the webhook registry needs LAPOR_REGISTRY_URL and LAPOR_REGISTRY_SECRET")
        self._url = url
        self._secret = secret
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = RegistryHttp(self.name, timeout, headers, transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookRegistry:
        env = settings.env
        return cls(env.get("LAPOR_REGISTRY_URL", ""), env.get("LAPOR_REGISTRY_SECRET", ""),
                   env.get("LAPOR_REGISTRY_API_KEY") or None, settings.registry_timeout)

    def submit(self, submission: Submission, *, retry: bool = False) -> SubmitResult:
        """Post one complaint. The registry dedupes on the Idempotency-Key, so ``retry`` needs
        nothing special here: a repeat is answered 2xx or 409."""
        body = encode(submission)
        response = self._http.request("POST", self._url, content=body, headers={
            "Content-Type": "application/json",
            "Idempotency-Key": submission.tracking_number,
            "X-Lapor-Signature": sign(body, self._secret),
        })
        if response.is_success or response.status_code == 409:
            return SubmitResult(registry_id=self._registry_id(response, submission.tracking_number))
        raise status_error(self.name, response, _error_text(response))

    def check(self) -> None:
        """Nothing to check: the webhook protocol has no discovery endpoint (a wrong URL or
        secret shows as failed submissions, retried or dead-lettered with the registry's answer)."""

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _registry_id(response: httpx.Response, tracking_number: str) -> str | None:
        answer = json_or_none(response)
        sent = answer.get("id") if isinstance(answer, dict) else response.content or None
        registry_id = id_text(sent) if isinstance(answer, dict) else None
        if registry_id is None and sent is not None:  # something came, but no id we can use
            log.warning("registry took %s but its answer carries no readable id; it stays unlinked", tracking_number)
        return registry_id


def _error_text(response: httpx.Response) -> str | None:
    """The registry's own explanation: ``error``/``message`` of a JSON body, else nothing."""
    answer = json_or_none(response)
    if isinstance(answer, dict):
        for key in ("error", "message", "detail"):
            if isinstance(answer.get(key), str):
                return answer[key]
    return None
