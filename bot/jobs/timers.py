"""Durable timers: deadlines stored in the database, fired through the engine.

A draft's reminder and expiry are rows in ``timers``; the scheduler fires the due ones by
handing them to the engine, behind the chat's own messages. The engine deletes the row in the
same transaction as its effect, so a timer fires once, and a timer missed while the process was
down fires at the next start.
"""

from __future__ import annotations

import asyncio
import logging

from bot.clock import Clock
from bot.jobs.background import Background
from bot.storage.store import SqliteStore
from conversations.engine import Engine

log = logging.getLogger(__name__)


class TimerScheduler(Background):
    name = "timer scheduler"

    def __init__(
        self, store: SqliteStore, engine: Engine, clock: Clock, *, max_sleep: float = 30.0
    ) -> None:
        super().__init__()
        self.store = store
        self.engine = engine
        self.clock = clock
        self.max_sleep = max_sleep
        self._inflight: set[int] = set()

    async def fire_due(self) -> int:
        """Hand every due timer to the engine and wait for them; returns how many fired."""
        timers = [
            t
            for t in await self.store.due_timers(self.clock.now())
            if t.id is not None and t.id not in self._inflight
        ]
        futures = []
        for timer in timers:
            assert timer.id is not None
            self._inflight.add(timer.id)
            futures.append(self.engine.submit(timer))
        try:
            await asyncio.gather(*futures)
        finally:
            for timer in timers:
                assert timer.id is not None
                self._inflight.discard(timer.id)
        return len(timers)

    async def tick(self) -> float:
        await self.fire_due()
        due = await self.store.next_timer_due()
        if due is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.05, (due - self.clock.now()).total_seconds()))
