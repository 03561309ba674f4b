"""The evidence store: files kept under the data dir by their sha256, owner-readable only.

A file's path is derived from its content hash, never from anything the user sent, so a name
like ``../../etc/passwd`` cannot steer where it lands. Hashing and writing run in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

from bot.evidence.position import photo_position
from bot.files import private_dir, write_private
from conversations.media import SaveFailed, StoredMedia, TooLarge
from conversations.messages import Attachment

log = logging.getLogger(__name__)


class MediaStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    async def save(self, attachment: Attachment) -> StoredMedia:
        if attachment.size is not None and attachment.size > self.max_bytes:
            raise TooLarge(f"announced {attachment.size} bytes exceeds {self.max_bytes}")
        try:
            data = await attachment.fetch()
        except TooLarge:
            raise
        except Exception as exc:  # any download failure is the same to the citizen
            raise SaveFailed(f"could not fetch {attachment.kind.value}: {exc!r}") from exc
        return await self.save_bytes(data)

    async def save_bytes(self, data: bytes) -> StoredMedia:
        if len(data) > self.max_bytes:
            raise TooLarge(f"{len(data)} bytes exceeds {self.max_bytes}")
        try:
            return await asyncio.to_thread(self._save_sync, data)
        except OSError as exc:
            log.error("could not write evidence to %s: %s", self.root, exc)
            raise SaveFailed("could not write the file") from exc

    def path_of(self, relative_path: str) -> Path:
        root = self.root.resolve()
        candidate = (root / relative_path).resolve()
        if root not in candidate.parents:
            raise ValueError(f"{relative_path!r} is outside the media store")
        return candidate

    def _save_sync(self, data: bytes) -> StoredMedia:
        digest = hashlib.sha256(data).hexdigest()
        private_dir(self.root)
        target = private_dir(self.root / digest[:2]) / digest
        if not target.exists():
            write_private(target, data)
        return StoredMedia(digest, len(data), f"{digest[:2]}/{digest}", photo_position(data))
