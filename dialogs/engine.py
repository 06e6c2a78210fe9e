"""The dialog engine: pure functions from (script, state, message) to a Turn.

``start`` opens a conversation; ``step`` feeds it one citizen message. Both return the new
state, the replies to send and the events the caller must act on (``completed`` carries the
answers to file as a complaint; ``status_query``, ``opt_out`` and ``opt_in`` need storage).
Nothing here does I/O or reads the clock: time comes in with the message. Any input text is
safe: a message that is not a valid answer gets a specific hint and the question again.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from dialogs.answers import parse_answer
from dialogs.display import display_value, number_list, option_menu
from dialogs.normalize import normalize
from dialogs.checker import END
from dialogs.i18n import LANGUAGE_NAMES, NO_WORDS, YES_WORDS
from dialogs.model import (
    AnswerType,
    Choice,
    DialogState,
    Event,
    Inbound,
    Reply,
    Script,
    Status,
    Step,
    Turn,
)

HELP_AFTER_FAILURES = 3
_TRACKING_ARG = re.compile(r"^(?:lap[\s-]?)?[0-9a-z]{6}$")
_EDIT_NUMBER = re.compile(r"^(?:ubah|ganti|edit|change|no|nomor|number)?\s*(\d{1,2})$")
_LANGUAGE_WORDS = {normalize(word): code for code, words in LANGUAGE_NAMES.items() for word in words}


def start(script: Script, *, now: datetime, language: str | None = None, notice: str = "welcome") -> Turn:
    """Open a conversation: the ``notice`` message (welcome, expired...) and the first question."""
    lang = language if language in script.languages else script.default_language
    state = DialogState(
        script_id=script.id,
        script_version=script.version,
        language=lang,
        step_id=None,
        started_at=now,
        updated_at=now,
    )
    return _advance(script, state, None, [Reply(script.text(notice, lang))], [Event("started")])


def step(script: Script, state: DialogState, message: Inbound) -> Turn:
    """Feed one message to a waiting dialog and run until the next question or the end."""
    if state.status is not Status.ACTIVE or state.step_id not in script.steps:
        return start(script, now=message.received_at, language=state.language)
    if not message.media and message.location is None and (command := match_command(script, message.text)):
        return _command(script, state.evolve(updated_at=message.received_at), *command)
    question = script.steps[state.step_id]
    if question.type is AnswerType.CONFIRM:
        return _confirm(script, state.evolve(updated_at=message.received_at), question, message)
    parsed = parse_answer(script, question, message, state.language, local_date(script, message.received_at))
    if parsed.rejected:
        return _reject(script, state.evolve(updated_at=message.received_at), question, parsed.hint or "")
    answers = {**state.answers, question.id: parsed.value, **parsed.sets}
    answered = state.evolve(answers=answers, updated_at=message.received_at)
    return _advance(script, answered, question, [], [Event("answered", {"step": question.id})])


def is_expired(state: DialogState, now: datetime, idle_timeout: timedelta) -> bool:
    """True when an active conversation has waited longer than ``idle_timeout``."""
    return state.status is Status.ACTIVE and state.updated_at is not None and now - state.updated_at > idle_timeout


def match_command(script: Script, text: str) -> tuple[str, str] | None:
    """(command, argument) when the whole message is a global command word, else None.

    STATUS and BAHASA/LANGUAGE may carry an argument; any other text is an answer, so a
    description that happens to start with a command word is never hijacked.
    """
    norm = normalize(text).lstrip("/")
    if not norm or len(norm) > 40:
        return None
    if name := script.command_words.get(norm):
        return name, ""
    head, _, rest = norm.partition(" ")
    name = script.command_words.get(head)
    if name == "status" and _TRACKING_ARG.match(rest):
        return name, rest
    if name == "language" and rest in _LANGUAGE_WORDS:
        return name, rest
    return None


def question(script: Script, state: DialogState) -> Reply:
    """The reply that asks the current step's question (with its menu or summary)."""
    return _ask(script, script.steps[state.step_id], state.language, state.answers) if state.step_id else Reply("")


def completion_reply(script: Script, language: str, tracking_number: str) -> Reply:
    """What the citizen reads once the complaint is filed."""
    return Reply(script.text("submitted", language, tracking_number=tracking_number))


def local_date(script: Script, moment: datetime) -> date:
    """The calendar date at ``moment`` where the script's citizens live (its timezone)."""
    return moment.astimezone(ZoneInfo(script.timezone)).date()


def active_answers(script: Script, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers on the path the dialog takes now; stale answers of skipped steps drop out.

    A choice's ``set`` values are re-derived from the chosen option, so changing an answer in
    the summary can never leave an old flag behind.
    """
    result: dict[str, Any] = {}
    for step_ in _path(script, answers):
        value = answers[step_.id]
        result[step_.id] = value
        for option in step_.options:
            if option.value == value:
                result.update(option.sets)
    return result


def summary_items(script: Script, answers: Mapping[str, Any]) -> list[Step]:
    """The answered steps the summary lists, numbered from 1 in this order."""
    return [s for s in _path(script, answers) if s.summary_label]


# ---------------------------------------------------------------------------- internals


def _path(script: Script, answers: Mapping[str, Any]) -> list[Step]:
    """Answered asking steps from the start, following routes, until an unanswered one."""
    path: list[Step] = []
    seen: set[str] = set()
    target: str | None = script.start
    while target and target != END and target not in seen:
        seen.add(target)
        current = script.steps[target]
        skipped = current.when is not None and not current.when(answers)
        if not skipped and current.asks:
            if current.type is AnswerType.CONFIRM or current.id not in answers:
                break
            path.append(current)
        target = _route(script, current, answers)
    return path


def _route(script: Script, current: Step, answers: Mapping[str, Any]) -> str | None:
    for route in current.routes:
        if route.when is None or route.when(answers):
            return route.goto
    return script.next_in_order(current.id) or END


def _advance(script: Script, state: DialogState, origin: Step | None, replies: list[Reply], events: list[Event]) -> Turn:
    """Move on from ``origin`` (None: from the start) to the next question, or finish."""
    answers = state.answers
    history = state.history + (origin.id,) if origin is not None else state.history
    target: str | None = _route(script, origin, answers) if origin is not None else script.start
    for _ in range(2 * len(script.steps) + 2):
        if target is None or target == END:
            return _complete(script, state, replies, events)
        current = script.steps[target]
        passing = (current.when is not None and not current.when(answers)) or (
            state.editing and current.asks and current.type is not AnswerType.CONFIRM and current.id in answers
        )
        if not passing and current.type is AnswerType.MESSAGE:
            replies.append(Reply(_pick(current.prompt, state.language, script)))
        elif not passing:
            new_state = state.evolve(
                step_id=current.id,
                history=history,
                failures=0,
                editing=state.editing and current.type is not AnswerType.CONFIRM,
            )
            replies.append(_ask(script, current, state.language, answers))
            return Turn(new_state, tuple(replies), tuple(events))
        target = _route(script, current, answers)
    # A loop the checker could not rule out (conditions): stay put and offer help.
    replies.append(Reply(script.text("help_offer", state.language)))
    return Turn(state, tuple(replies), tuple(events) + (Event("stuck", {"step": target}),))


def _complete(script: Script, state: DialogState, replies: list[Reply], events: list[Event]) -> Turn:
    final = state.evolve(status=Status.COMPLETED, step_id=None, editing=False, failures=0)
    done = Event("completed", {"answers": active_answers(script, state.answers), "language": state.language})
    return Turn(final, tuple(replies), tuple(events) + (done,))


def _reject(script: Script, state: DialogState, current: Step, hint: str) -> Turn:
    failures = state.failures + 1
    text = f"{hint}\n{_ask(script, current, state.language, state.answers, with_instructions=False).text}"
    if failures >= HELP_AFTER_FAILURES:
        help_text = _pick(current.help, state.language, script) if current.help else ""
        text = "\n".join(filter(None, (text, help_text, script.text("help_offer", state.language))))
    event = Event("rejected", {"step": current.id, "failures": failures})
    reprompts = {**state.reprompts, current.id: state.reprompts.get(current.id, 0) + 1}  # for the admin funnel
    return Turn(state.evolve(failures=failures, reprompts=reprompts), (Reply(text, _choices(script, current, state.language)),),
                (event,))


def _confirm(script: Script, state: DialogState, current: Step, message: Inbound) -> Turn:
    norm = normalize(message.text)
    items = summary_items(script, state.answers)
    head = norm.split(" ", 1)[0] if norm else ""
    if norm in YES_WORDS or (head in YES_WORDS and not any(w in NO_WORDS for w in norm.split())):
        return _advance(script, state, current, [], [Event("confirmed")])
    if (match := _EDIT_NUMBER.match(norm)) and 1 <= int(match.group(1)) <= len(items):
        chosen = items[int(match.group(1)) - 1]
        edited = state.evolve(step_id=chosen.id, history=state.history + (current.id,), editing=True, failures=0)
        return Turn(edited, (_ask(script, chosen, state.language, state.answers),), (Event("editing", {"step": chosen.id}),))
    if norm in NO_WORDS:
        return Turn(state, (Reply(script.text("edit_number", state.language, count=len(items))),), ())
    hint = script.text("hint_confirm", state.language, count=len(items))
    return _reject(script, state, current, hint)


def _command(script: Script, state: DialogState, name: str, argument: str) -> Turn:
    lang = state.language
    event = Event(name)
    if name == "help":
        current = script.steps[state.step_id]
        texts = [_pick(current.help, lang, script)] if current.help else []
        texts.append(script.text("help", lang))
        return Turn(state, (Reply("\n".join(texts)), question(script, state)), (event,))
    if name == "back":
        if not state.history:
            return Turn(state, (Reply(script.text("back_at_start", lang)), question(script, state)), (event,))
        back = state.evolve(step_id=state.history[-1], history=state.history[:-1], failures=0, editing=False)
        return Turn(back, (question(script, back),), (event,))
    if name == "cancel":
        ended = state.evolve(status=Status.CANCELLED, step_id=None, editing=False)
        return Turn(ended, (Reply(script.text("cancelled", lang)),), (Event("cancelled"),))
    if name == "restart":
        again = start(script, now=state.updated_at or datetime.min, language=lang, notice="restarted")
        return Turn(again.state, again.replies, (Event("restarted"),) + again.events)
    if name == "language":
        new_lang = switch_language(script, lang, argument)
        switched = state.evolve(language=new_lang)
        replies = (Reply(script.text("language_set", new_lang)), question(script, switched))
        return Turn(switched, replies, (Event("language", {"language": new_lang}),))
    if name == "status":
        if not argument:
            return Turn(state, (Reply(script.text("status_usage", lang)), question(script, state)), (event,))
        return Turn(state, (question(script, state),), (Event("status_query", {"number": argument}),))
    if name == "stop":
        return Turn(state, (Reply(script.text("opted_out", lang)),), (Event("opt_out"),))
    # start: opting back in
    return Turn(state, (Reply(script.text("opted_in", lang)), question(script, state)), (Event("opt_in"),))


def switch_language(script: Script, current: str, argument: str = "") -> str:
    """The language a BAHASA/LANGUAGE command picks: the one named, else the next one."""
    if argument:
        named = _LANGUAGE_WORDS.get(normalize(argument))
        return named if named in script.languages else current
    index = script.languages.index(current) if current in script.languages else -1
    return script.languages[(index + 1) % len(script.languages)]


def _ask(script: Script, current: Step, lang: str, answers: Mapping[str, Any], with_instructions: bool = True) -> Reply:
    lines = [_pick(current.prompt, lang, script)]
    kind = current.type
    if kind is AnswerType.CHOICE:
        menu = option_menu(current, lang)
        lines.extend(f"{number}. {label}" for number, label in menu)
        if with_instructions:
            lines.append(script.text("menu_reply", lang, numbers=number_list(script, [n for n, _ in menu], lang)))
    elif kind is AnswerType.YES_NO and with_instructions:
        lines.append(script.text("hint_yes_no", lang))
    elif kind is AnswerType.CONFIRM:
        items = summary_items(script, answers)
        lines = [_pick(current.prompt, lang, script)]
        for number, item in enumerate(items, start=1):
            value = display_value(script, item, answers.get(item.id), lang)
            lines.append(f"{number}. {_pick(item.summary_label, lang, script)}: {value}")
        if with_instructions:
            lines.append(script.text("hint_confirm", lang, count=len(items)))
    elif (current.optional or kind is AnswerType.MEDIA) and with_instructions:
        lines.append(script.text("optional_skip", lang))
    return Reply("\n".join(lines), _choices(script, current, lang))


def _choices(script: Script, current: Step, lang: str) -> tuple[Choice, ...]:
    if current.type is AnswerType.CHOICE:
        return tuple(Choice(str(number), label) for number, label in option_menu(current, lang))
    if current.type in (AnswerType.YES_NO, AnswerType.CONFIRM):
        return (Choice(script.text("yes", lang), script.text("yes", lang)), Choice(script.text("no", lang), script.text("no", lang)))
    return ()


def _pick(text: Mapping[str, str], lang: str, script: Script) -> str:
    return text.get(lang) or text.get(script.default_language) or next(iter(text.values()), "")
