"""WhatsApp's customer-service window: free text reaches a person only within 24 hours of
their last message; after that only an approved template does.

:class:`WindowBook` remembers when each person last wrote, in the channel's own file in the
data dir (``whatsapp-cloud.sqlite3``, ``0600``), so the window survives a restart. A person
the book does not know (a citizen who wrote on the linked-device route before the Polres
moved) is outside the window until they write. A small margin keeps a send planned at the
last minute from arriving after the window closed; when WhatsApp says the window is closed
(131047), the book forgets the person's last message.

The file holds no number: each person is kept under a keyed digest of their number (HMAC-SHA256
with the app secret, which is not in the data dir), and a row older than the window is deleted
when the book is opened and whenever someone writes. A citizen who asks to be forgotten leaves
nothing here that names them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels.whatsapp.files import private_sqlite

__all__ = ["MARGIN", "WINDOW", "WINDOW_FILE", "WindowBook"]

WINDOW = timedelta(hours=24)
MARGIN = timedelta(minutes=5)
WINDOW_FILE = "whatsapp-cloud.sqlite3"


class WindowBook:
    def __init__(self, conn: sqlite3.Connection, last: dict[str, datetime], key: bytes) -> None:
        self._conn = conn
        self._last = last  # by digest
        self._key = key
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, key: str) -> WindowBook:
        """The book in ``path``; ``key`` (the app secret) keys the digests of numbers."""
        return await asyncio.to_thread(cls._open, path, key.encode())

    @classmethod
    def _open(cls, path: Path, key: bytes) -> WindowBook:
        conn = private_sqlite(path)
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS last_inbound (chat TEXT PRIMARY KEY, at TEXT NOT NULL)"
        )
        cutoff = (datetime.now(UTC) - WINDOW).isoformat()
        conn.execute("DELETE FROM last_inbound WHERE at < ?", (cutoff,))
        rows = conn.execute("SELECT chat, at FROM last_inbound").fetchall()
        return cls(conn, {chat: datetime.fromisoformat(at) for chat, at in rows}, key)

    def _digest(self, chat: str) -> str:
        return hmac.new(self._key, chat.encode(), hashlib.sha256).hexdigest()

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.close)

    def is_open(self, chat: str, now: datetime) -> bool:
        """Whether free text may go to ``chat`` now."""
        last = self._last.get(self._digest(chat))
        return last is not None and now < last + WINDOW - MARGIN

    def last(self, chat: str) -> datetime | None:
        return self._last.get(self._digest(chat))

    async def wrote(self, chat: str, at: datetime) -> None:
        """``chat`` sent a message at ``at`` (a later one keeps the window open longer)."""
        digest = self._digest(chat)
        previous = self._last.get(digest)
        if previous is not None and previous >= at:
            return
        self._last[digest] = at
        await self._write(
            "INSERT INTO last_inbound(chat, at) VALUES (?, ?)"
            " ON CONFLICT(chat) DO UPDATE SET at = excluded.at WHERE excluded.at > at",
            (digest, at.isoformat()),
        )
        await self._write(
            "DELETE FROM last_inbound WHERE at < ?", ((at - WINDOW).isoformat(),)
        )

    async def closed(self, chat: str) -> None:
        """WhatsApp says the window of ``chat`` is closed."""
        digest = self._digest(chat)
        self._last.pop(digest, None)
        await self._write("DELETE FROM last_inbound WHERE chat = ?", (digest,))

    async def _write(self, sql: str, params: tuple[str, ...]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._conn.execute, sql, params)
