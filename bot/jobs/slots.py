"""Scheduled sends to every Kapolres (the daily digest, the weekly and monthly recap), durable.

A slot (``2026-11-27T07:00+07:00`` for a digest, ``week:2026-11-30`` for a recap) is recorded
in ``digests`` in the same transaction as its outbox rows, so it is sent once, never twice,
also when two processes try; the latest slot missed while the bot was down is sent at the next
start. While no Kapolres is registered nothing is sent or recorded, so one registered later
still gets the latest slot.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import Clock, to_db
from bot.jobs.background import Background
from bot.storage.database import Database
from bot.storage.outbox import enqueue_in
from conversations.categories import Categories
from conversations.domain import Role
from conversations.messages import ChatKey, Outbound
from conversations.ports import Officer, Store
from conversations.understanding.places import Gazetteer

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Reporting:
    """What the digest and the recap read from: the database, the categories, the gazetteer
    and the local time zone."""

    db: Database
    categories: Categories
    gazetteer: Gazetteer
    tz: ZoneInfo


class Deliverable(Protocol):
    """Something composed once and sent to several readers."""

    @property
    def files(self) -> tuple[Path, ...]:
        """The files it sends (removed when a slot turns out to be sent already)."""
        ...

    def outbounds(self, to: ChatKey) -> list[Outbound]: ...


class Mailer:
    """Puts deliverables in the outbox for the Kapolres, once per slot."""

    def __init__(self, db: Database, store: Store) -> None:
        self.db = db
        self.store = store

    async def kapolres(self) -> list[Officer]:
        return await self.store.officers(roles=(Role.KAPOLRES,))

    async def send(
        self,
        composed: Deliverable,
        readers: Iterable[Officer],
        now: datetime,
        *,
        slot: str | None = None,
    ) -> list[int]:
        """Put ``composed`` in the outbox for each reader; returns the outbox ids. With a
        ``slot``, the slot is recorded in the same transaction, and nothing is sent when it
        already was (by this process or another)."""
        outbounds = [
            o for r in readers for o in composed.outbounds(ChatKey(r.channel, r.external_id))
        ]
        stamp = to_db(now)

        async def job(conn: aiosqlite.Connection) -> list[int]:
            if slot is not None:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO digests(slot, sent_at) VALUES (?, ?)", (slot, stamp)
                )
                if cursor.rowcount == 0:
                    return []
            return [await enqueue_in(conn, o, stamp) for o in outbounds]

        return await self.db.write(job)

    async def was_sent(self, slot: str) -> bool:
        async def job(conn: aiosqlite.Connection) -> bool:
            async with conn.execute("SELECT 1 FROM digests WHERE slot = ?", (slot,)) as cursor:
                return await cursor.fetchone() is not None

        return await self.db.read(job)


class SlotScheduler(Background):
    """Sends the latest due slot that was not sent yet, at start and at each slot."""

    def __init__(
        self,
        mailer: Mailer,
        clock: Clock,
        *,
        on_outbox: Callable[[tuple[int, ...]], None],
        max_sleep: float = 60.0,
    ) -> None:
        super().__init__()
        self.mailer = mailer
        self.clock = clock
        self.on_outbox = on_outbox
        self.max_sleep = max_sleep
        self.passes = 0

    def latest_slot(self, now: datetime) -> datetime | None:
        """The most recent slot at or before ``now``."""
        raise NotImplementedError

    def next_slot(self, now: datetime) -> datetime | None:
        """The first slot after ``now``."""
        raise NotImplementedError

    def slot_key(self, slot: datetime) -> str:
        """How ``slot`` is recorded in ``digests``."""
        raise NotImplementedError

    async def compose(self, slot: datetime) -> Deliverable:
        raise NotImplementedError

    async def send_due(self) -> str | None:
        """Send the latest due slot if it was not sent; returns its key when sent now."""
        now = self.clock.now()
        slot = self.latest_slot(now)
        if slot is None:
            return None
        key = self.slot_key(slot)
        if await self.mailer.was_sent(key):
            return None
        readers = await self.mailer.kapolres()
        if not readers:
            return None
        composed = await self.compose(slot)
        ids = await self.mailer.send(composed, readers, now, slot=key)
        if not ids:  # another process sent this slot meanwhile
            for path in composed.files:
                with contextlib.suppress(OSError):
                    path.unlink()
            return None
        log.info("%s %s sent to %d kapolres", self.name, key, len(readers))
        self.on_outbox(tuple(ids))
        return key

    async def tick(self) -> float:
        try:
            await self.send_due()
        finally:
            self.passes += 1
        now = self.clock.now()
        upcoming = self.next_slot(now)
        if upcoming is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.05, (upcoming - now).total_seconds()))
