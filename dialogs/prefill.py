"""A first message that already holds the complaint ("sy mau lapor, jln rusak parah bgt di desa
sukamaju sejak 2 minggu lalu"): the answers it gives, so that only what is missing is asked.

``prefill`` walks the script from its start, as the answers it finds route it, and fills the
steps by the complaint field they declare (``field:``), never a personal one:

- ``type``: the option whose label or synonym the message names, else the first option;
- ``description``: the message itself; ``title``: its first sentence, without openings such as
  "sy mau lapor" (``REPORT_OPENERS``), cut at a word;
- ``location``: a place after "di", "depan", "near"... that starts with a place word ("desa",
  "jl", "SD") or a capital, up to a word that ends it ("sejak", "yang") or punctuation;
- ``incident_date``: the first phrase with a date word that the date step accepts ("kemarin",
  "2 minggu lalu", "12/05/2024");
- ``attachments``: the photos sent with it;
- ``category``: not answered but proposed (``Prefill.proposals``), from the interpreter's
  category: the citizen confirms it with YES or picks another number.

Every value goes through the step's own answer parser, so a prefilled answer is one the citizen
could have typed. Pure and cheap: it runs on the first message of a conversation only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dialogs.answers import parse_answer
from dialogs.answers.text import letters
from dialogs.checker import END
from dialogs.i18n import (
    DATE_CUE_WORDS,
    ENGLISH_WORDS,
    INDONESIAN_WORDS,
    PLACE_END_WORDS,
    PLACE_MAX_WORDS,
    PLACE_PREPOSITIONS,
    PLACE_WORDS,
    REPORT_OPENERS,
    TITLE_MAX,
)
from dialogs.model import AnswerType, Inbound, Option, Script, Step
from dialogs.normalize import clean_text, cut_at_word, loose, normalize

__all__ = ["Prefill", "detect_language", "prefill"]

_SENTENCE_END = re.compile(r"[.!?\n]+\s")
_OPENERS = sorted((tuple(opener.split()) for opener in REPORT_OPENERS), key=len, reverse=True)
_ABBREVIATIONS = frozenset({"jl", "jln", "no", "gg", "kel", "kec", "kab", "ds", "kp", "dsn", "perum", "rt", "rw",
                            "st", "sdn", "smpn", "sman"})
_PREPOSITIONS = frozenset(PLACE_PREPOSITIONS)
_PLACE_SKIP = frozenset({"the", "a", "an"})  # "near the Cibeunying market"
_PLACE_WORDS = frozenset(PLACE_WORDS)
_PLACE_END = frozenset(PLACE_END_WORDS)
_DATE_CUES = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in DATE_CUE_WORDS)})(?!\w)|\d{{1,2}}[/-]\d")
_TITLE_MIN_LETTERS = 10  # a title keeps the place when what comes before it is shorter
_DATE_WINDOW = 5  # words
_DATE_TRIES = 60  # phrases tried at most
_SCAN_WORDS = 80  # a place or a date is looked for among the first words only
_ENGLISH, _INDONESIAN = frozenset(ENGLISH_WORDS), frozenset(INDONESIAN_WORDS)


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a first message answered (by step id), and the options proposed for choice steps."""

    answers: dict[str, Any]
    steps: tuple[str, ...]
    proposals: dict[str, str] = field(default_factory=dict)
    title: str = ""


def detect_language(text: str, languages: tuple[str, ...]) -> str | None:
    """"en" or "id" when the message's common words clearly say so (and the script has it)."""
    words = loose(normalize(text)).split()
    english = sum(word in _ENGLISH for word in words)
    indonesian = sum(word in _INDONESIAN for word in words)
    if english >= 3 and english > 2 * indonesian and "en" in languages:
        return "en"
    if indonesian >= 2 and indonesian > 2 * english and "id" in languages:
        return "id"
    return None


def prefill(script: Script, message: Inbound, language: str, today: date) -> Prefill | None:
    """The answers a first message gives; None when it describes no problem (the interpreter
    did not read a report into it, or it is shorter than the description step asks)."""
    meaning = message.meaning
    text = clean_text(message.text)
    if meaning is None or meaning.intent != "report" or not text:
        return None
    answers: dict[str, Any] = {}
    steps: list[str] = []
    proposals: dict[str, str] = {}
    title = ""
    target: str | None = script.start
    seen: set[str] = set()
    while target and target != END and target not in seen:
        seen.add(target)
        step = script.steps[target]
        if (step.when is None or step.when(answers)) and step.asks and not step.personal:
            value = _fill(script, step, message, text, language, today)
            if value is not None:
                answers[step.id] = value[0]
                answers.update(value[1])
                steps.append(step.id)
                if step.fills == "title":
                    title = value[0]
            elif step.fills == "category" and meaning.category in {o.value for o in step.options}:
                proposals[step.id] = meaning.category
        target = script.route(step, answers)
    description = next((s for s in steps if script.steps[s].fills == "description"), None)
    if description is None:
        return None
    return Prefill(answers, tuple(steps), proposals, title)


def _fill(script: Script, step: Step, message: Inbound, text: str, language: str,
          today: date) -> tuple[Any, dict[str, Any]] | None:
    """(value, extra answers) for a step the message answers, else None."""
    kind = step.fills
    if kind == "type" and step.type is AnswerType.CHOICE and step.options:
        option = _named_type(step, text)
        return option.value, dict(option.sets)
    candidates: list[str] = []
    if kind == "description":
        candidates = [text]
    elif kind == "title":
        candidates = [_title(text)]
    elif kind == "location" and (message.location is not None or (place := _place(text))):
        candidates = [place if message.location is None else ""]
    elif kind == "incident_date":
        candidates = list(_date_phrases(text))
    elif kind == "attachments" and message.media:
        candidates = [""]
    for candidate in candidates:
        inbound = Inbound(text=candidate, received_at=message.received_at,
                          media=message.media if kind == "attachments" else (),
                          location=message.location if kind == "location" else None,
                          places=message.places if kind == "location" and len(message.places) == 1 else ())
        parsed = parse_answer(script, step, inbound, language, today)
        if not parsed.rejected and parsed.value not in (None, []):
            return parsed.value, dict(parsed.sets)
    return None


def _named_type(step: Step, text: str) -> Option:
    """The report type the message names: an option other than the first when exactly one is
    named ("saya mau usul", "mau tanya syarat KTP"), else the first (a complaint)."""
    words = f" {loose(normalize(text))} "
    named = [option for option in step.options[1:]
             if any(f" {loose(normalize(w))} " in words
                    for w in (*option.label.values(), *(s for ws in option.synonyms.values() for s in ws)))]
    return named[0] if len(named) == 1 else step.options[0]


def _title(text: str) -> str:
    """The first sentence, without its opening words, capitalised and cut at a word."""
    first = _SENTENCE_END.split(text + " ", maxsplit=1)[0].strip()
    if letters(first) < 10:
        first = text
    words = first.split()
    dropped = True
    while dropped and words:
        dropped = False
        plain = [loose(normalize(word)) for word in words[:6]]
        for opener in _OPENERS:
            if tuple(plain[:len(opener)]) == opener and len(words) > len(opener):
                words = words[len(opener):]
                dropped = True
                break
    place = _place_at(words)
    end = _title_end(words, place) if place is not None else len(words)
    if letters(" ".join(words[:end])) >= _TITLE_MIN_LETTERS:
        words = words[:end]  # "Jalan rusak parah di desa Sukamaju": the place has its own question
    title = cut_at_word(" ".join(words).strip(" ,;:-"), TITLE_MAX)
    return title[:1].upper() + title[1:]


def _place_at(words: list[str]) -> int | None:
    """The index of the word after which a place starts ("di" before "desa" or a capitalised
    name, "of the" before "Cibeunying"; an acronym such as "DTKS" is no place), or None."""
    for index, word in enumerate(words[:-1]):
        if loose(normalize(word)) not in _PREPOSITIONS:
            continue
        at = index
        while at + 2 < len(words) and loose(normalize(words[at + 1])) in _PLACE_SKIP:
            at += 1
        first = words[at + 1]
        plain = loose(normalize(first)).split()
        if plain and (plain[0] in _PLACE_WORDS or (first[:1].isupper() and not first.isupper())):
            return at
    return None


def _title_end(words: list[str], place: int) -> int:
    """Where a title stops before a place: at the start of "in front of", "di depan"..."""
    end = place + 1
    while end > 0 and loose(normalize(words[end - 1])) in _PREPOSITIONS | _PLACE_SKIP | {"front"}:
        end -= 1
    return end


def _place(text: str) -> str:
    """A place named in the text ("di desa Sukamaju", "depan SD Negeri 3"), or ""."""
    words = text.split()[:_SCAN_WORDS]
    start = _place_at(words)
    if start is None:
        return ""
    place: list[str] = []
    for candidate in words[start + 1:start + 1 + PLACE_MAX_WORDS]:
        bare = loose(normalize(candidate))
        if place and (bare in _PLACE_END or not bare):
            break
        stripped = candidate.rstrip(",;:!?)")
        ends = stripped != candidate or (candidate.endswith(".") and bare not in _ABBREVIATIONS)
        place.append(stripped.rstrip(".") if ends else stripped)
        if ends:
            break
    return " ".join(place) if letters(" ".join(place)) >= 3 else ""


def _date_phrases(text: str) -> list[str]:
    """Phrases that may be dates, longest first at each position, in the order they appear."""
    words = [word.strip(",;:!?()") for word in normalize(text).split()[:_SCAN_WORDS]]
    phrases: list[str] = []
    for start in range(len(words)):
        for size in range(min(_DATE_WINDOW, len(words) - start), 0, -1):
            phrase = " ".join(words[start:start + size])
            if _DATE_CUES.search(phrase):
                phrases.append(phrase)
                if len(phrases) == _DATE_TRIES:
                    return phrases
    return phrases
