"""Evidence: files kept by their hash at any step (within the limits), and the evidence
question itself."""

from __future__ import annotations

import logging

from conversations.i18n import _, ngettext
from conversations.intake import prompts
from conversations.intake.base import (
    MAX_CHRONOLOGY,
    MIN_CHRONOLOGY,
    IntakeBase,
    Turn,
    said_one_of,
)
from conversations.intake.vocabulary import DONE_WORDS, NONE_WORDS, YES_WORDS
from conversations.media import SaveFailed, TooLarge
from conversations.messages import Attachment, Inbound, Location
from conversations.state import EvidenceItem, Step
from conversations.text import normalise

log = logging.getLogger(__name__)


class EvidenceAnswers(IntakeBase):
    async def _on_evidence(self, turn: Turn, msg: Inbound, option: str | None) -> None:
        draft = turn.conv.draft
        assert draft is not None
        if msg.attachments or msg.location is not None:
            await self._absorb_extras(turn, msg)
            if msg.text.strip() and len(msg.text.strip()) >= MIN_CHRONOLOGY:
                self._append_story(turn, msg.text)
            # the acknowledgement and what to do next, in one message with its button
            text, options = prompts.more_evidence_question()
            turn.ask(Step.EVIDENCE, text, options)
            return
        choice = option
        if choice is None:
            if said_one_of(msg.text, DONE_WORDS | YES_WORDS):
                choice = prompts.DONE
            elif said_one_of(msg.text, NONE_WORDS):
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
        if _already_told(text, draft.chronology or ""):
            return  # sent again (a retry, an impatient repeat): the story has it already
        combined = f"{draft.chronology or ''}\n{text.strip()}".strip()
        draft.chronology = combined[:MAX_CHRONOLOGY]
        turn.say(_("Added to your story."))

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

    def _note_photo_place(self, turn: Turn, position: Location | None) -> None:
        """Remember the desa a photo was taken in, while the place is still unknown: it is
        proposed when the place is asked (never taken without the citizen's yes)."""
        draft = turn.conv.draft
        if (
            draft is None
            or position is None
            or draft.location_done
            or draft.photo_kecamatan is not None
        ):
            return
        found = self.gazetteer.locate(position.lat, position.lon)
        if found.inside_garut and found.kecamatan is not None:
            draft.photo_kecamatan = found.kecamatan.code
            draft.photo_desa = None if found.desa is None else found.desa.code

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
        self._note_photo_place(turn, stored.position)
        return EvidenceItem(
            kind=attachment.kind.value,
            sha256=stored.sha256,
            mime=_safe_mime(attachment.mime),
            size=stored.size,
            stored_path=stored.relative_path,
        )


def _safe_mime(mime: str) -> str:
    cleaned = mime.strip().lower()[:100]
    if "/" not in cleaned or any(ch.isspace() for ch in cleaned):
        return "application/octet-stream"
    return cleaned


def _already_told(text: str, story: str) -> bool:
    """Whether ``text`` is the story or one of the pieces added to it (each on its line)."""
    told = {line.strip() for line in story.split("\n")} | {story.strip()}
    if text.strip() in told:
        return True
    key = normalise(text)
    return bool(key) and key in {normalise(line) for line in told}
