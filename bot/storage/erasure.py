"""The reporter's right to be forgotten (UU 27/2022, ``/hapusdata``), as SQL.

:func:`erase_reporter` runs in the transaction of the request: the reporter's identities (the
link to a phone number or a Telegram id) are deleted at once, with the evidence and the chat
link of their closed reports, the chat's pending prompts, timers, handled message ids,
delivered replies and dialogue state. Their open reports keep their evidence (and the way to
tell the reporter of progress) until they are closed; :func:`forget_closed_of_erased`, run
periodically by the retention job, then purges the same from them.
"""

from __future__ import annotations

import json

import aiosqlite

from bot.storage.reporters import reporter_of
from bot.storage.tickets import CLOSED_SQL
from conversations.messages import ChatKey

_ERASED = "t.reporter_id IN (SELECT id FROM reporters WHERE erase_requested_at IS NOT NULL)"


async def erase_reporter(
    conn: aiosqlite.Connection, key: ChatKey, sender_id: str, stamp: str
) -> None:
    """Forget the reporter ``sender_id`` of chat ``key`` now, as far as their open reports
    allow (see the module doc)."""
    channel = key.channel
    reporter_id = await reporter_of(conn, channel, sender_id)
    if reporter_id is not None:
        await conn.execute(
            "UPDATE reporters SET erase_requested_at = ? WHERE id = ?", (stamp, reporter_id)
        )
        await _forget_closed(conn, "t.reporter_id = ?", (reporter_id,))
        await conn.execute("DELETE FROM identities WHERE reporter_id = ?", (reporter_id,))
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action, detail) VALUES (?, 'reporter', "
            "'reporter.erase', ?)",
            (stamp, json.dumps({"reporter": reporter_id})),
        )
    for table in ("reporter_prompts", "timers", "inbound_messages"):
        await conn.execute(
            f"DELETE FROM {table} WHERE channel = ? AND chat_id = ?", (channel, sender_id)
        )
    await conn.execute(
        "DELETE FROM outbox WHERE channel = ? AND chat_id = ? AND sent_at IS NOT NULL",
        (channel, sender_id),
    )
    await conn.execute(
        "DELETE FROM conversations WHERE channel = ? AND chat_id = ?", (channel, key.chat_id)
    )


async def forget_closed_of_erased(conn: aiosqlite.Connection) -> int:
    """Purge the evidence and the chat link of every closed report of a reporter who asked to
    be forgotten (reports closed since the request); returns how many reports were touched."""
    return await _forget_closed(conn, _ERASED, ())


async def _forget_closed(conn: aiosqlite.Connection, which: str, params: tuple[object, ...]) -> int:
    """Delete the evidence rows and the chat link of the closed tickets matching ``which``
    (an SQL condition on ``t`` with ``params``); returns how many tickets were touched."""
    await conn.execute(
        "DELETE FROM evidence WHERE ticket_id IN (SELECT t.id FROM tickets t"
        f" WHERE t.status IN {CLOSED_SQL} AND {which})",
        params,
    )
    cursor = await conn.execute(
        "UPDATE tickets SET chat_id = '' WHERE id IN (SELECT t.id FROM tickets t"
        f" WHERE t.status IN {CLOSED_SQL} AND t.chat_id != '' AND {which})",
        params,
    )
    return cursor.rowcount
