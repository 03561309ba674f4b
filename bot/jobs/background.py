"""The application's background loops (timers, SLA reminders, digests, retention): each is a
:class:`Background` that does one pass of work in :meth:`Background.tick` and says how long to
wait before the next; :meth:`Background.notify` wakes it early. A failing pass is logged with
its name and retried after ``retry_after``; it never stops the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class Background:
    name = "background task"
    retry_after = 30.0

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def tick(self) -> float:
        """One pass of work; returns the seconds to wait before the next pass."""
        raise NotImplementedError

    def notify(self) -> None:
        """Run the next pass now rather than after the wait."""
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.tick()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self.name, self.retry_after)
                wait = self.retry_after
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, wait)):
                    await self._wake.wait()
