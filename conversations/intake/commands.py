"""Citizen commands at any step of the intake: /mulai, /batal, /bantuan, /status, /bahasa,
/hapusdata."""

from __future__ import annotations

from conversations.commands import Command, parse_ticket_number
from conversations.domain import TicketStatus
from conversations.formatting import format_moment
from conversations.i18n import LOCALES, _, current_locale, use_locale
from conversations.intake import prompts
from conversations.intake.base import IntakeBase, Turn, yes_or_no
from conversations.messages import Inbound
from conversations.ports import Changes, EraseReporter
from conversations.state import Step
from conversations.text import normalise


class CitizenCommands(IntakeBase):
    async def _command(self, turn: Turn, cmd: Command, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        if cmd.name == "mulai":
            if conv.draft is None:
                await self._start(turn, None)
            elif conv.step == Step.CANCEL_CONFIRM:  # "start" answers "cancel it?" with no
                conv.step = conv.resume or Step.CATEGORY
                conv.resume = None
                turn.say(_("Your report is kept; let us continue."))
                self._reask(turn)
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
            still_open = await self._open_reports(msg)
            conv.pending["erase_open"] = still_open
            text, options = prompts.erase_question(still_open)
            turn.ask(Step.ERASE_CONFIRM, text, options)

    async def _open_reports(self, msg: Inbound) -> list[str]:
        mine = await self.store.tickets_for_reporter(msg.channel, msg.sender_id, 50)
        return [t.number for t in mine if t.status.is_open]

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
        found = await self.store.ticket_for_reporter(number, msg.channel, msg.sender_id)
        if found is None:
            turn.say(_("Report %(number)s was not found among your reports.") % {"number": number})
            return
        ticket = found
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
        if ticket.status in (TicketStatus.NEW, TicketStatus.VERIFIED):
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
            if turn.conv.step == Step.LANGUAGE:  # the language question is answered too
                turn.conv.pending = {}
                self._confirm_prefill_or_ask(turn)
            elif turn.conv.draft is not None:
                self._reask(turn)

    def _on_erase(self, turn: Turn, msg: Inbound, changes: Changes) -> None:
        conv = turn.conv
        answer = self._chosen(conv, msg) or yes_or_no(msg.text)
        if answer in (prompts.YES, prompts.NO):
            conv.pending.pop("erase_open", None)
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
