"""Answers that arrive early or late: on a phone under load a citizen often answers a question
before the next one arrives, or presses a button of a question the bot has already moved past.
Such an answer is read for what it answers, not as the answer to the question asked now:

- a topic button of an earlier question (the menu, pressed after the topic was typed): the same
  topic again is taken silently (the press itself is acknowledged by the platform); another
  one changes the topic, with a one-line notice, and the question of the moment comes again;
- at the story question, a text too short to be a story (the story question would refuse it)
  that names a place or a topic: the place already set gets one line saying it is noted (the
  question is right above it); another sure place or another topic changes that field with a
  one-line notice and the question again.

Anything a question would accept as its own answer is that answer: a story is never taken for
a place or a topic, and nothing else than the story question reads text this way.
"""

from __future__ import annotations

from conversations.i18n import _, current_locale
from conversations.intake import prompts
from conversations.intake.base import MIN_CHRONOLOGY, PLACE_SURE, IntakeBase, Turn
from conversations.messages import Inbound
from conversations.state import Step


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
        # the same topic again: a double tap is silent, unless something came with it
        return msg.location is None and not msg.attachments and not msg.text.strip()

    def _late_text(self, turn: Turn, msg: Inbound) -> bool:
        """At the story question, a text too short to be the story that names a place or a
        topic; False when ``msg`` is none (it is then read as the question's answer)."""
        draft = turn.conv.draft
        text = msg.text.strip()
        if draft is None or turn.conv.step != Step.CHRONOLOGY or not text:
            return False
        if msg.attachments or msg.location is not None or len(text) >= MIN_CHRONOLOGY:
            return False
        if draft.location_done and self._late_place(turn, text):
            return True
        match = self.categories.match_answer(text)
        if match is None or match.score < 100 or draft.category in (None, match.code):
            return False  # the same topic again: "too short" asks for the story
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
        self._set_place(turn, kecamatan, desa, text[:500])
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

