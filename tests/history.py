"""Crafted ticket histories for the map, hotspot and recap tests: tickets written with the
storage's own ``create_ticket`` at chosen times and places, then worked by plain updates of
the columns the follow-up sets (first response, closing, the reporter's answer)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.app import App
from bot.clock import to_db
from bot.storage.reporters import reporter_for_sender
from bot.storage.tickets import Numbering, create_ticket
from conversations.messages import ChatKey
from conversations.ports import NewTicket
from conversations.state import Draft

_chats = itertools.count(1)


@dataclass(frozen=True)
class Seed:
    at: datetime
    category: str = "uang_palsu"
    kecamatan: str | None = "32.05.12"  # Cibatu
    desa: str | None = None
    urgent: bool = False
    responded_after: timedelta | None = None
    closed_after: timedelta | None = None
    resolved_ok: bool | None = None
    status: str | None = None  # set with closed_after: selesai (default) or ditolak
    duplicate_of: str | None = None  # the number of an earlier seed's ticket
    lat: float | None = None
    lon: float | None = None


async def seed(app: App, seeds: list[Seed], sla: timedelta = timedelta(hours=24)) -> list[str]:
    """Write the tickets of ``seeds``; returns their numbers, in order."""
    numbering = Numbering(app.settings.ticket_prefix, app.settings.tz)

    async def job(conn: aiosqlite.Connection) -> list[str]:
        numbers: list[str] = []
        for item in seeds:
            chat = f"warga-{next(_chats)}"
            stamp = to_db(item.at)
            reporter = await reporter_for_sender(
                conn, "test", chat, aliases=(), display_name=None, stamp=stamp
            )
            draft = Draft(
                started_at=stamp,
                category=item.category,
                location_done=True,
                kecamatan_code=item.kecamatan,
                desa_code=item.desa,
                lat=item.lat,
                lon=item.lon,
                chronology="cerita",
                urgent=item.urgent,
            )
            original = None
            if item.duplicate_of is not None:
                async with conn.execute(
                    "SELECT id FROM tickets WHERE number = ?", (item.duplicate_of,)
                ) as cursor:
                    row = await cursor.fetchone()
                    original = int(row[0]) if row else None
            new = NewTicket(draft, "SATRESKRIM", None, "id", item.at, item.at + sla, original)
            ref = await create_ticket(conn, numbering, ChatKey("test", chat), new, reporter)
            numbers.append(ref.number)
            if item.responded_after is not None:
                await conn.execute(
                    "UPDATE tickets SET first_response_at = ?, status = 'diproses' WHERE id = ?",
                    (to_db(item.at + item.responded_after), ref.id),
                )
            if item.closed_after is not None:
                await conn.execute(
                    "UPDATE tickets SET closed_at = ?, status = ?, resolved_ok = ? WHERE id = ?",
                    (
                        to_db(item.at + item.closed_after),
                        item.status or "selesai",
                        None if item.resolved_ok is None else int(item.resolved_ok),
                        ref.id,
                    ),
                )
        return numbers

    return await app.db.write(job)
