"""The citizen's intake dialogue: category, location, chronology, evidence, summary, ticket.

Each message moves one chat's :class:`Conversation` forward and yields a :class:`Changes`; the
engine commits it in one transaction. The flow is slot filling: whatever is already known
(from a one-shot first message, or an earlier answer) is not asked again, and the next
question is always the first missing field (:meth:`Intake._ask_next`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from taros.conversations import officer_text, prompts
from taros.conversations.categories import Categories
from taros.conversations.commands import Command, parse_command, parse_ticket_number
from taros.conversations.duplicates import WITHIN, find_similar
from taros.conversations.follow_up import PROMPT_LIFETIME, FollowUp
from taros.conversations.formatting import format_moment, format_number
from taros.conversations.i18n import LOCALES, _, current_locale, ngettext, use_locale
from taros.conversations.media import MediaSaver, SaveFailed, TooLarge
from taros.conversations.messages import (
    Attachment,
    ChatKey,
    Inbound,
    InboundKind,
    Location,
    Option,
    Outbound,
)
from taros.conversations.places import Gazetteer, PlaceMatch
from taros.conversations.ports import (
    Changes,
    EraseReporter,
    NewTicket,
    Store,
    TicketDetail,
    TicketRef,
    Timer,
    TimerKind,
)
from taros.conversations.prefill import Prefill, Understander
from taros.conversations.privacy import masked_identity
from taros.conversations.routing import Route, route
from taros.conversations.state import Conversation, Draft, EvidenceItem, Step
from taros.conversations.text import normalise
from taros.conversations.vocabulary import (
    DONE_WORDS,
    EDIT_WORDS,
    NO_WORDS,
    NONE_WORDS,
    SKIP_WORDS,
    YES_WORDS,
)

log = logging.getLogger(__name__)

MIN_CHRONOLOGY = 15
MAX_CHRONOLOGY = 4000
INVALID_LIMIT = 3
PLACE_SURE = 95.0

SKIPPABLE = {
    Step.CATEGORY,
    Step.CATEGORY_MORE,
    Step.LOCATION,
    Step.LOCATION_CONFIRM,
    Step.LOCATION_CHOOSE,
    Step.EVIDENCE,
}


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    tz: ZoneInfo
    sla_hours: int = 24
    draft_reminder: timedelta = timedelta(minutes=30)
    draft_expiry: timedelta = timedelta(hours=24)
    max_evidence_items: int = 10
    max_evidence_bytes: int = 20 * 1024 * 1024
    tickets_per_day: int = 5


@dataclass(slots=True)
class Turn:
    """One message's work in progress: the conversation being changed and what to say."""

    conv: Conversation
    now: datetime
    replies: list[Outbound] = field(default_factory=list)
    ticket: NewTicket | None = None
    after_ticket: Callable[[TicketRef], list[Outbound]] | None = None

    def say(self, text: str, options: list[Option] | None = None) -> None:
        self.replies.append(
            Outbound(
                channel=self.conv.key.channel,
                chat_id=self.conv.key.chat_id,
                text=text,
                options=tuple(options or ()),
                locale=current_locale(),
            )
        )

    def ask(self, step: Step, text: str, options: list[Option] | None = None) -> None:
        """Put a question: the chat waits in ``step`` and remembers the options offered."""
        if self.conv.step != step:
            self.conv.invalid = 0
        self.conv.step = step
        self.conv.options = list(options or [])
        self.say(text, options)


class Intake:
    def __init__(
        self,
        *,
        store: Store,
        media: MediaSaver,
        categories: Categories,
        gazetteer: Gazetteer,
        settings: IntakeSettings,
        understander: Understander | None = None,
    ) -> None:
        self.store = store
        self.media = media
        self.categories = categories
        self.gazetteer = gazetteer
        self.settings = settings
        self.understander = understander
        self.follow_up = FollowUp(store, settings.tz, PROMPT_LIFETIME)

    # --- entry points --------------------------------------------------------------------

    async def on_inbound(self, conv: Conversation, msg: Inbound, now: datetime) -> Changes:
        turn = Turn(conv, now)
        changes = Changes(
            key=conv.key,
            inbound_id=msg.message_id,
            sender_id=msg.sender_id,
            sender_name=msg.sender_name,
        )
        if _is_empty(msg):
            turn.say(prompts.unsupported_input())
            if conv.draft is not None:
                self._reask(turn)
            changes.replies = turn.replies
            return changes
        command = parse_command(msg.text) if msg.text and not msg.attachments else None
        if command is not None:
            await self._command(turn, command, msg, changes)
        elif conv.step == Step.ERASE_CONFIRM:
            self._on_erase(turn, msg, changes)
        elif conv.step == Step.IDLE or conv.draft is None:
            if await self.follow_up.answer(turn, msg, changes):
                pass
            elif msg.chosen_option is not None:  # a button of a report already finished
                turn.say(_("That button is no longer active. Type /mulai to start a report."))
            else:
                await self._start(turn, msg)
        else:
            await self._answer(turn, msg, changes)
        self._finish(turn, changes, msg)
        return changes

    async def on_timer(self, conv: Conversation, timer: Timer, now: datetime) -> Changes:
        turn = Turn(conv, now)
        changes = Changes(key=conv.key, fired_timer_id=timer.id)
        if conv.draft is None:
            return changes
        if timer.kind == TimerKind.DRAFT_REMINDER:
            turn.say(_("Your report is not finished yet. Shall we continue?"))
            self._reask(turn)
            changes.replies = turn.replies
            changes.conversation = conv
        elif timer.kind == TimerKind.DRAFT_EXPIRY:
            self._drop_draft(conv)
            turn.say(
                _(
                    "Your unfinished report was deleted because there was no reply for a long "
                    "time. Type /mulai to start a new report."
                )
            )
            changes.replies = turn.replies
            changes.conversation = conv
            changes.cancel_timers = [TimerKind.DRAFT_REMINDER, TimerKind.DRAFT_EXPIRY]
        return changes

    def _finish(self, turn: Turn, changes: Changes, msg: Inbound) -> None:
        conv = turn.conv
        changes.conversation = conv
        changes.replies = [*turn.replies, *changes.replies]
        changes.ticket = turn.ticket
        changes.replies_after_ticket = turn.after_ticket
        if conv.draft is not None:
            changes.set_timers = [
                Timer(conv.key, TimerKind.DRAFT_REMINDER, turn.now + self.settings.draft_reminder),
                Timer(conv.key, TimerKind.DRAFT_EXPIRY, turn.now + self.settings.draft_expiry),
            ]
        else:
            changes.cancel_timers = [TimerKind.DRAFT_REMINDER, TimerKind.DRAFT_EXPIRY]

    # --- commands ------------------------------------------------------------------------

    async def _command(self, turn: Turn, cmd: Command, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        if cmd.name == "mulai":
            if conv.draft is None:
                await self._start(turn, None)
            else:
                turn.say(
                    _(
                        "You are already writing a report; let us continue. "
                        "Type /batal to cancel it."
                    )
                )
                self._reask(turn)
        elif cmd.name == "batal":
            if conv.draft is None:
                turn.say(_("There is no report in progress. Type /mulai to start one."))
            else:
                self._confirm_cancel(turn)
        elif cmd.name == "bantuan":
            turn.say(prompts.help_text())
            if conv.draft is not None:
                self._reask(turn)
        elif cmd.name == "status":
            await self._status(turn, cmd.args, msg)
            if conv.draft is not None:
                self._reask(turn)
        elif cmd.name == "bahasa":
            self._language(turn, cmd.args, changes)
        elif cmd.name == "hapusdata":
            if conv.step not in (Step.IDLE, Step.ERASE_CONFIRM):
                conv.resume = conv.step
            text, options = prompts.erase_question()
            turn.ask(Step.ERASE_CONFIRM, text, options)

    async def _status(self, turn: Turn, args: str, msg: Inbound) -> None:
        if not args.strip():
            tickets = await self.store.tickets_for_reporter(msg.channel, msg.sender_id, 5)
            if not tickets:
                turn.say(_("You have not sent any report yet. Type /mulai to start one."))
                return
            lines = [_("Your latest reports:")]
            for ticket in tickets:
                lines.append(f"• {ticket.number}: {prompts.status_label(ticket.status)}")
            lines.append(_("Type /status NUMBER for details."))
            turn.say("\n".join(lines))
            return
        number = parse_ticket_number(args)
        if number is None:
            turn.say(_("Please write the report number like this: /status GRT-2026-00001"))
            return
        ticket = await self.store.ticket_for_reporter(number, msg.channel, msg.sender_id)
        if ticket is None:
            turn.say(_("Report %(number)s was not found among your reports.") % {"number": number})
            return
        category = self.categories.get(ticket.category)
        place = prompts.place_label(self.gazetteer, ticket.kecamatan_code, ticket.desa_code)
        tz = self.settings.tz
        lines = [
            _("Report %(number)s") % {"number": ticket.number},
            _("Topic: %(topic)s")
            % {"topic": category.label(current_locale()) if category else ticket.category},
        ]
        if place:
            lines.append(_("Place: %(place)s") % {"place": place})
        lines += [
            _("Status: %(status)s") % {"status": prompts.status_label(ticket.status)},
            _("Received: %(when)s") % {"when": format_moment(ticket.created_at, tz)},
            _("Last update: %(when)s") % {"when": format_moment(ticket.updated_at, tz)},
        ]
        if ticket.status in ("baru", "diverifikasi"):
            lines.append(
                _("Response due by: %(when)s") % {"when": format_moment(ticket.due_at, tz)}
            )
        turn.say("\n".join(lines))

    def _language(self, turn: Turn, args: str, changes: Changes) -> None:
        wanted = normalise(args)
        aliases = {
            "id": "id",
            "indonesia": "id",
            "indonesian": "id",
            "en": "en",
            "english": "en",
            "inggris": "en",
            "su": "su",
            "sunda": "su",
            "sundanese": "su",
        }
        locale = aliases.get(wanted)
        if locale is None or locale not in LOCALES:
            turn.say(
                _(
                    "Choose a language: /bahasa id (Bahasa Indonesia), /bahasa su (Basa "
                    "Sunda) or /bahasa en (English)."
                )
            )
            return
        turn.conv.locale = locale
        changes.locale = locale
        with use_locale(locale):
            turn.say(_("From now on I will write in English."))
            if turn.conv.draft is not None:
                self._reask(turn)

    # --- the dialogue --------------------------------------------------------------------

    async def _start(self, turn: Turn, msg: Inbound | None) -> None:
        """A new draft: the urgent advice first when it is an emergency, the greeting, what a
        one-shot message already said, then the first question still open."""
        conv = turn.conv
        conv.draft = Draft(started_at=turn.now.isoformat())
        conv.editing = False
        conv.resume = None
        conv.pending = {}
        prefill = self._prefill(msg.text, turn.now) if msg is not None and msg.text else None
        ask_language = (
            prefill is not None
            and prefill.language == "su"
            and conv.locale is None
            and not conv.language_asked
        )
        with use_locale("su" if ask_language else conv.locale):
            if prefill is not None and prefill.urgent:
                conv.draft.urgent = True
                turn.say(prompts.urgent_advice())
            turn.say(prompts.greeting())
        if prefill is not None:
            self._apply_prefill(conv.draft, prefill)
        if msg is not None:
            await self._absorb_extras(turn, msg)
        if ask_language:
            conv.language_asked = True
            with use_locale("su"):
                text, options = prompts.language_question()
                turn.ask(Step.LANGUAGE, text, options)
            return
        self._confirm_prefill_or_ask(turn)

    def _prefill(self, text: str, now: datetime) -> Prefill | None:
        if self.understander is None:
            return None
        try:
            return self.understander.prefill(text, now)
        except Exception:  # the hook must not break the intake; log and ask everything
            log.exception("pre-fill hook failed", extra={"text_length": len(text)})
            return None

    def _apply_prefill(self, draft: Draft, prefill: Prefill) -> None:
        """Take what the first message said as answered; remember which fields, so the
        citizen can confirm them in one line."""
        if self.categories.get(prefill.category or "") is not None:
            draft.category = prefill.category
            draft.prefilled.append("category")
        if prefill.has_place:
            draft.kecamatan_code = prefill.kecamatan_code
            draft.desa_code = prefill.desa_code
            draft.address = prefill.address
            draft.outside_garut = prefill.outside_garut
            draft.location_done = True
            draft.prefilled.append("location")
        if prefill.incident_time is not None:
            draft.incident_time = prefill.incident_time.isoformat()
            if prefill.incident_time_end is not None:
                draft.incident_time_end = prefill.incident_time_end.isoformat()
            draft.prefilled.append("time")
        if prefill.chronology and len(prefill.chronology.strip()) >= MIN_CHRONOLOGY:
            draft.chronology = prefill.chronology.strip()[:MAX_CHRONOLOGY]

    def _confirm_prefill_or_ask(self, turn: Turn) -> None:
        draft = turn.conv.draft
        assert draft is not None
        if not ({"category", "location"} & set(draft.prefilled)):
            self._ask_next(turn)
            return
        line = prompts.understood_line(draft, self.categories, self.gazetteer, self.settings.tz)
        turn.ask(
            Step.PREFILL_CONFIRM,
            _("%(summary)s — is that right?") % {"summary": line},
            [Option(prompts.YES, _("Yes")), Option(prompts.NO, _("No"))],
        )

    def _on_prefill_confirm(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        answer = option or _yes_no(msg.text)
        if answer == prompts.YES:
            draft.prefilled.clear()
            self._ask_next(turn)
        elif answer == prompts.NO:
            if "category" in draft.prefilled:
                draft.category = None
            if "location" in draft.prefilled:
                draft.location_done = False
                draft.kecamatan_code = draft.desa_code = draft.address = None
                draft.outside_garut = False
            if "time" in draft.prefilled:
                draft.incident_time = draft.incident_time_end = None
            draft.prefilled.clear()
            turn.say(_("All right, let us go through it step by step."))
            self._ask_next(turn)
        elif _has_extras(msg) and not msg.text.strip():
            self._confirm_prefill_or_ask(turn)
        else:
            self._invalid(turn, _("Please answer yes or no."))

    def _on_language(self, turn: Turn, msg: Inbound, option: str | None, changes: Changes) -> None:
        chosen = option
        if chosen is None:
            answer = _yes_no(msg.text)
            chosen = {prompts.YES: "su", prompts.NO: "id"}.get(answer or "")
        if chosen is None:
            chosen = {"su": "su", "sunda": "su", "id": "id", "indonesia": "id"}.get(
                normalise(msg.text, limit=50)
            )
        if chosen not in ("su", "id"):
            with use_locale("su"):
                self._invalid(turn, _("Please choose one of the numbers shown."))
            return
        turn.conv.locale = chosen
        changes.locale = chosen
        with use_locale(chosen):
            self._confirm_prefill_or_ask(turn)

    def _ask_next(self, turn: Turn) -> None:
        """Ask for the first missing field, or show the summary when nothing is missing."""
        conv = turn.conv
        draft = conv.draft
        assert draft is not None
        if conv.editing:
            conv.editing = False
        if draft.category is None:
            text, options = prompts.category_question(self.categories)
            turn.ask(Step.CATEGORY, text, options)
        elif not draft.location_done:
            turn.ask(Step.LOCATION, prompts.location_question())
        elif not draft.chronology:
            turn.ask(Step.CHRONOLOGY, prompts.chronology_question())
        elif not draft.evidence_done:
            text, options = prompts.evidence_question(self.settings.max_evidence_items)
            turn.ask(Step.EVIDENCE, text, options)
        else:
            self._show_summary(turn)

    def _show_summary(self, turn: Turn) -> None:
        draft = turn.conv.draft
        assert draft is not None
        text = prompts.summary_text(draft, self.categories, self.gazetteer, self.settings.tz)
        turn.ask(Step.SUMMARY, text, prompts.summary_options())

    def _reask(self, turn: Turn) -> None:
        """Put the current question again (after help, a reminder, a language change)."""
        conv = turn.conv
        step = conv.step
        if step == Step.CATEGORY_MORE:
            text, options = prompts.category_more_question(self.categories)
            turn.ask(step, text, options)
        elif step == Step.EDIT:
            text, options = prompts.edit_question()
            turn.ask(step, text, options)
        elif step == Step.CANCEL_CONFIRM:
            text, options = prompts.cancel_question()
            turn.ask(step, text, options)
        elif step == Step.ERASE_CONFIRM:
            text, options = prompts.erase_question()
            turn.ask(step, text, options)
        elif step in (Step.LOCATION_CONFIRM, Step.LOCATION_CHOOSE):
            self._ask_place_again(turn)
        elif step == Step.SUMMARY:
            self._show_summary(turn)
        elif step == Step.PREFILL_CONFIRM:
            self._confirm_prefill_or_ask(turn)
        elif step == Step.LANGUAGE:
            with use_locale("su"):
                text, options = prompts.language_question()
                turn.ask(step, text, options)
        elif step == Step.CATEGORY:
            text, options = prompts.category_question(self.categories)
            turn.ask(step, text, options)
        elif step == Step.LOCATION:
            turn.ask(step, prompts.location_question())
        elif step == Step.CHRONOLOGY:
            turn.ask(step, prompts.chronology_question())
        elif step == Step.EVIDENCE:
            text, options = prompts.evidence_question(self.settings.max_evidence_items)
            turn.ask(step, text, options)
        else:
            self._ask_next(turn)

    async def _answer(self, turn: Turn, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        step = conv.step
        option = self._chosen(conv, msg)
        if msg.chosen_option is not None and option is None:
            turn.say(_("That button is no longer active."))
            self._reask(turn)
            return
        if option == CANCEL_ID:
            self._confirm_cancel(turn)
            return
        if option == prompts.SKIP:
            self._skip(turn)
            return
        if step == Step.PREFILL_CONFIRM:
            await self._absorb_extras(turn, msg)
            self._on_prefill_confirm(turn, msg, option)
        elif step == Step.LANGUAGE:
            await self._absorb_extras(turn, msg)
            self._on_language(turn, msg, option, changes)
        elif step in (Step.CATEGORY, Step.CATEGORY_MORE):
            await self._absorb_extras(turn, msg)
            self._on_category(turn, msg, option)
        elif step == Step.LOCATION:
            await self._absorb_attachments(turn, msg)
            self._on_location(turn, msg)
        elif step == Step.LOCATION_CONFIRM:
            await self._absorb_extras(turn, msg)
            self._on_location_confirm(turn, msg, option)
        elif step == Step.LOCATION_CHOOSE:
            await self._absorb_extras(turn, msg)
            self._on_location_choose(turn, msg, option)
        elif step == Step.CHRONOLOGY:
            await self._absorb_extras(turn, msg)
            self._on_chronology(turn, msg)
        elif step == Step.EVIDENCE:
            await self._on_evidence(turn, msg, option)
        elif step == Step.SUMMARY:
            await self._absorb_extras(turn, msg)
            await self._on_summary(turn, msg, option)
        elif step == Step.EDIT:
            await self._absorb_extras(turn, msg)
            self._on_edit(turn, msg, option)
        elif step == Step.CANCEL_CONFIRM:
            self._on_cancel_confirm(turn, msg, option)
        else:
            self._ask_next(turn)

    # --- answers to each question --------------------------------------------------------

    def _on_category(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        if option == prompts.MORE:
            text, options = prompts.category_more_question(self.categories)
            turn.ask(Step.CATEGORY_MORE, text, options)
            return
        if option == prompts.BACK:
            text, options = prompts.category_question(self.categories)
            turn.ask(Step.CATEGORY, text, options)
            return
        code = option if option in {c.code for c in self.categories.all} else None
        if code is None and msg.text:
            match = self.categories.match_answer(msg.text)
            code = match.code if match is not None else None
        if code is None:
            if _has_extras(msg) and not msg.text.strip():
                self._reask(turn)
                return
            self._invalid(turn, _("I did not recognise that topic."))
            return
        draft.category = code
        self._after_answer(turn)

    def _on_location(self, turn: Turn, msg: Inbound) -> None:
        if msg.location is not None:
            if self._set_pin(turn, msg.location):
                self._after_answer(turn)
            else:
                self._reask(turn)
            return
        text = msg.text.strip()
        if not text:
            self._reask(turn)
            return
        if _normal_in(text, SKIP_WORDS):
            self._skip(turn)
            return
        match = self.gazetteer.match(text)
        self._on_place_match(turn, text, match)

    def _on_place_match(self, turn: Turn, text: str, match: PlaceMatch | None) -> None:
        conv = turn.conv
        draft = conv.draft
        assert draft is not None
        address = text[:500]
        if match is None:
            self._invalid(
                turn,
                _(
                    "I could not find that place in Kabupaten Garut. Please type the kecamatan "
                    "or desa name."
                ),
            )
            return
        if match.outside is not None:
            draft.kecamatan_code = draft.desa_code = None
            draft.address = address
            draft.outside_garut = True
            draft.location_done = True
            turn.say(
                _(
                    "%(place)s is outside Kabupaten Garut. We record it as you wrote it, and your "
                    "report will still be read."
                )
                % {"place": match.outside}
            )
            self._after_answer(turn)
            return
        if match.ambiguous:
            conv.pending = {"address": address, "choices": [d.code for d in match.ambiguous]}
            self._ask_place_again(turn)
            return
        if match.kecamatan is None:
            self._invalid(
                turn,
                _(
                    "I could not find that place in Kabupaten Garut. Please type "
                    "the kecamatan or desa name."
                ),
            )
            return
        kec = match.kecamatan.code
        desa = match.desa.code if match.desa is not None else None
        if match.score >= PLACE_SURE:
            self._set_place(turn, kec, desa, address)
            self._after_answer(turn)
            return
        conv.pending = {"address": address, "kecamatan": kec, "desa": desa}
        self._ask_place_again(turn)

    def _ask_place_again(self, turn: Turn) -> None:
        pending = turn.conv.pending
        choices = [self.gazetteer.desa_by_code(code) for code in pending.get("choices", [])]
        found = [d for d in choices if d is not None]
        if found:
            options = [
                Option(d.code, prompts.place_label(self.gazetteer, d.kecamatan_code, d.code))
                for d in found
            ]
            text = _("There is a %(name)s in several kecamatan. Which one do you mean?") % {
                "name": found[0].name
            }
            turn.ask(Step.LOCATION_CHOOSE, text, options)
            return
        if pending.get("kecamatan"):
            label = prompts.place_label(self.gazetteer, pending["kecamatan"], pending.get("desa"))
            turn.ask(
                Step.LOCATION_CONFIRM,
                _("Do you mean %(place)s?") % {"place": label},
                [Option(prompts.YES, _("Yes")), Option(prompts.NO, _("No"))],
            )
            return
        turn.ask(Step.LOCATION, prompts.location_question())

    def _on_location_confirm(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        answer = option or _yes_no(msg.text)
        pending = turn.conv.pending
        if answer == prompts.YES and pending.get("kecamatan"):
            self._set_place(turn, pending["kecamatan"], pending.get("desa"), pending.get("address"))
            turn.conv.pending = {}
            self._after_answer(turn)
        elif answer == prompts.NO:
            turn.conv.pending = {}
            turn.ask(Step.LOCATION, _("Please type the place again: the kecamatan or desa name."))
        elif msg.location is not None or (msg.text.strip() and answer is None):
            turn.conv.pending = {}
            turn.conv.step = Step.LOCATION
            self._on_location(turn, msg)
        else:
            self._invalid(turn, _("Please answer yes or no."))

    def _on_location_choose(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        pending = turn.conv.pending
        choices = pending.get("choices", [])
        code = option if option in choices else None
        if code is None and msg.text.strip():
            match = self.gazetteer.match(msg.text)
            if match is not None and match.kecamatan is not None:
                code = next(
                    (
                        c
                        for c in choices
                        if (d := self.gazetteer.desa_by_code(c)) is not None
                        and d.kecamatan_code == match.kecamatan.code
                    ),
                    None,
                )
        if code is None:
            if msg.location is not None:
                turn.conv.pending = {}
                turn.conv.step = Step.LOCATION
                self._on_location(turn, msg)
                return
            self._invalid(turn, _("Please choose one of the numbers shown."))
            return
        desa = self.gazetteer.desa_by_code(code)
        assert desa is not None
        self._set_place(turn, desa.kecamatan_code, desa.code, pending.get("address"))
        turn.conv.pending = {}
        self._after_answer(turn)

    def _on_chronology(self, turn: Turn, msg: Inbound) -> None:
        draft = turn.conv.draft
        assert draft is not None
        text = msg.text.strip()
        if not text and _has_extras(msg):
            self._reask(turn)
            return
        if len(text) < MIN_CHRONOLOGY:
            self._invalid(
                turn,
                _(
                    "That is a bit short for us to act on. Please tell a little more: what "
                    "happened, when and who was involved."
                ),
            )
            return
        if len(text) > MAX_CHRONOLOGY:
            text = text[:MAX_CHRONOLOGY]
            turn.say(
                _(
                    "Your story was long; we kept the first %(n)s characters. You can send the "
                    "rest as a document."
                )
                % {"n": format_number(MAX_CHRONOLOGY)}
            )
        draft.chronology = text
        self._after_answer(turn)

    async def _on_evidence(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        if msg.attachments or msg.location is not None:
            await self._absorb_extras(turn, msg)
            if msg.text.strip() and len(msg.text.strip()) >= MIN_CHRONOLOGY:
                self._append_story(turn, msg.text)
            text, options = prompts.evidence_question(self.settings.max_evidence_items)
            turn.conv.options = options
            return
        choice = option
        if choice is None:
            if _normal_in(msg.text, DONE_WORDS | YES_WORDS):
                choice = prompts.DONE
            elif _normal_in(msg.text, NONE_WORDS):
                choice = prompts.NONE
        if choice == prompts.DONE:
            draft.evidence_done = True
            self._after_answer(turn)
        elif choice == prompts.NONE:
            draft.evidence_done = True
            if draft.evidence:
                turn.say(_("Noted. The files you already sent are kept."))
            self._after_answer(turn)
        elif len(msg.text.strip()) >= MIN_CHRONOLOGY:
            self._append_story(turn, msg.text)
            text, options = prompts.evidence_question(self.settings.max_evidence_items)
            turn.ask(Step.EVIDENCE, text, options)
        else:
            self._invalid(
                turn,
                _("Send a photo, video, document or voice note, or type 'selesai' or 'tidak ada'."),
            )

    def _append_story(self, turn: Turn, text: str) -> None:
        draft = turn.conv.draft
        assert draft is not None
        combined = f"{draft.chronology or ''}\n{text.strip()}".strip()
        draft.chronology = combined[:MAX_CHRONOLOGY]
        turn.say(_("Added to your story."))

    async def _on_summary(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        choice = option
        if choice is None:
            answer = _yes_no(msg.text)
            if answer == prompts.YES:
                choice = prompts.SUBMIT
            elif normalise(msg.text) in EDIT_WORDS:
                choice = prompts.EDIT
        if choice == prompts.SUBMIT:
            await self._submit(turn, msg)
        elif choice == prompts.EDIT:
            text, options = prompts.edit_question()
            turn.ask(Step.EDIT, text, options)
        elif _yes_no(msg.text) == prompts.NO:
            self._confirm_cancel(turn)
        elif msg.attachments or msg.location is not None:
            self._show_summary(turn)
        else:
            self._invalid(turn, _("Please choose one of the numbers shown."))

    def _on_edit(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        if option == prompts.BACK:
            self._show_summary(turn)
            return
        name = option.removeprefix(prompts.FIELD_PREFIX) if option else None
        if name not in prompts.FIELDS:
            self._invalid(turn, _("Please choose one of the numbers shown."))
            return
        turn.conv.editing = True
        if name == "category":
            draft.category = None
        elif name == "location":
            draft.location_done = False
            draft.kecamatan_code = draft.desa_code = draft.address = None
            draft.lat = draft.lon = None
            draft.outside_garut = False
        elif name == "chronology":
            draft.chronology = None
        elif name == "evidence":
            draft.evidence_done = False
        self._ask_next(turn)
        turn.conv.editing = True

    def _on_cancel_confirm(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        answer = option or _yes_no(msg.text)
        if answer == prompts.YES:
            self._cancel(turn)
        elif answer == prompts.NO:
            turn.conv.step = turn.conv.resume or Step.CATEGORY
            turn.conv.resume = None
            self._reask(turn)
        else:
            self._invalid(turn, _("Please answer yes or no."))

    # --- shared moves --------------------------------------------------------------------

    def _after_answer(self, turn: Turn) -> None:
        if turn.conv.editing:
            turn.conv.editing = False
            draft = turn.conv.draft
            assert draft is not None
            if draft.category and draft.location_done and draft.chronology and draft.evidence_done:
                self._show_summary(turn)
                return
        self._ask_next(turn)

    def _invalid(self, turn: Turn, reason: str) -> None:
        """A wrong answer: explain and ask again; from the third, show an example and offer
        to skip (where the field allows it) or to cancel."""
        conv = turn.conv
        conv.invalid += 1
        step = conv.step
        invalid = conv.invalid
        if invalid < INVALID_LIMIT:
            turn.say(reason)
            self._reask(turn)
            conv.invalid = invalid
            return
        turn.say(f"{reason}\n{prompts.invalid_example(step.value)}")
        self._reask(turn)
        conv.invalid = invalid
        extra = []
        if step in SKIPPABLE:
            extra.append(Option(prompts.SKIP, _("Skip this question")))
        extra.append(Option(CANCEL_ID, _("Cancel the report")))
        offered = {o.id for o in conv.options}
        options = [*conv.options, *(o for o in extra if o.id not in offered)]
        conv.options = options
        turn.replies[-1] = replace(turn.replies[-1], options=tuple(options))

    def _skip(self, turn: Turn) -> None:
        conv = turn.conv
        draft = conv.draft
        assert draft is not None
        step = conv.step
        if step not in SKIPPABLE:
            self._reask(turn)
            return
        if step in (Step.CATEGORY, Step.CATEGORY_MORE):
            draft.category = "lainnya"
        elif step in (Step.LOCATION, Step.LOCATION_CONFIRM, Step.LOCATION_CHOOSE):
            draft.location_done = True
            draft.address = conv.pending.get("address") or draft.address
            conv.pending = {}
        elif step == Step.EVIDENCE:
            draft.evidence_done = True
        turn.say(_("Skipped."))
        self._after_answer(turn)

    def _on_erase(self, turn: Turn, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        answer = self._chosen(conv, msg) or _yes_no(msg.text)
        if answer == prompts.YES:
            changes.ops.append(EraseReporter(conv.key, msg.sender_id))
            self._drop_draft(conv)
            turn.say(prompts.erased())
        elif answer == prompts.NO:
            turn.say(_("Nothing was deleted."))
            if conv.draft is not None:
                conv.step = conv.resume or Step.CATEGORY
                conv.resume = None
                self._reask(turn)
            else:
                self._drop_draft(conv)
        else:
            self._invalid(turn, _("Please answer yes or no."))

    def _confirm_cancel(self, turn: Turn) -> None:
        conv = turn.conv
        if conv.step != Step.CANCEL_CONFIRM:
            conv.resume = conv.step
        text, options = prompts.cancel_question()
        turn.ask(Step.CANCEL_CONFIRM, text, options)

    def _cancel(self, turn: Turn) -> None:
        self._drop_draft(turn.conv)
        turn.say(_("Your report was cancelled. Type /mulai whenever you want to start a new one."))

    def _drop_draft(self, conv: Conversation) -> None:
        conv.draft = None
        conv.step = Step.IDLE
        conv.options = []
        conv.invalid = 0
        conv.editing = False
        conv.resume = None
        conv.pending = {}

    async def _submit(self, turn: Turn, msg: Inbound) -> None:
        """Create the ticket: the reporter gets its number and the promise; the officers of
        its unit and Polsek (or the SPKT) get a notice, and the Kapolres too when urgent."""
        conv = turn.conv
        draft = conv.draft
        assert draft is not None
        limit = self.settings.tickets_per_day
        sent = await self.store.tickets_since(
            msg.channel, msg.sender_id, turn.now - timedelta(days=1)
        )
        if sent >= limit:
            turn.say(prompts.too_many_reports(limit))
            self._show_summary(turn)
            return
        category = self.categories.get(draft.category or "") or self.categories["lainnya"]
        draft.category = category.code
        way = route(category.code, draft.kecamatan_code)
        due = turn.now + timedelta(hours=self.settings.sla_hours)
        locale = current_locale()
        similar = find_similar(
            draft, await self.store.open_tickets_like(category.code, turn.now - WITHIN)
        )
        turn.ticket = NewTicket(
            draft=draft,
            unit=way.unit,
            polsek=way.polsek,
            locale=locale,
            created_at=turn.now,
            due_at=due,
            duplicate_of=similar.id if similar else None,
        )
        recipients = await self.store.officers(
            units=way.units, roles=("kapolres",) if draft.urgent else ()
        )
        key, tz, sla, now = conv.key, self.settings.tz, self.settings.sla_hours, turn.now
        masked = masked_identity(msg.channel, msg.sender_id)
        categories, gazetteer = self.categories, self.gazetteer

        def confirmation(ticket: TicketRef) -> list[Outbound]:
            with use_locale(locale):
                text = _(
                    "Thank you. Your report has been received with number %(number)s.\n"
                    "Officers will follow it up within %(hours)d hours (by %(due)s).\n"
                    "Check its progress at any time: /status %(number)s"
                ) % {"number": ticket.number, "hours": sla, "due": format_moment(due, tz)}
                if similar is not None:
                    text += "\n" + _(
                        "A similar report (%(other)s) is already being handled; yours was added "
                        "to it, and your evidence still counts."
                    ) % {"other": similar.number}
                replies = [Outbound(key.channel, key.chat_id, text, locale=locale)]
            detail = draft_detail(ticket, draft, way, locale, key, masked, now, due)
            for officer in recipients:
                if (officer.channel, officer.external_id) == (key.channel, msg.sender_id):
                    continue
                with use_locale(None):
                    notice = officer_text.new_ticket_notice(detail, categories, gazetteer, tz)
                    if similar is not None:
                        notice += "\n" + _("Possibly the same as %(other)s.") % {
                            "other": similar.number
                        }
                    replies.append(
                        Outbound(
                            officer.channel, officer.external_id, notice, locale=current_locale()
                        )
                    )
            return replies

        turn.after_ticket = confirmation
        self._drop_draft(conv)

    # --- evidence and pins that arrive at any step ---------------------------------------

    async def _absorb_extras(self, turn: Turn, msg: Inbound) -> None:
        await self._absorb_attachments(turn, msg)
        if msg.location is not None and turn.conv.step not in (
            Step.LOCATION,
            Step.LOCATION_CONFIRM,
            Step.LOCATION_CHOOSE,
        ):
            self._set_pin(turn, msg.location)

    async def _absorb_attachments(self, turn: Turn, msg: Inbound) -> None:
        draft = turn.conv.draft
        if draft is None or not msg.attachments:
            return
        stored = 0
        for attachment in msg.attachments:
            if len(draft.evidence) >= self.settings.max_evidence_items:
                turn.say(
                    ngettext(
                        "You can send at most %(n)d file; this one was not kept.",
                        "You can send at most %(n)d files; this one was not kept.",
                        self.settings.max_evidence_items,
                    )
                    % {"n": self.settings.max_evidence_items}
                )
                break
            item = await self._store_attachment(turn, attachment)
            if item is not None:
                draft.evidence.append(item)
                stored += 1
        if stored:
            count = len(draft.evidence)
            turn.say(
                ngettext(
                    "Evidence received (%(n)d file so far).",
                    "Evidence received (%(n)d files so far).",
                    count,
                )
                % {"n": count}
            )

    async def _store_attachment(self, turn: Turn, attachment: Attachment) -> EvidenceItem | None:
        limit_mb = self.settings.max_evidence_bytes // (1024 * 1024)
        too_large = _("That file is too large (at most %(mb)d MB). Please send a smaller one.") % {
            "mb": limit_mb
        }
        if attachment.size is not None and attachment.size > self.settings.max_evidence_bytes:
            turn.say(too_large)
            return None
        try:
            stored = await self.media.save(attachment)
        except TooLarge:
            turn.say(too_large)
            return None
        except SaveFailed:
            log.warning(
                "evidence download failed",
                exc_info=True,
                extra={"chat": str(turn.conv.key), "kind": attachment.kind.value},
            )
            turn.say(_("Sorry, I could not download that file. Please send it again."))
            return None
        return EvidenceItem(
            kind=attachment.kind.value,
            sha256=stored.sha256,
            mime=_safe_mime(attachment.mime),
            size=stored.size,
            stored_path=stored.relative_path,
        )

    def _set_pin(self, turn: Turn, pin: Location) -> bool:
        """Take a shared pin as the place; False (and nothing changed) when it is invalid."""
        draft = turn.conv.draft
        assert draft is not None
        if not _valid_pin(pin):
            turn.say(_("That location pin is not valid. Please send it again or type the place."))
            return False
        found = self.gazetteer.locate(pin.lat, pin.lon)
        draft.lat, draft.lon = pin.lat, pin.lon
        label = " ".join(p for p in (pin.name, pin.address) if p) or None
        draft.address = label[:500] if label else None
        draft.location_done = True
        if not found.inside_garut:
            draft.outside_garut = True
            draft.kecamatan_code = draft.desa_code = None
            turn.say(
                _(
                    "That pin is outside Kabupaten Garut. We record it, and your report will "
                    "still be read."
                )
            )
            return True
        draft.outside_garut = False
        draft.kecamatan_code = found.kecamatan.code if found.kecamatan else None
        draft.desa_code = found.desa.code if found.desa else None
        place = prompts.place_label(self.gazetteer, draft.kecamatan_code, draft.desa_code)
        turn.say(_("Location received: %(place)s.") % {"place": place or _("in Garut")})
        return True

    def _set_place(self, turn: Turn, kecamatan: str, desa: str | None, address: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        draft.kecamatan_code, draft.desa_code = kecamatan, desa
        draft.address = address
        draft.outside_garut = False
        draft.lat = draft.lon = None
        draft.location_done = True

    def _chosen(self, conv: Conversation, msg: Inbound) -> str | None:
        """The option the user picked: a button payload, the number shown, or the label."""
        ids = [o.id for o in conv.options]
        if msg.chosen_option is not None:
            return msg.chosen_option if msg.chosen_option in ids else None
        text = msg.text.strip()
        if not text or len(text) > 200:
            return None
        digits = text.rstrip(".) ")
        if re.fullmatch(r"[0-9]{1,4}", digits):
            index = int(digits)
            return ids[index - 1] if 1 <= index <= len(ids) else None
        wanted = normalise(text)
        for candidate in conv.options:
            if wanted and wanted in (normalise(candidate.label), normalise(candidate.id)):
                return candidate.id
        return None


CANCEL_ID = prompts.CANCEL


def _is_empty(msg: Inbound) -> bool:
    if msg.kind == InboundKind.UNSUPPORTED:
        return True
    return not (msg.text.strip() or msg.attachments or msg.location or msg.chosen_option)


def _has_extras(msg: Inbound) -> bool:
    return bool(msg.attachments) or msg.location is not None


def _normal_in(text: str, words: frozenset[str]) -> bool:
    return normalise(text, limit=100) in words


def _yes_no(text: str) -> str | None:
    normal = normalise(text, limit=100)
    if normal in YES_WORDS:
        return prompts.YES
    if normal in NO_WORDS:
        return prompts.NO
    return None


def _valid_pin(pin: Location) -> bool:
    return (
        math.isfinite(pin.lat)
        and math.isfinite(pin.lon)
        and -90 <= pin.lat <= 90
        and -180 <= pin.lon <= 180
    )


def _safe_mime(mime: str) -> str:
    cleaned = mime.strip().lower()[:100]
    if "/" not in cleaned or any(ch.isspace() for ch in cleaned):
        return "application/octet-stream"
    return cleaned


def draft_detail(
    ticket: TicketRef,
    draft: Draft,
    way: Route,
    locale: str,
    key: ChatKey,
    masked: str,
    now: datetime,
    due: datetime,
) -> TicketDetail:
    """The ticket being created, as officers will see it (before it is read back)."""
    return TicketDetail(
        id=ticket.id,
        number=ticket.number,
        category=draft.category or "lainnya",
        unit=way.unit,
        polsek=way.polsek,
        status="baru",
        kecamatan_code=draft.kecamatan_code,
        desa_code=draft.desa_code,
        address=draft.address,
        lat=draft.lat,
        lon=draft.lon,
        outside_garut=draft.outside_garut,
        chronology=draft.chronology or "",
        incident_time=datetime.fromisoformat(draft.incident_time) if draft.incident_time else None,
        urgent=draft.urgent,
        locale=locale,
        created_at=now,
        updated_at=now,
        due_at=due,
        first_response_at=None,
        reporter_pseudonym=ticket.pseudonym,
        reporter_masked=masked,
        reporter_channel=key.channel,
        reporter_chat=key.chat_id,
        evidence_count=len(draft.evidence),
    )
