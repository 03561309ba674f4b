"""Answers that arrive early or late: on a phone under load a citizen often answers a question
before the next one arrives, or presses a button of a question the bot has already moved past.
Such an answer is read for what it answers, not as the answer to the question asked now:

- a button of an earlier question (the topic menu after the topic was typed): the same answer
  again is taken silently (the press itself is acknowledged by the platform); a different one
  changes that field, with a one-line notice, and the question of the moment is put again;
- a short typed place name at a later question, after a pin or a typed place set it: the same
  place gets one line that says it is already noted (the question is right above it); a
  different, sure one changes the place with a one-line notice and the question again;
- a short typed topic at a later question that differs from the one set changes it the same
  way (the same topic typed again at the story question is read as a story that is too short,
  which asks for more).

The story is never given such a text, and a story is never added to twice.
"""

from __future__ import annotations

from conversations.i18n import _, current_locale
from conversations.intake import prompts
from conversations.intake.base import PLACE_SURE, IntakeBase, Turn, is_story
from conversations.messages import Inbound
from conversations.state import Step

# A late answer is short: a topic or a place name, not a story.
LATE_WORDS = 5
# The steps after the topic and the place were asked, where a typed text answering them
# arrives late (at the place question, only a topic: a place there is the answer).
AFTER_TOPIC = frozenset({Step.LOCATION, Step.CHRONOLOGY, Step.EVIDENCE, Step.SUMMARY})
AFTER_PLACE = frozenset({Step.CHRONOLOGY, Step.EVIDENCE, Step.SUMMARY})


class LateAnswers(IntakeBase):
    def _late_press(self, turn: Turn, msg: Inbound) -> bool:
        """A topic button pressed after the topic was set; False when ``msg`` is none."""
        draft = turn.conv.draft
        code = msg.chosen_option
        if draft is None or code is None or draft.category is None:
            return False
        if self.categories.get(code) is None:
            return False
        if code != draft.category:
            self._change_topic(turn, code)
        return True

    def _late_text(self, turn: Turn, msg: Inbound) -> bool:
        """A short typed topic or place at a later question; False when ``msg`` is none."""
        draft = turn.conv.draft
        step = turn.conv.step
        text = msg.text.strip()
        if draft is None or not text or msg.attachments or msg.location is not None:
            return False
        if len(text.split()) > LATE_WORDS or is_story(text) or prompts_answer(turn, text):
            return False
        if step in AFTER_PLACE and draft.location_done and self._late_place(turn, text):
            return True
        if step not in AFTER_TOPIC or draft.category is None:
            return False
        if step == Step.LOCATION and self.gazetteer.match(text) is not None:
            return False  # a place, at the place question: the answer itself
        match = self.categories.match_answer(text)
        if match is None or match.score < 100:  # a keyword phrase, not a fuzzy guess
            return False
        if match.code == draft.category:
            return False
        self._change_topic(turn, match.code)
        return True

    def _late_place(self, turn: Turn, text: str) -> bool:
        draft = turn.conv.draft
        assert draft is not None
        match = self.gazetteer.match(text)
        if (
            match is None
            or match.kecamatan is None
            or match.ambiguous
            or match.outside is not None
            or match.score < PLACE_SURE
        ):
            return False
        kecamatan = match.kecamatan.code
        desa = match.desa.code if match.desa is not None else None
        if kecamatan == draft.kecamatan_code and desa in (None, draft.desa_code):
            turn.say(
                _("The location is already noted: %(place)s.")
                % {"place": prompts.place_label(self.gazetteer, kecamatan, draft.desa_code)}
            )
            return True
        draft.kecamatan_code, draft.desa_code = kecamatan, desa
        draft.address = text[:500]
        draft.outside_garut = False
        draft.lat = draft.lon = None
        turn.say(
            _("Location changed to %(place)s.")
            % {"place": prompts.place_label(self.gazetteer, kecamatan, desa)}
        )
        self._reask(turn)
        return True

    def _change_topic(self, turn: Turn, code: str) -> None:
        draft = turn.conv.draft
        category = self.categories.get(code)
        assert draft is not None and category is not None
        draft.category = code
        turn.say(_("Topic changed to %(topic)s.") % {"topic": category.label(current_locale())})
        self._reask(turn)


def prompts_answer(turn: Turn, text: str) -> bool:
    """Whether ``text`` picks one of the options of the question asked now (by number or
    label): then it is that answer, not a late one."""
    wanted = text.strip().rstrip(".) ")
    if wanted.isdecimal():
        return True
    return any(
        o.label.strip().lower() == text.strip().lower() for o in turn.conv.options
    )
