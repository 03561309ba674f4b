"""The values that travel between channels and the engine.

Channels translate platform updates into :class:`Inbound` and render :class:`Outbound`;
nothing else crosses the boundary. Chat and sender ids are strings: WhatsApp JIDs are not
integers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    VOICE = "voice"
    AUDIO = "audio"


class InboundKind(StrEnum):
    """What a platform update carried, as far as the dialogue cares."""

    MESSAGE = "message"
    UNSUPPORTED = "unsupported"  # sticker, contact, poll, ...


@dataclass(frozen=True, slots=True)
class ChatKey:
    """One conversation: a chat on one channel."""

    channel: str
    chat_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


FetchBytes = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent. ``fetch`` downloads its bytes; ``size`` is what the platform
    announced (None when unknown) and is checked before downloading."""

    kind: AttachmentKind
    mime: str
    size: int | None
    fetch: FetchBytes
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the user: ``id`` is the stable payload, ``label`` what is shown."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: str
    chat_id: str
    sender_id: str
    message_id: str
    timestamp: datetime
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    chosen_option: str | None = None
    kind: InboundKind = InboundKind.MESSAGE
    sender_name: str | None = None
    group_id: str | None = None  # album / media group: several inbounds, one acknowledgement
    # Other ids of the same sender on this channel (WhatsApp: the @lid form of a phone
    # number, or the reverse): identities of the same reporter.
    sender_aliases: tuple[str, ...] = ()

    @property
    def key(self) -> ChatKey:
        return ChatKey(self.channel, self.chat_id)


@dataclass(frozen=True, slots=True)
class Media:
    """A file to send, e.g. the digest chart."""

    path: Path
    mime: str
    caption: str | None = None


class Purpose(StrEnum):
    """What a message is for, for a platform that may reach a person who has been silent for a
    while only with a pre-approved message of that purpose (WhatsApp's templates outside its
    24-hour window)."""

    STATUS = "status"  # a report's status changed
    RELAY = "relay"  # an officer's message through the bot (/balas)
    CLOSING = "closing"  # the report was closed: was the problem handled?
    DIGEST = "digest"  # the daily digest to a Kapolres


@dataclass(frozen=True, slots=True)
class Template:
    """A message's meaning as a template: its purpose and the values that fill the template's
    blanks, in order (single-line texts), and the report it is about, if any (staff are told
    when it cannot be delivered)."""

    purpose: Purpose
    params: tuple[str, ...]
    ticket: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to send. ``media`` is one file; ``album`` (optional) shows the same content as
    several images, for a platform that can send an album (Telegram): a channel that can
    sends the album, every other sends ``media``."""

    channel: str
    chat_id: str
    text: str
    options: tuple[Option, ...] = ()
    media: Media | None = None
    locale: str = "id"
    outbox_id: int | None = None  # set by the dispatcher: the durable id of this message
    album: tuple[Media, ...] = ()
    template: Template | None = None  # how it may go to someone silent for a while
    # told to someone else (the officer who wrote it) when this message is given up
    on_failure: Outbound | None = None

    @property
    def key(self) -> ChatKey:
        return ChatKey(self.channel, self.chat_id)
