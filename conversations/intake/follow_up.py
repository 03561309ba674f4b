"""A reporter's answers on behalf of a ticket: the reply to an officer's relayed message,
and the answer to the closing question ("Apakah masalah Anda sudah tertangani?").

The question was put by an officer's command (a row in ``reporter_prompts``); the reporter's
next plain message answers it. An answer "not yet" reopens the ticket for its unit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from conversations.commands import parse_ticket_number
from conversations.desk.texts import reporter
from conversations.domain import PromptKind, Role, TicketStatus
from conversations.i18n import _, current_locale, use_locale
from conversations.intake.vocabulary import NO_WORDS, YES_WORDS
from conversations.messages import Inbound, Option, Outbound
from conversations.ports import (
    Changes,
    ClearPrompt,
    Officer,
    Prompt,
    Resolved,
    StatusChange,
    Store,
    TicketDetail,
    TicketNote,
)
from conversations.privacy import for_staff
from conversations.state import Step
from conversations.text import normalise

if TYPE_CHECKING:
    from conversations.intake.base import Turn

PROMPT_LIFETIME = timedelta(days=7)
HELD = "follow_up"  # the conversation's pending answer while the reporter chooses the report
REPORT = "report:"  # the option id of a report in that choice
MAX_REPLY = 2000
HANDLED = YES_WORDS | {"sudah", "udah", "sdh", "tos", "parantos", "beres", "tertangani"}
NOT_YET = NO_WORDS | {"belum", "blm", "acan", "teu acan", "not yet"}


class FollowUp:
    def __init__(self, store: Store, tz: ZoneInfo, lifetime: timedelta) -> None:
        self.store = store
        self.tz = tz
        self.lifetime = lifetime

    async def answer(
        self, turn: Turn, msg: Inbound, changes: Changes, prompts: list[Prompt] | None = None
    ) -> bool:
        """Handle ``msg`` as the answer to a pending prompt; False when it is not one. With
        questions open on several reports, the reporter is asked which one they answer (the
        answer waits in the conversation meanwhile), unless it names the report."""
        conv = turn.conv
        open_ = []
        if prompts is None:
            prompts = await self.store.pending_prompts(msg.key)
        for prompt in prompts:
            if turn.now - prompt.created_at > self.lifetime:
                changes.ops.append(ClearPrompt(msg.key, prompt.ticket_id))
            else:
                open_.append(prompt)
        held = conv.pending.get(HELD) if conv.step == Step.WHICH_REPORT else None
        if held is not None:
            conv.step, conv.pending, conv.options = Step.IDLE, {}, []
            chosen = _which(open_, msg)
            if chosen is None:
                if msg.chosen_option is not None or msg.text.strip().isdecimal():
                    turn.say(_("That report has no open question any more."))
                    return True
                return await self.answer(turn, msg, changes)  # a new message after all
            return await self._answer(turn, replace(msg, text=str(held)), changes, chosen)
        if not open_:
            return False
        chosen = open_[0] if len(open_) == 1 else _named(open_, msg.text)
        if chosen is None:
            if not msg.text.strip():
                return False
            options = [Option(f"{REPORT}{p.ticket_id}", _label(p)) for p in open_]
            conv.step, conv.pending, conv.options = Step.WHICH_REPORT, {HELD: msg.text}, options
            turn.say(_("Which report is your answer about?"), options)
            return True
        return await self._answer(turn, msg, changes, chosen)

    async def _answer(self, turn: Turn, msg: Inbound, changes: Changes, prompt: Prompt) -> bool:
        if prompt.kind is PromptKind.CLOSING:
            return await self._closing(turn, msg, changes, prompt)
        return await self._relay_reply(turn, msg, changes, prompt)

    async def _closing(self, turn: Turn, msg: Inbound, changes: Changes, prompt: Prompt) -> bool:
        choice = msg.chosen_option or ""
        said = normalise(msg.text, limit=100)
        handled = choice == "closing:yes" or said in HANDLED or said == "1"
        not_yet = choice == "closing:no" or said in NOT_YET or said == "2"
        if not (handled or not_yet):
            changes.ops.append(ClearPrompt(msg.key, prompt.ticket_id))
            return False
        changes.ops += [ClearPrompt(msg.key, prompt.ticket_id), Resolved(prompt.ticket_id, handled)]
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
        shortened = len(text) > MAX_REPLY
        text = text[:MAX_REPLY]
        changes.ops += [
            ClearPrompt(msg.key, prompt.ticket_id),
            TicketNote(prompt.ticket_id, "reporter", "relay_in", text),
        ]
        ticket = await self.store.ticket_detail(prompt.ticket_number)
        readers = [] if ticket is None else await self._readers(ticket, prompt)
        if readers:
            turn.say(
                _(
                    "Your answer was passed on to the officer (report %(number)s). Type /mulai "
                    "for a new report."
                )
                % {"number": prompt.ticket_number}
            )
        else:
            turn.say(
                _(
                    "Your answer was added to report %(number)s; the officers will read it "
                    "there. Type /mulai for a new report."
                )
                % {"number": prompt.ticket_number}
            )
        if ticket is None:
            return True
        for officer in readers:
            with use_locale(None):
                lines = [
                    _("Reply from %(who)s about %(number)s:\n%(text)s")
                    % {
                        "who": reporter(ticket.reporter_pseudonym, ticket.reporter_masked),
                        "number": ticket.number,
                        "text": for_staff(text),
                    }
                ]
                if officer.id != prompt.officer_id:
                    lines.append(
                        _("(It answers a message of an officer no longer registered.)")
                    )
                if shortened:
                    lines.append(
                        _("(Shortened to its first %(n)d characters.)") % {"n": MAX_REPLY}
                    )
                _to(changes, officer, "\n".join(lines))
        return True

    async def _readers(self, ticket: TicketDetail, prompt: Prompt) -> list[Officer]:
        """Who reads a reply: the officer who asked; when they are no longer registered, the
        officers of the ticket's unit and Polsek (the SPKT when it has none), or the
        Kapolres when nobody is left there."""
        officers = await self.store.officers()
        asked = [o for o in officers if o.id == prompt.officer_id]
        if asked:
            return asked
        units = await self.store.officers(units=(ticket.unit, ticket.polsek or "SPKT"))
        return units or await self.store.officers(roles=(Role.KAPOLRES,))


def _label(prompt: Prompt) -> str:
    if prompt.kind is PromptKind.CLOSING:
        return _("%(number)s: has it been handled?") % {"number": prompt.ticket_number}
    return _("%(number)s: the officer's message") % {"number": prompt.ticket_number}


def _named(prompts: list[Prompt], text: str) -> Prompt | None:
    """The prompt whose report ``text`` names, if exactly one."""
    number = parse_ticket_number(text)
    named = [p for p in prompts if p.ticket_number == number]
    return named[0] if len(named) == 1 else None


def _which(prompts: list[Prompt], msg: Inbound) -> Prompt | None:
    """The report chosen from the list: its button, its place in the list, or its number."""
    if msg.chosen_option is not None:
        return next((p for p in prompts if f"{REPORT}{p.ticket_id}" == msg.chosen_option), None)
    said = msg.text.strip().rstrip(".) ")
    if said.isdecimal() and len(said) <= 2:
        index = int(said) - 1
        return prompts[index] if 0 <= index < len(prompts) else None
    return _named(prompts, msg.text)


def _to(changes: Changes, officer: Officer, text: str) -> None:
    changes.replies.append(
        Outbound(officer.channel, officer.external_id, text, locale=current_locale())
    )
