"""A Telegram update as TAROS sees it: a private message for the engine, a button press, a
group message (no dialogue), or nothing of interest.

Only private chats are served. The platform message id used for deduplication is
``<chat id>:<message id>`` (stable when Telegram redelivers the message in a new update); a
button press is ``<chat id>:<message id>:<callback data>``, so pressing the same button of
the same message twice is one answer. Sizes come from ``file_size`` and are checked by the
engine before anything is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update

from channels.base import Ignore
from channels.telegram.keyboards import OptionCodec
from conversations.messages import (
    Attachment,
    AttachmentKind,
    FetchBytes,
    Inbound,
    InboundKind,
    Location,
)

__all__ = ["FromGroup", "Ignore", "Press", "Private", "classify"]

FetchFor = Callable[[str], FetchBytes]

# Content a citizen can send that the dialogue does not take.
_UNSUPPORTED = (
    "sticker",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "paid_media",
    "checklist",
    "passport_data",
)
# Service messages: nothing a citizen said; ignored silently.
_SERVICE = (
    "pinned_message",
    "message_auto_delete_timer_changed",
    "write_access_allowed",
    "chat_background_set",
    "users_shared",
    "chat_shared",
    "gift",
    "unique_gift",
    "successful_payment",
    "refunded_payment",
    "connected_website",
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
)


@dataclass(frozen=True, slots=True)
class FromGroup:
    """A message in a group, supergroup or channel: at most a notice, nothing stored."""

    chat_id: int


@dataclass(frozen=True, slots=True)
class Private:
    inbound: Inbound
    album: str | None = None  # media_group_id: one part of an album

    @property
    def typed(self) -> bool:
        """Typed text only: an answer to the question on screen (its keyboard retires)."""
        msg = self.inbound
        return bool(msg.text.strip()) and not msg.attachments and msg.location is None


@dataclass(frozen=True, slots=True)
class Press:
    """A button press. ``inbound`` is None when it is not for the engine (not a private
    chat, not our callback data); the query is answered either way."""

    query_id: str
    chat_id: str | None
    message_id: int | None
    inbound: Inbound | None
    label: str | None = None  # the pressed button's label, when the message is known
    text: str | None = None  # the text of the message the keyboard was under


Routed = Ignore | FromGroup | Private | Press


def classify(update: Update, *, channel: str, codec: OptionCodec, fetch_for: FetchFor) -> Routed:
    if update.callback_query is not None:
        return _press(update.callback_query, channel, codec)
    if update.edited_message is not None or update.edited_channel_post is not None:
        return Ignore("edited message")  # an edit is not a new answer
    message = update.message
    if message is None:
        if update.channel_post is not None:
            return FromGroup(update.channel_post.chat.id)
        return Ignore("not a message")
    if message.chat.type != Chat.PRIVATE:
        return FromGroup(message.chat.id)
    user = message.from_user
    if user is not None and user.is_bot:
        return Ignore("from a bot")
    inbound = _message(message, channel, fetch_for)
    if inbound is None:
        return Ignore("service message")
    album = message.media_group_id if inbound.attachments else None
    return Private(inbound, album)


def _message(message: Message, channel: str, fetch_for: FetchFor) -> Inbound | None:
    chat_id = str(message.chat.id)
    user = message.from_user
    text = message.text or message.caption or ""
    attachment = _attachment(message, fetch_for)
    location = _location(message)
    kind = InboundKind.MESSAGE
    if attachment is None and location is None and not text.strip():
        if any(getattr(message, name, None) for name in _UNSUPPORTED):
            kind = InboundKind.UNSUPPORTED
        elif any(getattr(message, name, None) for name in _SERVICE):
            return None
        else:
            kind = InboundKind.UNSUPPORTED  # something new: say what we accept
    return Inbound(
        channel=channel,
        chat_id=chat_id,
        sender_id=str(user.id) if user is not None else chat_id,
        message_id=f"{chat_id}:{message.message_id}",
        timestamp=message.date or datetime.now(UTC),
        text=text,
        attachments=(attachment,) if attachment is not None else (),
        location=location,
        kind=kind,
        group_id=message.media_group_id,
    )


def _attachment(message: Message, fetch_for: FetchFor) -> Attachment | None:
    def make(kind: AttachmentKind, media: object, mime: str | None, default: str) -> Attachment:
        file_id: str = media.file_id  # type: ignore[attr-defined]
        return Attachment(
            kind=kind,
            mime=mime or default,
            size=getattr(media, "file_size", None),
            fetch=fetch_for(file_id),
            filename=getattr(media, "file_name", None),
        )

    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return make(AttachmentKind.PHOTO, largest, "image/jpeg", "image/jpeg")
    if message.video is not None:
        return make(AttachmentKind.VIDEO, message.video, message.video.mime_type, "video/mp4")
    if message.animation is not None:  # a GIF: Telegram also fills ``document``
        media = message.animation
        return make(AttachmentKind.VIDEO, media, media.mime_type, "video/mp4")
    if message.video_note is not None:
        return make(AttachmentKind.VIDEO, message.video_note, None, "video/mp4")
    if message.voice is not None:
        return make(AttachmentKind.VOICE, message.voice, message.voice.mime_type, "audio/ogg")
    if message.audio is not None:
        return make(AttachmentKind.AUDIO, message.audio, message.audio.mime_type, "audio/mpeg")
    if message.document is not None:
        document = message.document
        return make(
            AttachmentKind.DOCUMENT, document, document.mime_type, "application/octet-stream"
        )
    return None


def _location(message: Message) -> Location | None:
    if message.venue is not None:
        venue = message.venue
        return Location(
            venue.location.latitude,
            venue.location.longitude,
            name=venue.title or None,
            address=venue.address or None,
        )
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    return None


def _press(query: CallbackQuery, channel: str, codec: OptionCodec) -> Press:
    message = query.message
    if message is None or message.chat.type != Chat.PRIVATE:
        return Press(query.id, None, None, None)
    chat_id = str(message.chat.id)
    option = codec.decode(query.data)
    if option is None:
        return Press(query.id, chat_id, message.message_id, None)
    inbound = Inbound(
        channel=channel,
        chat_id=chat_id,
        sender_id=str(query.from_user.id),
        message_id=f"{chat_id}:{message.message_id}:{query.data}",
        timestamp=datetime.now(UTC),
        chosen_option=option,
    )
    label = text = None
    if isinstance(message, Message):  # not an InaccessibleMessage (older than 48 hours)
        text = message.text
        markup = message.reply_markup
        for row in markup.inline_keyboard if markup is not None else ():
            for button in row:
                if button.callback_data == query.data:
                    label = button.text
    return Press(query.id, chat_id, message.message_id, inbound, label, text)
