"""A new report: the greeting, what the first message already said (the pre-fill hook), its
one-line confirmation, and the one question about Sundanese."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from conversations.i18n import _, use_locale
from conversations.intake import prompts
from conversations.intake.base import (
    MAX_CHRONOLOGY,
    IntakeBase,
    Turn,
    has_extras,
    is_story,
    yes_or_no,
)
from conversations.intake.prefill import Prefill
from conversations.messages import Inbound, Option
from conversations.ports import Changes
from conversations.state import Draft, Step
from conversations.text import normalise

log = logging.getLogger(__name__)


ASKED_LANGUAGES = ("su", "en")  # a first message clearly in one of them: ask once, in it


class FirstMessage(IntakeBase):
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
            prefill.language
            if prefill is not None
            and prefill.language in ASKED_LANGUAGES
            and conv.locale is None
            and not conv.language_asked
            else None
        )
        with use_locale(ask_language or conv.locale):
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
            conv.pending = {"language": ask_language}
            with use_locale(ask_language):
                text, options = prompts.language_question(ask_language)
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
        """Take what a free-text message said as answered, for every field still open;
        remember which, so the citizen can confirm them in one line."""
        if draft.category is None and self.categories.get(prefill.category or "") is not None:
            draft.category = prefill.category
            draft.prefilled.append("category")
        if not draft.location_done and prefill.has_place:
            draft.kecamatan_code = prefill.kecamatan_code
            draft.desa_code = prefill.desa_code
            draft.address = prefill.address
            draft.outside_garut = prefill.outside_garut
            draft.location_done = True
            draft.prefilled.append("location")
        if draft.incident_time is None and prefill.incident_time is not None:
            draft.incident_time = prefill.incident_time.isoformat()
            if prefill.incident_time_end is not None:
                draft.incident_time_end = prefill.incident_time_end.isoformat()
            draft.prefilled.append("time")
        if draft.chronology is None and is_story(prefill.chronology or ""):
            draft.chronology = (prefill.chronology or "").strip()[:MAX_CHRONOLOGY]

    def _take_story(self, turn: Turn, msg: Inbound) -> bool:
        """A citizen who answers the topic question with the whole story (often after a
        bare "P"): read it like a one-shot message. False when it says nothing usable."""
        draft = turn.conv.draft
        assert draft is not None
        prefill = self._prefill(msg.text, turn.now) or Prefill()
        if prefill.category is None:
            match = self.categories.match_answer(msg.text)
            if match is not None:
                prefill = replace(prefill, category=match.code)
        if prefill.chronology is None and prefill.category is not None:
            prefill = replace(prefill, chronology=msg.text)
        if prefill.category is None and not prefill.has_place:
            return False
        if prefill.urgent and not draft.urgent:
            draft.urgent = True
            turn.say(prompts.urgent_advice())
        self._apply_prefill(draft, prefill)
        self._confirm_prefill_or_ask(turn)
        return True

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
        answer = option or yes_or_no(msg.text)
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
        elif has_extras(msg) and not msg.text.strip():
            self._confirm_prefill_or_ask(turn)
        else:
            self._invalid(turn, _("Please answer yes or no."))

    def _on_language(self, turn: Turn, msg: Inbound, option: str | None, changes: Changes) -> None:
        asked = str(turn.conv.pending.get("language", "su"))
        chosen = option
        if chosen is None:
            answer = yes_or_no(msg.text)
            chosen = {prompts.YES: asked, prompts.NO: "id"}.get(answer or "")
        if chosen is None:
            chosen = {
                "su": "su",
                "sunda": "su",
                "en": "en",
                "english": "en",
                "inggris": "en",
                "id": "id",
                "indonesia": "id",
            }.get(normalise(msg.text, limit=50))
        if chosen not in (asked, "id"):
            with use_locale(asked):
                self._invalid(turn, _("Please choose one of the numbers shown."))
            return
        turn.conv.pending = {}
        turn.conv.locale = chosen
        changes.locale = chosen
        with use_locale(chosen):
            self._confirm_prefill_or_ask(turn)
