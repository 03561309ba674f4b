"""Stopping without repeating a reply: the send in progress finishes, no new one starts.

When ``taros run`` is told to stop, the outbox dispatcher's senders are cancelled. A
cancellation that lands while a message is on its way to the platform leaves the platform
with the message and the outbox without its ``sent`` mark, so the restart would send it
again. :class:`SendGate` sits in front of each channel's ``send``: on :meth:`close` it lets
the sends in progress end (and the dispatcher mark them sent), and holds any new one back
until the dispatcher is stopped; those rows stay in the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from channels.base import Channel
from conversations.messages import Outbound

__all__ = ["SendGate"]

log = logging.getLogger(__name__)

Send = Callable[[Outbound], Awaitable[None]]


class SendGate:
    def __init__(self) -> None:
        self._open = True
        self._in_progress: set[asyncio.Future[None]] = set()
        self._never = asyncio.Event()

    def guard(self, channels: Iterable[Channel]) -> None:
        """Put the gate in front of each channel's ``send`` (the instance's attribute)."""
        for channel in channels:
            try:
                channel.send = self._wrap(channel.send)  # type: ignore[method-assign,assignment]
            except AttributeError:  # a channel with __slots__: stops as before
                log.debug("channel %s cannot be gated", channel.name)

    def _wrap(self, send: Send) -> Send:
        async def gated(outbound: Outbound) -> None:
            if not self._open:
                await self._never.wait()  # cancelled when the dispatcher stops
            attempt = asyncio.ensure_future(send(outbound))
            self._in_progress.add(attempt)
            attempt.add_done_callback(self._in_progress.discard)
            attempt.add_done_callback(_retrieve)  # outlived its caller: the dispatcher retries
            # Shielded: a cancellation (stopping) does not cut the platform call short.
            await asyncio.shield(attempt)

        return gated

    async def close(self, within: float = 10.0) -> int:
        """Let no new send start; wait up to ``within`` seconds for those in progress, then
        a moment for the dispatcher to record them. Returns how many were waited for."""
        self._open = False
        pending = list(self._in_progress)
        if pending:
            await asyncio.wait(pending, timeout=within)
            for _ in range(3):  # the dispatcher's "sent" write is queued right after
                await asyncio.sleep(0)
        return len(pending)


def _retrieve(attempt: asyncio.Future[None]) -> None:
    if not attempt.cancelled():
        attempt.exception()
