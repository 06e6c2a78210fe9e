"""The terminal channel behind ``lapor chat``: a citizen types, replies are printed."""
from __future__ import annotations

import itertools
from typing import TextIO

from channels.base import OutboundMessage, SendResult


class TerminalChannel:
    """Prints each reply to a text stream, with its numbered menu already in the text."""

    name = "terminal"

    def __init__(self, out: TextIO, prefix: str = "LAPOR> "):
        self._out = out
        self._prefix = prefix
        self._ids = itertools.count(1)

    def send(self, message: OutboundMessage) -> SendResult:
        indent = " " * len(self._prefix)
        first, *rest = message.text.split("\n")
        lines = [self._prefix + first] + [indent + line if line else "" for line in rest]
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        return SendResult(provider_message_id=f"term-{message.message_id}-{next(self._ids)}")
