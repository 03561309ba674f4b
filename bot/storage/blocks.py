"""The anti-prank block list in SQL: the active blocks, as the guard's
:class:`~conversations.guard.BlockList` reads them (:class:`SqliteBlocks`), and blocking every
identity of a reporter inside a ticket operation's transaction (:func:`block_reporter`)."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage.database import Database
from conversations.guard import Block
from conversations.ports import BlockReporter


async def active_blocks(conn: aiosqlite.Connection, now: datetime) -> dict[tuple[str, str], Block]:
    """Every block still in force at ``now``, by ``(channel, external id)``."""
    async with conn.execute(
        "SELECT channel, external_id, until, reason FROM blocks WHERE until > ?", (to_db(now),)
    ) as cursor:
        return {
            (str(r[0]), str(r[1])): Block(from_db(r[2]), str(r[3])) for r in await cursor.fetchall()
        }


async def upsert_block(
    conn: aiosqlite.Connection,
    channel: str,
    external_id: str,
    *,
    until: str,
    reason: str,
    stamp: str,
    actor: str,
) -> None:
    """Block one identity until ``until`` (a database time), or move its block there."""
    await conn.execute(
        "INSERT INTO blocks(channel, external_id, until, reason, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
        " until = excluded.until, reason = excluded.reason,"
        " created_at = excluded.created_at, created_by = excluded.created_by",
        (channel, external_id, until, reason, stamp, actor),
    )


async def block_reporter(conn: aiosqlite.Connection, op: BlockReporter, stamp: str) -> None:
    """Block every identity of the reporter (a number and its @lid alike), audited."""
    async with conn.execute(
        "SELECT channel, external_id FROM identities WHERE reporter_id = ?", (op.reporter_id,)
    ) as cursor:
        identities = await cursor.fetchall()
    for channel, external_id in identities:
        await upsert_block(
            conn,
            channel,
            external_id,
            until=to_db(op.until),
            reason=op.reason,
            stamp=stamp,
            actor=op.actor,
        )
    await conn.execute(
        "INSERT INTO audit_log(at, actor, action, detail) VALUES (?, ?, 'block', ?)",
        (
            stamp,
            op.actor,
            json.dumps({"reporter": op.reporter_id, "until": to_db(op.until), "reason": op.reason}),
        ),
    )


class SqliteBlocks:
    """The block list as the guard reads it (:class:`~conversations.guard.BlockSource`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def active_blocks(self, now: datetime) -> dict[tuple[str, str], Block]:
        return await self.db.read(lambda conn: active_blocks(conn, now), inline=True)
