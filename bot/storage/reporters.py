"""Reporters and their identities. A reporter is known to officers by a pseudonym only; the
platform ids that reach them (a phone number, its WhatsApp @lid, a Telegram id) live in
``identities`` alone. Here: the one look-up of an identity's reporter, finding or creating the
reporter behind a message's sender, and the reporter's language."""

from __future__ import annotations

import secrets

import aiosqlite

PSEUDONYM_TRIES = 20  # short pseudonyms first (4 hex digits), longer ones after half of them
# Short pseudonyms are tried only while at most half of them can be taken (every reporter
# ever made had one): a random one is then free at least every other try. After that every
# new reporter gets 8 hex digits at once, so a reporter costs the same with a million stored.
SHORT_PSEUDONYMS_UNTIL = 16**4 // 2


async def reporter_of(conn: aiosqlite.Connection, channel: str, external_id: str) -> int | None:
    """The reporter behind the identity ``external_id`` on ``channel``, if any."""
    async with conn.execute(
        "SELECT reporter_id FROM identities WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else int(row[0])


async def reporter_for_sender(
    conn: aiosqlite.Connection,
    channel: str,
    sender_id: str,
    *,
    aliases: tuple[str, ...],
    display_name: str | None,
    stamp: str,
) -> int:
    """The reporter behind a message's sender, created when new. The sender's other ids on
    this channel (Inbound.sender_aliases; WhatsApp: the @lid form of a phone number, or the
    reverse) are identities of the same reporter, who is found by any of them; an id already
    of another reporter stays theirs."""
    names = list(dict.fromkeys([sender_id, *(a for a in aliases if a and a != sender_id)]))
    known: dict[str, int] = {}
    for name in names:
        found = await reporter_of(conn, channel, name)
        if found is not None:
            known[name] = found
    if sender_id in known:
        reporter_id = known[sender_id]
    elif known:
        reporter_id = next(iter(known.values()))
    else:
        reporter_id = await _new_reporter(conn, stamp)
    for name in names:
        if name not in known:
            await conn.execute(
                "INSERT INTO identities(channel, external_id, reporter_id, display_name,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (channel, name, reporter_id, display_name, stamp),
            )
    return reporter_id


async def _new_reporter(conn: aiosqlite.Connection, stamp: str) -> int:
    async with conn.execute("SELECT COALESCE(MAX(id), 0) FROM reporters") as cursor:
        row = await cursor.fetchone()
    made = int(row[0]) if row else 0  # reporters are never deleted: as many were made
    short_tries = PSEUDONYM_TRIES // 2 if made < SHORT_PSEUDONYMS_UNTIL else 0
    for attempt in range(PSEUDONYM_TRIES):
        pseudonym = secrets.token_hex(2 if attempt < short_tries else 4).upper()
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO reporters(pseudonym, created_at) VALUES (?, ?)",
            (pseudonym, stamp),
        )
        if cursor.rowcount == 1 and cursor.lastrowid is not None:
            return cursor.lastrowid
    raise RuntimeError("could not allocate a reporter pseudonym")


async def pseudonym(conn: aiosqlite.Connection, reporter_id: int) -> str:
    """The reporter's pseudonym ("" when there is no such reporter)."""
    async with conn.execute("SELECT pseudonym FROM reporters WHERE id = ?", (reporter_id,)) as c:
        row = await c.fetchone()
    return str(row[0]) if row else ""


async def set_locale(conn: aiosqlite.Connection, reporter_id: int, locale: str) -> None:
    """Remember the reporter's chosen language, across their chats."""
    await conn.execute("UPDATE reporters SET locale = ? WHERE id = ?", (locale, reporter_id))


async def reporter_locale(conn: aiosqlite.Connection, channel: str, sender_id: str) -> str | None:
    """The language the reporter behind ``sender_id`` chose, if any."""
    async with conn.execute(
        "SELECT r.locale FROM identities i JOIN reporters r ON r.id = i.reporter_id"
        " WHERE i.channel = ? AND i.external_id = ?",
        (channel, sender_id),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None or row[0] is None else str(row[0])
