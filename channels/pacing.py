"""Proactive pacing of Telegram sends, so the bot stays under the platform's flood limits
(about 30 messages a second overall, about one a second per chat) instead of learning them
from 429 answers.

Each limit is a token bucket that hands out *reservations*: taking a token never blocks, it
says how long to wait. A send first waits for its chat's bucket, then for the global one, so a
chat that is sending fast waits alone and never holds a global slot while it waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Pacer", "Rate"]

_PRUNE_AT = 4096


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` tokens refill continuously up to ``burst``; ``per_second <= 0`` means
    no limit."""

    per_second: float
    burst: int = 1

    @property
    def unlimited(self) -> bool:
        return self.per_second <= 0


class _Bucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate.per_second
        self.burst = float(max(1, rate.burst))
        self.tokens = self.burst
        self.stamp = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, now: float) -> float:
        """Reserve one token; the seconds to wait before using it."""
        self._refill(now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class Pacer:
    def __init__(
        self,
        overall: Rate,
        per_chat: Rate,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = overall
        self.per_chat = per_chat
        self._clock = clock
        self._global = _Bucket(overall, clock())
        self._chats: dict[str, _Bucket] = {}

    async def wait(self, chat_id: str | None = None) -> None:
        """Wait for a slot for one message to ``chat_id`` (or for a call bound to no chat)."""
        if chat_id is not None and not self.per_chat.unlimited:
            delay = self._chat(chat_id).take(self._clock())
            if delay > 0:
                await asyncio.sleep(delay)
        if not self.overall.unlimited:
            delay = self._global.take(self._clock())
            if delay > 0:
                await asyncio.sleep(delay)

    def _chat(self, chat_id: str) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            now = self._clock()
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {k: b for k, b in self._chats.items() if not b.full(now)}
            bucket = self._chats[chat_id] = _Bucket(self.per_chat, now)
        return bucket
