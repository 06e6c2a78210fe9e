"""Chatting with a script version in the admin page: the real engine, no storage.

Nothing of a simulation touches the database: the dialog state and the transcript travel in the
page, signed with the app's secret so that a changed form is refused rather than fed to the
engine. A finished dialog shows the reply the citizen would get, with a sample tracking number;
no complaint is filed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from channels.render import render_parts
from channels.sms import sms_size
from dialogs import engine
from dialogs.model import DialogState, Inbound, Script

SAMPLE_TRACKING_NUMBER = "LAP-XXXXXX"
CHANNELS = ("sms", "whatsapp", "telegram")


@dataclass(frozen=True, slots=True)
class Line:
    """One message of the transcript as the citizen's phone shows it."""

    who: str  # "citizen" | "bot"
    text: str
    note: str = ""  # for SMS: encoding and segments


class Simulation:
    """A simulation's signed form state (dialog state + transcript)."""

    def __init__(self, secret: str, script: Script, channel: str, language: str):
        self._codec = URLSafeSerializer(secret, salt="lapor-admin-simulation")
        self.script, self.channel, self.language = script, channel, language

    def load(self, token: str) -> tuple[dict[str, Any] | None, list[Line]]:
        """The state and transcript in ``token`` ((None, []) for none); ValueError if tampered."""
        if not token:
            return None, []
        try:
            data = self._codec.loads(token)
        except BadSignature:
            raise ValueError("the simulation was changed outside this page; start again") from None
        return data["state"], [Line(*line) for line in data["lines"]]

    def dump(self, state: dict[str, Any] | None, lines: list[Line]) -> str:
        return self._codec.dumps({"state": state, "lines": [[line.who, line.text, line.note] for line in lines]})

    def say(self, state: dict[str, Any] | None, lines: list[Line], text: str, now: datetime
            ) -> tuple[dict[str, Any], list[Line]]:
        """Feed ``text`` to the engine (or start the dialog); returns the new state and transcript."""
        lines = [*lines, Line("citizen", text)]
        if state is None:
            turn = engine.start(self.script, now=now, language=self.language)
        else:
            turn = engine.step(self.script, DialogState.from_json(state), Inbound(text=text, received_at=now))
        replies = [reply.text for reply in turn.replies]
        if any(event.kind == "completed" for event in turn.events):
            replies.append(engine.completion_reply(self.script, turn.state.language, SAMPLE_TRACKING_NUMBER).text)
        if any(event.kind == "status_query" for event in turn.events):
            replies.insert(0, "(STATUS dijawab dari basis data; tidak dalam simulasi)")
        if replies:
            for part in render_parts(self.channel, "\n\n".join(replies)):
                lines.append(Line("bot", part, self._note(part)))
        return turn.state.to_json(), lines

    def _note(self, part: str) -> str:
        if self.channel != "sms":
            return f"{len(part)} karakter"
        size = sms_size(part)
        return f"SMS {size.encoding}, {size.segments} segmen"
