"""One webhook message as the engine's :class:`Inbound`, read through pywa's types.

A message is read by the pywa type its kind calls for (``Message``; ``CallbackButton`` for a
reply button or a template's quick reply; ``CallbackSelection`` for a list row), built from
its single-item body (:func:`channels.whatsapp_cloud.webhook.split`). The chat and the
sender are the citizen's number as E.164 digits (``6281234567890``), the same key the
linked-device route uses, so a citizen keeps their dialogue and their reports when a Polres
changes route; a user who hides their number behind a WhatsApp username is keyed by the
business-scoped id WhatsApp gives instead.

A file is fetched by its media id when the dialogue asks for its bytes: a fresh URL from the
Graph API (it expires within minutes), its announced size checked against the limit before
anything is downloaded, the bytes checked against the announced sha256; an expired URL is
asked for again, a network error retried, and after the last attempt the dialogue tells the
citizen to send the file again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pywa_async import WhatsApp
from pywa_async.errors import WhatsAppError
from pywa_async.types import CallbackButton, CallbackSelection, Message, RawUpdate

from channels.whatsapp.identity import phone_key
from conversations.media import TooLarge
from conversations.messages import (
    Attachment,
    AttachmentKind,
    FetchBytes,
    Inbound,
    InboundKind,
    Location,
)

__all__ = ["DownloadFailed", "MediaFetch", "Parsed", "read_message", "sender_key"]

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
_EXPIRED = frozenset({401, 403, 404, 410})
# Message kinds that are nothing for the dialogue (a reaction, an edit, a deletion, a system
# notice, the "welcome" a user's first tap on a business chat sends): not answered.
IGNORED = frozenset({"reaction", "edit", "revoke", "system", "request_welcome", "ephemeral"})


class DownloadFailed(RuntimeError):
    """The file could not be downloaded from WhatsApp after every attempt."""


@dataclass(frozen=True, slots=True)
class MediaFetch:
    """How a file is fetched: the limit, and the attempts."""

    max_bytes: int
    attempts: int = 3
    backoff: float = 1.0


@dataclass(frozen=True, slots=True)
class Parsed:
    """A message read: the Inbound, or nothing for the dialogue (with why)."""

    inbound: Inbound | None
    ignored: str | None = None


def sender_key(value: dict[str, Any], message: dict[str, Any]) -> str | None:
    """The citizen's key from a webhook value: their number as E.164 digits, else their
    business-scoped id; None when neither is usable."""
    contacts = value.get("contacts") or [{}]
    contact = contacts[0] if isinstance(contacts[0], dict) else {}
    number = phone_key(message.get("from") or contact.get("wa_id"))
    if number is not None:
        return number
    bsuid = contact.get("user_id") or message.get("from_user_id")
    return bsuid if isinstance(bsuid, str) and _BSUID.fullmatch(bsuid) else None


def read_message(
    client: WhatsApp,
    body: bytes,
    value: dict[str, Any],
    *,
    channel: str,
    fetch: MediaFetch,
    now: datetime,
) -> Parsed:
    """The Inbound of a single-message webhook body. Raises ValueError (or pywa's KeyError)
    on a message pywa cannot read; the caller answers it as unsupported."""
    raw_message = value["messages"][0]
    kind = str(raw_message.get("type"))
    if kind in IGNORED:
        return Parsed(None, ignored=kind)
    key = sender_key(value, raw_message)
    if key is None:
        raise ValueError("a message without a usable sender")
    update = RawUpdate(body, hmac_header=None, update_hash=hashlib.sha256(body).hexdigest())
    interactive = _interactive(raw_message)
    reply: CallbackButton[Any] | CallbackSelection[Any] | None = None
    if kind == "button" or interactive == "button_reply":  # a reply button, a quick reply
        reply = CallbackButton.from_update(client, update)
    elif interactive == "list_reply":
        reply = CallbackSelection.from_update(client, update)
    if reply is not None:
        fields = {"text": reply.title, "chosen_option": str(reply.data)}
        return Parsed(
            _inbound(reply.id, key, channel, reply.timestamp, now, _name(reply), **fields)
        )
    message = Message.from_update(client, update)
    return Parsed(_message(client, message, key, channel, fetch, now))


def _interactive(raw_message: dict[str, Any]) -> str | None:
    interactive = raw_message.get("interactive")
    return interactive.get("type") if isinstance(interactive, dict) else None


def _name(update: Message | CallbackButton[Any] | CallbackSelection[Any]) -> str | None:
    name = update.from_user.name
    return (name.strip()[:64] or None) if isinstance(name, str) else None


def _inbound(
    message_id: str,
    key: str,
    channel: str,
    timestamp: datetime,
    now: datetime,
    name: str | None,
    **fields: Any,
) -> Inbound:
    return Inbound(
        channel=channel,
        chat_id=key,
        sender_id=key,
        message_id=message_id,
        timestamp=_timestamp(timestamp, now),
        sender_name=name,
        **fields,
    )


def _message(
    client: WhatsApp, message: Message, key: str, channel: str, fetch: MediaFetch, now: datetime
) -> Inbound:
    attachments: tuple[Attachment, ...] = ()
    text = message.text or ""
    location = None
    kind = InboundKind.MESSAGE
    if message.image is not None:
        attachments = (_attachment(client, AttachmentKind.PHOTO, message.image, fetch),)
        text = message.image.caption or ""
    elif message.video is not None:
        attachments = (_attachment(client, AttachmentKind.VIDEO, message.video, fetch),)
        text = message.video.caption or ""
    elif message.document is not None:
        document = message.document
        attachments = (
            _attachment(client, AttachmentKind.DOCUMENT, document, fetch, document.filename),
        )
        text = document.caption or ""
    elif message.audio is not None:
        audio_kind = AttachmentKind.VOICE if message.audio.voice else AttachmentKind.AUDIO
        attachments = (_attachment(client, audio_kind, message.audio, fetch),)
    elif message.location is not None:
        location = _location(message.location)
        if location is None:
            kind = InboundKind.UNSUPPORTED
    elif not text:  # a sticker, a contact card, an order, a poll, ...
        kind = InboundKind.UNSUPPORTED
    return _inbound(
        message.id,
        key,
        channel,
        message.timestamp,
        now,
        _name(message),
        text=text[:MAX_TEXT],
        attachments=attachments,
        location=location,
        kind=kind,
    )


def _attachment(
    client: WhatsApp,
    kind: AttachmentKind,
    media: Any,
    fetch: MediaFetch,
    filename: str | None = None,
) -> Attachment:
    mime = str(getattr(media, "mime_type", "") or "").split(";")[0].strip().lower()
    return Attachment(
        kind=kind,
        mime=mime if "/" in mime else "application/octet-stream",
        size=None,  # the webhook does not say; the Graph API does, before the download
        fetch=_fetcher(client, str(media.id), fetch),
        filename=(filename.replace("/", "_").replace("\\", "_")[:200] or None)
        if filename
        else None,
    )


def _fetcher(client: WhatsApp, media_id: str, fetch: MediaFetch) -> FetchBytes:
    async def download() -> bytes:
        reason = "no attempt"
        for attempt in range(1, fetch.attempts + 1):
            try:
                media = await client.get_media_url(media_id)
            except WhatsAppError as exc:
                reason = f"media url: {exc.code} {exc.message}"
            except httpx.TransportError as exc:
                reason = f"media url: {type(exc).__name__}"
            else:
                if media.file_size > fetch.max_bytes:
                    raise TooLarge(f"announced {media.file_size} bytes > {fetch.max_bytes}")
                try:
                    data = await client.get_media_bytes(media.url)
                except httpx.HTTPStatusError as exc:
                    status = exc.response.status_code
                    reason = f"download: HTTP {status}"
                    if status in _EXPIRED:  # the URL expired: ask for a new one at once
                        log.info("whatsapp cloud: media URL expired; asking again")
                        continue
                except httpx.HTTPError as exc:
                    reason = f"download: {type(exc).__name__}"
                else:
                    if len(data) > fetch.max_bytes:
                        raise TooLarge(f"{len(data)} bytes > {fetch.max_bytes}")
                    if media.sha256 and hashlib.sha256(data).hexdigest() != media.sha256.lower():
                        reason = "download: sha256 mismatch"
                    else:
                        return data
            if attempt < fetch.attempts:
                await asyncio.sleep(fetch.backoff * attempt)
        log.warning("whatsapp cloud: media %s not downloaded: %s", media_id, reason)
        raise DownloadFailed(reason)

    return download


def _location(raw: Any) -> Location | None:
    lat, lon = getattr(raw, "latitude", None), getattr(raw, "longitude", None)
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    name, address = getattr(raw, "name", None), getattr(raw, "address", None)
    return Location(
        float(lat),
        float(lon),
        name=name[:200] if isinstance(name, str) and name else None,
        address=address[:300] if isinstance(address, str) and address else None,
    )


def _timestamp(stamp: datetime, now: datetime) -> datetime:
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp if stamp <= now + timedelta(minutes=5) else now
