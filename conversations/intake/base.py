"""The parts of the intake dialogue share this: its settings, one message's work in progress
(:class:`Turn`), and the moves between questions (ask the next, ask again, an invalid answer,
skip, cancel)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.categories import Categories
from conversations.i18n import _, current_locale, use_locale
from conversations.intake import prompts
from conversations.intake.follow_up import FollowUp
from conversations.intake.prefill import Understander
from conversations.intake.vocabulary import NO_WORDS, YES_WORDS
from conversations.media import MediaSaver
from conversations.messages import Inbound, InboundKind, Location, Option, Outbound
from conversations.ports import NewTicket, Store, TicketRef
from conversations.state import Conversation, Step
from conversations.text import normalise
from conversations.understanding.places import Gazetteer

MIN_CHRONOLOGY = 15
STORY_WORDS = 6  # a free-text message this long (and 15 characters) can stand as the story
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
        """Say ``text`` (with ``options`` to choose from). What one citizen message causes is
        one message whenever it can be: a text said after another text of this turn (a notice,
        then the next question) joins it, so the citizen's phone gets the whole answer at once
        and nobody answers the first half while the rest is on its way."""
        locale = current_locale()
        last = self.replies[-1] if self.replies else None
        if (
            last is not None
            and not last.options
            and last.media is None
            and last.locale == locale
            and text
        ):
            joined = f"{last.text}\n\n{text}" if last.text else text
            self.replies[-1] = replace(last, text=joined, options=tuple(options or ()))
            return
        self.replies.append(
            Outbound(
                channel=self.conv.key.channel,
                chat_id=self.conv.key.chat_id,
                text=text,
                options=tuple(options or ()),
                locale=locale,
            )
        )

    def ask(self, step: Step, text: str, options: list[Option] | None = None) -> None:
        """Put a question: the chat waits in ``step`` and remembers the options offered."""
        if self.conv.step != step:
            self.conv.invalid = 0
        self.conv.step = step
        self.conv.options = list(options or [])
        self.say(text, options)


class IntakeBase(ABC):
    """What every part of the intake shares: its collaborators and the moves between
    questions. The parts are mixed into :class:`~conversations.intake.dialogue.Intake`; a
    move one part makes and another part defines is declared here."""

    store: Store
    media: MediaSaver
    categories: Categories
    gazetteer: Gazetteer
    settings: IntakeSettings
    understander: Understander | None
    follow_up: FollowUp

    # --- moves defined by one part, made by others ----------------------------------------

    @abstractmethod
    async def _start(self, turn: Turn, msg: Inbound | None) -> None:
        """A new report: the greeting and what the first message already said
        (:class:`~conversations.intake.first_message.FirstMessage`)."""

    @abstractmethod
    def _confirm_prefill_or_ask(self, turn: Turn) -> None:
        """Confirm what the first message said, or ask the next question (FirstMessage)."""

    @abstractmethod
    def _ask_place_again(self, turn: Turn) -> None:
        """Put the place question or its confirmation again
        (:class:`~conversations.intake.place.PlaceAnswers`)."""

    @abstractmethod
    def _set_place(self, turn: Turn, kecamatan: str, desa: str | None, address: str | None) -> None:
        """Take a typed place as the draft's place (PlaceAnswers)."""

    @abstractmethod
    def _propose_photo_place(self, turn: Turn) -> None:
        """Ask whether the desa a photo was taken in is the place (PlaceAnswers)."""

    @abstractmethod
    def _set_pin(self, turn: Turn, pin: Location) -> bool:
        """Take a shared pin as the place; False when it is not usable (PlaceAnswers)."""

    @abstractmethod
    async def _absorb_extras(self, turn: Turn, msg: Inbound) -> None:
        """Keep the files and pin that came with any answer
        (:class:`~conversations.intake.evidence.EvidenceAnswers`)."""

    # --- shared moves ---------------------------------------------------------------------

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
        elif not draft.location_done and draft.photo_kecamatan is not None:
            self._propose_photo_place(turn)
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
            text, options = prompts.erase_question(
                [str(n) for n in conv.pending.get("erase_open", [])]
            )
            turn.ask(step, text, options)
        elif step in (Step.LOCATION_CONFIRM, Step.LOCATION_CHOOSE):
            self._ask_place_again(turn)
        elif step == Step.SUMMARY:
            self._show_summary(turn)
        elif step == Step.PREFILL_CONFIRM:
            self._confirm_prefill_or_ask(turn)
        elif step == Step.LANGUAGE:
            asked = str(conv.pending.get("language", "su"))
            with use_locale(asked):
                text, options = prompts.language_question(asked)
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
        extra.append(Option(prompts.CANCEL, _("Cancel the report")))
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

    def _chosen(self, conv: Conversation, msg: Inbound) -> str | None:
        """The option the user picked: a button payload, the number shown, or the label."""
        ids = [o.id for o in conv.options]
        if msg.chosen_option is not None:
            return msg.chosen_option if msg.chosen_option in ids else None
        text = msg.text.strip()
        if not text or len(text) > 200:
            return None
        digits = text.rstrip(".) ")
        if digits.isdecimal() and len(digits) <= 4:  # any script's digits, not "²"
            index = int(digits)
            return ids[index - 1] if 1 <= index <= len(ids) else None
        wanted = normalise(text)
        for candidate in conv.options:
            if wanted and wanted in (normalise(candidate.label), normalise(candidate.id)):
                return candidate.id
        return None


def is_empty(msg: Inbound) -> bool:
    if msg.kind == InboundKind.UNSUPPORTED:
        return True
    return not (msg.text.strip() or msg.attachments or msg.location or msg.chosen_option)


def has_extras(msg: Inbound) -> bool:
    return bool(msg.attachments) or msg.location is not None


def said_one_of(text: str, words: frozenset[str]) -> bool:
    return normalise(text, limit=100) in words


def yes_or_no(text: str) -> str | None:
    normal = normalise(text, limit=100)
    if normal in YES_WORDS:
        return prompts.YES
    if normal in NO_WORDS:
        return prompts.NO
    return None


def is_story(text: str) -> bool:
    """Long enough to act on as what happened, not just a topic ("mau lapor penipuan")."""
    stripped = text.strip()
    return len(stripped) >= MIN_CHRONOLOGY and len(stripped.split()) >= STORY_WORDS
