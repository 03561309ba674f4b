"""The citizen's intake dialogue: category, location, chronology, evidence, summary, ticket.

Each message moves one chat's :class:`Conversation` forward and yields a :class:`Changes`; the
engine commits it in one transaction. The flow is slot filling: whatever is already known
(from a one-shot first message, or an earlier answer) is not asked again, and the next
question is always the first missing field (:meth:`Intake._ask_next`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from conversations.categories import Categories
from conversations.commands import parse_command
from conversations.formatting import format_number
from conversations.i18n import _
from conversations.intake import prompts
from conversations.intake.base import (
    MAX_CHRONOLOGY,
    MIN_CHRONOLOGY,
    IntakeSettings,
    Turn,
    has_extras,
    is_empty,
    is_story,
    yes_or_no,
)
from conversations.intake.commands import CitizenCommands
from conversations.intake.evidence import EvidenceAnswers
from conversations.intake.first_message import FirstMessage
from conversations.intake.follow_up import PROMPT_LIFETIME, FollowUp
from conversations.intake.late_answers import LateAnswers
from conversations.intake.place import PlaceAnswers
from conversations.intake.prefill import Understander
from conversations.intake.submit import Submission
from conversations.intake.vocabulary import EDIT_WORDS
from conversations.media import MediaSaver
from conversations.messages import Inbound
from conversations.ports import Changes, Prompt, Store, Timer, TimerKind
from conversations.state import Conversation, Step
from conversations.text import normalise
from conversations.understanding.places import Gazetteer


class Intake(
    CitizenCommands, FirstMessage, PlaceAnswers, EvidenceAnswers, LateAnswers, Submission
):
    """The dialogue: routes each message to the answer of the question the chat waits on.

    Its parts live in their own modules of this package: commands (``commands``), the first
    message (``first_message``), places (``place``), evidence (``evidence``), answers that
    come early or late (``late_answers``), the ticket (``submit``), and the moves they share
    (``base``).
    """

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

    async def on_inbound(
        self,
        conv: Conversation,
        msg: Inbound,
        now: datetime,
        *,
        pending: list[Prompt] | None = None,
    ) -> Changes:
        """The reply to ``msg`` and what it changes. ``pending``: the reporter's pending
        prompts when already read with the conversation (else they are read when needed)."""
        turn = Turn(conv, now)
        changes = Changes(
            key=conv.key,
            inbound_id=msg.message_id,
            sender_id=msg.sender_id,
            sender_aliases=msg.sender_aliases,
            sender_name=msg.sender_name,
        )
        if is_empty(msg):
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
            if await self.follow_up.answer(turn, msg, changes, pending):
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

    async def _answer(self, turn: Turn, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        step = conv.step
        option = self._chosen(conv, msg)
        if msg.chosen_option is not None and option is None:
            if not self._late_press(turn, msg):
                turn.say(_("That button is no longer active."))
                self._reask(turn)
                return
            if not (msg.attachments or msg.location):
                return
            msg = replace(msg, chosen_option=None)  # the press is taken; its files and pin are
            # read as a message of their own
        if option is None and self._late_text(turn, msg):
            return
        if option == prompts.CANCEL:
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
        if code is None and is_story(msg.text) and self._take_story(turn, msg):
            return
        if code is None and msg.text:
            match = self.categories.match_answer(msg.text)
            code = match.code if match is not None else None
        if code is None:
            if has_extras(msg) and not msg.text.strip():
                self._reask(turn)
                return
            self._invalid(turn, _("I did not recognise that topic."))
            return
        draft.category = code
        self._after_answer(turn)

    def _on_chronology(self, turn: Turn, msg: Inbound) -> None:
        draft = turn.conv.draft
        assert draft is not None
        text = msg.text.strip()
        if not text and has_extras(msg):
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

    async def _on_summary(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        choice = option
        if choice is None:
            answer = yes_or_no(msg.text)
            if answer == prompts.YES:
                choice = prompts.SUBMIT
            elif normalise(msg.text) in EDIT_WORDS:
                choice = prompts.EDIT
        if choice == prompts.SUBMIT:
            await self._submit(turn, msg)
        elif choice == prompts.EDIT:
            text, options = prompts.edit_question()
            turn.ask(Step.EDIT, text, options)
        elif yes_or_no(msg.text) == prompts.NO:
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
        answer = option or yes_or_no(msg.text)
        if answer == prompts.YES:
            self._cancel(turn)
        elif answer == prompts.NO:
            turn.conv.step = turn.conv.resume or Step.CATEGORY
            turn.conv.resume = None
            self._reask(turn)
        else:
            self._invalid(turn, _("Please answer yes or no."))
