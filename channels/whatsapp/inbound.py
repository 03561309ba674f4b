"""A message event from the worker as the engine's :class:`Inbound`.

The worker's event is checked field by field (it is derived from what a stranger sent). An
attachment arrives as a file the worker wrote into the inbox, named by the worker; its
``fetch`` reads that file, and an attachment the worker could not download gets a ``fetch``
that raises, so the dialogue tells the citizen to send it again. The chat id and the sender
id are the person's key (:mod:`channels.whatsapp.identity`); the message id is
WhatsApp's own, so a message redelivered under the other name of its sender is still a
repeat.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from channels.whatsapp.identity import Person, Resolved
from channels.whatsapp.protocol import inbox_file
from conversations.messages import (
    Attachment,
    AttachmentKind,
    FetchBytes,
    Inbound,
    InboundKind,
    Location,
)

__all__ = ["DownloadFailed", "Received", "person_of", "to_inbound"]

MAX_TEXT = 20_000
_MESSAGE_ID = re.compile(r"[\w.:@-]{1,128}")


class DownloadFailed(RuntimeError):
    """The worker could not download the file."""


@dataclass(frozen=True, slots=True)
class Received:
    inbound: Inbound
    files: tuple[Path, ...]  # inbox files to delete once the message is handled


def person_of(data: dict[str, Any]) -> Person | None:
    return Person.of(data.get("phone_user"), data.get("lid_user"))


def to_inbound(
    data: dict[str, Any], who: Resolved, *, channel: str, data_dir: Path, now: datetime
) -> Received | None:
    """The Inbound of a worker ``message`` event, or None when it is malformed."""
    message_id = data.get("id")
    if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
        return None
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    files: list[Path] = []
    attachment = _attachment(data.get("attachment"), data_dir, files)
    location = _location(data.get("location"))
    kind = InboundKind.UNSUPPORTED if data.get("unsupported") is True else InboundKind.MESSAGE
    name = data.get("name")
    inbound = Inbound(
        channel=channel,
        chat_id=who.key,
        sender_id=who.key,
        message_id=message_id,
        timestamp=_timestamp(data.get("timestamp"), now),
        text=str(text)[:MAX_TEXT],
        attachments=(attachment,) if attachment is not None else (),
        location=location,
        kind=kind,
        sender_name=(name.strip()[:64] or None) if isinstance(name, str) else None,
        sender_aliases=who.aliases,
    )
    return Received(inbound, tuple(files))


def _timestamp(value: object, now: datetime) -> datetime:
    if isinstance(value, int) and value > 0:
        try:
            stamp = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return now
        if stamp <= now + timedelta(minutes=5):
            return stamp
    return now


def _attachment(raw: object, data_dir: Path, files: list[Path]) -> Attachment | None:
    if not isinstance(raw, dict):
        return None
    try:
        kind = AttachmentKind(str(raw.get("kind")))
    except ValueError:
        return None
    mime = raw.get("mime")
    size = raw.get("size")
    filename = raw.get("filename")
    path = inbox_file(data_dir, raw.get("file"))
    if path is not None:
        files.append(path)
        fetch = _reader(path)
    else:
        fetch = _failure(str(raw.get("error") or "no file"))
    return Attachment(
        kind=kind,
        mime=mime if isinstance(mime, str) and "/" in mime else "application/octet-stream",
        size=size if isinstance(size, int) and size >= 0 else None,
        fetch=fetch,
        filename=(Path(filename).name[:200] or None) if isinstance(filename, str) else None,
    )


def _reader(path: Path) -> FetchBytes:
    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return fetch


def _failure(reason: str) -> FetchBytes:
    async def fetch() -> bytes:
        raise DownloadFailed(reason)

    return fetch


def _location(raw: object) -> Location | None:
    if not isinstance(raw, dict):
        return None
    lat, lon = raw.get("lat"), raw.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    name, address = raw.get("name"), raw.get("address")
    return Location(
        float(lat),
        float(lon),
        name=name[:200] if isinstance(name, str) and name else None,
        address=address[:300] if isinstance(address, str) and address else None,
    )
