"""Handled inbound messages, by ``(channel, platform message id)``: platforms redeliver, and a
message recorded here is not handled again (idempotent intake)."""

from __future__ import annotations

import aiosqlite

from conversations.messages import ChatKey


async def record_inbound(
    conn: aiosqlite.Connection, key: ChatKey, message_id: str, stamp: str
) -> bool:
    """Record the message as handled, in the caller's transaction; False when it already was."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO inbound_messages(channel, message_id, chat_id, received_at)"
        " VALUES (?, ?, ?, ?)",
        (key.channel, message_id, key.chat_id, stamp),
    )
    return cursor.rowcount != 0


async def is_processed(conn: aiosqlite.Connection, channel: str, message_id: str) -> bool:
    async with conn.execute(
        "SELECT 1 FROM inbound_messages WHERE channel = ? AND message_id = ?",
        (channel, message_id),
    ) as cursor:
        return await cursor.fetchone() is not None
