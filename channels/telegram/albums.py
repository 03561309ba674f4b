"""Albums: Telegram delivers each photo of an album (a ``media_group_id``) as its own
message. The parts are held until none has come for a moment, then handed on as one
:class:`Inbound` carrying every file, so the citizen gets one acknowledgement.

A message of the same chat that is not part of the album (a typed "selesai", a press) ends
the album at once, so the engine sees the chat's messages in the order they were sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from conversations.messages import Inbound

__all__ = ["AlbumBuffer"]

Emit = Callable[[Inbound], "asyncio.Future[object]"]


@dataclass(slots=True)
class _Album:
    parts: list[Inbound] = field(default_factory=list)
    done: asyncio.Future[object] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    timer: asyncio.TimerHandle | None = None


class AlbumBuffer:
    def __init__(self, wait: float, emit: Emit) -> None:
        self.wait = wait
        self._emit = emit
        self._albums: dict[tuple[str, str], _Album] = {}

    def add(self, part: Inbound, group: str) -> asyncio.Future[object]:
        """Hold ``part``; the returned future completes when the whole album is handled."""
        key = (part.chat_id, group)
        for other in [k for k in self._albums if k[0] == part.chat_id and k != key]:
            self.flush(other)
        album = self._albums.get(key)
        if album is None:
            album = self._albums[key] = _Album()
        album.parts.append(part)
        if album.timer is not None:
            album.timer.cancel()
        loop = asyncio.get_running_loop()
        album.timer = loop.call_later(self.wait, self.flush, key)
        return album.done

    def flush_chat(self, chat_id: str) -> None:
        for key in [k for k in self._albums if k[0] == chat_id]:
            self.flush(key)

    def flush_all(self) -> None:
        for key in list(self._albums):
            self.flush(key)

    def flush(self, key: tuple[str, str]) -> None:
        album = self._albums.pop(key, None)
        if album is None:
            return
        if album.timer is not None:
            album.timer.cancel()
        handled = self._emit(merge(album.parts))
        done = album.done

        def relay(result: asyncio.Future[object]) -> None:
            if done.done():
                return
            if result.cancelled() or result.exception() is not None:
                done.cancel()  # not handled: its updates stay unconfirmed
            else:
                done.set_result(result.result())

        handled.add_done_callback(relay)

    def __len__(self) -> int:
        return len(self._albums)


def merge(parts: list[Inbound]) -> Inbound:
    """One Inbound for an album: the first part's id (stable on redelivery), every file in
    the order sent, the captions joined."""
    ordered = sorted(parts, key=_order)
    first = ordered[0]
    captions = [p.text.strip() for p in ordered if p.text.strip()]
    return replace(
        first,
        text="\n".join(dict.fromkeys(captions)),
        attachments=tuple(a for p in ordered for a in p.attachments),
    )


def _order(part: Inbound) -> tuple[int, str]:
    tail = part.message_id.rpartition(":")[2]
    return (int(tail), part.message_id) if tail.isdigit() else (0, part.message_id)
