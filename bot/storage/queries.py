"""Reads for officers and the dialogues: who is an officer, tickets as officers see them,
reporter prompts, strikes, a sender's recent reports, open tickets alike (duplicates).

Officer-facing values carry the reporter only as a pseudonym and a masked identity."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage.tickets import CLOSED_SQL
from conversations.desk.duplicates import OpenTicket
from conversations.domain import PromptKind, Role, TicketStatus
from conversations.messages import ChatKey
from conversations.ports import Officer, Prompt, TicketDetail, TicketEvent
from conversations.privacy import masked_identity

_OFFICER = "SELECT id, channel, external_id, name, role, unit FROM officers WHERE active = 1"

_DETAIL = (
    "SELECT t.id, t.number, t.category, t.unit, t.polsek, t.status, t.kecamatan_code,"
    " t.desa_code, t.address, t.lat, t.lon, t.outside_garut, t.chronology, t.incident_time,"
    " t.urgent, t.locale, t.created_at, t.updated_at, t.due_at, t.first_response_at,"
    " r.pseudonym, t.channel, t.chat_id,"
    " (SELECT COUNT(*) FROM evidence e WHERE e.ticket_id = t.id),"
    " (SELECT i.external_id FROM identities i WHERE i.reporter_id = t.reporter_id"
    "  AND i.channel = t.channel ORDER BY i.created_at LIMIT 1), t.reporter_id"
    " FROM tickets t JOIN reporters r ON r.id = t.reporter_id"
)


def officer_from_row(row: aiosqlite.Row) -> Officer:
    return Officer(row[0], row[1], row[2], row[3], Role(row[4]), row[5])


async def officer(conn: aiosqlite.Connection, channel: str, external_id: str) -> Officer | None:
    async with conn.execute(
        _OFFICER + " AND channel = ? AND external_id = ?", (channel, external_id)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else officer_from_row(row)


async def officers(
    conn: aiosqlite.Connection, units: tuple[str, ...], roles: tuple[Role, ...]
) -> list[Officer]:
    clauses: list[str] = []
    params: list[str] = []
    if units:
        clauses.append(f"unit IN ({','.join('?' for _ in units)})")
        params += units
    if roles:
        clauses.append(f"role IN ({','.join('?' for _ in roles)})")
        params += roles
    where = (" AND (" + " OR ".join(clauses) + ")") if clauses else ""
    async with conn.execute(_OFFICER + where + " ORDER BY id", params) as cursor:
        return [officer_from_row(row) for row in await cursor.fetchall()]


def _detail(row: aiosqlite.Row, events: tuple[TicketEvent, ...] = ()) -> TicketDetail:
    return TicketDetail(
        id=row[0],
        number=row[1],
        category=row[2],
        unit=row[3],
        polsek=row[4],
        status=TicketStatus(row[5]),
        kecamatan_code=row[6],
        desa_code=row[7],
        address=row[8],
        lat=row[9],
        lon=row[10],
        outside_garut=bool(row[11]),
        chronology=row[12],
        incident_time=datetime.fromisoformat(row[13]) if row[13] else None,
        urgent=bool(row[14]),
        locale=row[15],
        created_at=from_db(row[16]),
        updated_at=from_db(row[17]),
        due_at=from_db(row[18]),
        first_response_at=from_db(row[19]) if row[19] else None,
        reporter_pseudonym=row[20],
        reporter_masked=masked_identity(row[21], row[24] or ""),
        reporter_channel=row[21],
        reporter_chat=row[22],
        evidence_count=row[23],
        events=events,
        reporter_id=row[25],
    )


def _status(word: str | None) -> TicketStatus | None:
    return None if word is None else TicketStatus(word)


async def ticket_detail(conn: aiosqlite.Connection, number: str) -> TicketDetail | None:
    async with conn.execute(_DETAIL + " WHERE t.number = ?", (number,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with conn.execute(
        "SELECT at, actor, kind, from_status, to_status, note FROM ticket_events"
        " WHERE ticket_id = ? ORDER BY id",
        (row[0],),
    ) as cursor:
        events = tuple(
            TicketEvent(from_db(e[0]), e[1], e[2], _status(e[3]), _status(e[4]), e[5])
            for e in await cursor.fetchall()
        )
    return _detail(row, events)


async def ticket_list(
    conn: aiosqlite.Connection,
    *,
    units: tuple[str, ...] | None,
    status: TicketStatus | None,
    overdue_at: datetime | None,
    offset: int,
    limit: int,
) -> list[TicketDetail]:
    clauses = ["1 = 1"]
    params: list[object] = []
    if units is not None:
        marks = ",".join("?" for _ in units) or "NULL"
        clauses.append(f"(t.unit IN ({marks}) OR t.polsek IN ({marks}))")
        params += [*units, *units]
    if status is not None:
        clauses.append("t.status = ?")
        params.append(status)
    else:
        clauses.append(f"t.status NOT IN {CLOSED_SQL}")
    if overdue_at is not None:
        clauses.append("t.first_response_at IS NULL AND t.due_at < ?")
        params.append(to_db(overdue_at))
    query = _DETAIL + " WHERE " + " AND ".join(clauses) + " ORDER BY t.urgent DESC, t.id DESC"
    async with conn.execute(query + " LIMIT ? OFFSET ?", (*params, limit, offset)) as cursor:
        return [_detail(row) for row in await cursor.fetchall()]


async def pending_prompts(conn: aiosqlite.Connection, key: ChatKey) -> list[Prompt]:
    async with conn.execute(
        "SELECT p.kind, p.ticket_id, t.number, p.officer_id, p.created_at"
        " FROM reporter_prompts p JOIN tickets t ON t.id = p.ticket_id"
        " WHERE p.channel = ? AND p.chat_id = ? ORDER BY p.created_at, p.ticket_id",
        (key.channel, key.chat_id),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Prompt(PromptKind(r[0]), r[1], r[2], r[3], from_db(r[4])) for r in rows]


async def strike_count(conn: aiosqlite.Connection, reporter_id: int) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM strikes WHERE reporter_id = ?", (reporter_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def strikers(conn: aiosqlite.Connection, reporter_id: int) -> dict[str, int]:
    async with conn.execute(
        "SELECT actor, COUNT(*) FROM strikes WHERE reporter_id = ? GROUP BY actor", (reporter_id,)
    ) as cursor:
        return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}


async def tickets_since(
    conn: aiosqlite.Connection, channel: str, sender_id: str, since: datetime
) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM tickets t JOIN identities i ON i.reporter_id = t.reporter_id"
        " WHERE i.channel = ? AND i.external_id = ? AND t.created_at >= ?",
        (channel, sender_id, to_db(since)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def open_tickets_like(
    conn: aiosqlite.Connection, category: str, since: datetime
) -> list[OpenTicket]:
    async with conn.execute(
        "SELECT id, number, desa_code, lat, lon FROM tickets WHERE category = ?"
        f" AND status NOT IN {CLOSED_SQL} AND created_at >= ? ORDER BY id LIMIT 200",
        (category, to_db(since)),
    ) as cursor:
        return [OpenTicket(r[0], r[1], r[2], r[3], r[4]) for r in await cursor.fetchall()]
