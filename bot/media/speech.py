"""The seam for a speech-to-text server: voice notes, transcribed where one is configured.

Off by default (``media.speech_url`` empty). When set (``LAPOR_SPEECH_URL`` wins), the worker
POSTs each kept voice note to it, as the raw audio with its ``Content-Type`` and
``?language=id|en``, with ``Authorization: Bearer $LAPOR_SPEECH_TOKEN`` when that is set, and
expects ``{"text": "..."}``. The transcript goes with the attachment to the registry; the voice
note is always kept and sent whatever the server answers: a failure only leaves no transcript.
"""
from __future__ import annotations

import logging
from typing import Protocol

import httpx

from bot.settings import Settings
from channels.tls import client_context

__all__ = ["HttpTranscriber", "Transcriber", "transcriber_from"]

log = logging.getLogger(__name__)
MAX_TRANSCRIPT = 5000  # characters kept


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, content_type: str, language: str) -> str | None:
        """The words of a voice note, or None when they cannot be had (never raises)."""
        ...

    def close(self) -> None: ...


class HttpTranscriber:
    """A speech-to-text server over HTTP (the protocol in the module docstring)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self._url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport, verify=client_context())

    def transcribe(self, audio: bytes, content_type: str, language: str) -> str | None:
        try:
            response = self._http.post(self._url, content=audio, params={"language": language},
                                       headers={"Content-Type": content_type})
            text = response.json().get("text") if response.is_success else None
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("speech-to-text failed (%s); the voice note goes without a transcript", type(exc).__name__)
            return None
        if not isinstance(text, str) or not text.strip():
            log.warning("speech-to-text answered %s without text; the voice note goes without one",
                        response.status_code)
            return None
        return text.strip()[:MAX_TRANSCRIPT]

    def close(self) -> None:
        self._http.close()


def transcriber_from(settings: Settings) -> Transcriber | None:
    """The configured transcriber, or None (the default: off)."""
    if not settings.speech_url:
        return None
    return HttpTranscriber(settings.speech_url, token=settings.env.get("LAPOR_SPEECH_TOKEN") or None,
                           timeout=settings.speech_timeout)
