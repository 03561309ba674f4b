"""Deleting evidence files at once: the original in the media store (under its sha256) and
the metadata-free copy officers received (``officer-copies/<sha256>.jpg|png``). Used when a
reporter is forgotten and when the retention job purges a closed report's evidence: the rows
are gone in the transaction, the files right after it commits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")


class Shredder:
    def __init__(self, media_dir: Path, copies_dir: Path) -> None:
        self.media_dir = media_dir
        self.copies_dir = copies_dir

    async def delete(self, sha256s: Iterable[str]) -> int:
        """Delete the files of ``sha256s``; returns how many files were deleted."""
        wanted = [s for s in sha256s if _SHA256.fullmatch(s)]
        if not wanted:
            return 0
        return await asyncio.to_thread(self._delete, wanted)

    def _delete(self, sha256s: list[str]) -> int:
        deleted = 0
        for sha in sha256s:
            paths = [self.media_dir / sha[:2] / sha]
            paths += [self.copies_dir / f"{sha}.{ext}" for ext in ("jpg", "png")]
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    deleted += 1
        if deleted:
            log.info("evidence files deleted", extra={"files": deleted})
        return deleted
