"""A reporter's answers on behalf of a ticket: the reply to an officer's relayed message,
and the answer to the closing question ("Apakah masalah Anda sudah tertangani?").

The question was put by an officer's command (a row in ``reporter_prompts``); the reporter's
next plain message answers it. An answer "not yet" reopens the ticket for its unit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from conversations.desk.texts import reporter
from conversations.domain import PromptKind, TicketStatus
from conversations.i18n import _, current_locale, use_locale
from conversations.intake.vocabulary import NO_WORDS, YES_WORDS
from conversations.messages import Inbound, Outbound
from conversations.ports import (
    Changes,
    ClearPrompt,
    Officer,
    Prompt,
    Resolved,
    StatusChange,
    Store,
    TicketNote,
)
from conversations.privacy import for_staff
from conversations.text import normalise

if TYPE_CHECKING:
    from conversations.intake.base import Turn

PROMPT_LIFETIME = timedelta(days=7)
MAX_REPLY = 2000
HANDLED = YES_WORDS | {"sudah", "udah", "sdh", "tos", "parantos", "beres", "tertangani"}
NOT_YET = NO_WORDS | {"belum", "blm", "acan", "teu acan", "not yet"}


class FollowUp:
    def __init__(self, store: Store, tz: ZoneInfo, lifetime: timedelta) -> None:
        self.store = store
        self.tz = tz
        self.lifetime = lifetime

    async def answer(self, turn: Turn, msg: Inbound, changes: Changes) -> bool:
        """Handle ``msg`` as the answer to a pending prompt; False when it is not one."""
        prompt = await self.store.pending_prompt(msg.key)
        if prompt is None:
            return False
        if turn.now - prompt.created_at > self.lifetime:
            changes.ops.append(ClearPrompt(msg.key))
            return False
        if prompt.kind is PromptKind.CLOSING:
            return await self._closing(turn, msg, changes, prompt)
        return await self._relay_reply(turn, msg, changes, prompt)

    async def _closing(self, turn: Turn, msg: Inbound, changes: Changes, prompt: Prompt) -> bool:
        choice = msg.chosen_option or ""
        said = normalise(msg.text, limit=100)
        handled = choice == "closing:yes" or said in HANDLED or said == "1"
        not_yet = choice == "closing:no" or said in NOT_YET or said == "2"
        if not (handled or not_yet):
            changes.ops.append(ClearPrompt(msg.key))
            return False
        changes.ops += [ClearPrompt(msg.key), Resolved(prompt.ticket_id, handled)]
        if handled:
            turn.say(
                _("Thank you for confirming. Report %(number)s is closed.")
                % {"number": prompt.ticket_number}
            )
            return True
        ticket = await self.store.ticket_detail(prompt.ticket_number)
        if ticket is None or ticket.status is not TicketStatus.RESOLVED:
            turn.say(_("Thank you, your answer was recorded."))
            return True
        changes.ops.append(
            StatusChange(
                ticket.id,
                TicketStatus.RESOLVED,
                TicketStatus.IN_PROGRESS,
                "reporter",
                _("reporter says the problem is not handled yet"),
            )
        )
        turn.say(
            _("Report %(number)s is reopened; the officers will follow it up again.")
            % {"number": ticket.number}
        )
        for officer in await self.store.officers(units=(ticket.unit, ticket.polsek or "SPKT")):
            with use_locale(None):
                _to(
                    changes,
                    officer,
                    _("Report %(number)s reopened: %(who)s says the problem is not handled yet.")
                    % {
                        "number": ticket.number,
                        "who": reporter(ticket.reporter_pseudonym, ticket.reporter_masked),
                    },
                )
        return True

    async def _relay_reply(
        self, turn: Turn, msg: Inbound, changes: Changes, prompt: Prompt
    ) -> bool:
        text = msg.text.strip()
        if not text:
            return False
        text = text[:MAX_REPLY]
        changes.ops += [
            ClearPrompt(msg.key),
            TicketNote(prompt.ticket_id, "reporter", "relay_in", text),
        ]
        turn.say(
            _(
                "Your answer was passed on to the officer (report %(number)s). Type /mulai "
                "for a new report."
            )
            % {"number": prompt.ticket_number}
        )
        ticket = await self.store.ticket_detail(prompt.ticket_number)
        if ticket is None or prompt.officer_id is None:
            return True
        asked = [o for o in await self.store.officers() if o.id == prompt.officer_id]
        for officer in asked:
            with use_locale(None):
                _to(
                    changes,
                    officer,
                    _("Reply from %(who)s about %(number)s:\n%(text)s")
                    % {
                        "who": reporter(ticket.reporter_pseudonym, ticket.reporter_masked),
                        "number": ticket.number,
                        "text": for_staff(text),
                    },
                )
        return True


def _to(changes: Changes, officer: Officer, text: str) -> None:
    changes.replies.append(
        Outbound(officer.channel, officer.external_id, text, locale=current_locale())
    )
