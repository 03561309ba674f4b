"""Tickets as their reporter sees them (``/status``). They are found through the asking
sender's identity, so a reporter reads their own tickets only."""

from __future__ import annotations

import aiosqlite

from bot.clock import from_db
from conversations.domain import TicketStatus
from conversations.ports import TicketView

_TICKET_VIEW = (
    "SELECT t.number, t.category, t.status, t.kecamatan_code, t.desa_code, t.address,"
    " t.created_at, t.updated_at, t.due_at FROM tickets t"
    " JOIN identities i ON i.reporter_id = t.reporter_id"
    " WHERE i.channel = ? AND i.external_id = ?"
)


def _ticket_view(row: aiosqlite.Row) -> TicketView:
    return TicketView(
        number=row[0],
        category=row[1],
        status=TicketStatus(row[2]),
        kecamatan_code=row[3],
        desa_code=row[4],
        address=row[5],
        created_at=from_db(row[6]),
        updated_at=from_db(row[7]),
        due_at=from_db(row[8]),
    )


async def ticket_for_reporter(
    conn: aiosqlite.Connection, number: str, channel: str, sender_id: str
) -> TicketView | None:
    """Ticket ``number``, when it is the sender's own."""
    async with conn.execute(
        _TICKET_VIEW + " AND t.number = ?", (channel, sender_id, number)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _ticket_view(row)


async def tickets_for_reporter(
    conn: aiosqlite.Connection, channel: str, sender_id: str, limit: int
) -> list[TicketView]:
    """The sender's newest ``limit`` tickets, newest first."""
    async with conn.execute(
        _TICKET_VIEW + " ORDER BY t.id DESC LIMIT ?", (channel, sender_id, limit)
    ) as cursor:
        return [_ticket_view(row) for row in await cursor.fetchall()]
