"""Durable timers: deadlines stored in the database, fired through the engine.

A draft's reminder and expiry are rows in ``timers``; the scheduler fires the due ones by
handing them to the engine, behind the chat's own messages. The engine deletes the row in the
same transaction as its effect, so a timer fires once, and a timer missed while the process was
down fires at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.jobs.background import Background
from conversations.engine import Engine
from conversations.ports import Timer

log = logging.getLogger(__name__)


class DueTimers(Protocol):
    """What the scheduler needs of the timers (:class:`bot.storage.timers.SqliteTimers`)."""

    async def due_timers(self, until: datetime, limit: int = ...) -> list[Timer]: ...

    async def next_timer_due(self) -> datetime | None: ...


class TimerScheduler(Background):
    name = "timer scheduler"

    def __init__(
        self, timers: DueTimers, engine: Engine, clock: Clock, *, max_sleep: float = 30.0
    ) -> None:
        super().__init__()
        self.timers = timers
        self.engine = engine
        self.clock = clock
        self.max_sleep = max_sleep
        self._inflight: set[int] = set()

    async def fire_due(self) -> int:
        """Hand every due timer to the engine and wait for them; returns how many fired."""
        timers = [
            t
            for t in await self.timers.due_timers(self.clock.now())
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
        due = await self.timers.next_timer_due()
        if due is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.05, (due - self.clock.now()).total_seconds()))
