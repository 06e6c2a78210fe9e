"""Typed, immutable data of the dialog engine: scripts, state, inbound messages, turns.

Everything here is plain data. Nothing imports Flask, SQLAlchemy or a provider SDK, so the
engine can be tested and benchmarked with plain values. Scripts are built once by
``dialogs.loader`` and shared read-only between threads.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

# A translated string: language code -> text.
Text = Mapping[str, str]

# A compiled condition: answers -> bool. Built by dialogs.conditions, never by eval().
Predicate = Callable[[Mapping[str, Any]], bool]


class AnswerType(str, Enum):
    """What a question step expects from the citizen."""

    CHOICE = "choice"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    YES_NO = "yes_no"
    PHONE = "phone"
    LOCATION = "location"
    MEDIA = "media"
    CONFIRM = "confirm"  # the summary: "YA" submits, a number edits that answer
    MESSAGE = "message"  # says something and moves on without waiting


# ---------------------------------------------------------------------------- scripts


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition as the admin wrote it, with its compiled predicate."""

    source: str
    test: Predicate
    names: frozenset[str]  # the answer keys it reads (checked by the linter)

    def __call__(self, answers: Mapping[str, Any]) -> bool:
        return self.test(answers)


@dataclass(frozen=True, slots=True)
class Option:
    """One entry of a numbered menu.

    ``value`` is what is stored; ``sets`` stores extra answer keys when picked (the privacy
    menu sets the two independent flags ``anonymous`` and ``confidential`` this way).
    """

    number: int
    value: str
    label: Text
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sets: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class Route:
    """``goto`` when ``when`` holds (or always, when it is None)."""

    goto: str
    when: Condition | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class PromptVariant:
    """A step's question worded for some answers (``when``): an aspiration is not asked "what
    happened"."""

    when: Condition
    prompt: Text
    line: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a script. Only the fields that its ``type`` uses matter."""

    id: str
    type: AnswerType
    prompt: Text
    line: int = 0
    help: Text = field(default_factory=dict)
    summary_label: Text = field(default_factory=dict)  # shown in the confirm summary
    when: Condition | None = None  # skip the step when false
    routes: tuple[Route, ...] = ()  # first match wins; empty: the next step in file order
    optional: bool = False  # "lewati"/"skip" answers None
    personal: bool = False  # the answer identifies the citizen (a name, a phone): stored encrypted, never shown
    fills: str | None = None  # the complaint field it fills (YAML ``field:``; dialogs.fields), if any
    variants: tuple[PromptVariant, ...] = ()  # the first whose ``when`` holds replaces ``prompt``
    # choice
    options: tuple[Option, ...] = ()
    strict: bool = False  # no typo tolerance (for answers that must never be guessed)
    # text
    min_length: int = 1
    max_length: int = 1000
    voice: bool = False  # a voice note answers it: kept as an attachment (VOICE_NOTES), the text says so
    # number
    min_value: float | None = None
    max_value: float | None = None
    # date
    allow_future: bool = False
    max_age_days: int | None = None

    @property
    def asks(self) -> bool:
        """True when the step waits for the citizen's answer."""
        return self.type is not AnswerType.MESSAGE

    def prompt_for(self, answers: Mapping[str, Any]) -> Text:
        """The question as the answers so far word it (its first variant that applies)."""
        for variant in self.variants:
            if variant.when(answers):
                return variant.prompt
        return self.prompt


@dataclass(frozen=True, slots=True)
class Script:
    """A validated dialog script, ready to run. Built by dialogs.loader.load_script."""

    id: str
    version: int
    languages: tuple[str, ...]
    default_language: str
    steps: Mapping[str, Step]  # in file order
    order: tuple[str, ...]  # step ids in file order
    start: str
    messages: Mapping[str, Text]  # built-in strings merged with the script's overrides
    commands: Mapping[str, Mapping[str, tuple[str, ...]]]  # command -> language -> words
    command_words: Mapping[str, str]  # normalized word or phrase -> command, any language
    title: str = ""
    timezone: str = "Asia/Jakarta"
    source: str = "<script>"
    format: int = 1  # the script format it was written in (0: before ``format:`` and ``field:``)

    def text(self, key: str, language: str, **params: Any) -> str:
        """A script message in ``language`` (falling back to the default), formatted."""
        table = self.messages[key]
        template = table.get(language) or table[self.default_language]
        return template.format(**params) if params else template

    # each step id -> the step after it in the file (None for the last); derived from order
    successors: Mapping[str, str | None] = field(init=False, repr=False, compare=False)
    # the ids of the steps whose answers identify the citizen (Step.personal); derived from steps
    personal: frozenset[str] = field(init=False, repr=False, compare=False)
    # complaint field -> the id of the step that fills it (Step.fills); derived from steps
    fields: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "successors", dict(zip(self.order, self.order[1:] + (None,), strict=False)))
        object.__setattr__(self, "personal", frozenset(s.id for s in self.steps.values() if s.personal))
        object.__setattr__(self, "fields", {s.fills: s.id for s in self.steps.values() if s.fills})

    def next_in_order(self, step_id: str) -> str | None:
        return self.successors.get(step_id)

    def route(self, step: Step, answers: Mapping[str, Any]) -> str | None:
        """The step after ``step`` given ``answers``: its first route that holds, else the next
        in the file; None after the last."""
        for route in step.routes:
            if route.when is None or route.when(answers):
                return route.goto
        return self.successors.get(step.id)


# ---------------------------------------------------------------------------- messages in


@dataclass(frozen=True, slots=True)
class MediaRef:
    """An attachment the citizen sent: a provider URL (or file id) and its content type."""

    url: str
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A location shared from the phone."""

    latitude: float
    longitude: float
    address: str = ""


REGION_LEVELS = ("province", "regency", "district", "village")


@dataclass(frozen=True, slots=True)
class Place:
    """A region that a place name or a shared point resolves to, from Kemendagri's tree
    (``bot.places``). ``region`` maps each of REGION_LEVELS to ``{"code", "name"}``, or to None
    for a level not known ("Kota Bandung" alone knows no district). ``label`` is how the citizen
    is shown it in a choice: "Sukamaju, Kec. Cibatu, Kab. Garut"."""

    label: str
    region: Mapping[str, Mapping[str, str] | None]


@dataclass(frozen=True, slots=True)
class Interpretation:
    """What an interpreter (``bot.nlu``: the built-in classifier or a Rasa server) understood of
    a message's text, before the engine sees it.

    ``intent``: one of greet, report, status, help, cancel, affirm, deny, thanks,
    change_language; None when unsure or out of scope. ``category``: the complaint category the
    text describes (a value of the category step's options), None when it describes none
    confidently. Confidences are the interpreter's probabilities, 0 to 1.
    """

    intent: str | None = None
    intent_confidence: float = 0.0
    category: str | None = None
    category_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Inbound:
    """What the engine sees of one citizen message (channels build the richer InboundMessage).
    ``meaning`` is the interpretation of its text, when the caller ran an interpreter; ``places``
    the regions it may name, when the caller looked (one: resolved; several: ambiguous)."""

    text: str
    received_at: datetime  # UTC, timezone-aware
    media: tuple[MediaRef, ...] = ()
    location: GeoPoint | None = None
    meaning: Interpretation | None = None
    places: tuple[Place, ...] = ()  # the regions the text or shared point may name (bot.places)


# ---------------------------------------------------------------------------- state


class Status(str, Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class DialogState:
    """Where one conversation stands. JSON round-trips through to_json/from_json.

    ``answers`` maps answer keys (step ids, plus keys set by options) to JSON values.
    ``history`` is the stack of asked step ids, for BACK. ``editing`` is set while the
    citizen changes one answer from the summary, so the dialog returns to the summary.
    ``prefilled`` names the steps answered from the first message (``dialogs.prefill``): they are
    not asked, only shown in the summary. ``proposals`` maps a choice step to the option the
    interpreter proposes for it ("this looks like Infrastructure: right?"). ``pending`` is a
    step-less question awaiting YES or NO: "stop" (opt out?) or "cancel" (throw the report away?),
    or "place": which of ``places`` (``{"label", "region"}``) a location answer names.
    """

    script_id: str
    script_version: int
    language: str
    step_id: str | None  # the step waiting for an answer; None once ended
    status: Status = Status.ACTIVE
    answers: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    failures: int = 0  # consecutive rejected answers at step_id
    reprompts: Mapping[str, int] = field(default_factory=dict)  # rejected answers per step, all told
    editing: bool = False
    started_at: datetime | None = None
    updated_at: datetime | None = None
    prefilled: tuple[str, ...] = ()
    proposals: Mapping[str, str] = field(default_factory=dict)
    pending: str | None = None
    places: tuple[Mapping[str, Any], ...] = ()  # the regions offered while pending is "place"

    def to_json(self) -> dict[str, Any]:
        return {
            "script_id": self.script_id,
            "script_version": self.script_version,
            "language": self.language,
            "step_id": self.step_id,
            "status": self.status.value,
            "answers": dict(self.answers),
            "history": list(self.history),
            "failures": self.failures,
            "reprompts": dict(self.reprompts),
            "editing": self.editing,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "prefilled": list(self.prefilled),
            "proposals": dict(self.proposals),
            "pending": self.pending,
            "places": [dict(place) for place in self.places],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DialogState:
        return cls(
            script_id=data["script_id"],
            script_version=int(data["script_version"]),
            language=data["language"],
            step_id=data.get("step_id"),
            status=Status(data.get("status", "active")),
            answers=dict(data.get("answers") or {}),
            history=tuple(data.get("history") or ()),
            failures=int(data.get("failures") or 0),
            reprompts={str(k): int(v) for k, v in (data.get("reprompts") or {}).items()},
            editing=bool(data.get("editing")),
            started_at=_dt(data.get("started_at")),
            updated_at=_dt(data.get("updated_at")),
            prefilled=tuple(data.get("prefilled") or ()),
            proposals={str(k): str(v) for k, v in (data.get("proposals") or {}).items()},
            pending=data.get("pending"),
            places=tuple(dict(place) for place in data.get("places") or ()),
        )

    def evolve(self, **changes: Any) -> DialogState:
        """A copy with ``changes`` applied (a fast ``dataclasses.replace``: this is the hot path)."""
        new = object.__new__(DialogState)
        for name in _STATE_FIELDS:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new


_STATE_FIELDS = tuple(DialogState.__dataclass_fields__)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class Choice:
    """A menu entry a channel may show as a button; its text reply is ``reply``."""

    reply: str
    label: str


class Slot(str, Enum):
    """A part of a reply that only the caller can write (it needs storage)."""

    STATUS = "status"  # the answer to STATUS <argument>: the caller looks the complaint up
    TRACKING_NUMBER = "tracking_number"  # the complaint's number: ``Reply.fill`` puts it in the text
    REPORTS = "reports"  # the citizen's recent reports (number, title, status): the caller lists them


TRACKING_NUMBER_SLOT = "{tracking_number}"  # where Reply.fill puts a tracking number


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the citizen. ``text`` alone always suffices (numbered menus).

    A reply with a ``slot`` is not finished: for ``Slot.STATUS`` the caller writes the whole
    text (``argument`` is the tracking number asked for), for ``Slot.REPORTS`` the list of the
    citizen's recent reports; for ``Slot.TRACKING_NUMBER`` it calls
    ``fill`` with the number of the complaint it filed.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    slot: Slot | None = None
    argument: str = ""

    def fill(self, value: str) -> Reply:
        """This reply with its slot filled by ``value`` (the text for STATUS, the number for
        TRACKING_NUMBER); a reply without a slot is returned as it is."""
        if self.slot in (Slot.STATUS, Slot.REPORTS):
            return Reply(value, self.choices)
        if self.slot is Slot.TRACKING_NUMBER:
            return Reply(self.text.replace(TRACKING_NUMBER_SLOT, value), self.choices)
        return self


class EventKind(str, Enum):
    """What a turn did, for the caller to act on (*) or record. ``Event.data`` holds:

    - ``started`` (*): a new conversation began (store it; pinned to ``state.script_version``).
    - ``expired`` (*): the conversation the caller gave had waited past the idle timeout; end
      it (a new one starts in the same turn).
    - ``resumed``: a citizen came back after a pause; told where they were.
    - ``answered`` {step}; ``rejected`` {step, failures}; ``editing`` {step}; ``confirmed``.
    - ``completed`` (*) {answers, fields, language}: file the complaint (``fields``: complaint field
      -> value, from the steps that declare them; ``answers``: by step id), fill the
      TRACKING_NUMBER slot.
    - ``cancelled``, ``restarted``; ``help``; ``back``; ``stuck`` {step}.
    - ``status_query`` (*) {number}: fill the STATUS slot; ``status_list`` (*): fill the REPORTS slot.
    - ``prefilled`` {steps}: the first message already answered these steps.
    - ``opt_out`` (*), ``opt_in`` (*): the citizen asked for no more messages, or for them again.
    - ``language`` (*) {language}: remember the citizen's language.
    - ``ignored``: the citizen opted out; nothing is said.

    Members are strings, so ``event.kind == "completed"`` holds too.
    """

    STARTED = "started"
    EXPIRED = "expired"
    RESUMED = "resumed"
    ANSWERED = "answered"
    REJECTED = "rejected"
    EDITING = "editing"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RESTARTED = "restarted"
    HELP = "help"
    BACK = "back"
    STUCK = "stuck"
    STATUS_QUERY = "status_query"
    STATUS_LIST = "status_list"
    PREFILLED = "prefilled"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    LANGUAGE = "language"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Event:
    """Something the caller must act on or record (see EventKind for the kinds and their data)."""

    kind: EventKind
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """What ``engine.receive`` needs beyond the script, the state and the message.

    ``live_script``: the script a new conversation starts on (default: the one given for the
    state). ``language``: the citizen's language, for a new conversation. ``opted_out``: the
    citizen asked for no messages. ``idle_timeout``: an active conversation older than this has
    expired. ``resume_after``: a conversation this long without a message is resumed with a
    reminder of where the citizen was.
    """

    live_script: Script | None = None
    language: str | None = None
    opted_out: bool = False
    idle_timeout: timedelta = timedelta(hours=24)
    resume_after: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Turn:
    """The result of ``engine.receive``: the new state (None when no conversation is open:
    STATUS or STOP outside one, or silence for a citizen who opted out), what to say, what
    happened."""

    state: DialogState | None
    replies: tuple[Reply, ...] = ()
    events: tuple[Event, ...] = ()

    def has(self, kind: EventKind) -> bool:
        return any(event.kind is kind for event in self.events)


@dataclass(frozen=True, slots=True)
class Parsed:
    """An answer parser's verdict: a value, or a hint that says what was wrong.

    ``sets`` holds extra answer keys (an option's ``sets``). A skipped optional answer is
    ``Parsed(value=None)``. ``notice`` is something the citizen is told with the next question
    about an accepted answer (e.g. that a long text was kept up to the limit). ``places``: the
    answer is taken, and the citizen is asked which of these regions it names.
    """

    value: Any = None
    hint: str | None = None
    sets: Mapping[str, Any] = field(default_factory=dict)
    notice: str = ""
    places: tuple[Place, ...] = ()  # a location answer that names one of these: the citizen chooses

    @property
    def rejected(self) -> bool:
        return self.hint is not None


# A calendar date is stored as ISO text in answers, so states stay JSON.
def iso(d: date) -> str:
    return d.isoformat()
