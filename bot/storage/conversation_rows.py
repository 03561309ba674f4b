"""The ``conversations`` table: a chat's dialogue state as one row, with a version that every
save increments, so that a save can check the row is still the one it was read at."""

from __future__ import annotations

import aiosqlite

from conversations.engine import StaleConversation
from conversations.messages import ChatKey
from conversations.state import Conversation

ConversationRow = tuple[str, str, str | None, int]
"""A conversation as stored: state, data (JSON), locale, version."""


async def read_conversation(conn: aiosqlite.Connection, key: ChatKey) -> ConversationRow | None:
    async with conn.execute(
        "SELECT state, data, locale, version FROM conversations WHERE channel = ? AND chat_id = ?",
        (key.channel, key.chat_id),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else (str(row[0]), str(row[1]), row[2], int(row[3]))


async def save_conversation(
    conn: aiosqlite.Connection,
    conversation: Conversation,
    stamp: str,
    expected_version: int | None = None,
) -> ConversationRow:
    """Save ``conversation`` and return its row as saved; with ``expected_version`` (the
    version it was read at, 0 for no row), raise StaleConversation when the row has been
    written since."""
    key = conversation.key
    data = conversation.data_json()
    async with conn.execute(
        "INSERT INTO conversations(channel, chat_id, state, data, locale, version, updated_at)"
        " VALUES (?, ?, ?, ?, ?, 1, ?)"
        " ON CONFLICT(channel, chat_id) DO UPDATE SET state = excluded.state,"
        " data = excluded.data, locale = excluded.locale, version = version + 1,"
        " updated_at = excluded.updated_at RETURNING version",
        (
            key.channel,
            key.chat_id,
            conversation.step.value,
            data,
            conversation.locale,
            stamp,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    if expected_version is not None and (row is None or row[0] != expected_version + 1):
        raise StaleConversation(f"conversation {key} changed since it was read")
    if row is None:
        raise RuntimeError(f"saving conversation {key} returned no version")
    return (conversation.step.value, data, conversation.locale, int(row[0]))
