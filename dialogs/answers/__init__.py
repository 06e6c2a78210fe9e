"""Answer parsers: a citizen's message -> a stored value, or a hint that says what went wrong.

``parse_answer`` handles every question type except ``confirm`` and ``message`` (the engine
owns those), each in a module of its own. It never raises on any text: whatever arrives
(empty, huge, emoji, control characters), the result is a value or a hint. Values stay
JSON-serialisable: dates are ISO text, numbers are ints or finite floats, locations and
attachments are plain dicts.

Everything here is pure and fast: regexes compile at import, the lookup tables of a choice
step are built once per step, and typo matching only runs on short answers.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from dialogs.answers import choice, date_answer, location, media, number, phone, text, yes_no
from dialogs.answers.context import ParseContext
from dialogs.answers.skip import is_skip
from dialogs.model import AnswerType, Inbound, Parsed, Script, Step
from dialogs.normalize import clean_text, loose, normalize, strip_politeness

__all__ = ["parse_answer"]

_PARSERS: dict[AnswerType, Callable[[ParseContext], Parsed]] = {
    AnswerType.CHOICE: choice.parse,
    AnswerType.TEXT: text.parse,
    AnswerType.NUMBER: number.parse,
    AnswerType.DATE: date_answer.parse,
    AnswerType.YES_NO: yes_no.parse,
    AnswerType.PHONE: phone.parse,
    AnswerType.LOCATION: location.parse,
    AnswerType.MEDIA: media.parse,
}
_SKIPPABLE = frozenset({AnswerType.TEXT, AnswerType.NUMBER, AnswerType.DATE, AnswerType.PHONE, AnswerType.LOCATION})


def parse_answer(script: Script, step: Step, inbound: Inbound, language: str, today: date) -> Parsed:
    """Parse the citizen's answer to ``step`` (any type but confirm and message).

    ``today`` is the citizen's local date (for "hari ini", "kemarin", future checks). Returns
    ``Parsed(value=...)`` (``sets`` filled for a choice option that sets extra answers;
    ``notice`` set when the citizen should be told something about it, e.g. a long text was
    cut) or ``Parsed(hint=...)`` in ``language``. A skipped optional answer is ``Parsed(value=None)``
    (``[]`` for media). Raises ValueError only for confirm/message steps, never for input text.
    """
    parser = _PARSERS.get(step.type)
    if parser is None:
        raise ValueError(f"step '{step.id}': {step.type.value} steps are handled by the engine")
    norm = normalize(inbound.text)
    bare = strip_politeness(norm)
    ctx = ParseContext(script, step, inbound, language, today, norm, bare, loose(bare))
    if step.optional and step.type in _SKIPPABLE and is_skip(ctx.norm, ctx.bare_loose):
        return Parsed(value=None)
    parsed = parser(ctx)
    if (parsed.rejected and not ctx.norm and not inbound.media and inbound.location is None
            and not clean_text(inbound.text)):
        return Parsed(hint=script.text("hint_empty", language, question_hint=parsed.hint))
    return parsed
