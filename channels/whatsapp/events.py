"""A neonize ``MessageEv`` as TAROS sees it: a private message for the engine, or nothing.

Only private chats are served: groups, status updates and broadcast lists, newsletters and
the account's own messages are ignored, and nothing of them leaves the worker. Wrappers
(disappearing, view-once, document-with-caption) are opened; reactions, edits, revocations
and other protocol messages are not messages a citizen wrote. Everything is read from the
protobuf defensively: a missing field is empty, a coordinate outside the globe is no pin.

This module reads protobuf objects by their field names and imports nothing of neonize, so
the channel can be tested with the real neonize classes without a running client.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from channels.base import Ignore

__all__ = ["Ignore", "Incoming", "Media", "classify", "person_users"]

USER_SERVERS = ("s.whatsapp.net", "lid")
_OTHER_SERVERS = {
    "g.us": "group",
    "broadcast": "status update or broadcast list",
    "newsletter": "newsletter",
    "call": "call",
    "bot": "bot",
}
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "groupMentionedMessage",
)
# Not something a citizen wrote: ignored without an answer.
_SERVICE = (
    "protocolMessage",
    "reactionMessage",
    "encReactionMessage",
    "pollUpdateMessage",
    "keepInChatMessage",
    "pinInChatMessage",
    "editedMessage",
    "senderKeyDistributionMessage",
    "messageContextInfo",
    "placeholderMessage",
    "call",
    "deviceSentMessage",
)


@dataclass(frozen=True, slots=True)
class Media:
    kind: str  # photo | video | document | voice | audio
    mime: str
    size: int | None
    filename: str | None
    message: Any = field(repr=False)  # the waE2E Message holding only this media, to download


@dataclass(frozen=True, slots=True)
class Incoming:
    id: str
    phone_user: str | None  # the sender's phone number, when the event names it
    lid_user: str | None  # the sender's linked identity, when the event names it
    name: str | None
    timestamp: int  # Unix seconds; 0 when unknown
    text: str = ""
    location: dict[str, Any] | None = None
    media: Media | None = None
    unsupported: bool = False  # a sticker, contact card, poll...


def classify(event: Any) -> Ignore | Incoming:
    info = event.Info
    source = info.MessageSource
    if source.IsFromMe:
        return Ignore("from this account")
    chat = source.Chat
    if source.IsGroup or chat.Server not in USER_SERVERS:
        return Ignore(_OTHER_SERVERS.get(chat.Server, f"chat on {chat.Server or '?'}"))
    if not info.ID:
        return Ignore("no message id")
    if event.IsEdit or info.Edit:
        return Ignore("an edit")
    message = unwrap(event.Message)
    phone_user, lid_user = person_users(source)
    if phone_user is None and lid_user is None:
        return Ignore("no sender")
    base = {
        "id": info.ID,
        "phone_user": phone_user,
        "lid_user": lid_user,
        "name": info.Pushname or None,
        "timestamp": max(0, int(info.Timestamp)),
    }
    text = _text(message)
    media = _media(message)
    location = _location(message)
    if media is not None and not text:
        text = _caption(message)
    if text.strip() or media is not None or location is not None:
        return Incoming(**base, text=text, location=location, media=media)
    present = [f.name for f, _value in message.ListFields()]
    if not present or all(name in _SERVICE for name in present):
        return Ignore("service message: " + (",".join(present) or "empty"))
    return Incoming(**base, unsupported=True)


def person_users(source: Any) -> tuple[str | None, str | None]:
    """The sender's phone-number user and linked-identity user, as far as ``source`` says."""
    found: dict[str, str] = {}
    for jid in (source.Chat, source.Sender, source.SenderAlt):
        if jid.User and jid.Server in USER_SERVERS:
            found.setdefault(jid.Server, jid.User)
    return found.get("s.whatsapp.net"), found.get("lid")


def unwrap(message: Any) -> Any:
    for _depth in range(4):
        for wrapper in _WRAPPERS:
            if message.HasField(wrapper) and message_has(getattr(message, wrapper), "message"):
                message = getattr(message, wrapper).message
                break
        else:
            return message
    return message


def message_has(message: Any, name: str) -> bool:
    try:
        return bool(message.HasField(name))
    except ValueError:
        return False


def _text(message: Any) -> str:
    if message.conversation:
        return str(message.conversation)
    if message.HasField("extendedTextMessage"):
        return str(message.extendedTextMessage.text)
    return ""


def _caption(message: Any) -> str:
    for name in ("imageMessage", "videoMessage", "documentMessage", "ptvMessage"):
        if message.HasField(name) and message_has(getattr(message, name), "caption"):
            return str(getattr(message, name).caption)
    return ""


_MEDIA = (  # field, kind, default mime
    ("imageMessage", "photo", "image/jpeg"),
    ("videoMessage", "video", "video/mp4"),
    ("ptvMessage", "video", "video/mp4"),
    ("audioMessage", "audio", "audio/ogg"),
    ("documentMessage", "document", "application/octet-stream"),
)


def _media(message: Any) -> Media | None:
    for name, kind, default in _MEDIA:
        if not message.HasField(name):
            continue
        part = getattr(message, name)
        if name == "audioMessage" and part.PTT:
            kind = "voice"
        mime = (part.mimetype or default).split(";")[0].strip().lower() or default
        size = int(part.fileLength) if message_has(part, "fileLength") else None
        filename = None
        if name == "documentMessage":
            filename = (part.fileName or part.title or "").strip()[:200] or None
        only = type(message)()
        getattr(only, name).CopyFrom(part)
        return Media(kind, mime, size, filename, only)
    return None


def _location(message: Any) -> dict[str, Any] | None:
    if message.HasField("locationMessage"):
        pin = message.locationMessage
        name, address = pin.name or None, pin.address or None
    elif message.HasField("liveLocationMessage"):
        pin = message.liveLocationMessage
        name, address = pin.caption or None, None
    else:
        return None
    lat, lon = float(pin.degreesLatitude), float(pin.degreesLongitude)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None  # an empty pin (live location updates without coordinates)
    return {"lat": lat, "lon": lon, "name": name, "address": address}
