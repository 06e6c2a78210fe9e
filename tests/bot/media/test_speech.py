"""The speech-to-text seam (bot.media.speech) against a server on loopback: what it sends, what
it keeps of the answer, and that a failing server only leaves no transcript."""
from __future__ import annotations

import json

from tests_support import LiveServer, make_settings
from werkzeug.wrappers import Request, Response

from bot.media.speech import HttpTranscriber, transcriber_from


class SpeechServer:
    """Answers POST /transcribe with {"text": ...}, or with ``status`` when set."""

    def __init__(self, text: object = "jalan di depan rumah saya rusak", status: int = 200) -> None:
        self.text, self.status = text, status
        self.requests: list[dict] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append({"path": request.path, "type": request.content_type, "args": dict(request.args),
                              "auth": request.headers.get("Authorization"), "size": len(request.get_data())})
        body = json.dumps({"text": self.text}) if self.status == 200 else "down"
        return Response(body, status=self.status, mimetype="application/json")(environ, start_response)


def test_a_voice_note_is_sent_as_it_is_and_its_words_come_back() -> None:
    server = SpeechServer()
    with LiveServer(server) as live:
        transcriber = HttpTranscriber(f"{live.url}/transcribe", token="t0ken", timeout=5)
        try:
            assert transcriber.transcribe(b"OggS" + bytes(50), "audio/ogg", "id") == "jalan di depan rumah saya rusak"
        finally:
            transcriber.close()
    assert server.requests == [{"path": "/transcribe", "type": "audio/ogg", "args": {"language": "id"},
                                "auth": "Bearer t0ken", "size": 54}]


def test_a_failing_or_odd_server_gives_no_transcript() -> None:
    for server in (SpeechServer(status=503), SpeechServer(text=None), SpeechServer(text="  ")):
        with LiveServer(server) as live:
            transcriber = HttpTranscriber(f"{live.url}/transcribe", timeout=5)
            assert transcriber.transcribe(b"OggS", "audio/ogg", "en") is None
            transcriber.close()
    transcriber = HttpTranscriber("http://127.0.0.1:9/transcribe", timeout=1)  # nothing listens
    assert transcriber.transcribe(b"OggS", "audio/ogg", "en") is None
    transcriber.close()


def test_it_is_off_unless_configured() -> None:
    assert transcriber_from(make_settings("sqlite://")) is None
    on = transcriber_from(make_settings("sqlite://", extra_env={"LAPOR_SPEECH_URL": "http://127.0.0.1:9/stt"}))
    assert isinstance(on, HttpTranscriber)
    on.close()
