"""Intake: one inbound message in, one transaction out.

``Intake.handle`` records the message (a provider message id seen before is a no-op), loads
and locks the sender's conversation, runs the dialog engine, and in the same transaction saves
the new state, the replies (as outbox rows) and, when the dialog completes, the complaint and
its submission (as an outbox row). No provider or registry is called here: delivery does that
after the commit. The message's text is interpreted (``bot.nlu``) before the transaction opens,
so no lock is held while an interpreter works; the built-in one takes well under a millisecond,
and a Rasa server is waited on for ``nlu.rasa_timeout_seconds`` at most. Phone numbers and
message text are never logged; personal answers are sealed in the state and redacted from
stored messages (``bot.privacy``).

Files are never fetched here: each attachment is recorded, with a "download" outbox row, in
the message's transaction (``bot.media.downloads`` does the rest). A shared location, and a
place name answering a location question (or in a first message), are looked up in the region
index (``bot.places``: a local SQLite file, well under a millisecond), and the engine gets the
regions they may name (``Inbound.places``).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from bot import metrics, privacy
from bot.complaints import complaint_fields, status_text, status_title
from bot.nlu.interpreter import Interpreter
from bot.scripts import ScriptCatalog
from bot.settings import Settings
from channels.base import InboundMessage, Location
from channels.render import render_parts
from dialogs import engine
from dialogs.loader import ScriptInvalid
from dialogs.model import (
    AnswerType,
    Context,
    DialogState,
    EventKind,
    GeoPoint,
    Inbound,
    Interpretation,
    MediaRef,
    Place,
    Reply,
    Script,
    Slot,
    Status,
    Step,
    Turn,
)
from dialogs.normalize import clean_text
from storage import repository as repo
from storage.crypto import DataCipher, WrongDataKey
from storage.db import Database
from storage.tracking import normalize_tracking_number

if TYPE_CHECKING:
    from bot.places import Gazetteer

log = logging.getLogger(__name__)
MAX_INTERPRETED = 1000  # characters of a message the interpreter reads
MAX_PLACE_TEXT = 300  # characters of a location answer looked up in the region index
# A first message is looked up only when it names a region the way people write one.
_REGION_WORD = re.compile(r"\b(?:desa|ds|kelurahan|kel|kecamatan|kec|kabupaten|kab|kota|provinsi|prov)\b\.?",
                          re.IGNORECASE)
RECENT_REPORTS = 3  # listed by "cek status": short enough for one or two SMS


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What happened to one inbound message."""

    duplicate: bool
    replies: tuple[str, ...] = ()
    tracking_number: str | None = None
    conversation_id: int | None = None


class Intake:
    """Handles inbound messages; safe to call from many threads and processes at once."""

    def __init__(self, db: Database, catalog: ScriptCatalog, settings: Settings, cipher: DataCipher,
                 on_commit: Callable[[], None] | None = None, interpreter: Interpreter | None = None,
                 places: Gazetteer | None = None):
        self._db = db
        self.catalog = catalog
        self.settings = settings
        self.cipher = cipher
        self._on_commit = on_commit or (lambda: None)
        self.interpreter = interpreter
        self.places = places

    def handle(self, message: InboundMessage) -> IntakeResult:
        """Process one message; returns after the transaction has committed. What happened is
        counted then (``bot.metrics``), so a rolled-back attempt that the provider sends again
        counts once."""
        meaning = self.interpret(message)
        with self._db.transaction() as session:
            run = _Run(self, session, message, meaning)
            result = run.run()
        if not result.duplicate:
            self._on_commit()  # wake the delivery worker
        metrics.inbound(message.channel, duplicate=result.duplicate)
        for event in run.conversation_events:
            metrics.conversation(event)
        return result

    def interpret(self, message: InboundMessage) -> Interpretation | None:
        """What the interpreter understands of the message's text (None without one, or for a
        contact card, media or a location: those are no language; and for a remote interpreter,
        None for an answer to a personal question)."""
        if self.interpreter is None or message.shared_contact or message.location is not None or \
                not message.text.strip():
            return None
        if self.interpreter.remote and self._answers_personal(message):
            return None  # a name or a phone number is never sent to another server
        return self.interpreter.interpret(message.text[:MAX_INTERPRETED])

    def _answers_personal(self, message: InboundMessage) -> bool:
        """True when the sender's conversation waits on a personal answer (their name)."""
        with self._db.reading() as session:
            waiting = repo.waiting_step(session, self.cipher, message.channel, message.sender)
            if waiting is None:
                return False
            try:
                script = self.catalog.get(session, waiting[0], waiting[1])
            except (ScriptInvalid, LookupError):
                return False
        return waiting[2] in script.personal

    def wake(self) -> None:
        """Tell the delivery worker that work was committed outside ``handle``."""
        self._on_commit()

    def set_language(self, channel: str, sender: str, language: str) -> None:
        """Choose the language a contact is answered in (before or between conversations)."""
        now = repo.utcnow()
        with self._db.transaction() as session:
            contact = repo.lock_contact(session, self.cipher, channel, sender, now)
            repo.update_contact(session, replace(contact, language=language), now)


class _Run:
    """The work of one message inside its transaction. The contact and the conversations are
    plain rows (``repo.ContactRow``, ``repo.ConversationRow``): what the message changes in them
    is written once, at its end, by Core statements."""

    contact: repo.ContactRow  # locked first thing in ``run``; replaced as the turn changes it

    def __init__(self, intake: Intake, session: Any, message: InboundMessage, meaning: Interpretation | None):
        self.intake = intake
        self.meaning = meaning
        self.settings = intake.settings
        self.session = session
        self.message = message
        self.now = message.received_at
        self.replies: list[Reply] = []
        self.tracking_number: str | None = None
        self.answering_personal = False  # the message answers a personal step (the reporter's name)
        self.personal: tuple[str, ...] = ()  # personal answers to redact from what is stored
        self.filed_anonymously: int | None = None  # the conversation of an anonymous report just filed
        self.conversation_events: list[metrics.ConversationEvent] = []  # started and ended, for the metrics
        self.changed: dict[int, repo.ConversationRow] = {}  # the conversations to write, by id

    def run(self) -> IntakeResult:
        msg = self.message
        contact = self.contact = repo.lock_contact(self.session, self.intake.cipher, msg.channel, msg.sender, self.now)
        if msg.provider_message_id and repo.inbound_message_id(self.session, msg.channel, msg.provider_message_id):
            return IntakeResult(duplicate=True)
        before = repo.active_conversation(self.session, contact.id)
        conversation = self._converse(before)
        owner = conversation or before
        text, text_enc = privacy.stored(self.intake.cipher, clean_text(msg.text), self.personal,
                                        whole=msg.shared_contact or self.answering_personal)
        inbound_id = repo.insert_message(
            self.session, contact_id=contact.id, conversation_id=owner.id if owner is not None else None,
            direction="in", channel=msg.channel, text=text, text_enc=text_enc,
            provider_message_id=msg.provider_message_id or None, payload=_payload(msg), status="received", now=self.now)
        if msg.media:
            repo.add_attachments(self.session, contact_id=contact.id, message_id=inbound_id, channel=msg.channel,
                                 media=[(m.url, m.content_type) for m in msg.media], now=self.now)
        self._queue_replies(conversation)
        if self.filed_anonymously is not None:
            repo.forget_personal_texts(self.session, self.filed_anonymously)
        repo.save_conversations(self.session, self.changed.values(), self.now)
        if self.contact != contact:
            repo.update_contact(self.session, self.contact, self.now)
        self.session.flush()  # the ORM's rows (attachments and their downloads, a submission), written at once
        return IntakeResult(
            duplicate=False,
            replies=tuple(r.text for r in self.replies),
            tracking_number=self.tracking_number,
            conversation_id=conversation.id if conversation is not None else None,
        )

    # ------------------------------------------------------------------ dialog

    def _converse(self, conversation: repo.ConversationRow | None) -> repo.ConversationRow | None:
        """Run the engine on the message and act on its turn; the conversation it leaves open."""
        state = self._state(conversation)
        script = self._pinned(conversation) if state is not None else None
        if script is None:
            conversation, state = None, None
        alive = state is not None and state.status is Status.ACTIVE and \
            not engine.is_expired(state, self.now, self.settings.idle_timeout)
        live = script if alive and script is not None else \
            self.intake.catalog.current(self.session, self.settings.default_script)
        script = script or live
        asked = script.steps.get(state.step_id or "") if alive and state is not None else None
        self.answering_personal = asked is not None and asked.id in script.personal
        turn = engine.receive(script, state, self._inbound(asked), Context(
            live_script=live, language=self.contact.language, opted_out=self.contact.opted_out,
            idle_timeout=self.settings.idle_timeout, resume_after=self.settings.resume_after))
        if turn.has(EventKind.EXPIRED) and conversation is not None:
            self._end(conversation, Status.EXPIRED)
            conversation = None
        if turn.has(EventKind.STARTED):
            script = live
            conversation = repo.start_conversation(self.session, contact_id=self.contact.id, script_id=live.id,
                                                   script_version=live.version, state={}, now=self.now)
            self.conversation_events.append("started")
        self.personal = privacy.personal_values(script, state.answers if state else {},
                                                turn.state.answers if turn.state else {})
        conversation = self._apply(script, conversation, turn)
        return conversation if turn.state is not None else None

    def _pinned(self, conversation: repo.ConversationRow | None) -> Script | None:
        """The script version a conversation is pinned to; None (the conversation is closed,
        and a new one starts) when this version of lapor-intake cannot run it."""
        if conversation is None:
            return None
        try:
            return self.intake.catalog.get(self.session, conversation.script_id, conversation.script_version)
        except (ScriptInvalid, LookupError) as exc:
            log.error("conversation %s is pinned to %s v%s, which cannot run (%s); it is closed and a new one starts",
                      conversation.id, conversation.script_id, conversation.script_version,
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            self._end(conversation, Status.EXPIRED)
            return None

    def _state(self, conversation: repo.ConversationRow | None) -> DialogState | None:
        """The open conversation's state, unsealed; a damaged one is closed (the citizen starts
        afresh rather than fail at every message)."""
        if conversation is None:
            return None
        try:
            return DialogState.from_json(privacy.unseal_state(self.intake.cipher, conversation.state))
        except WrongDataKey:
            log.error("conversation %s cannot be decrypted; it is closed and a new one starts", conversation.id)
            self._end(conversation, Status.EXPIRED)
            return None

    def _inbound(self, asked: Step | None) -> Inbound:
        """The message as the engine sees it. A contact card answers only a phone question:
        anywhere else it is no answer (and its number stays out of the state)."""
        msg = self.message
        card_unasked = msg.shared_contact and (asked is None or asked.type is not AnswerType.PHONE)
        location = msg.location
        return Inbound(
            text="" if card_unasked else msg.text,
            received_at=self.now,
            media=tuple(MediaRef(m.url, m.content_type) for m in msg.media),
            location=GeoPoint(location.latitude, location.longitude, location.address) if location else None,
            meaning=None if card_unasked else self.meaning,
            places=() if card_unasked or self.intake.places is None else
            places_for(self.intake.places, asked, msg.text, location),
        )

    def _apply(self, script: Script, conversation: repo.ConversationRow | None,
               turn: Turn) -> repo.ConversationRow | None:
        """Act on the turn's events, fill its reply slots, and store its state; the conversation
        as the turn leaves it."""
        state = turn.state
        language = state.language if state is not None else (
            self.contact.language if self.contact.language in script.languages else script.default_language)
        for event in turn.events:
            if event.kind is EventKind.COMPLETED and conversation is not None:
                self.tracking_number = self._file_complaint(script, conversation, event.data["answers"],
                                                            event.data["fields"], event.data["language"])
            elif event.kind is EventKind.OPT_OUT:
                self.contact = replace(self.contact, opted_out=True)
            elif event.kind is EventKind.OPT_IN:
                self.contact = replace(self.contact, opted_out=False)
            elif event.kind is EventKind.LANGUAGE:
                self.contact = replace(self.contact, language=event.data["language"])
        for reply in turn.replies:
            if reply.slot is Slot.STATUS:
                reply = reply.fill(self._status_reply(script, reply.argument, language))
            elif reply.slot is Slot.REPORTS:
                reply = reply.fill(self._reports_reply(script, language))
            elif reply.slot is Slot.TRACKING_NUMBER and self.tracking_number:
                reply = reply.fill(self.tracking_number)
            self.replies.append(reply)
        if state is None or conversation is None or turn.has(EventKind.IGNORED):
            return conversation
        stored_state = state.to_json()
        if state.status is not Status.ACTIVE:  # an ended conversation keeps no personal answers
            stored_state["answers"] = privacy.without_personal(script, stored_state["answers"])
        conversation = replace(conversation, state=privacy.seal_state(self.intake.cipher, script, stored_state),
                               step_id=state.step_id or conversation.step_id)  # an ended one keeps its last step
        self.changed[conversation.id] = conversation
        if state.status is not Status.ACTIVE:
            conversation = self._end(conversation, state.status)
        return conversation

    def _status_reply(self, script: Script, raw_number: str, lang: str) -> str:
        number = normalize_tracking_number(raw_number)
        complaint = repo.complaint_by_tracking(self.session, number) if number else None
        shown = number or raw_number.upper()
        if complaint is None or complaint.contact_id != self.contact.id:
            # Only the contact who filed it learns anything, not even whether it exists.
            return script.text("status_not_found", lang, tracking_number=shown)
        lines = [script.text("status_found", lang, tracking_number=complaint.tracking_number,
                             title=status_title(complaint.title),
                             status=status_text(script, complaint.status, lang))]
        if complaint.status_note:
            lines.append(script.text("status_note", lang, note=complaint.status_note))
        return "\n".join(lines)

    def _reports_reply(self, script: Script, lang: str) -> str:
        """The contact's recent reports, one line each (number, title, status), newest first."""
        complaints = repo.recent_complaints(self.session, self.contact.id, limit=RECENT_REPORTS)
        if not complaints:
            return script.text("status_none", lang)
        lines = [script.text("status_list", lang)]
        lines += [script.text("status_list_item", lang, tracking_number=c.tracking_number,
                              title=status_title(c.title), status=status_text(script, c.status, lang))
                  for c in complaints]
        lines.append(script.text("status_list_more", lang))
        return "\n".join(lines)

    def _file_complaint(self, script: Script, conversation: repo.ConversationRow, answers: dict[str, Any],
                        filled: dict[str, Any], language: str) -> str:
        fields = complaint_fields(filled, self.settings)
        if fields.anonymous:
            self.filed_anonymously = conversation.id
        complaint = repo.add_complaint(
            self.session, contact_id=self.contact.id, conversation_id=conversation.id, channel=self.message.channel,
            language=language, fields=fields, answers=privacy.without_personal(script, answers),
            reporter_name_enc=self.intake.cipher.encrypt(fields.reporter_name) if fields.reporter_name else None,
            now=self.now,
        )
        repo.add_outbox(self.session, kind="submission", payload={"tracking_number": complaint.tracking_number},
                        complaint_id=complaint.id, contact_id=self.contact.id, now=self.now)
        log.info("complaint %s filed (conversation %s)", complaint.tracking_number, conversation.id)
        return complaint.tracking_number

    def _end(self, conversation: repo.ConversationRow, status: Status) -> repo.ConversationRow:
        """The conversation ended with ``status`` (written at the message's end), counted in the funnel."""
        ended = self.changed[conversation.id] = replace(conversation, status=status.value)
        repo.count_ended(self.session, ended)  # the admin funnel's pre-aggregated counts
        self.conversation_events.append(cast(metrics.ConversationEvent, status.value))  # completed, cancelled, expired
        return ended

    def _queue_replies(self, conversation: repo.ConversationRow | None) -> None:
        """The turn's replies as one text (one notification for the citizen, in order by
        construction), cut into the parts the channel carries: one message and one outbox row
        per part, with the question's buttons on the last."""
        if self.replies:
            channel = self.message.channel
            text = "\n\n".join(reply.text for reply in self.replies)
            choices = [[c.reply, c.label] for c in self.replies[-1].choices]
            parts = render_parts(channel, text)
            for index, part in enumerate(parts, start=1):
                stored, stored_enc = privacy.stored(self.intake.cipher, part, self.personal)
                repo.queue_reply(self.session, contact_id=self.contact.id, channel=channel, text=stored,
                                 text_enc=stored_enc,
                                 conversation_id=conversation.id if conversation is not None else None,
                                 payload={"choices": choices if index == len(parts) else []}, now=self.now)


def places_for(places: Gazetteer, asked: Step | None, text: str, location: Location | None) -> tuple[Place, ...]:
    """The regions a message may name: a shared point's; a location answer's, or a first
    message's (``asked`` None) that names a region with a word such as "desa" or "kota"; none
    for other answers."""
    if location is not None:
        found = places.find_point(location.latitude, location.longitude)
        return (found,) if found is not None else ()
    text = text[:MAX_PLACE_TEXT]
    if (asked is not None and asked.type is AnswerType.LOCATION) or (asked is None and _REGION_WORD.search(text)):
        return places.find_text(text)
    return ()


def _payload(message: InboundMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if message.media:
        payload["media"] = [{"url": m.url, "content_type": m.content_type} for m in message.media]
    if message.location is not None:
        payload["location"] = {"latitude": message.location.latitude, "longitude": message.location.longitude,
                               "address": message.location.address}
    return payload

