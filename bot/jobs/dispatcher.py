"""The outbox dispatcher: delivers committed replies through their channel.

Rows are delivered per chat in id order, one chat never waiting for another. A transient
failure is retried with exponential backoff for that chat only (its later messages wait, so
order holds); ``RetryAfter`` waits exactly what the platform asked; a permanent failure marks
the row failed and the chat moves on. A message's replies committed by this process's engine
are handed over as they are (:meth:`Dispatcher.take`); every other row (another job's, another
process's: a CLI command) is picked up by polling.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.jobs.background import Background
from bot.storage.outbox import OutboxRow, OutboxScope
from channels.base import Channel, Permanent, RetryAfter
from conversations.messages import ChatKey, Outbound

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_MAX = 300.0
MAX_ATTEMPTS = 15


class Outbox(Protocol):
    """What the dispatcher needs of the outbox (:class:`bot.storage.outbox.SqliteOutbox`)."""

    async def pending_outbox(
        self, scopes: tuple[OutboxScope, ...], after_id: int, limit: int
    ) -> list[OutboxRow]: ...

    async def mark_sent(self, outbox_id: int, now: datetime) -> None: ...

    async def mark_retry(self, outbox_id: int, next_attempt_at: datetime, error: str) -> None: ...

    async def still_pending(self, outbox_id: int) -> bool: ...

    async def mark_failed(
        self, outbox_id: int, now: datetime, error: str, *, notify: bool = True
    ) -> None: ...


def _error(row: OutboxRow, text: str) -> str:
    """A platform's error as it is logged and kept: without the chat it was about (a
    Telegram id is a bare number no redaction pattern can tell from any other)."""
    chat = row.outbound.chat_id
    if len(chat) < 3 or not any(ch.isdigit() for ch in chat):  # a console name is a word
        return text
    return re.sub(rf"(?<![\w@]){re.escape(chat)}(?![\w@])", "<chat>", text)


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt ``attempts + 1``: 1, 2, 4, ... capped at 5 minutes."""
    return min(BACKOFF_MAX, BACKOFF_START * (2 ** max(0, attempts - 1)))


class Dispatcher(Background):
    name = "outbox dispatcher"

    def __init__(
        self,
        outbox: Outbox,
        channels: dict[str, Channel],
        clock: Clock,
        *,
        poll_interval: float = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        super().__init__()
        self.outbox = outbox
        self.channels = channels
        self.clock = clock
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.retry_after = poll_interval  # an outbox that cannot be read is read again soon
        self._load_lock = asyncio.Lock()
        # Every row up to the high-water mark has been queued (or was not pending) and the
        # poll reads after it. Rows handed over (take) above it are remembered, so that the
        # poll skips them; ids are given in commit order, so once a poll that began after
        # a hand-over reaches the end, every row up to the largest id handed over has been
        # seen by one or the other, and the mark moves up to it.
        self._high_water = 0
        self._taken: set[int] = set()
        self._taken_max = 0
        self._queues: dict[ChatKey, deque[OutboxRow]] = {}
        self._senders: dict[ChatKey, asyncio.Task[None]] = {}
        self.sent = 0
        self.failed = 0
        self.retried = 0
        # Told of every delivery outcome ("sent", "failed", "retried"); must not raise or
        # block. Set by the wiring (bot.ops.metrics.observe).
        self.observer: Callable[[OutboxRow, str], None] | None = None
        # Told of every row given up, with why (staff hear of a message to a citizen that
        # could not be delivered). Set by the wiring (bot.jobs.undelivered).
        self.on_given_up: Callable[[OutboxRow, str], Awaitable[None]] | None = None

    def notify(self, _ids: tuple[int, ...] = ()) -> None:
        """New rows were committed: look now instead of at the next poll."""
        super().notify()

    def take(self, outbounds: Iterable[Outbound]) -> None:
        """Replies this process has just committed (each with its outbox id): queued at once,
        without reading them back. Those of a channel or chat served elsewhere are left to
        the process that serves them. While stopped, or while a poll is due or under way
        (rows of other jobs, notified, may be older than these and go to the same chat),
        all are left to the poll, so that a chat's rows still go in id order."""
        if self._task is None or self._wake.is_set() or self._load_lock.locked():
            self.notify()
            return
        for outbound in outbounds:
            outbox_id = outbound.outbox_id
            if outbox_id is None or outbox_id <= self._high_water or outbox_id in self._taken:
                continue
            channel = self.channels.get(outbound.channel)
            if channel is None or channel.only_chat not in (None, outbound.chat_id):
                continue
            self._taken.add(outbox_id)
            self._taken_max = max(self._taken_max, outbox_id)
            self._queue(OutboxRow(outbox_id, outbound, attempts=0, next_attempt_at=None))

    async def stop(self) -> None:
        await super().stop()
        senders = list(self._senders.values())
        for sender in senders:
            sender.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        self._senders.clear()
        self._queues.clear()
        # what was queued and not delivered is read again when started again
        self._high_water = 0
        self._taken.clear()
        self._taken_max = 0

    async def flush(self, limit_seconds: float = 30.0) -> None:
        """Deliver everything pending now (used by commands and the scripted console)."""
        async with asyncio.timeout(limit_seconds):
            await self._load()
            while self._senders:
                await asyncio.gather(*list(self._senders.values()), return_exceptions=True)
                await self._load()

    def pending(self, key: ChatKey | None = None) -> int:
        if key is not None:
            return len(self._queues.get(key, ()))
        return sum(len(q) for q in self._queues.values())

    async def tick(self) -> float:
        await self._load()
        return self.poll_interval

    async def _load(self) -> None:
        """Queue every undelivered row not yet queued (one reader at a time, so a row is
        never queued twice)."""
        async with self._load_lock:
            await self._load_unlocked()

    async def _load_unlocked(self) -> None:
        scopes = tuple(
            OutboxScope(name, channel.only_chat) for name, channel in self.channels.items()
        )
        while True:
            taken_before = self._taken_max  # every row up to it committed before this read
            rows = await self.outbox.pending_outbox(scopes, self._high_water, 500)
            for row in rows:
                if row.id <= self._high_water:
                    continue
                self._high_water = row.id
                if row.id not in self._taken:
                    self._queue(row)
            if len(rows) < 500:
                if taken_before > self._high_water:
                    self._high_water = taken_before
                if self._taken:
                    self._taken = {i for i in self._taken if i > self._high_water}
                return

    def _queue(self, row: OutboxRow) -> None:
        key = row.outbound.key
        self._queues.setdefault(key, deque()).append(row)
        if key not in self._senders:
            self._senders[key] = asyncio.create_task(self._deliver(key), name=f"deliver {key}")

    async def _deliver(self, key: ChatKey) -> None:
        queue = self._queues[key]
        try:
            while queue:
                row = queue[0]
                done = await self._attempt(row)
                if done:
                    queue.popleft()
        finally:
            if not queue:
                self._queues.pop(key, None)
            self._senders.pop(key, None)

    async def _attempt(self, row: OutboxRow) -> bool:
        """Try one row until it is sent or given up; returns True when the row is finished."""
        attempts = row.attempts
        wait_until = row.next_attempt_at
        channel = self.channels[row.outbound.channel]
        while True:
            if wait_until is not None:
                delay = (wait_until - self.clock.now()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not await self.outbox.still_pending(row.id):
                    return True  # given up meanwhile (its officer removed, its chat erased)
            try:
                await channel.send(row.outbound)
            except RetryAfter as exc:
                attempts += 1
                wait_until = self._later(exc.seconds)
                self.retried += 1
                self._observe(row, "retried")
                await self.outbox.mark_retry(row.id, wait_until, _error(row, str(exc)))
                continue
            except Permanent as exc:
                self.failed += 1
                self._observe(row, "failed")
                error = _error(row, str(exc))
                log.warning("outbox %s to %s given up: %s", row.id, row.outbound.key, error)
                await self._give_up(row, error)
                return True
            except Exception as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    self.failed += 1
                    self._observe(row, "failed")
                    error = _error(row, repr(exc))
                    log.error(
                        "outbox %s to %s failed %d times, giving up: %s",
                        row.id,
                        row.outbound.key,
                        attempts,
                        error,
                    )
                    await self._give_up(row, error)
                    return True
                self.retried += 1
                self._observe(row, "retried")
                wait_until = self._later(backoff(attempts))
                error = _error(row, repr(exc))
                log.info("outbox %s to %s: %s; retry %d", row.id, row.outbound.key, error, attempts)
                await self.outbox.mark_retry(row.id, wait_until, error)
                continue
            self.sent += 1
            self._observe(row, "sent")
            await self.outbox.mark_sent(row.id, self.clock.now())
            return True

    async def _give_up(self, row: OutboxRow, error: str) -> None:
        """Mark the row failed and tell someone: about a report (it carries its template),
        the report's staff with the reason (``on_given_up``); otherwise the notice the row
        names (to the officer who wrote it), queued with the mark and delivered now."""
        notice = row.outbound.on_failure
        about_report = row.outbound.template is not None and self.on_given_up is not None
        if about_report or notice is None:
            await self.outbox.mark_failed(row.id, self.clock.now(), error, notify=False)
        else:
            await self.outbox.mark_failed(row.id, self.clock.now(), error)
            await self._load()
        if self.on_given_up is not None:
            try:
                await self.on_given_up(row, error)
            except Exception:
                log.exception("outbox %s: telling staff it was given up failed", row.id)

    def _observe(self, row: OutboxRow, status: str) -> None:
        if self.observer is not None:
            try:
                self.observer(row, status)
            except Exception:
                log.exception("the dispatcher's observer failed")

    def _later(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=max(0.0, seconds))
