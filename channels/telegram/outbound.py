"""An :class:`Outbound` as Telegram messages, and Telegram's errors as the dispatcher's.

One Outbound may need several messages: a photo (its caption is limited to 1024 characters)
or an album of photos, and text split at 4096 characters. The keyboard goes on the last
message, so it sits under the question (an album cannot carry one).
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import error as tg

from channels.base import DeliveryError, Permanent, RetryAfter, Transient
from conversations.messages import Media, Outbound

__all__ = ["Part", "delivery_error", "plan", "retry_seconds", "split_text"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
PHOTO_MIMES = frozenset({"image/png", "image/jpeg", "image/webp"})


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    media: Media | None = None
    keyboard: bool = False
    album: tuple[Media, ...] = ()

    @property
    def as_photo(self) -> bool:
        return self.media is not None and self.media.mime.lower() in PHOTO_MIMES


def _units(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units, cut at a paragraph, a line or a
    space when there is one in the second half of the piece."""
    pieces: list[str] = []
    rest = text
    while _units(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                cut = at + len(sep)
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _fit(text: str, limit: int) -> int:
    """The longest prefix length (in characters) within ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(1, index)
    return len(text)


def plan(outbound: Outbound) -> list[Part]:
    parts: list[Part] = []
    text = outbound.text
    media = outbound.media
    if outbound.album:
        album = tuple(_captioned(m) for m in outbound.album)
        if text in (album[0].caption, "\n".join(m.caption or "" for m in outbound.album)):
            text = ""  # the album's captions say it
        parts.append(Part("", album=album))
    elif media is not None:
        caption = media.caption if media.caption is not None else text
        if _units(caption) > MAX_CAPTION:
            caption = ""
        if caption == text:
            text = ""
        parts.append(Part(caption, media))
    if text.strip():
        parts += [Part(piece) for piece in split_text(text)]
    elif not parts:
        parts.append(Part("…"))  # Telegram refuses an empty message
    if outbound.options:
        last = parts[-1]
        if last.album:
            parts.append(Part("…", keyboard=True))
        else:
            parts[-1] = Part(last.text, last.media, keyboard=True)
    return parts


def _captioned(media: Media) -> Media:
    """An album's photo, its caption dropped when Telegram would refuse it."""
    if media.caption is not None and _units(media.caption) > MAX_CAPTION:
        return Media(media.path, media.mime, None)
    return media


def retry_seconds(exc: tg.RetryAfter) -> float:
    value = exc.retry_after
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    return max(0.0, seconds)


_GONE = (
    "chat not found",
    "user is deactivated",
    "bot was blocked",
    "bot was kicked",
    "peer_id_invalid",
    "have no rights to send",
    "chat_write_forbidden",
    "bot can't initiate conversation",
)


def delivery_error(exc: tg.TelegramError) -> DeliveryError:
    """What the dispatcher should do about ``exc``: wait, retry with backoff, or give up on
    this message (the chat is gone or the request itself is wrong; repeating it cannot
    help)."""
    if isinstance(exc, tg.RetryAfter):
        return RetryAfter(retry_seconds(exc), "telegram flood control")
    if isinstance(exc, tg.Forbidden):
        return Permanent(f"telegram forbidden: {exc.message}")
    if isinstance(exc, tg.BadRequest):
        lowered = exc.message.lower()
        reason = "recipient unreachable" if any(g in lowered for g in _GONE) else "bad request"
        return Permanent(f"telegram {reason}: {exc.message}")
    if isinstance(exc, tg.ChatMigrated):
        return Permanent("telegram group was migrated")
    if isinstance(exc, tg.InvalidToken):
        return Transient("telegram rejected the bot token")
    return Transient(f"telegram {type(exc).__name__}: {exc.message}")
