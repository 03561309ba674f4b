"""Creating a ticket inside the transaction of the message that confirms it: its number
(``{PREFIX}-{YYYY}-{NNNNN}``, a sequence per year in the local time zone, never reused), its
row, its evidence and its first events. Also the closed statuses as SQL, for the statements
that treat closed tickets apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import to_db
from bot.storage.reporters import pseudonym
from conversations.domain import CLOSED_STATUSES, TicketStatus
from conversations.messages import ChatKey
from conversations.ports import NewTicket, TicketRef

_CLOSED_IN_INDEX_ORDER = (TicketStatus.RESOLVED, TicketStatus.REJECTED)
if set(_CLOSED_IN_INDEX_ORDER) != CLOSED_STATUSES:
    raise RuntimeError("the closed statuses changed: update the open-tickets index too")
CLOSED_SQL = "(" + ", ".join(f"'{status.value}'" for status in _CLOSED_IN_INDEX_ORDER) + ")"
"""The closed statuses as an SQL list, in the order of the partial index
``tickets_open_category`` (``status NOT IN ('selesai', 'ditolak')``). SQLite uses a partial
index only for a query that repeats the index's condition term for term, the order of an
``IN`` list included: in another order, the open tickets alike were found by reading the
whole table (bench/README.md)."""


def ticket_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year:04d}-{seq:05d}"


@dataclass(frozen=True, slots=True)
class Numbering:
    """How ticket numbers are made: the prefix, and the time zone whose year they count in."""

    prefix: str
    tz: ZoneInfo

    def year_of(self, moment: datetime) -> int:
        return moment.astimezone(self.tz).year


async def _next_seq(conn: aiosqlite.Connection, year: int) -> int:
    """The year's next sequence number (the counter only grows: a number is never reused)."""
    async with conn.execute(
        "INSERT INTO ticket_sequences(year, last_value) VALUES (?, 1)"
        " ON CONFLICT(year) DO UPDATE SET last_value = last_value + 1"
        " RETURNING last_value",
        (year,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise RuntimeError(f"no ticket sequence for {year}")
    return int(row[0])


async def create_ticket(
    conn: aiosqlite.Connection,
    numbering: Numbering,
    key: ChatKey,
    new: NewTicket,
    reporter_id: int,
) -> TicketRef:
    """Write the ticket ``new`` of ``reporter_id``, reported in chat ``key``, with its evidence
    and events."""
    stamp = to_db(new.created_at)
    year = numbering.year_of(new.created_at)
    seq = await _next_seq(conn, year)
    number = ticket_number(numbering.prefix, year, seq)
    draft = new.draft
    cursor = await conn.execute(
        "INSERT INTO tickets(number, year, seq, reporter_id, channel, chat_id, category,"
        " unit, polsek, status, kecamatan_code, desa_code, address, lat, lon, outside_garut,"
        " chronology, incident_time, urgent, locale, created_at, updated_at, due_at,"
        " duplicate_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            number,
            year,
            seq,
            reporter_id,
            key.channel,
            key.chat_id,
            draft.category,
            new.unit,
            new.polsek,
            TicketStatus.NEW.value,
            draft.kecamatan_code,
            draft.desa_code,
            draft.address,
            draft.lat,
            draft.lon,
            int(draft.outside_garut),
            draft.chronology or "",
            draft.incident_time,
            int(draft.urgent),
            new.locale,
            stamp,
            stamp,
            to_db(new.due_at),
            new.duplicate_of,
        ),
    )
    ticket_id = cursor.lastrowid
    if ticket_id is None:
        raise RuntimeError(f"ticket {number} got no id")
    await conn.executemany(
        "INSERT INTO evidence(ticket_id, kind, sha256, mime, size, stored_path, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (ticket_id, e.kind, e.sha256, e.mime, e.size, e.stored_path, stamp)
            for e in draft.evidence
        ],
    )
    await conn.execute(
        "INSERT INTO ticket_events(ticket_id, at, actor, kind, to_status, note)"
        " VALUES (?, ?, 'reporter', 'created', ?, NULL)",
        (ticket_id, stamp, TicketStatus.NEW.value),
    )
    if new.duplicate_of is not None:
        await conn.execute(
            "INSERT INTO ticket_events(ticket_id, at, actor, kind, note)"
            " SELECT ?, ?, 'system', 'linked', number FROM tickets WHERE id = ?",
            (ticket_id, stamp, new.duplicate_of),
        )
    return TicketRef(ticket_id, number, await pseudonym(conn, reporter_id))
