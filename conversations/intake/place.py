"""Where it happened: a shared pin, or a typed kecamatan/desa/address matched against the
Garut gazetteer; unsure matches are confirmed and a desa in several kecamatan is asked about."""

from __future__ import annotations

import math

from conversations.i18n import _
from conversations.intake import prompts
from conversations.intake.base import PLACE_SURE, IntakeBase, Turn, said_one_of, yes_or_no
from conversations.intake.vocabulary import SKIP_WORDS
from conversations.messages import Inbound, Location, Option
from conversations.state import Step
from conversations.understanding.places import PlaceMatch


class PlaceAnswers(IntakeBase):
    def _on_location(self, turn: Turn, msg: Inbound) -> None:
        if msg.location is not None:
            if self._set_pin(turn, msg.location):
                self._after_answer(turn)
            else:
                self._reask(turn)
            return
        text = msg.text.strip()
        draft = turn.conv.draft
        if not text and draft is not None and draft.photo_kecamatan is not None:
            self._propose_photo_place(turn)
            return
        if not text:
            self._reask(turn)
            return
        if said_one_of(text, SKIP_WORDS):
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
            question = (
                _("Your photo was taken in %(place)s. Is that where it happened?")
                if pending.get("photo")
                else _("Do you mean %(place)s?")
            )
            turn.ask(
                Step.LOCATION_CONFIRM,
                question % {"place": label},
                [Option(prompts.YES, _("Yes")), Option(prompts.NO, _("No"))],
            )
            return
        turn.ask(Step.LOCATION, prompts.location_question())

    def _propose_photo_place(self, turn: Turn) -> None:
        """The place a photo's GPS position names, put to the citizen as a yes/no question
        (asked once: the proposal is dropped from the draft when put)."""
        draft = turn.conv.draft
        assert draft is not None
        kecamatan, desa = draft.photo_kecamatan, draft.photo_desa
        draft.photo_kecamatan = draft.photo_desa = None
        if kecamatan is None:
            turn.ask(Step.LOCATION, prompts.location_question())
            return
        turn.conv.pending = {"kecamatan": kecamatan, "desa": desa, "address": None, "photo": True}
        self._ask_place_again(turn)

    def _on_location_confirm(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        answer = option or yes_or_no(msg.text)
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


def _valid_pin(pin: Location) -> bool:
    return (
        math.isfinite(pin.lat)
        and math.isfinite(pin.lon)
        and -90 <= pin.lat <= 90
        and -180 <= pin.lon <= 180
    )
