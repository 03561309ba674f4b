"""Messages that did not reach a citizen are never dropped silently.

Two ways a message can fail after the engine committed it: the channel refuses it at once
(the dispatcher gives the row up, e.g. WhatsApp's 24-hour window is closed and no template
serves that kind of message), or the platform reports the failure later (a WhatsApp Cloud
API status callback). Either way the outbox row keeps the reason (``last_error``), and when
the message was about a report (a status change, an officer's ``/balas``, the closing
question), the officers of the report's unit and Polsek and the admins are told, in the
default language, which report and why: they can reach the citizen another way.

The platform's later word on a row (sent, delivered, read, failed) is recorded on it
(:func:`bot.storage.outbox.record_delivery`); a failure the channel can work around on a new
attempt (the window closed meanwhile: a template) sends the message again as a new row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiosqlite

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.outbox import OutboxRow, Recorded, SqliteOutbox, record_delivery
from channels.base import DeliveryReport
from conversations.desk.routing import FALLBACK_UNIT
from conversations.domain import Role
from conversations.i18n import _, current_locale, use_locale
from conversations.messages import Outbound
from conversations.ports import Store

__all__ = ["Undelivered"]

log = logging.getLogger(__name__)

REASON_CHARS = 300


class Undelivered:
    """The application's :class:`~channels.base.DeliverySink`, and the dispatcher's
    ``on_given_up``."""

    def __init__(
        self,
        db: Database,
        outbox: SqliteOutbox,
        store: Store,
        clock: Clock,
        *,
        on_outbox: Callable[[tuple[int, ...]], None],
        locale: str,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.on_outbox = on_outbox
        self.locale = locale

    async def delivery_report(self, report: DeliveryReport) -> None:
        now = self.clock.now()

        async def job(conn: aiosqlite.Connection) -> Recorded:
            return await record_delivery(conn, report, now)

        recorded = await self.db.write(job)
        if recorded.resent_id is not None:
            log.info("outbox %s failed (%s); sent again", report.outbox_id, report.error)
            self.on_outbox((recorded.resent_id,))
        elif recorded.failed is not None:
            await self.tell_staff(recorded.failed, report.error or "failed")

    async def given_up(self, row: OutboxRow, error: str) -> None:
        await self.tell_staff(row.outbound, error)

    async def tell_staff(self, outbound: Outbound, reason: str) -> None:
        """Tell the staff of the report ``outbound`` was about that it did not reach the
        citizen; a message about no report (a notice to staff) is only in the outbox."""
        template = outbound.template
        if template is None or template.ticket is None:
            return
        ticket = await self.store.ticket_detail(template.ticket)
        if ticket is None:
            return
        staff = await self.store.officers(units=(ticket.unit, ticket.polsek or FALLBACK_UNIT))
        staff += await self.store.officers(roles=(Role.ADMIN,))
        people = dict.fromkeys((o.channel, o.external_id) for o in staff)
        people.pop((outbound.channel, outbound.chat_id), None)
        if not people:
            log.warning("report %s: undelivered message, and no staff to tell", ticket.number)
            return
        with use_locale(self.locale):
            text = _(
                "Report %(number)s: a message to the reporter was not delivered (%(reason)s). "
                "Reach them another way if it matters; their next message reopens the chat."
            ) % {"number": ticket.number, "reason": reason[:REASON_CHARS]}
            notices = [
                Outbound(channel, chat, text, locale=current_locale()) for channel, chat in people
            ]
        ids = await self.outbox.enqueue(notices, self.clock.now())
        self.on_outbox(tuple(ids))
