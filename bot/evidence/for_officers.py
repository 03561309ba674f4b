"""Evidence files as officers receive them: photos re-encoded without their metadata.

A photo's EXIF block can carry the reporter's phone model, the exact time and the GPS
position of their home. Officers get a copy with the pixels only; the original stays
untouched in the media store, under its sha256, as the evidence of record.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import aiosqlite
from PIL import Image, UnidentifiedImageError

from bot.evidence.store import MediaStore
from bot.files import private_dir, write_private
from bot.storage.database import Database
from conversations.messages import Media

log = logging.getLogger(__name__)


def strip_metadata(data: bytes) -> bytes | None:
    """The image re-encoded with its pixels only (JPEG or PNG); None when it is no image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt = "PNG" if image.format == "PNG" else "JPEG"
            clean = Image.frombytes(image.mode, image.size, image.tobytes())
            if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
                clean = clean.convert("RGB")
            out = io.BytesIO()
            clean.save(out, format=fmt)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        return None


class EvidenceFiles:
    """Implements the officer desk's evidence source on the media store."""

    def __init__(self, db: Database, media: MediaStore, cache_dir: Path) -> None:
        self.db = db
        self.media = media
        self.cache_dir = cache_dir

    async def files(self, ticket_id: int) -> list[Media]:
        async def job(conn: aiosqlite.Connection) -> list[tuple[str, str, str, str]]:
            async with conn.execute(
                "SELECT kind, mime, sha256, stored_path FROM evidence WHERE ticket_id = ?"
                " ORDER BY id",
                (ticket_id,),
            ) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        rows = await self.db.read(job)
        return [await asyncio.to_thread(self._officer_copy, *row) for row in rows]

    def _officer_copy(self, kind: str, mime: str, sha256: str, stored_path: str) -> Media:
        original = self.media.path_of(stored_path)
        if kind != "photo":
            return Media(original, mime)
        target = self.cache_dir / f"{sha256}.{'png' if mime == 'image/png' else 'jpg'}"
        if not target.exists():
            clean = strip_metadata(original.read_bytes())
            if clean is None:
                log.warning("evidence %s is not a readable image; sent as a document", sha256)
                return Media(original, "application/octet-stream")
            private_dir(self.cache_dir)
            write_private(target, clean)
        return Media(target, "image/png" if target.suffix == ".png" else "image/jpeg")
