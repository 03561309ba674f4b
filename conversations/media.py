"""What the dialogue needs to keep a citizen's file as evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from conversations.messages import Attachment, Location


class TooLarge(ValueError):
    """The file is larger than the configured limit; nothing was kept."""


class SaveFailed(RuntimeError):
    """The file could not be downloaded or written; the user should send it again."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    sha256: str
    size: int
    relative_path: str  # inside the media store, derived from the hash only
    position: Location | None = None  # where a photo was taken (its EXIF GPS), if it says


class MediaSaver(Protocol):
    max_bytes: int

    async def save(self, attachment: Attachment) -> StoredMedia:
        """Download ``attachment`` and keep it. Raises :class:`TooLarge` or
        :class:`SaveFailed`."""
        ...
