"""Chatting with a script version in the admin page: the real engine, no storage.

Nothing of a simulation touches the database: the dialog state and the transcript travel in the
page, signed with the app's secret so that a changed form is refused rather than fed to the
engine. A finished dialog shows the reply the citizen would get, with a sample tracking number;
no complaint is filed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from channels.render import render_parts
from channels.sms import sms_size
from dialogs import engine
from dialogs.model import Context, DialogState, Inbound, Interpretation, Place, Script, Slot, Step

SAMPLE_TRACKING_NUMBER = "LAP-XXXXXX"
STATUS_NOTE = "(STATUS dijawab dari basis data; tidak dalam simulasi)"
CHANNELS = ("sms", "whatsapp", "telegram")


@dataclass(frozen=True, slots=True)
class Line:
    """One message of the transcript as the citizen's phone shows it."""

    who: str  # "citizen" | "bot"
    text: str
    note: str = ""  # for SMS: encoding and segments


class Simulation:
    """A simulation's signed form state (dialog state + transcript)."""

    def __init__(self, secret: str, script: Script, channel: str, language: str, *,
                 idle_timeout: timedelta, resume_after: timedelta,
                 interpret: Callable[[str], Interpretation | None] = lambda text: None,
                 places: Callable[[Step | None, str], tuple[Place, ...]] = lambda asked, text: ()):
        self._codec = URLSafeSerializer(secret, salt="lapor-admin-simulation")
        self._interpret = interpret  # the service's interpreter, so admins see what citizens get
        self._places = places  # and its region look-up (bot.intake.places_for)
        self.script, self.channel, self.language = script, channel, language
        self._idle_timeout, self._resume_after = idle_timeout, resume_after  # as the service has them

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
            ) -> tuple[dict[str, Any] | None, list[Line]]:
        """Feed ``text`` to the engine exactly as a channel's intake does (``engine.receive``);
        returns the new state (None: no conversation open) and transcript. What needs storage
        is shown as such: the sample tracking number, a note for STATUS."""
        lines = [*lines, Line("citizen", text)]
        current = DialogState.from_json(state) if state is not None else None
        asked = self.script.steps.get(current.step_id or "") if current is not None else None
        inbound = Inbound(text=text, received_at=now, meaning=self._interpret(text), places=self._places(asked, text))
        turn = engine.receive(self.script, current, inbound,
                              Context(language=self.language, idle_timeout=self._idle_timeout,
                                      resume_after=self._resume_after))
        replies = [reply.fill(SAMPLE_TRACKING_NUMBER if reply.slot is Slot.TRACKING_NUMBER else STATUS_NOTE).text
                   for reply in turn.replies]
        if replies:
            for part in render_parts(self.channel, "\n\n".join(replies)):
                lines.append(Line("bot", part, self._note(part)))
        return (turn.state.to_json() if turn.state is not None else None), lines

    def _note(self, part: str) -> str:
        if self.channel != "sms":
            return f"{len(part)} karakter"
        size = sms_size(part)
        return f"SMS {size.encoding}, {size.segments} segmen"
