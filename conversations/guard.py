"""Anti-prank without demanding an ID card: a per-sender rate limit and the block list.

Both are checked before a message enters its chat's queue, in memory, so a flooder costs the
others nothing. A sender over the limit gets one polite notice per window, then silence until
the window passes. A blocked sender is reminded at most once a day why and until when.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class Verdict(StrEnum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the limit for the first time in this window: tell once
    DROP = "drop"  # over the limit, already told


class RateLimiter:
    """At most ``limit`` messages per ``window`` per sender (a sliding window)."""

    def __init__(self, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[tuple[str, str], deque[datetime]] = {}
        self._told: dict[tuple[str, str], datetime] = {}
        self._checks = 0

    def check(self, sender: tuple[str, str], now: datetime) -> Verdict:
        self._checks += 1
        if self._checks % 4096 == 0:
            self._forget_before(now - self.window)
        times = self._seen.setdefault(sender, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return Verdict.ALLOW
        told = self._told.get(sender)
        if told is not None and now - told < self.window:
            return Verdict.DROP
        self._told[sender] = now
        return Verdict.NOTICE

    def _forget_before(self, cutoff: datetime) -> None:
        for sender in [s for s, t in self._seen.items() if not t or t[-1] < cutoff]:
            del self._seen[sender]
        for sender in [s for s, at in self._told.items() if at < cutoff]:
            del self._told[sender]


@dataclass(frozen=True, slots=True)
class Block:
    until: datetime
    reason: str


class BlockSource(Protocol):
    async def active_blocks(self, now: datetime) -> dict[tuple[str, str], Block]: ...


class BlockList:
    """The active blocks, cached and re-read every ``refresh`` (a block made by the CLI in
    another process takes effect within that time; one made here, at once)."""

    def __init__(self, source: BlockSource, refresh: timedelta = timedelta(seconds=10)) -> None:
        self.source = source
        self.refresh = refresh
        self._blocks: dict[tuple[str, str], Block] = {}
        self._loaded_at: datetime | None = None
        self._reminded: dict[tuple[str, str], datetime] = {}

    async def get(self, sender: tuple[str, str], now: datetime) -> Block | None:
        if self._loaded_at is None or now - self._loaded_at >= self.refresh:
            self._blocks = await self.source.active_blocks(now)
            self._loaded_at = now
        block = self._blocks.get(sender)
        return block if block is not None and block.until > now else None

    def add(self, sender: tuple[str, str], block: Block) -> None:
        self._blocks[sender] = block

    def invalidate(self) -> None:
        self._loaded_at = None

    def should_remind(self, sender: tuple[str, str], now: datetime) -> bool:
        last = self._reminded.get(sender)
        if last is not None and now - last < timedelta(days=1):
            return False
        self._reminded[sender] = now
        return True
