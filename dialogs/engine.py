"""The dialog engine: one pure function from (script, state, message, context) to a Turn.

``receive`` owns the whole life of a conversation: it starts one (welcome, or "your session
expired"), resumes one after a pause (saying where the citizen was), feeds it answers, runs the
global commands (help, back, cancel, restart, language, STATUS, STOP and START) inside and
outside a conversation, stays silent for a citizen who opted out, and finishes with the
summary and the completion reply.

What an interpreter understood of a message (``Inbound.meaning``) is used where the words
alone do not settle it: a first message that describes a problem answers what it can
(``dialogs.prefill``) and the category is proposed for a YES; outside a conversation, "status"
lists the citizen's reports and "thanks" is answered without starting a report; inside one,
an answer the question cannot take may still mean help, status, a language or cancel. STOP in
the middle of a report, and CANCEL at its summary, are confirmed first.

The caller acts on the Turn's events (``EventKind``) and fills the reply slots that need
storage (the STATUS answer, the list of reports, the tracking number). Intake, the admin
simulator, ``lapor chat`` and the golden transcripts all go through it.

Nothing here does I/O or reads the clock: time comes in with the message. Any input text is
safe: a message that is not a valid answer gets a specific hint and the question again.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.answers import parse_answer
from dialogs.answers.choice import menu_number, named_option
from dialogs.answers.yes_no import meaning as yes_no_meaning
from dialogs.checker import END
from dialogs.display import display_value, number_list, option_menu
from dialogs.fields import fields_of, voice_key
from dialogs.i18n import EDIT_WORDS, GREETING_WORDS, LANGUAGE_NAMES, STATUS_LIST_WORDS
from dialogs.model import (
    TRACKING_NUMBER_SLOT,
    AnswerType,
    Choice,
    Context,
    DialogState,
    Event,
    EventKind,
    Inbound,
    Reply,
    Script,
    Slot,
    Status,
    Step,
    Turn,
)
from dialogs.normalize import loose, normalize
from dialogs.prefill import Prefill, detect_language, prefill

__all__ = ["active_answers", "is_expired", "local_date", "match_command", "question", "receive", "summary_items",
           "switch_language"]

HELP_AFTER_FAILURES = 3
IDLE_COMMANDS = ("status", "stop")  # answered outside a conversation, without starting one
# Tracking numbers as citizens type them: "LAP-7K3M9Q", "lap 7k3m9q", "lap7k3m9q" (written together,
# a digit tells it from a word: "laporanku" is no number). Six characters go to the intake's look-up;
# other lengths get a hint on how a number is written.
_TRACKING_ARG = re.compile(r"^(?:lap[\s_-]*)?[0-9a-z]{1,10}$")  # after STATUS
_TRACKING_ALONE = re.compile(r"^lap(?:[\s_-]+[0-9a-z]{3,10}|(?=[a-z]*[0-9])[0-9a-z]{3,10})$")
_TRACKING_SHAPE = re.compile(r"^(?:lap[\s_-]*)?[0-9a-z]{6}$")
_TRACKING_IN = re.compile(r"(?<![0-9a-z])lap(?:[\s_-]+|(?=[a-z]*[0-9]))[0-9a-z]{6}(?![0-9a-z])")
_STATUS_LIST = frozenset(STATUS_LIST_WORDS)
_EDIT_NUMBER = re.compile(rf"^(?:{'|'.join(EDIT_WORDS)})?\s*(\d{{1,2}})$")
_LANGUAGE_WORDS = {normalize(word): code for code, words in LANGUAGE_NAMES.items() for word in words}


def receive(script: Script, state: DialogState | None, message: Inbound, context: Context) -> Turn:
    """Take one citizen message.

    ``script`` is the version ``state`` is pinned to (for no state: the live one);
    ``context.live_script`` is where a new conversation starts when this one has ended or
    expired. The global command words are matched once, here, and only for messages without
    media or a shared location.
    """
    now = message.received_at
    live = context.live_script or script
    before: tuple[Event, ...] = ()
    if state is not None and is_expired(state, now, context.idle_timeout):
        state, before = None, (Event(EventKind.EXPIRED),)
    active = state is not None and state.status is Status.ACTIVE and state.step_id in script.steps
    current = script if active else live
    words = not message.media and message.location is None
    command = match_command(current, message.text) if words else None
    if context.opted_out and (command is None or command[0] != "start"):
        return Turn(state if active else None, (), before + (Event(EventKind.IGNORED),))
    if not active or state is None:
        return _outside(live, message, context, command, before)
    paused = state.updated_at is not None and now - state.updated_at > context.resume_after
    turn = _step(script, state, message, command)
    if paused and (_greeting(message) or turn.has(EventKind.REJECTED)):
        return _resume(script, state.evolve(updated_at=now))
    return turn


def _outside(script: Script, message: Inbound, context: Context, command: tuple[str, str] | None,
             before: tuple[Event, ...]) -> Turn:
    """A message with no conversation open: STATUS and STOP are answered on their own, and so
    are a status question and thanks the interpreter understood; anything else starts a
    conversation (in the language BAHASA names, or the one the message is written in), with
    what a first message that describes a problem already answers."""
    language = context.language if context.language in script.languages else script.default_language
    events = list(before)
    words = not message.media and message.location is None
    meaning = message.meaning if words else None
    if command is None and meaning is not None:
        if meaning.intent == "thanks" and not before:
            return Turn(None, (Reply(script.text("thanks_reply", language)),), tuple(events))
        command = _intended(message, ("status", "language"))
    if command is not None and command[0] in IDLE_COMMANDS:
        name, argument = command
        if name == "stop":
            return Turn(None, (Reply(script.text("opted_out", language)),), tuple(events) + (Event(EventKind.OPT_OUT),))
        reply, status_events = _status(script, language, argument)
        return Turn(None, (reply,), tuple(events) + status_events)
    if context.opted_out:  # START: the citizen is back
        events.append(Event(EventKind.OPT_IN))
    if command is not None and command[0] == "language":
        language = switch_language(script, language, command[1])
        events.append(Event(EventKind.LANGUAGE, {"language": language}))
    filled = None
    if command is None:
        if words:  # a first message clearly in one language is answered in it
            language = detect_language(message.text, script.languages) or language
        filled = prefill(script, message, language, local_date(script, message.received_at))
    notice = "expired" if before else "welcome"
    turn = _start(script, now=message.received_at, language=language, notice=notice, filled=filled)
    return Turn(turn.state, turn.replies, tuple(events) + turn.events)


def _start(script: Script, *, now: datetime, language: str | None = None, notice: str = "welcome",
           filled: Prefill | None = None) -> Turn:
    """Open a conversation: the ``notice`` message (welcome, expired...) and the first question;
    with ``filled``, the answers of a first message, acknowledged by its title instead."""
    lang = language if language in script.languages else script.default_language
    state = DialogState(script_id=script.id, script_version=script.version, language=lang, step_id=None,
                        started_at=now, updated_at=now)
    events = [Event(EventKind.STARTED)]
    text = script.text(notice, lang)
    if filled is not None:
        state = state.evolve(answers=filled.answers, prefilled=filled.steps, proposals=filled.proposals)
        events.append(Event(EventKind.PREFILLED, {"steps": list(filled.steps)}))
        if filled.title:
            text = script.text("prefilled", lang, title=filled.title)
    return _advance(script, state, None, [Reply(text)], events)


def _step(script: Script, state: DialogState, message: Inbound, command: tuple[str, str] | None) -> Turn:
    """Feed one message to a waiting dialog and run until the next question or the end (the
    state's ``updated_at`` becomes the message's time)."""
    now = message.received_at
    if state.pending == "place":
        return _place(script, state.evolve(updated_at=now, pending=None), message, command)
    if state.pending is not None:
        return _pending(script, state.evolve(updated_at=now, pending=None), state.pending, message, command)
    current = script.steps[state.step_id or ""]
    if command is not None and not (current.type is AnswerType.CHOICE and named_option(current, message.text)):
        return _command(script, state.evolve(updated_at=now), *command)  # an option's own word is an answer
    if current.type is AnswerType.CONFIRM:
        return _confirm(script, state.evolve(updated_at=now), current, message)
    proposed = state.proposals.get(current.id)
    if proposed is not None:
        state = state.evolve(proposals={k: v for k, v in state.proposals.items() if k != current.id})
        verdict = yes_no_meaning(normalize(message.text)) if not message.media else None
        option = next((o for o in current.options if o.value == proposed), None)
        if verdict is True and option is not None:
            answered = state.evolve(answers={**state.answers, current.id: option.value, **option.sets}, updated_at=now)
            return _advance(script, answered, current, [], [Event(EventKind.ANSWERED, {"step": current.id})])
        if verdict is False:
            return Turn(state.evolve(updated_at=now), (question(script, state),), ())
    parsed = parse_answer(script, current, message, state.language, local_date(script, now))
    if parsed.rejected:
        understood = _understood(script, state.evolve(updated_at=now), message)
        return understood or _reject(script, state.evolve(updated_at=now), current, parsed.hint or "")
    answered = state.evolve(answers={**state.answers, current.id: parsed.value, **parsed.sets}, updated_at=now)
    if parsed.places:
        offered = tuple({"label": place.label, "region": dict(place.region)} for place in parsed.places)
        asking = answered.evolve(pending="place", places=offered)
        return Turn(asking, (_place_question(script, asking),), ())
    notices = [Reply(parsed.notice)] if parsed.notice else []
    return _advance(script, answered, current, notices, [Event(EventKind.ANSWERED, {"step": current.id})])


def _place_question(script: Script, state: DialogState) -> Reply:
    """Which of the offered regions the location names: a numbered menu, the last "none"."""
    lang = state.language
    lines = [script.text("place_ask", lang)]
    labels = [str(place["label"]) for place in state.places] + [script.text("place_none", lang)]
    lines += [f"{number}. {label}" for number, label in enumerate(labels, start=1)]
    numbers = list(range(1, len(labels) + 1))
    lines.append(script.text("menu_reply", lang, numbers=number_list(script, numbers, lang)))
    return Reply("\n".join(lines), tuple(Choice(str(n), label) for n, label in zip(numbers, labels, strict=True)))


_KEEPS_PLACE_QUESTION = ("help", "language", "status")  # answered, then the place menu again


def _place(script: Script, state: DialogState, message: Inbound, command: tuple[str, str] | None) -> Turn:
    """The answer to "which of these places?" (``state`` still holds the question): a menu
    number, as citizens write one ("2", "dua", "yg 2"), picks one (its region joins the location
    answer); the last number or NO keeps the text alone. HELP, a language or STATUS is answered
    and the menu asked again; BACK asks the location again; another location or anything else is
    taken as a new answer to the location question."""
    current = script.steps[state.step_id or ""]
    offered = state.places
    if command is not None and command[0] in _KEEPS_PLACE_QUESTION:
        return _command(script, state.evolve(pending="place"), *command)
    state = state.evolve(places=())
    if command is not None and command[0] == "back":
        return Turn(state, (question(script, state),), ())
    words = not message.media and message.location is None
    picked = menu_number(message.text) if words else None
    if picked is None and words and yes_no_meaning(normalize(message.text)) is False:
        picked = len(offered) + 1
    if picked is None or not 1 <= picked <= len(offered) + 1:
        if picked is not None:  # a number that is not on the menu: the menu again
            return Turn(state.evolve(pending="place", places=offered),
                        (_place_question(script, state.evolve(pending="place", places=offered)),), ())
        return _step(script, state, message, command)
    answer = dict(state.answers.get(current.id) or {})
    if picked <= len(offered):
        answer["region"] = dict(offered[picked - 1]["region"])
    answered = state.evolve(answers={**state.answers, current.id: answer})
    return _advance(script, answered, current, [], [Event(EventKind.ANSWERED, {"step": current.id})])


def _pending(script: Script, state: DialogState, pending: str, message: Inbound,
             command: tuple[str, str] | None) -> Turn:
    """The answer to "stop all messages?" or "throw the report away?": YES (or the same command
    again) does it, NO goes on where the citizen was, anything else is taken as usual."""
    verdict = yes_no_meaning(normalize(message.text)) if not message.media and message.location is None else None
    if command is not None and command[0] == pending:
        verdict = True
    if verdict is True and pending == "stop":
        return Turn(state, (Reply(script.text("opted_out", state.language)),), (Event(EventKind.OPT_OUT),))
    if verdict is True:
        return _cancelled(script, state)
    if verdict is False:
        return Turn(state, (Reply(script.text("go_on", state.language)), question(script, state)), ())
    return _step(script, state, message, command)


def _understood(script: Script, state: DialogState, message: Inbound) -> Turn | None:
    """An answer the question cannot take that the interpreter understood as help, a status
    question, a language or cancelling; None when it did not."""
    if message.media or message.location is not None:
        return None
    command = _intended(message, ("help", "status", "language", "cancel"))
    if command is None:
        return None
    if command[0] == "cancel":
        return Turn(state.evolve(pending="cancel"), (Reply(script.text("cancel_ask", state.language)),), ())
    return _command(script, state, *command)


_INTENT_COMMANDS = {"help": "help", "status": "status", "change_language": "language", "cancel": "cancel"}


def _intended(message: Inbound, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    """The command (and its argument) the interpreter read in ``message``, among ``allowed``:
    status with the tracking number it names, a language with the language it names."""
    meaning = message.meaning
    name = _INTENT_COMMANDS.get(meaning.intent or "") if meaning is not None else None
    if name is None or name not in allowed:
        return None
    if name == "status":
        return name, _tracking_in(message.text)
    if name == "language":
        return name, _language_in(message.text)
    return name, ""


def _greeting(message: Inbound) -> bool:
    return not message.media and message.location is None and normalize(message.text) in GREETING_WORDS


def _resume(script: Script, state: DialogState) -> Turn:
    """After a pause, a greeting or an answer that does not fit: say where the citizen was,
    and ask the pending question again (no failure is counted)."""
    asked = question(script, state)
    text = f"{script.text('resumed', state.language)}\n{asked.text}"
    return Turn(state, (Reply(text, asked.choices),), (Event(EventKind.RESUMED, {"step": state.step_id}),))


def is_expired(state: DialogState, now: datetime, idle_timeout: timedelta) -> bool:
    """True when an active conversation has waited longer than ``idle_timeout``."""
    return state.status is Status.ACTIVE and state.updated_at is not None and now - state.updated_at > idle_timeout


def match_command(script: Script, text: str) -> tuple[str, str] | None:
    """(command, argument) when the whole message is a global command word, else None.

    STATUS and BAHASA/LANGUAGE may carry an argument; a tracking number ("lap-7k3m9q", or a
    mistyped one) alone is STATUS with it, and a language's name alone ("english") is BAHASA
    with it. Any other text is an answer, so a description that happens to start with a command
    word is never hijacked.
    """
    norm = normalize(text).lstrip("/")
    if not norm or len(norm) > 40:
        return None
    if name := script.command_words.get(norm):
        return name, ""
    if _TRACKING_ALONE.match(norm):
        return "status", norm
    if norm in _LANGUAGE_WORDS:
        return "language", norm
    head, _, rest = norm.partition(" ")
    name = script.command_words.get(head)
    if name == "status" and rest in _STATUS_LIST:
        return name, ""
    if name == "status" and _TRACKING_ARG.match(rest):
        return name, rest
    if name == "language" and rest in _LANGUAGE_WORDS:
        return name, rest
    return None


def _status(script: Script, language: str, argument: str) -> tuple[Reply, tuple[Event, ...]]:
    """The reply to a status request: the list of the citizen's reports (no number), the
    report asked for (a number of the right shape), or how a number is written."""
    if not argument:
        return Reply("", slot=Slot.REPORTS), (Event(EventKind.STATUS_LIST),)
    if not _TRACKING_SHAPE.match(argument):
        return Reply(script.text("status_mistyped", language)), ()
    return Reply("", slot=Slot.STATUS, argument=argument), (Event(EventKind.STATUS_QUERY, {"number": argument}),)


def _tracking_in(text: str) -> str:
    """The first tracking number written in ``text`` ("gimana laporan LAP-7K3M9Q?"), or ""."""
    found = _TRACKING_IN.search(normalize(text))
    return found.group(0) if found else ""


def _language_in(text: str) -> str:
    """The language a message names ("bahasa inggris dong"), or "" (then: the next one)."""
    words = f" {loose(normalize(text))} "
    return next((word for word in _LANGUAGE_WORDS if f" {word} " in words), "")


def question(script: Script, state: DialogState) -> Reply:
    """The reply that asks the current step's question (with its menu, proposal or summary)."""
    if not state.step_id:
        return Reply("")
    if state.pending == "place" and state.places:
        return _place_question(script, state)
    return _ask(script, script.steps[state.step_id], state.language, state.answers,
                proposed=state.proposals.get(state.step_id))


def _submitted(script: Script, language: str) -> Reply:
    """What the citizen reads once the complaint is filed; the caller fills in its number."""
    return Reply(script.text("submitted", language, tracking_number=TRACKING_NUMBER_SLOT), slot=Slot.TRACKING_NUMBER)


def local_date(script: Script, moment: datetime) -> date:
    """The calendar date at ``moment`` where the script's citizens live (its timezone)."""
    return moment.astimezone(ZoneInfo(script.timezone)).date()


def active_answers(script: Script, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers on the path the dialog takes now; stale answers of skipped steps drop out.

    A choice's ``set`` values are re-derived from the chosen option, so changing an answer in
    the summary can never leave an old flag behind; the voice notes stay while the step they
    answered is on the path.
    """
    result: dict[str, Any] = {}
    for step_ in _path(script, answers):
        value = answers[step_.id]
        result[step_.id] = value
        for option in step_.options:
            if option.value == value:
                result.update(option.sets)
        if step_.voice and answers.get(voice_key(step_.id)):  # the voice notes that answered it
            result[voice_key(step_.id)] = answers[voice_key(step_.id)]
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
        target = script.route(current, answers)
    return path


def _advance(script: Script, state: DialogState, origin: Step | None, replies: list[Reply],
             events: list[Event]) -> Turn:
    """Move on from ``origin`` (None: from the start) to the next question, or finish."""
    answers = state.answers
    history = state.history + (origin.id,) if origin is not None else state.history
    target: str | None = script.route(origin, answers) if origin is not None else script.start
    for _ in range(2 * len(script.steps) + 2):
        if target is None or target == END:
            return _complete(script, state, replies, events)
        current = script.steps[target]
        passing = (current.when is not None and not current.when(answers)) or (
            state.editing and current.asks and current.type is not AnswerType.CONFIRM and current.id in answers
        ) or (current.id in state.prefilled and current.id in answers)
        if not passing and current.type is AnswerType.MESSAGE:
            replies.append(Reply(_pick(current.prompt, state.language, script)))
        elif not passing:
            new_state = state.evolve(
                step_id=current.id,
                history=history,
                failures=0,
                editing=state.editing and current.type is not AnswerType.CONFIRM,
            )
            replies.append(_ask(script, current, state.language, answers, proposed=state.proposals.get(current.id)))
            return Turn(new_state, tuple(replies), tuple(events))
        target = script.route(current, answers)
    # A loop the checker could not rule out (conditions): stay put and offer help.
    replies.append(Reply(script.text("help_offer", state.language)))
    return Turn(state, tuple(replies), tuple(events) + (Event(EventKind.STUCK, {"step": target}),))


def _complete(script: Script, state: DialogState, replies: list[Reply], events: list[Event]) -> Turn:
    final = state.evolve(status=Status.COMPLETED, step_id=None, editing=False, failures=0)
    answers = active_answers(script, state.answers)
    done = Event(EventKind.COMPLETED, {"answers": answers, "fields": fields_of(script.fields, answers),
                                       "language": state.language})
    return Turn(final, (*replies, _submitted(script, state.language)), tuple(events) + (done,))


def _reject(script: Script, state: DialogState, current: Step, hint: str) -> Turn:
    failures = state.failures + 1
    text = f"{hint}\n{_ask(script, current, state.language, state.answers, with_instructions=False).text}"
    if failures >= HELP_AFTER_FAILURES:
        help_text = _pick(current.help, state.language, script) if current.help else ""
        text = "\n".join(filter(None, (text, help_text, script.text("help_offer", state.language))))
    event = Event(EventKind.REJECTED, {"step": current.id, "failures": failures})
    reprompts = {**state.reprompts, current.id: state.reprompts.get(current.id, 0) + 1}  # for the admin funnel
    return Turn(state.evolve(failures=failures, reprompts=reprompts),
                (Reply(text, _choices(script, current, state.language)),), (event,))


def _confirm(script: Script, state: DialogState, current: Step, message: Inbound) -> Turn:
    norm = normalize(message.text)
    items = summary_items(script, state.answers)
    verdict = yes_no_meaning(norm)  # "sudah benar", "sip deh", "iya pak"; digits pick a line to change
    if verdict is True:
        return _advance(script, state, current, [], [Event(EventKind.CONFIRMED)])
    if (match := _EDIT_NUMBER.match(norm)) and 1 <= int(match.group(1)) <= len(items):
        chosen = items[int(match.group(1)) - 1]
        edited = state.evolve(step_id=chosen.id, history=state.history + (current.id,), editing=True, failures=0)
        return Turn(edited, (_ask(script, chosen, state.language, state.answers),),
                    (Event(EventKind.EDITING, {"step": chosen.id}),))
    if verdict is False:
        return Turn(state, (Reply(script.text("edit_number", state.language, count=len(items))),), ())
    hint = script.text("hint_confirm", state.language, count=len(items))
    return _reject(script, state, current, hint)


def _command(script: Script, state: DialogState, name: str, argument: str) -> Turn:
    """A global command word inside a conversation."""
    lang = state.language
    if name == "help":
        current = script.steps[state.step_id or ""]
        texts = [_pick(current.help, lang, script)] if current.help else []
        texts.append(script.text("help", lang))
        return Turn(state, (Reply("\n".join(texts)), question(script, state)), (Event(EventKind.HELP),))
    if name == "back":
        if not state.history:
            return Turn(state, (Reply(script.text("back_at_start", lang)), question(script, state)),
                        (Event(EventKind.BACK),))
        back = state.evolve(step_id=state.history[-1], history=state.history[:-1], failures=0, editing=False)
        return Turn(back, (question(script, back),), (Event(EventKind.BACK),))
    if name == "cancel" and script.steps[state.step_id or ""].type is AnswerType.CONFIRM:
        return Turn(state.evolve(pending="cancel"), (Reply(script.text("cancel_confirm", lang)),), ())
    if name == "cancel":
        return _cancelled(script, state)
    if name == "restart":  # the same conversation, from its first question
        again = _start(script, now=state.updated_at or datetime.min, language=lang, notice="restarted")
        return Turn(again.state, again.replies, (Event(EventKind.RESTARTED),))
    if name == "language":
        new_lang = switch_language(script, lang, argument)
        switched = state.evolve(language=new_lang)
        replies = (Reply(script.text("language_set", new_lang)), question(script, switched))
        return Turn(switched, replies, (Event(EventKind.LANGUAGE, {"language": new_lang}),))
    if name == "status":
        reply, events = _status(script, lang, argument)
        return Turn(state, (reply, question(script, state)), events)
    if name == "stop":  # in the middle of a report: asked first
        return Turn(state.evolve(pending="stop"), (Reply(script.text("stop_confirm", lang)),), ())
    # start: opting back in
    return Turn(state, (Reply(script.text("opted_in", lang)), question(script, state)), (Event(EventKind.OPT_IN),))


def _cancelled(script: Script, state: DialogState) -> Turn:
    ended = state.evolve(status=Status.CANCELLED, step_id=None, editing=False)
    return Turn(ended, (Reply(script.text("cancelled", state.language)),), (Event(EventKind.CANCELLED),))


def switch_language(script: Script, current: str, argument: str = "") -> str:
    """The language a BAHASA/LANGUAGE command picks: the one named, else the next one."""
    if argument:
        named = _LANGUAGE_WORDS.get(normalize(argument))
        return named if named in script.languages else current
    index = script.languages.index(current) if current in script.languages else -1
    return script.languages[(index + 1) % len(script.languages)]


def _ask(script: Script, current: Step, lang: str, answers: Mapping[str, Any], with_instructions: bool = True,
         proposed: str | None = None) -> Reply:
    """The step's question (worded for ``answers``); for a choice with a ``proposed`` option,
    "this looks like X: right?" above the menu."""
    lines = [_pick(current.prompt_for(answers), lang, script)]
    kind = current.type
    option = next((o for o in current.options if o.value == proposed), None) if proposed else None
    if option is not None:
        lines = [script.text("category_proposal", lang, label=_pick(option.label, lang, script))]
    if kind is AnswerType.CHOICE:
        menu = option_menu(current, lang)
        lines.extend(f"{number}. {label}" for number, label in menu)
        if with_instructions and option is None:
            lines.append(script.text("menu_reply", lang, numbers=number_list(script, [n for n, _ in menu], lang)))
    elif kind is AnswerType.YES_NO and with_instructions:
        lines.append(script.text("hint_yes_no", lang))
    elif kind is AnswerType.CONFIRM:
        items = summary_items(script, answers)
        lines = [_pick(current.prompt_for(answers), lang, script)]
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
        return (Choice(script.text("yes", lang), script.text("yes", lang)),
                Choice(script.text("no", lang), script.text("no", lang)))
    return ()


def _pick(text: Mapping[str, str], lang: str, script: Script) -> str:
    return text.get(lang) or text.get(script.default_language) or next(iter(text.values()), "")
