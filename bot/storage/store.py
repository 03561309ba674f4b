"""The SQLite implementation of the engine's :class:`~conversations.ports.Store`: conversation
state (behind a bounded cache), atomic application of a message's changes, and the reads of
the dialogues (tickets as their reporter sees them, officers, tickets as officers see them,
prompts). Every statement is parameterised; every write goes through the single writer of
:class:`~bot.storage.database.Database`.

The outbox, the timers and the block list have their own objects (:mod:`bot.storage.outbox`,
:mod:`bot.storage.timers`, :mod:`bot.storage.blocks`) over the same database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.storage import inbound, queries, reporter_views, reporters
from bot.storage.changes import apply_changes
from bot.storage.conversation_cache import ConversationCache
from bot.storage.conversation_rows import ConversationRow, read_conversation
from bot.storage.database import Database
from bot.storage.tickets import Numbering
from conversations.desk.duplicates import OpenTicket
from conversations.domain import Role, TicketStatus
from conversations.messages import ChatKey
from conversations.ports import (
    Changes,
    CommitResult,
    LoadedChat,
    Officer,
    Prompt,
    TicketDetail,
    TicketView,
)
from conversations.state import Conversation


class SqliteStore:
    """The engine's store (:class:`~conversations.ports.Store`) over one database."""

    def __init__(
        self,
        db: Database,
        *,
        ticket_prefix: str,
        tz: ZoneInfo,
        on_released: Callable[[frozenset[str]], Awaitable[object]] | None = None,
    ) -> None:
        self.db = db
        # deletes the evidence files a commit released (an erasure), once it is committed
        self.on_released = on_released
        self.numbering = Numbering(ticket_prefix, tz)
        # The committed conversation row of the most recently active chats, so that a chat's
        # next message needs no read; written through by apply() after each commit. Another
        # process may write a conversation too: every save checks that the row's version is
        # still the cached one, and raises StaleConversation (nothing applied, the entry
        # forgotten) when it is not; the engine then reads it again.
        self._conversations = ConversationCache()

    # --- conversations -------------------------------------------------------------------

    async def load_conversation(self, key: ChatKey) -> Conversation | None:
        if key in self._conversations:
            cached = self._conversations.get(key)
            return None if cached is None else Conversation.from_row(key, *cached)
        row = await self.db.read(lambda conn: read_conversation(conn, key), inline=True)
        if key not in self._conversations:  # a save that committed meanwhile knows better
            self._conversations.remember(key, row)
        return None if row is None else Conversation.from_row(key, *row)

    async def load_chat(self, key: ChatKey, sender_id: str) -> LoadedChat:
        cached = self._conversations.get(key) if key in self._conversations else None
        if cached is not None:
            conversation = Conversation.from_row(key, *cached)
            if conversation.draft is not None:
                return LoadedChat(conversation)

            officer, prompts = await self.db.read(
                lambda conn: _officer_and_prompts(conn, key, sender_id), inline=True
            )
            return LoadedChat(conversation, officer, officer_read=True, prompts=prompts)

        async def job(
            conn: aiosqlite.Connection,
        ) -> tuple[ConversationRow | None, str | None, Officer | None, list[Prompt]]:
            row = await read_conversation(conn, key)
            locale = None
            if row is None:
                locale = await reporters.reporter_locale(conn, key.channel, sender_id)
            return (row, locale, *await _officer_and_prompts(conn, key, sender_id))

        row, locale, officer, prompts = await self.db.read(job, inline=True)
        if key not in self._conversations:  # a save that committed meanwhile knows better
            self._conversations.remember(key, row)
        conversation = (
            Conversation(key=key, locale=locale)
            if row is None
            else Conversation.from_row(key, *row)
        )
        return LoadedChat(
            conversation,
            officer,
            officer_read=True,
            prompts=prompts if conversation.draft is None else None,
        )

    def forget_conversations(self) -> None:
        """Drop every cached conversation (the next message of each chat reads its row)."""
        self._conversations.clear()

    async def apply(self, changes: Changes, now: datetime) -> CommitResult:
        """Apply ``changes`` in one transaction: all of it is committed, or none of it."""
        key = changes.key
        expected = self._conversations.version(key)  # None: not cached, nothing to check

        async def job(conn: aiosqlite.Connection) -> tuple[CommitResult, ConversationRow | None]:
            result, saved = await apply_changes(conn, changes, now, self.numbering, expected)
            if saved is not None:
                return result, saved
            # read back in the same transaction: whatever it did to the row (an erase
            # included) is what is cached
            return result, await read_conversation(conn, key)

        try:
            result, row = await self.db.write(job, inline=True)
        except BaseException:
            self._conversations.forget(key)  # read it again next time
            raise
        self._conversations.remember(key, row)
        if result.released_files and self.on_released is not None:
            await self.on_released(result.released_files)
        return result

    async def is_processed(self, channel: str, message_id: str) -> bool:
        return await self.db.read(
            lambda conn: inbound.is_processed(conn, channel, message_id), inline=True
        )

    # --- reporters and their tickets -----------------------------------------------------

    async def reporter_locale(self, channel: str, sender_id: str) -> str | None:
        return await self.db.read(
            lambda conn: reporters.reporter_locale(conn, channel, sender_id), inline=True
        )

    async def ticket_for_reporter(
        self, number: str, channel: str, sender_id: str
    ) -> TicketView | None:
        return await self.db.read(
            lambda conn: reporter_views.ticket_for_reporter(conn, number, channel, sender_id),
            inline=True,
        )

    async def tickets_for_reporter(
        self, channel: str, sender_id: str, limit: int
    ) -> list[TicketView]:
        return await self.db.read(
            lambda conn: reporter_views.tickets_for_reporter(conn, channel, sender_id, limit),
            inline=True,
        )

    async def tickets_since(self, channel: str, sender_id: str, since: datetime) -> int:
        return await self.db.read(
            lambda conn: queries.tickets_since(conn, channel, sender_id, since), inline=True
        )

    async def strike_count(self, reporter_id: int) -> int:
        return await self.db.read(lambda conn: queries.strike_count(conn, reporter_id), inline=True)

    async def strikers(self, reporter_id: int) -> dict[str, int]:
        return await self.db.read(lambda conn: queries.strikers(conn, reporter_id), inline=True)

    async def pending_prompts(self, key: ChatKey) -> list[Prompt]:
        return await self.db.read(lambda conn: queries.pending_prompts(conn, key), inline=True)

    # --- officers and tickets as officers see them ---------------------------------------

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

    async def open_tickets_like(self, category: str, since: datetime) -> list[OpenTicket]:
        return await self.db.read(
            lambda conn: queries.open_tickets_like(conn, category, since), inline=True
        )


async def _officer_and_prompts(
    conn: aiosqlite.Connection, key: ChatKey, sender_id: str
) -> tuple[Officer | None, list[Prompt]]:
    """What a chat without an open draft may need besides its conversation: the sender's
    officer record and the chat's pending questions."""
    officer = await queries.officer(conn, key.channel, sender_id)
    return officer, await queries.pending_prompts(conn, key)
