"""The SQLite implementation of the engine's store, plus what the dispatcher and the timer
scheduler need. Every statement is parameterised; every write goes through the single writer
of :class:`~bot.storage.database.Database`."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage import queries
from bot.storage.database import Database
from bot.storage.ticket_ops import apply_op
from conversations.desk.duplicates import OpenTicket
from conversations.domain import Role, TicketStatus
from conversations.engine import StaleConversation
from conversations.guard import Block
from conversations.messages import ChatKey, Media, Option, Outbound
from conversations.ports import (
    Changes,
    CommitOutcome,
    CommitResult,
    NewTicket,
    Officer,
    Prompt,
    TicketDetail,
    TicketRef,
    TicketView,
    Timer,
    TimerKind,
)
from conversations.state import Conversation


@dataclass(frozen=True, slots=True)
class OutboxScope:
    """What one process delivers: a whole channel, or one chat of it (a console session)."""

    channel: str
    chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    outbound: Outbound
    attempts: int
    next_attempt_at: datetime | None


def outbound_to_json(outbound: Outbound) -> str:
    payload: dict[str, Any] = {"text": outbound.text, "locale": outbound.locale}
    if outbound.options:
        payload["options"] = [[o.id, o.label] for o in outbound.options]
    if outbound.media is not None:
        payload["media"] = {
            "path": str(outbound.media.path),
            "mime": outbound.media.mime,
            "caption": outbound.media.caption,
        }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def outbound_from_json(
    channel: str, chat_id: str, payload: str, outbox_id: int | None = None
) -> Outbound:
    raw = json.loads(payload)
    media = raw.get("media")
    return Outbound(
        channel=channel,
        chat_id=chat_id,
        text=raw["text"],
        options=tuple(Option(str(i), str(label)) for i, label in raw.get("options", [])),
        media=Media(Path(media["path"]), media["mime"], media.get("caption")) if media else None,
        locale=raw.get("locale", "id"),
        outbox_id=outbox_id,
    )


def ticket_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year:04d}-{seq:05d}"


CACHED_CONVERSATIONS = 2048
_ConversationRow = tuple[str, str, str | None, int]  # state, data, locale, version
_SELECT_CONVERSATION = (
    "SELECT state, data, locale, version FROM conversations WHERE channel = ? AND chat_id = ?"
)


class SqliteStore:
    def __init__(self, db: Database, *, ticket_prefix: str, tz: ZoneInfo) -> None:
        self.db = db
        self.ticket_prefix = ticket_prefix
        self.tz = tz
        # The committed conversation row of the most recently active chats (None: no row),
        # so that a chat's next message needs no read. Written through by apply() after
        # each commit; at most CACHED_CONVERSATIONS of them, the rest stay in the database.
        # Another process may write a conversation too: every save checks that the row's
        # version is still the cached one, and raises StaleConversation (nothing applied,
        # the entry forgotten) when it is not; the engine then reads it again.
        self._conversations: OrderedDict[ChatKey, _ConversationRow | None] = OrderedDict()
        self._sent_batch: tuple[list[tuple[str, int]], asyncio.Future[None]] | None = None

    # --- conversations -------------------------------------------------------------------

    async def load_conversation(self, key: ChatKey) -> Conversation | None:
        if key in self._conversations:
            self._conversations.move_to_end(key)
            cached = self._conversations[key]
            return None if cached is None else Conversation.from_row(key, *cached)

        async def job(conn: aiosqlite.Connection) -> _ConversationRow | None:
            async with conn.execute(_SELECT_CONVERSATION, (key.channel, key.chat_id)) as cursor:
                row = await cursor.fetchone()
            return None if row is None else (row[0], row[1], row[2], row[3])

        row = await self.db.read(job, inline=True)
        if key not in self._conversations:  # a save that committed meanwhile knows better
            self._remember(key, row)
        return None if row is None else Conversation.from_row(key, *row)

    def _remember(self, key: ChatKey, row: _ConversationRow | None) -> None:
        self._conversations[key] = row
        self._conversations.move_to_end(key)
        while len(self._conversations) > CACHED_CONVERSATIONS:
            self._conversations.popitem(last=False)

    def forget_conversations(self) -> None:
        """Drop every cached conversation (the next message of each chat reads its row)."""
        self._conversations.clear()

    async def is_processed(self, channel: str, message_id: str) -> bool:
        async def job(conn: aiosqlite.Connection) -> bool:
            async with conn.execute(
                "SELECT 1 FROM inbound_messages WHERE channel = ? AND message_id = ?",
                (channel, message_id),
            ) as cursor:
                return await cursor.fetchone() is not None

        return await self.db.read(job, inline=True)

    async def reporter_locale(self, channel: str, sender_id: str) -> str | None:
        async def job(conn: aiosqlite.Connection) -> str | None:
            async with conn.execute(
                "SELECT r.locale FROM identities i JOIN reporters r ON r.id = i.reporter_id"
                " WHERE i.channel = ? AND i.external_id = ?",
                (channel, sender_id),
            ) as cursor:
                row = await cursor.fetchone()
            return None if row is None else row[0]

        return await self.db.read(job, inline=True)

    async def apply(self, changes: Changes, now: datetime) -> CommitResult:
        key = changes.key
        expected: int | None = None  # not cached: nothing to check
        if key in self._conversations:
            cached = self._conversations[key]
            expected = 0 if cached is None else cached[3]

        async def job(conn: aiosqlite.Connection) -> tuple[CommitResult, _ConversationRow | None]:
            result = await self._apply(conn, changes, now, expected)
            async with conn.execute(_SELECT_CONVERSATION, (key.channel, key.chat_id)) as cursor:
                row = await cursor.fetchone()
            return result, None if row is None else (row[0], row[1], row[2], row[3])

        try:
            result, row = await self.db.write(job, inline=True)
        except BaseException:
            self._conversations.pop(key, None)  # read it again next time
            raise
        self._remember(key, row)
        return result

    async def _apply(
        self,
        conn: aiosqlite.Connection,
        changes: Changes,
        now: datetime,
        expected_version: int | None = None,
    ) -> CommitResult:
        key = changes.key
        stamp = to_db(now)
        if changes.inbound_id is not None:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO inbound_messages(channel, message_id, chat_id, received_at)"
                " VALUES (?, ?, ?, ?)",
                (key.channel, changes.inbound_id, key.chat_id, stamp),
            )
            if cursor.rowcount == 0:
                return CommitResult(CommitOutcome.DUPLICATE)
        if changes.fired_timer_id is not None:
            cursor = await conn.execute(
                "DELETE FROM timers WHERE id = ?", (changes.fired_timer_id,)
            )
            if cursor.rowcount == 0:
                return CommitResult(CommitOutcome.STALE)
        if changes.conversation is not None:
            expected = expected_version if changes.conversation.key == key else None
            await self._save_conversation(conn, changes.conversation, stamp, expected)
        if changes.locale is not None and changes.sender_id is not None:
            reporter_id = await self._reporter_id(conn, key.channel, changes, stamp)
            await conn.execute(
                "UPDATE reporters SET locale = ? WHERE id = ?", (changes.locale, reporter_id)
            )
        replies = list(changes.replies)
        ticket: TicketRef | None = None
        if changes.ticket is not None:
            ticket = await self._create_ticket(conn, key, changes, changes.ticket)
            if changes.replies_after_ticket is not None:
                replies.extend(changes.replies_after_ticket(ticket))
        for op in changes.ops:
            await apply_op(conn, op, stamp)
        outbox_ids = [await self._enqueue(conn, reply, stamp) for reply in replies]
        for kind in changes.cancel_timers:
            await conn.execute(
                "DELETE FROM timers WHERE channel = ? AND chat_id = ? AND kind = ?",
                (key.channel, key.chat_id, kind.value),
            )
        for timer in changes.set_timers:
            await conn.execute(
                "INSERT INTO timers(channel, chat_id, kind, due_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(channel, chat_id, kind) DO UPDATE SET due_at = excluded.due_at",
                (timer.key.channel, timer.key.chat_id, timer.kind.value, to_db(timer.due_at)),
            )
        return CommitResult(CommitOutcome.APPLIED, tuple(outbox_ids), ticket)

    async def _save_conversation(
        self,
        conn: aiosqlite.Connection,
        conversation: Conversation,
        stamp: str,
        expected_version: int | None = None,
    ) -> None:
        """Save ``conversation``; with ``expected_version`` (the version it was read at), raise
        StaleConversation when the row has been written since."""
        key = conversation.key
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
                conversation.data_json(),
                conversation.locale,
                stamp,
            ),
        ) as cursor:
            row = await cursor.fetchone()
        if expected_version is not None and (row is None or row[0] != expected_version + 1):
            raise StaleConversation(f"conversation {key} changed since it was read")

    async def _reporter_id(
        self, conn: aiosqlite.Connection, channel: str, changes: Changes, stamp: str
    ) -> int:
        sender = changes.sender_id
        assert sender is not None
        # The sender's other ids on this channel (Inbound.sender_aliases; WhatsApp: the @lid
        # form of a phone number, or the reverse) are identities of the same reporter, who is
        # found by any of them.
        aliases = changes.sender_aliases
        names = list(dict.fromkeys([sender, *(a for a in aliases if a and a != sender)]))
        known: dict[str, int] = {}
        for name in names:
            async with conn.execute(
                "SELECT reporter_id FROM identities WHERE channel = ? AND external_id = ?",
                (channel, name),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                known[name] = int(row[0])
        if sender in known:
            reporter_id = known[sender]
        elif known:
            reporter_id = next(iter(known.values()))
        else:
            reporter_id = await self._new_reporter(conn, stamp)
        for name in names:
            if name not in known:  # an id already of another reporter stays theirs
                await conn.execute(
                    "INSERT INTO identities(channel, external_id, reporter_id, display_name,"
                    " created_at) VALUES (?, ?, ?, ?, ?)",
                    (channel, name, reporter_id, changes.sender_name, stamp),
                )
        return reporter_id

    async def _new_reporter(self, conn: aiosqlite.Connection, stamp: str) -> int:
        for attempt in range(20):
            pseudonym = secrets.token_hex(2 if attempt < 10 else 4).upper()
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO reporters(pseudonym, created_at) VALUES (?, ?)",
                (pseudonym, stamp),
            )
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                return cursor.lastrowid
        raise RuntimeError("could not allocate a reporter pseudonym")

    async def _create_ticket(
        self, conn: aiosqlite.Connection, key: ChatKey, changes: Changes, new: NewTicket
    ) -> TicketRef:
        stamp = to_db(new.created_at)
        reporter_id = await self._reporter_id(conn, key.channel, changes, stamp)
        year = new.created_at.astimezone(self.tz).year
        async with conn.execute(
            "INSERT INTO ticket_sequences(year, last_value) VALUES (?, 1)"
            " ON CONFLICT(year) DO UPDATE SET last_value = last_value + 1"
            " RETURNING last_value",
            (year,),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        seq = int(row[0])
        number = ticket_number(self.ticket_prefix, year, seq)
        draft = new.draft
        cursor = await conn.execute(
            "INSERT INTO tickets(number, year, seq, reporter_id, channel, chat_id, category,"
            " unit, polsek, status, kecamatan_code, desa_code, address, lat, lon, outside_garut,"
            " chronology, incident_time, urgent, locale, created_at, updated_at, due_at,"
            " duplicate_of)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'baru', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        assert ticket_id is not None
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
            " VALUES (?, ?, 'reporter', 'created', 'baru', NULL)",
            (ticket_id, stamp),
        )
        if new.duplicate_of is not None:
            await conn.execute(
                "INSERT INTO ticket_events(ticket_id, at, actor, kind, note)"
                " SELECT ?, ?, 'system', 'linked', number FROM tickets WHERE id = ?",
                (ticket_id, stamp, new.duplicate_of),
            )
        async with conn.execute(
            "SELECT pseudonym FROM reporters WHERE id = ?", (reporter_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return TicketRef(ticket_id, number, row[0] if row else "")

    async def enqueue_in(self, conn: aiosqlite.Connection, outbound: Outbound, stamp: str) -> int:
        """Put ``outbound`` in the outbox inside the caller's transaction."""
        return await self._enqueue(conn, outbound, stamp)

    async def _enqueue(self, conn: aiosqlite.Connection, outbound: Outbound, stamp: str) -> int:
        cursor = await conn.execute(
            "INSERT INTO outbox(channel, chat_id, payload, created_at) VALUES (?, ?, ?, ?)",
            (outbound.channel, outbound.chat_id, outbound_to_json(outbound), stamp),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def enqueue(self, outbounds: list[Outbound], now: datetime) -> list[int]:
        """Put messages in the outbox on their own (notices, relayed messages)."""

        async def job(conn: aiosqlite.Connection) -> list[int]:
            return [await self._enqueue(conn, o, to_db(now)) for o in outbounds]

        return await self.db.write(job, inline=True)

    # --- tickets as the reporter sees them -----------------------------------------------

    _TICKET_VIEW = (
        "SELECT t.number, t.category, t.status, t.kecamatan_code, t.desa_code, t.address,"
        " t.created_at, t.updated_at, t.due_at FROM tickets t"
        " JOIN identities i ON i.reporter_id = t.reporter_id"
        " WHERE i.channel = ? AND i.external_id = ?"
    )

    async def ticket_for_reporter(
        self, number: str, channel: str, sender_id: str
    ) -> TicketView | None:
        async def job(conn: aiosqlite.Connection) -> TicketView | None:
            async with conn.execute(
                self._TICKET_VIEW + " AND t.number = ?", (channel, sender_id, number)
            ) as cursor:
                row = await cursor.fetchone()
            return None if row is None else _ticket_view(row)

        return await self.db.read(job, inline=True)

    async def tickets_for_reporter(
        self, channel: str, sender_id: str, limit: int
    ) -> list[TicketView]:
        async def job(conn: aiosqlite.Connection) -> list[TicketView]:
            async with conn.execute(
                self._TICKET_VIEW + " ORDER BY t.id DESC LIMIT ?", (channel, sender_id, limit)
            ) as cursor:
                return [_ticket_view(row) for row in await cursor.fetchall()]

        return await self.db.read(job, inline=True)

    # --- officers and tickets as officers see them -----------------------------------------

    async def officer(self, channel: str, external_id: str) -> Officer | None:
        return await self.db.read(
            lambda conn: queries.officer(conn, channel, external_id), inline=True
        )

    async def officers(
        self, *, units: tuple[str, ...] = (), roles: tuple[Role, ...] = ()
    ) -> list[Officer]:
        return await self.db.read(lambda conn: queries.officers(conn, units, roles), inline=True)

    async def ticket_detail(self, number: str) -> TicketDetail | None:
        return await self.db.read(lambda conn: queries.ticket_detail(conn, number), inline=True)

    async def ticket_list(
        self,
        *,
        units: tuple[str, ...] | None,
        status: TicketStatus | None,
        overdue_at: datetime | None,
        offset: int,
        limit: int,
    ) -> list[TicketDetail]:
        return await self.db.read(
            lambda conn: queries.ticket_list(
                conn,
                units=units,
                status=status,
                overdue_at=overdue_at,
                offset=offset,
                limit=limit,
            ),
            inline=True,
        )

    async def pending_prompt(self, key: ChatKey) -> Prompt | None:
        return await self.db.read(lambda conn: queries.pending_prompt(conn, key), inline=True)

    async def open_tickets_like(self, category: str, since: datetime) -> list[OpenTicket]:
        return await self.db.read(
            lambda conn: queries.open_tickets_like(conn, category, since), inline=True
        )

    async def strike_count(self, reporter_id: int) -> int:
        return await self.db.read(lambda conn: queries.strike_count(conn, reporter_id), inline=True)

    async def tickets_since(self, channel: str, sender_id: str, since: datetime) -> int:
        return await self.db.read(
            lambda conn: queries.tickets_since(conn, channel, sender_id, since),
            inline=True,
        )

    async def active_blocks(self, now: datetime) -> dict[tuple[str, str], Block]:
        return await self.db.read(lambda conn: queries.active_blocks(conn, now), inline=True)

    # --- outbox --------------------------------------------------------------------------

    async def pending_outbox(
        self, scopes: tuple[OutboxScope, ...], after_id: int, limit: int
    ) -> list[OutboxRow]:
        """Undelivered rows after ``after_id`` for the served channels (or single chats)."""
        if not scopes:
            return []
        clauses: list[str] = []
        params: list[object] = []
        for scope in scopes:
            if scope.chat_id is None:
                clauses.append("channel = ?")
                params.append(scope.channel)
            else:
                clauses.append("(channel = ? AND chat_id = ?)")
                params += [scope.channel, scope.chat_id]
        where = " OR ".join(clauses)

        async def job(conn: aiosqlite.Connection) -> list[OutboxRow]:
            async with conn.execute(
                "SELECT id, channel, chat_id, payload, attempts, next_attempt_at FROM outbox"
                f" WHERE sent_at IS NULL AND failed_at IS NULL AND ({where})"
                " AND id > ? ORDER BY id LIMIT ?",
                (*params, after_id, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            return [
                OutboxRow(
                    id=row[0],
                    outbound=outbound_from_json(row[1], row[2], row[3], row[0]),
                    attempts=row[4],
                    next_attempt_at=from_db(row[5]) if row[5] else None,
                )
                for row in rows
            ]

        return await self.db.read(job, inline=True)

    async def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """Returns once the row is marked sent (committed). The marks asked for in the same
        moment (one turn of the event loop: many chats' deliveries end together) share one
        write job."""
        batch = self._sent_batch
        if batch is None:
            batch = self._sent_batch = ([], asyncio.ensure_future(self._mark_sent_together()))
        batch[0].append((to_db(now), outbox_id))
        await asyncio.shield(batch[1])

    async def _mark_sent_together(self) -> None:
        await asyncio.sleep(0)  # let this moment's other marks join
        batch, self._sent_batch = self._sent_batch, None
        assert batch is not None
        marks = batch[0]

        async def job(conn: aiosqlite.Connection) -> None:
            await conn.executemany(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", marks
            )

        await self.db.write(job, inline=True)

    async def mark_retry(self, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
        await self.db.write(
            _statement(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE id = ?",
                (to_db(next_attempt_at), error[:500], outbox_id),
            ),
            inline=True,
        )

    async def mark_failed(self, outbox_id: int, now: datetime, error: str) -> None:
        await self.db.write(
            _statement(
                "UPDATE outbox SET attempts = attempts + 1, failed_at = ?, last_error = ?"
                " WHERE id = ?",
                (to_db(now), error[:500], outbox_id),
            ),
            inline=True,
        )

    # --- timers --------------------------------------------------------------------------

    async def due_timers(self, until: datetime, limit: int = 200) -> list[Timer]:
        async def job(conn: aiosqlite.Connection) -> list[Timer]:
            async with conn.execute(
                "SELECT id, channel, chat_id, kind, due_at FROM timers WHERE due_at <= ?"
                " ORDER BY due_at LIMIT ?",
                (to_db(until), limit),
            ) as cursor:
                rows = await cursor.fetchall()
            return [
                Timer(ChatKey(r[1], r[2]), TimerKind(r[3]), from_db(r[4]), id=r[0])
                for r in rows
                if r[3] in TimerKind._value2member_map_
            ]

        return await self.db.read(job, inline=True)

    async def next_timer_due(self) -> datetime | None:
        async def job(conn: aiosqlite.Connection) -> datetime | None:
            async with conn.execute("SELECT MIN(due_at) FROM timers") as cursor:
                row = await cursor.fetchone()
            return from_db(row[0]) if row and row[0] else None

        return await self.db.read(job, inline=True)


def _statement(
    sql: str, params: tuple[Any, ...]
) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
    async def job(conn: aiosqlite.Connection) -> None:
        async with conn.execute(sql, params):
            pass

    return job


def _ticket_view(row: aiosqlite.Row) -> TicketView:
    return TicketView(
        number=row[0],
        category=row[1],
        status=TicketStatus(row[2]),
        kecamatan_code=row[3],
        desa_code=row[4],
        address=row[5],
        created_at=from_db(row[6]),
        updated_at=from_db(row[7]),
        due_at=from_db(row[8]),
    )
