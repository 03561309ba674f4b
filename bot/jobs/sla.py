"""The 24-hour promise, watched: a ticket with no first response at 75 % of its time reminds
its unit once. Overdue tickets are flagged where officers look (``/daftar``, the digest)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import Clock, from_db, to_db
from bot.jobs.background import Background
from bot.storage.database import Database
from bot.storage.outbox import enqueue_in
from conversations.desk.routing import FALLBACK_UNIT
from conversations.formatting import format_moment
from conversations.i18n import _, current_locale, use_locale
from conversations.messages import Outbound

log = logging.getLogger(__name__)
REMIND_AT = 0.75


class SlaWatcher(Background):
    name = "SLA reminders"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        sla_hours: int,
        tz: ZoneInfo,
        on_outbox: Callable[[tuple[int, ...]], None],
        interval: float = 60.0,
    ) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self.sla = timedelta(hours=sla_hours)
        self.tz = tz
        self.on_outbox = on_outbox
        self.interval = interval

    async def remind_due(self) -> int:
        """Remind the units of every ticket at 75 % of its time without a response; returns
        how many tickets were reminded. Each ticket is reminded once."""
        now = self.clock.now()
        cutoff = to_db(now - self.sla * REMIND_AT)

        async def job(conn: aiosqlite.Connection) -> list[int]:
            async with conn.execute(
                "SELECT id, number, unit, polsek, due_at FROM tickets"
                " WHERE status IN ('baru', 'diverifikasi') AND first_response_at IS NULL"
                " AND sla_reminded_at IS NULL AND created_at <= ? ORDER BY id LIMIT 200",
                (cutoff,),
            ) as cursor:
                tickets = await cursor.fetchall()
            outbox: list[int] = []
            for ticket_id, number, unit, polsek, due_at in tickets:
                for officer in await _officers(conn, (unit, polsek or FALLBACK_UNIT)):
                    with use_locale(None):
                        text = _(
                            "Reminder: report %(number)s has had no response yet; the promise "
                            "to the reporter ends %(due)s. Reply with /status %(number)s."
                        ) % {"number": number, "due": format_moment(from_db(due_at), self.tz)}
                        outbound = Outbound(officer[0], officer[1], text, locale=current_locale())
                    outbox.append(await enqueue_in(conn, outbound, to_db(now)))
                await conn.execute(
                    "UPDATE tickets SET sla_reminded_at = ? WHERE id = ?", (to_db(now), ticket_id)
                )
            return outbox

        ids = await self.db.write(job)
        if ids:
            self.on_outbox(tuple(ids))
        return len(ids)

    async def tick(self) -> float:
        await self.remind_due()
        return self.interval


async def _officers(conn: aiosqlite.Connection, units: tuple[str, str]) -> list[tuple[str, str]]:
    async with conn.execute(
        "SELECT channel, external_id FROM officers WHERE active = 1 AND unit IN (?, ?) ORDER BY id",
        units,
    ) as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall()]
