"""Turning a confirmed draft into a ticket: routing, duplicates, the limits per day, the
reporter's confirmation and the officers' notices."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from conversations.desk import texts as officer_text
from conversations.desk.duplicates import WITHIN, OpenTicket, find_similar, may_have_twin
from conversations.desk.routing import Route, route
from conversations.domain import Role, TicketStatus
from conversations.formatting import format_moment
from conversations.i18n import _, current_locale, use_locale
from conversations.intake import prompts
from conversations.intake.base import IntakeBase, Turn
from conversations.intake.ticket_replies import TicketReplies
from conversations.messages import ChatKey, Inbound, Outbound
from conversations.ports import NewTicket, TicketDetail, TicketRef
from conversations.privacy import masked_identity
from conversations.state import Draft


class Submission(IntakeBase):
    async def _submit(self, turn: Turn, msg: Inbound) -> None:
        """Create the ticket: the reporter gets its number and the promise; the officers of
        its unit and Polsek (or the SPKT) get a notice, and the Kapolres too when urgent."""
        conv = turn.conv
        draft = conv.draft
        assert draft is not None
        limit = self.settings.tickets_per_day
        category = self.categories.get(draft.category or "") or self.categories["lainnya"]
        way = route(category.code, draft.kecamatan_code)
        # the three reads go together (one trip to the database)
        sent, candidates, recipients = await asyncio.gather(
            self.store.tickets_since(msg.channel, msg.sender_id, turn.now - timedelta(days=1)),
            self._candidates(draft, category.code, turn.now),
            self.store.officers(units=way.units, roles=(Role.KAPOLRES,) if draft.urgent else ()),
        )
        if sent >= limit:
            turn.say(prompts.too_many_reports(limit))
            self._show_summary(turn)
            return
        draft.category = category.code
        due = turn.now + timedelta(hours=self.settings.sla_hours)
        locale = current_locale()
        similar = find_similar(draft, candidates)
        turn.ticket = NewTicket(
            draft=draft,
            unit=way.unit,
            polsek=way.polsek,
            locale=locale,
            created_at=turn.now,
            due_at=due,
            duplicate_of=similar.id if similar else None,
        )
        key, tz, sla, now = conv.key, self.settings.tz, self.settings.sla_hours, turn.now
        masked = masked_identity(msg.channel, msg.sender_id)
        categories, gazetteer = self.categories, self.gazetteer

        def confirmation(ticket: TicketRef) -> list[Outbound]:
            with use_locale(locale):
                text = _(
                    "Thank you. Your report has been received with number %(number)s.\n"
                    "Officers will follow it up within %(hours)d hours (by %(due)s).\n"
                    "Check its progress at any time: /status %(number)s"
                ) % {"number": ticket.number, "hours": sla, "due": format_moment(due, tz)}
                if similar is not None:
                    text += "\n" + _(
                        "A similar report (%(other)s) is already being handled; yours was added "
                        "to it, and your evidence still counts."
                    ) % {"other": similar.number}
                replies = [Outbound(key.channel, key.chat_id, text, locale=locale)]
            officers = [
                officer
                for officer in recipients
                if (officer.channel, officer.external_id) != (key.channel, msg.sender_id)
            ]
            if not officers:
                return replies
            detail = draft_detail(ticket, draft, way, locale, key, masked, now, due)
            with use_locale(None):  # every officer reads the office's language
                notice = officer_text.new_ticket_notice(detail, categories, gazetteer, tz)
                if similar is not None:
                    notice += "\n" + _("Possibly the same as %(other)s.") % {
                        "other": similar.number
                    }
                office_locale = current_locale()
            replies.extend(
                Outbound(officer.channel, officer.external_id, notice, locale=office_locale)
                for officer in officers
            )
            return replies

        turn.after_ticket = TicketReplies.word(confirmation)
        self._drop_draft(conv)

    async def _candidates(self, draft: Draft, category: str, now: datetime) -> list[OpenTicket]:
        """The open tickets ``draft`` could be a second report of (none to read when it has
        neither desa nor pin)."""
        if not may_have_twin(draft):
            return []
        return await self.store.open_tickets_like(category, now - WITHIN)


def draft_detail(
    ticket: TicketRef,
    draft: Draft,
    way: Route,
    locale: str,
    key: ChatKey,
    masked: str,
    now: datetime,
    due: datetime,
) -> TicketDetail:
    """The ticket being created, as officers will see it (before it is read back)."""
    return TicketDetail(
        id=ticket.id,
        number=ticket.number,
        category=draft.category or "lainnya",
        unit=way.unit,
        polsek=way.polsek,
        status=TicketStatus.NEW,
        kecamatan_code=draft.kecamatan_code,
        desa_code=draft.desa_code,
        address=draft.address,
        lat=draft.lat,
        lon=draft.lon,
        outside_garut=draft.outside_garut,
        chronology=draft.chronology or "",
        incident_time=datetime.fromisoformat(draft.incident_time) if draft.incident_time else None,
        urgent=draft.urgent,
        locale=locale,
        created_at=now,
        updated_at=now,
        due_at=due,
        first_response_at=None,
        reporter_pseudonym=ticket.pseudonym,
        reporter_masked=masked,
        reporter_channel=key.channel,
        reporter_chat=key.chat_id,
        evidence_count=len(draft.evidence),
    )
