"""Proactive pacing of sends, so the bot stays under a platform's flood limits (Telegram:
about 30 messages a second overall, about one a second per chat; the WhatsApp Cloud API: the
number's throughput, messages received included, and a gap per person) instead of learning
them from 429 answers.

Each limit hands out *reservations*: taking one never blocks, it says how long to wait. A
limit is a token bucket (:class:`Rate`: a steady rate with short bursts) or a sliding window
(:class:`Window`: at most so many calls in any stretch of so many seconds, the way Telegram
counts its overall limit, so a burst never doubles up at a second's edge). A send first waits
for its chat's limit, then for the global one, so a chat that is sending fast waits alone and
never holds a global slot while it waits.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Pacer", "Rate", "Window"]

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


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``calls`` in any ``seconds``-long stretch of time, spread out: two calls are at
    least ``seconds / calls`` apart, so that what a server receives stays within its window
    even when the network delays some calls more than others (a burst of a whole window at
    once would arrive bunched with the next one). ``calls <= 0``: no limit."""

    calls: int
    seconds: float = 1.0

    @property
    def unlimited(self) -> bool:
        return self.calls <= 0


class _Limit(Protocol):
    def take(self, now: float) -> float: ...

    async def wait(self, clock: Callable[[], float]) -> None: ...

    def record(self, now: float) -> None: ...

    def load(self, now: float) -> float: ...


class _Sliding:
    """A :class:`Window` over the calls actually made: the ``calls`` latest are kept, and a
    call goes only when the one ``calls`` back is ``seconds`` old. Calls are counted when they
    go, not when they were planned: a wake-up that comes late (a busy event loop) must not
    push a planned call into a second already full."""

    __slots__ = ("_times", "gap", "seconds")

    def __init__(self, window: Window) -> None:
        self.seconds = window.seconds
        self.gap = window.seconds / window.calls
        self._times: deque[float] = deque(maxlen=window.calls)

    def delay(self, now: float) -> float:
        """Seconds until a call may go (0: now)."""
        times = self._times
        if not times:
            return 0.0
        spaced = times[-1] + self.gap - now
        if len(times) < (times.maxlen or 0):
            return max(0.0, spaced)
        return max(0.0, spaced, times[0] + self.seconds - now)

    def take(self, now: float) -> float:
        """Count a call going now when one may; else the seconds to wait and try again."""
        delay = self.delay(now)
        if delay <= 0:
            self._times.append(now)
        return delay

    async def wait(self, clock: Callable[[], float]) -> None:
        # each wait is computed, and the call asks again after it (another caller may have
        # taken the slot meanwhile)
        while (delay := self.take(clock())) > 0:  # noqa: ASYNC110 - a limit in time
            await asyncio.sleep(delay)

    def record(self, now: float) -> None:
        """Count a call that went without asking (one the platform counts, like a message
        received): the calls planned after it wait for it."""
        self._times.append(now)

    def load(self, now: float) -> float:
        """The share of the window taken by the calls of the last ``seconds``."""
        taken = sum(1 for at in self._times if at > now - self.seconds)
        return taken / self._times.maxlen if self._times.maxlen else 0.0


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

    async def wait(self, clock: Callable[[], float]) -> None:
        delay = self.take(clock())
        if delay > 0:
            await asyncio.sleep(delay)

    def record(self, now: float) -> None:
        self.take(now)  # the token is spent; a debt delays the next sends

    def load(self, now: float) -> float:
        self._refill(now)
        return max(0.0, 1.0 - self.tokens / self.burst)

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class Pacer:
    def __init__(
        self,
        overall: Rate | Window,
        per_chat: Rate,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = overall
        self.per_chat = per_chat
        self._clock = clock
        self._global: _Limit = (
            _Sliding(overall)
            if isinstance(overall, Window) and not overall.unlimited
            else _Bucket(overall if isinstance(overall, Rate) else Rate(0), clock())
        )
        self._chats: dict[str, _Bucket] = {}

    async def wait(self, chat_id: str | None = None) -> None:
        """Wait for a slot for one message to ``chat_id`` (or for a call bound to no chat)."""
        if chat_id is not None and not self.per_chat.unlimited:
            await self._chat(chat_id).wait(self._clock)
        if not self.overall.unlimited:
            await self._global.wait(self._clock)

    def record(self) -> None:
        """Count a call the platform counts against the overall limit but that did not wait
        for it (WhatsApp Cloud API: every message received): the sends after it wait."""
        if not self.overall.unlimited:
            self._global.record(self._clock())

    def load(self) -> float:
        """How busy the global limit is, from 0 (idle) to 1 (every slot taken) and beyond
        (calls waiting): calls that can be left out are left out when it is busy."""
        if self.overall.unlimited:
            return 0.0
        return self._global.load(self._clock())

    def chat_idle(self, chat_id: str) -> bool:
        """Whether ``chat_id`` has its whole short burst unused (it has been quiet)."""
        bucket = self._chats.get(chat_id)
        return self.per_chat.unlimited or bucket is None or bucket.full(self._clock())

    def _chat(self, chat_id: str) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            now = self._clock()
            if len(self._chats) >= _PRUNE_AT:
                self._chats = {k: b for k, b in self._chats.items() if not b.full(now)}
            bucket = self._chats[chat_id] = _Bucket(self.per_chat, now)
        return bucket
