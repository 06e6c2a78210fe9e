"""Personal data in transcripts and dialog states: sealed at rest, redacted wherever it is shown.

What counts as personal: the answers of a script's ``personal`` steps (the reporter's name, a
phone number) and a shared contact card. They never reach the database in clear:
- in a conversation's state, those answers are sealed (``storage.crypto.seal``);
- a message that carries one (the answer itself, the summary that repeats it, a contact card)
  is stored with ``text`` redacted and the whole text encrypted in ``text_enc``;
- once an anonymous report is filed, the encrypted copies are destroyed, so that nobody, with
  or without the key, can learn who sent it; its transcript keeps only the redacted text.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from dialogs.model import Script
from storage.crypto import DataCipher, WrongDataKey, is_sealed, seal, unseal
from storage.models import Message

REDACTED = "[disembunyikan]"
MIN_LENGTH = 2  # shorter answers are not looked for inside other text (they would match everywhere)


def seal_state(cipher: DataCipher, script: Script, state: Mapping[str, Any]) -> dict[str, Any]:
    """A dialog state's JSON with the answers of personal steps sealed."""
    answers = state.get("answers") or {}
    if not script.personal.intersection(answers):
        return dict(state)
    sealed = {key: seal(cipher, value) if key in script.personal and isinstance(value, str) else value
              for key, value in answers.items()}
    return {**state, "answers": sealed}


def unseal_state(cipher: DataCipher, state: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON ``seal_state`` made, with the sealed answers opened (for the engine).
    WrongDataKey when one cannot be opened."""
    answers = state.get("answers") or {}
    if not any(is_sealed(value) for value in answers.values()):
        return dict(state)
    return {**state, "answers": {key: unseal(cipher, value) if is_sealed(value) else value
                                 for key, value in answers.items()}}


def without_personal(script: Script, answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` less the personal ones (what a filed complaint or an ended state keeps)."""
    return {key: value for key, value in answers.items() if key not in script.personal}


def personal_values(script: Script, *answer_sets: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal answers in ``answer_sets`` that are worth looking for in a text, longest
    first (so that "Budi Santoso" is redacted whole before "Budi")."""
    found = {value.strip() for answers in answer_sets for key, value in answers.items()
             if key in script.personal and isinstance(value, str) and len(value.strip()) >= MIN_LENGTH}
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with every whole-word occurrence of ``values`` replaced by REDACTED."""
    for value in values:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return text


def stored(cipher: DataCipher, text: str, values: Iterable[str], *, whole: bool = False) -> tuple[str, bytes | None]:
    """(text, text_enc) to store for a message: ``whole`` (all of it is personal), or the text
    with ``values`` redacted and the original encrypted; the text as it is when it holds none."""
    if whole:
        return REDACTED, cipher.encrypt(text)
    shown = redact(text, values)
    return (shown, cipher.encrypt(text)) if shown != text else (text, None)


def shown_text(cipher: DataCipher, message: Message, *, anonymous: bool) -> str:
    """A stored message as an admin may read it: whole for a report that is not anonymous,
    redacted for an anonymous one (whose whole texts are gone anyway), and redacted when the
    whole text cannot be decrypted (a bad row never breaks a page)."""
    if message.text_enc is None or anonymous:
        return message.text
    try:
        return cipher.decrypt(message.text_enc)
    except WrongDataKey:
        return message.text
