"""The ``open311`` registry protocol: Open311 GeoReport v2 (DESIGN section 3).

Submitting is ``POST {url}/requests.json``, form-encoded: ``api_key``, ``service_code`` (the
category's code in config.yaml), ``description`` (prefixed ``[LAP-XXXXXX] ``), ``lat``/``long``
and/or ``address_string``, ``media_url`` (the first image's signed link),
``first_name``/``last_name``/``phone`` only when the report is not anonymous, and
``attribute[...]`` for our other fields: the other files' links (``attribute[attachments]``, one
space between them), a voice note's transcript, and the region (``attribute[province_code]``,
``attribute[province]``, ... for each level known). The answer is an array holding a
``service_request_id`` or a ``token``; a token is resolved later with
``GET /tokens/{token}.json``. Statuses are read with ``GET /requests/{id}.json``. Errors come as
arrays of ``{"code", "description"}`` and are reported whole.

GeoReport v2 has no idempotency. We send the tracking number as ``attribute[tracking_number]``
and as an ``Idempotency-Key`` header (for servers that honour it), and on any attempt after the
first (``retry=True``: the last one timed out, failed, or its worker died, so it may have arrived)
we first search ``GET /requests.json`` for the service around the submission time for a
description that starts with ``[LAP-XXXXXX]``, and adopt the request we find instead of posting
again. A duplicate can then only come from a registry that takes a request but hides it from
the search; the tracking number attribute lets the registry dedupe that case itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from bot.registry.base import RegistryError, RemoteStatus, Submission, SubmitResult
from bot.registry.http import RegistryHttp, id_text, json_or_none, status_error
from bot.settings import Settings
from dialogs.model import REGION_LEVELS
from dialogs.normalize import clean_text

NAME = "open311"
SEARCH_SLACK = timedelta(minutes=10)  # clock skew between us and the registry
# GeoReport v2 has two statuses; servers that say more are understood too.
_STATUSES = {"open": "received", "closed": "resolved", "acknowledged": "verified", "verified": "verified",
             "in_progress": "in_progress", "in progress": "in_progress", "received": "received",
             "resolved": "resolved", "rejected": "rejected", "declined": "rejected"}


def form(submission: Submission, service_code: str, api_key: str | None) -> dict[str, str]:
    """The POST /requests.json form; the reporter's name and phone only when not anonymous."""
    fields: dict[str, str] = {"service_code": service_code}
    if api_key:
        fields["api_key"] = api_key
    fields["description"] = f"[{submission.tracking_number}] {submission.description}"
    latitude, longitude = submission.location.get("latitude"), submission.location.get("longitude")
    if latitude is not None and longitude is not None:
        fields["lat"], fields["long"] = repr(float(latitude)), repr(float(longitude))
    if submission.location.get("text"):
        fields["address_string"] = str(submission.location["text"])
    images = [item for item in submission.attachments if str(item.get("content_type", "")).startswith("image/")]
    urls = [item["url"] for item in images if item.get("url", "").startswith(("https://", "http://"))]
    if urls:
        fields["media_url"] = urls[0]
    others = [item["url"] for item in submission.attachments if item.get("url") and item["url"] not in urls[:1]]
    reporter = None if submission.anonymous else submission.reporter
    if reporter:
        if name := (reporter.get("name") or "").strip():
            first, _, last = name.rpartition(" ")  # one-word names (common in Indonesia) are first names
            fields["first_name"] = first or last
            if first:
                fields["last_name"] = last
        if reporter.get("channel") in ("whatsapp", "sms") and reporter.get("contact"):
            fields["phone"] = str(reporter["contact"])
    attributes = {"tracking_number": submission.tracking_number, "type": submission.type, "title": submission.title,
                  "incident_date": submission.incident_date or "", "confidential": str(submission.confidential).lower(),
                  "language": submission.language,
                  "attachments": " ".join(others),  # GeoReport takes one media_url: the other files' links
                  "transcript": "\n".join(str(item["transcript"]) for item in submission.attachments
                                          if item.get("transcript"))}
    region = submission.location.get("region") or {}
    for level in REGION_LEVELS:  # attribute[province_code], attribute[province], ... where known
        if part := region.get(level):
            attributes[f"{level}_code"], attributes[level] = str(part["code"]), str(part["name"])
    fields.update({f"attribute[{key}]": value for key, value in attributes.items() if value})
    return fields


class Open311Registry:
    """A GeoReport v2 endpoint (``url`` is its base, e.g. ``https://city.example/open311/v2``)."""

    name = NAME

    def __init__(self, url: str, api_key: str | None, service_codes: Mapping[str, str], timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        if not url:
            raise ValueError("the open311 registry needs LAPOR_REGISTRY_URL")
        self._url = url.rstrip("/")
        self._api_key = api_key
        self._codes = dict(service_codes)
        self._http = RegistryHttp(NAME, timeout, {"Accept": "application/json"}, transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> Open311Registry:
        codes = {name: category.code for name, category in settings.categories.items()}
        return cls(settings.env.get("LAPOR_REGISTRY_URL", ""), settings.env.get("LAPOR_REGISTRY_API_KEY") or None,
                   codes, settings.registry_timeout)

    def check(self) -> None:
        """Read ``GET /services.json`` and raise a permanent RegistryError naming every category
        whose ``service_code`` the registry does not offer."""
        response = self._http.request("GET", f"{self._url}/services.json")
        services = self._array(response)
        offered = {str(item.get("service_code")) for item in services if isinstance(item, dict)}
        missing = [f"{category} -> {code}" for category, code in sorted(self._codes.items()) if code not in offered]
        if missing:
            raise RegistryError(
                "config.yaml categories map to service codes the open311 registry does not offer: "
                + ", ".join(missing) + f" (it offers: {', '.join(sorted(offered)) or 'none'})", retryable=False)

    def submit(self, submission: Submission, *, retry: bool = False) -> SubmitResult:
        """Post one complaint; on a retry, adopt the request an earlier attempt created, if any."""
        code = submission.category_code or self._codes.get(submission.category, "")
        if retry and (found := self._find(submission, code)) is not None:
            return SubmitResult(registry_id=found)
        response = self._http.request("POST", f"{self._url}/requests.json", data=form(submission, code, self._api_key),
                                      headers={"Idempotency-Key": submission.tracking_number})
        answer = self._array(response)
        first = answer[0] if answer and isinstance(answer[0], dict) else {}
        if registry_id := id_text(first.get("service_request_id")):
            return SubmitResult(registry_id=registry_id)
        if token := id_text(first.get("token")):
            return SubmitResult(registry_id=None, token=token)
        # Taken (2xx) but unreadable: the next attempt searches before it posts again.
        raise RegistryError("open311 registry answered without service_request_id or token", retryable=True)

    def resolve_token(self, token: str) -> str | None:
        """``GET /tokens/{token}.json``: the request id, or None while it is still pending."""
        response = self._http.request("GET", f"{self._url}/tokens/{_path(token)}.json", params=self._key())
        if response.status_code == 404:
            return None
        answer = self._array(response)
        return id_text(answer[0].get("service_request_id")) if answer and isinstance(answer[0], dict) else None

    def fetch_status(self, registry_id: str) -> RemoteStatus | None:
        """``GET /requests/{id}.json``, mapped: open -> received (in_progress once the registry
        has written a note), closed -> resolved; None when the registry does not know the id."""
        response = self._http.request("GET", f"{self._url}/requests/{_path(registry_id)}.json", params=self._key())
        if response.status_code == 404:
            return None
        answer = self._array(response)
        record = answer[0] if answer and isinstance(answer[0], dict) else None
        if record is None or not isinstance(record.get("status"), str):
            raise RegistryError("open311 registry answered a request without its status", retryable=True)
        status = _STATUSES.get(record["status"].strip().lower())
        if status is None:
            raise RegistryError(f"open311 registry answered an unknown status '{record['status'][:40]}'",
                                retryable=True)
        # clean_text: the note is shown to the citizen, and PostgreSQL cannot store a NUL
        note = clean_text(record["status_notes"])[:1000] if isinstance(record.get("status_notes"), str) else None
        if status == "received" and note:
            status = "in_progress"
        return RemoteStatus(status, note or None)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ helpers

    def _find(self, submission: Submission, code: str) -> str | None:
        """The id of a request an earlier attempt created (its description starts with our tag)."""
        submitted = _parse_time(submission.submitted_at) or datetime.now(UTC)
        params = {**self._key(), "service_code": code, "start_date": _iso(submitted - SEARCH_SLACK),
                  "end_date": _iso(datetime.now(UTC) + SEARCH_SLACK)}
        response = self._http.request("GET", f"{self._url}/requests.json", params=params)
        tag = f"[{submission.tracking_number}]"
        for record in self._array(response):
            if isinstance(record, dict) and str(record.get("description") or "").startswith(tag):
                return id_text(record.get("service_request_id"))
        return None

    def _array(self, response: httpx.Response) -> list[Any]:
        """A 2xx answer's JSON array; raise RegistryError with the error array's every entry."""
        answer = json_or_none(response)
        if not response.is_success:
            raise status_error(NAME, response, _errors(answer))
        if not isinstance(answer, list):
            raise RegistryError(f"open311 registry answered {response.status_code} without a JSON array",
                                retryable=True)
        return answer

    def _key(self) -> dict[str, str]:
        return {"api_key": self._api_key} if self._api_key else {}


def _errors(answer: Any) -> str | None:
    """An Open311 error array as ``code description; code description``."""
    if not isinstance(answer, list):
        return None
    parts = [f"{item.get('code', '?')} {item.get('description', '')}".strip()
             for item in answer if isinstance(item, dict)]
    return "; ".join(parts) or None


def _path(value: str) -> str:
    return quote(value, safe="")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
