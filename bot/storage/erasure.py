"""The reporter's right to be forgotten (UU 27/2022, ``/hapusdata``), as SQL.

:func:`erase_reporter` runs in the transaction of the request and removes every identifier
the reporter gave, wherever it was copied:

- their identities (the link to a phone number, a Telegram id, a WhatsApp name), the chat
  link of every report of theirs (open ones too: nobody can reach them through a report any
  more), the chat's prompts, timers, handled message ids and dialogue state;
- in the text of their reports, their events (relayed messages both ways) and every outbox
  row that speaks of them (officers' notices, kept or pending): phone numbers, e-mail
  addresses, NIK, the names they gave as their own ("saya Rina") and their ids, each replaced
  by ``[dihapus]``; the delivered replies to their chat are deleted, the pending ones are
  deleted once delivered (``forget_when_sent``);
- the evidence of their closed reports and of an unfinished draft: the rows now, the files
  right after the commit (the sha256 it returns; :mod:`bot.evidence.shredder`).

Their open reports stay with the police for the investigation (topic, place, the story
without identifiers, the evidence) until closed; :func:`forget_closed_of_erased`, run by the
retention job, then purges their evidence too.
"""

from __future__ import annotations

import json

import aiosqlite

from bot.storage.reporters import reporter_of
from bot.storage.tickets import CLOSED_SQL
from conversations import identifiers
from conversations.messages import ChatKey

_ERASED = "t.reporter_id IN (SELECT id FROM reporters WHERE erase_requested_at IS NOT NULL)"


async def erase_reporter(
    conn: aiosqlite.Connection, key: ChatKey, sender_id: str, stamp: str
) -> set[str]:
    """Forget the reporter ``sender_id`` of chat ``key`` now (see the module doc); returns
    the sha256 of the evidence files no row refers to any more."""
    channel = key.channel
    released = await _draft_files(conn, key)
    reporter_id = await reporter_of(conn, channel, sender_id)
    chats = {key.chat_id, sender_id}
    if reporter_id is not None:
        await conn.execute(
            "UPDATE reporters SET erase_requested_at = ? WHERE id = ?", (stamp, reporter_id)
        )
        needles, numbers = await _needles(conn, reporter_id, chats)
        await _scrub_reports(conn, reporter_id, needles)
        await _scrub_outbox(conn, needles, numbers)
        released |= await _forget_closed(conn, "t.reporter_id = ?", (reporter_id,))
        await conn.execute(
            "DELETE FROM reporter_prompts WHERE ticket_id IN"
            " (SELECT id FROM tickets WHERE reporter_id = ?)",
            (reporter_id,),
        )
        await conn.execute("UPDATE tickets SET chat_id = '' WHERE reporter_id = ?", (reporter_id,))
        async with conn.execute(
            "SELECT channel, external_id FROM identities WHERE reporter_id = ?", (reporter_id,)
        ) as cursor:
            chats |= {str(r[1]) for r in await cursor.fetchall() if r[0] == channel}
        await conn.execute("DELETE FROM identities WHERE reporter_id = ?", (reporter_id,))
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action, detail) VALUES (?, 'reporter',"
            " 'reporter.erase', ?)",
            (stamp, json.dumps({"reporter": reporter_id})),
        )
    for chat in chats:
        for table in ("reporter_prompts", "timers", "inbound_messages"):
            await conn.execute(
                f"DELETE FROM {table} WHERE channel = ? AND chat_id = ?", (channel, chat)
            )
        await conn.execute(
            "DELETE FROM outbox WHERE channel = ? AND chat_id = ?"
            " AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)",
            (channel, chat),
        )
        await conn.execute(
            "UPDATE outbox SET forget_when_sent = 1 WHERE channel = ? AND chat_id = ?",
            (channel, chat),
        )
        await conn.execute(
            "DELETE FROM conversations WHERE channel = ? AND chat_id = ?", (channel, chat)
        )
    return await _unreferenced(conn, released)


async def forget_when_sent(conn: aiosqlite.Connection, key: ChatKey) -> None:
    """The replies just queued for an erased chat are deleted once delivered."""
    await conn.execute(
        "UPDATE outbox SET forget_when_sent = 1 WHERE channel = ? AND chat_id = ?"
        " AND sent_at IS NULL",
        (key.channel, key.chat_id),
    )


async def forget_closed_of_erased(conn: aiosqlite.Connection) -> set[str]:
    """Purge the evidence and the chat link of every closed report of a reporter who asked to
    be forgotten (reports closed since the request); returns the sha256 of the files no
    evidence refers to any more."""
    return await _unreferenced(conn, await _forget_closed(conn, _ERASED, ()))


async def _forget_closed(
    conn: aiosqlite.Connection, which: str, params: tuple[object, ...]
) -> set[str]:
    """Delete the evidence rows, prompts and chat link of the closed tickets matching
    ``which`` (an SQL condition on ``t`` with ``params``); the sha256 of the rows deleted."""
    closed = f"SELECT t.id FROM tickets t WHERE t.status IN {CLOSED_SQL} AND {which}"
    async with conn.execute(
        f"SELECT sha256 FROM evidence WHERE ticket_id IN ({closed})", params
    ) as cursor:
        released = {str(r[0]) for r in await cursor.fetchall()}
    await conn.execute(f"DELETE FROM evidence WHERE ticket_id IN ({closed})", params)
    await conn.execute(f"DELETE FROM reporter_prompts WHERE ticket_id IN ({closed})", params)
    await conn.execute(
        f"UPDATE tickets SET chat_id = '' WHERE chat_id != '' AND id IN ({closed})", params
    )
    return released


async def _unreferenced(conn: aiosqlite.Connection, sha256s: set[str]) -> set[str]:
    """Those of ``sha256s`` that no evidence row refers to."""
    kept: set[str] = set()
    for sha in sha256s:
        async with conn.execute("SELECT 1 FROM evidence WHERE sha256 = ? LIMIT 1", (sha,)) as c:
            if await c.fetchone() is not None:
                kept.add(sha)
    return sha256s - kept


async def _draft_files(conn: aiosqlite.Connection, key: ChatKey) -> set[str]:
    """The evidence of the chat's unfinished draft, dropped with it."""
    async with conn.execute(
        "SELECT data FROM conversations WHERE channel = ? AND chat_id = ?",
        (key.channel, key.chat_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return set()
    draft = json.loads(row[0]).get("draft") or {}
    return {str(item["sha256"]) for item in draft.get("evidence", []) if "sha256" in item}


async def _needles(
    conn: aiosqlite.Connection, reporter_id: int, chats: set[str]
) -> tuple[set[str], set[str]]:
    """What to remove: the reporter's ids (every way a number is written), their names, the
    identifiers in their own words; and the numbers of their reports."""
    needles: set[str] = set()
    async with conn.execute(
        "SELECT external_id, display_name FROM identities WHERE reporter_id = ?", (reporter_id,)
    ) as cursor:
        for external_id, name in await cursor.fetchall():
            needles |= _id_forms(str(external_id))
            needles |= set((name or "").split())
    for chat in chats:
        needles |= _id_forms(chat)
    async with conn.execute(
        "SELECT t.chronology, t.address FROM tickets t WHERE t.reporter_id = ? UNION ALL"
        " SELECT e.note, NULL FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE t.reporter_id = ? AND e.kind = 'relay_in'",
        (reporter_id, reporter_id),
    ) as cursor:
        own_words = [str(r[i]) for r in await cursor.fetchall() for i in (0, 1) if r[i]]
    for text in own_words:
        for found in identifiers.find(text):
            needles |= {found.text, found.masked}
        needles |= identifiers.own_names(text)
    async with conn.execute(
        "SELECT number FROM tickets WHERE reporter_id = ?", (reporter_id,)
    ) as cursor:
        numbers = {str(r[0]) for r in await cursor.fetchall()}
    return {n for n in needles if len(n) >= 2}, numbers


def _id_forms(external_id: str) -> set[str]:
    """An id as it may appear in text: ``6281299887766``, ``081299887766``, ``81299887766``."""
    bare = external_id.split("@", 1)[0].split(":", 1)[0]
    forms = {external_id, bare}
    if bare.startswith("62") and bare.isdigit():
        forms |= {"0" + bare[2:], bare[2:], identifiers.mask("0" + bare[2:])}
    return {f for f in forms if len(f) >= 5}


async def _scrub_reports(conn: aiosqlite.Connection, reporter_id: int, needles: set[str]) -> None:
    async with conn.execute(
        "SELECT id, chronology, address FROM tickets WHERE reporter_id = ?", (reporter_id,)
    ) as cursor:
        tickets = await cursor.fetchall()
    for ticket_id, chronology, address in tickets:
        await conn.execute(
            "UPDATE tickets SET chronology = ?, address = ? WHERE id = ?",
            (
                identifiers.erase(chronology, needles),
                None if address is None else identifiers.erase(address, needles),
                ticket_id,
            ),
        )
    async with conn.execute(
        "SELECT e.id, e.note FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE t.reporter_id = ? AND e.note IS NOT NULL",
        (reporter_id,),
    ) as cursor:
        notes = await cursor.fetchall()
    for event_id, note in notes:
        await conn.execute(
            "UPDATE ticket_events SET note = ? WHERE id = ?",
            (identifiers.erase(note, needles), event_id),
        )


async def _scrub_outbox(conn: aiosqlite.Connection, needles: set[str], numbers: set[str]) -> None:
    """Every outbox row (kept or pending, to anyone) that names one of the reports or
    carries one of the needles gets its text without them."""
    async with conn.execute("SELECT id, payload FROM outbox") as cursor:
        rows = await cursor.fetchall()
    lowered = [n.casefold() for n in needles]
    for outbox_id, payload in rows:
        folded = str(payload).casefold()
        if not any(n.casefold() in folded for n in numbers) and not any(
            n in folded for n in lowered
        ):
            continue
        data = json.loads(payload)
        data["text"] = identifiers.erase(data.get("text", ""), needles)
        media = data.get("media")
        if media and media.get("caption"):
            media["caption"] = identifiers.erase(media["caption"], needles)
        await conn.execute(
            "UPDATE outbox SET payload = ? WHERE id = ?",
            (json.dumps(data, ensure_ascii=False, separators=(",", ":")), outbox_id),
        )
