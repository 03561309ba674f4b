"""Delivering one :class:`Outbound` as several platform messages (a long text split, a
caption apart from its file, the options last) so that a retry resumes where it stopped:
the parts already on the citizen's phone are not sent again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from channels.base import Permanent
from conversations.messages import Outbound

P = TypeVar("P")


class PartialSends(Generic[P]):
    """How many parts of each unfinished Outbound were delivered. An error in a part leaves
    the count for the dispatcher's retry; a :class:`Permanent` one forgets the Outbound (it
    will not be tried again)."""

    def __init__(self) -> None:
        self._delivered: dict[Outbound, int] = {}

    async def send(
        self,
        outbound: Outbound,
        parts: Sequence[P],
        send_part: Callable[[P], Awaitable[None]],
    ) -> None:
        for index in range(self._delivered.get(outbound, 0), len(parts)):
            try:
                await send_part(parts[index])
            except Permanent:
                self._delivered.pop(outbound, None)
                raise
            self._delivered[outbound] = index + 1
        self._delivered.pop(outbound, None)
