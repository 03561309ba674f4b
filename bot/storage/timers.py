"""Durable timers as rows of ``timers``: one per chat and kind.

They are armed, cancelled and consumed inside the transaction of the change that does so
(:func:`arm`, :func:`cancel`, :func:`consume`), and read by the timer scheduler
(:class:`SqliteTimers`), which hands the due ones to the engine.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage.database import Database
from conversations.messages import ChatKey
from conversations.ports import Timer, TimerKind

DUE_AT_ONCE = 200  # timers handed out by one read


async def arm(conn: aiosqlite.Connection, *armed: Timer) -> None:
    """Set each timer (one statement for all); one already set for its chat and kind moves
    to the new time (of two for the same chat and kind, the later one counts)."""
    if not armed:
        return
    await conn.execute(
        "INSERT INTO timers(channel, chat_id, kind, due_at) VALUES "
        + ", ".join(["(?, ?, ?, ?)"] * len(armed))
        + " ON CONFLICT(channel, chat_id, kind) DO UPDATE SET due_at = excluded.due_at",
        [
            value
            for timer in armed
            for value in (
                timer.key.channel,
                timer.key.chat_id,
                timer.kind.value,
                to_db(timer.due_at),
            )
        ],
    )


async def cancel(conn: aiosqlite.Connection, key: ChatKey, *kinds: TimerKind) -> None:
    """Remove the chat's timers of ``kinds``, those set (one statement for all)."""
    if not kinds:
        return
    await conn.execute(
        "DELETE FROM timers WHERE channel = ? AND chat_id = ? AND kind IN ("
        + ", ".join("?" * len(kinds))
        + ")",
        (key.channel, key.chat_id, *(kind.value for kind in kinds)),
    )


async def consume(conn: aiosqlite.Connection, timer_id: int) -> bool:
    """Remove a timer that fires; False when it was already gone (re-armed or cancelled)."""
    cursor = await conn.execute("DELETE FROM timers WHERE id = ?", (timer_id,))
    return cursor.rowcount != 0


class SqliteTimers:
    """The timers as the scheduler reads them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def due_timers(self, until: datetime, limit: int = DUE_AT_ONCE) -> list[Timer]:
        """The timers due at ``until``, earliest first (kinds this version does not know
        are left alone)."""

        async def job(conn: aiosqlite.Connection) -> list[Timer]:
            async with conn.execute(
                "SELECT id, channel, chat_id, kind, due_at FROM timers WHERE due_at <= ?"
                " ORDER BY due_at LIMIT ?",
                (to_db(until), limit),
            ) as cursor:
                rows = await cursor.fetchall()
            return [
                Timer(ChatKey(r[1], r[2]), TimerKind(r[3]), from_db(r[4]), id=int(r[0]))
                for r in rows
                if r[3] in TimerKind._value2member_map_
            ]

        return await self.db.read(job, inline=True)

    async def next_timer_due(self) -> datetime | None:
        """When the earliest timer falls due; None when no timer is set."""

        async def job(conn: aiosqlite.Connection) -> datetime | None:
            async with conn.execute("SELECT MIN(due_at) FROM timers") as cursor:
                row = await cursor.fetchone()
            return from_db(row[0]) if row and row[0] else None

        return await self.db.read(job, inline=True)
