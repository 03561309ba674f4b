"""An :class:`Outbound` as Cloud API messages, and the Graph API's errors as the dispatcher's.

Options are native: up to three short ones (20 characters) as reply buttons; otherwise a list
message, whose rows show 24 characters (a longer label is cut there and given whole as the
row's description); a list holds ten rows, so a longer menu is split into balanced lists
(11 options: 6 and 5), the first under the question, the others under "More choices (2/2)".
Every choice carries the option's id, which the engine takes as the answer. A question whose
text is longer than an interactive message's body (1024 characters) goes as a text first.
A file (the digest chart) goes first, with the text as its caption when it fits.

The Graph API's error codes (``pywa_async.errors``) become what the dispatcher understands:
throughput (130429) and pair rate (131056) are a wait for that chat only; the 24-hour window
(131047) is :class:`WindowClosed` (the channel sends the template); a refused token is
:class:`TokenRefused` (the channel reports itself unhealthy and alerts the admins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx
from pywa_async import errors as wa

from channels.base import DeliveryError, Permanent, RetryAfter, Transient
from channels.whatsapp_cloud.texts import choose_button, choose_one, more_choices
from conversations.messages import Media, Option, Outbound

__all__ = [
    "Buttons",
    "FilePart",
    "ListPart",
    "Part",
    "TextPart",
    "TokenRefused",
    "WindowClosed",
    "delivery_error",
    "plan",
]

MAX_TEXT = 4096
MAX_BODY = 1024  # an interactive message's body, a caption
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_OPTION_ID = 200


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class Buttons:
    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class ListPart:
    text: str
    options: tuple[Option, ...]
    button: str  # the list's button, which opens it


@dataclass(frozen=True, slots=True)
class FilePart:
    media: Media
    caption: str


Part = TextPart | Buttons | ListPart | FilePart


def plan(outbound: Outbound) -> list[Part]:
    """The messages that show ``outbound``, in order."""
    text = outbound.text
    parts: list[Part] = []
    media = outbound.media
    if media is not None:
        caption = media.caption if media.caption is not None else text
        caption = caption if len(caption) <= MAX_BODY else ""
        parts.append(FilePart(media, caption))
        if caption == text or not text.strip():
            text = ""
    options = tuple(o for o in outbound.options if o.id and len(o.id) <= MAX_OPTION_ID)
    if not options:
        parts += [TextPart(chunk) for chunk in split_text(text)]
        return parts or [TextPart("…")]
    if not text.strip() or len(text) > MAX_BODY:
        parts += [TextPart(chunk) for chunk in split_text(text)]
        text = choose_one(outbound.locale)
    if len(options) <= MAX_BUTTONS and all(len(o.label) <= MAX_BUTTON_TITLE for o in options):
        parts.append(Buttons(text, options))
        return parts
    groups = balanced(options, MAX_ROWS)
    for index, group in enumerate(groups, 1):
        body = text if index == 1 else more_choices(index, len(groups), outbound.locale)
        parts.append(ListPart(body, group, choose_button(outbound.locale)))
    return parts


def balanced(options: tuple[Option, ...], size: int) -> list[tuple[Option, ...]]:
    """``options`` in the fewest groups of at most ``size``, as even as can be (the first
    ones one longer)."""
    count = math.ceil(len(options) / size)
    base, extra = divmod(len(options), count)
    groups: list[tuple[Option, ...]] = []
    start = 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        groups.append(options[start:end])
        start = end
    return groups


def row(option: Option) -> tuple[str, str | None]:
    """A list row's title and description for ``option``."""
    label = " ".join(option.label.split()) or option.id
    if len(label) <= MAX_ROW_TITLE:
        return label, None
    title = label[: MAX_ROW_TITLE - 1].rstrip() + "…"
    description = (
        label if len(label) <= MAX_ROW_DESCRIPTION else label[: MAX_ROW_DESCRIPTION - 1] + "…"
    )
    return title, description


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a line end (or a space)
    when there is one in the second half."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        if cut < 0:
            cut = rest.rfind(" ", limit // 2, limit)
        if cut < 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip():
        chunks.append(rest)
    return chunks


class WindowClosed(Permanent):
    """The person has not written for 24 hours: only a template may reach them (131047)."""


class TokenRefused(DeliveryError):
    """The access token expired or was revoked: nothing can be sent until it is replaced."""


@dataclass(frozen=True, slots=True)
class Waits:
    """How long a chat waits after Meta's limits answer."""

    throughput: float = 2.0  # 130429: the number's messages per second
    pair: float = 10.0  # 131056: too many messages to one person in a short time
    throttled: float = 60.0  # the app's or the account's call limits (4, 80007, ...)


_PERMANENT = (
    wa.MessageUndeliverable,  # 131026
    wa.RecipientNotInAllowedList,  # 131030: a test number's allowed recipients
    wa.RecipientCannotBeSender,  # 131021
    wa.UnsupportedMessageType,  # 131051
    wa.InvalidParameter,  # 131009
    wa.MissingRequiredParameter,  # 131008
    wa.MediaUploadError,  # 131053
    wa.UserStoppedMarketingMessages,  # 131050
    wa.BSUIDRecipientNotSupported,  # 131062
    wa.MessageUndeliverableDueToHealthyEcosystemEngagement,  # 131049
)
_TEMPLATE_CODES = range(132000, 132100)


def delivery_error(exc: Exception, waits: Waits) -> DeliveryError:
    """What the dispatcher should do about ``exc``, raised by a pywa send."""
    if isinstance(exc, wa.WhatsAppError):
        detail = f"whatsapp cloud {exc.code}: {exc.message}"[:300]
        if isinstance(exc, wa.ReEngagementMessage):
            return WindowClosed(detail)
        if isinstance(exc, wa.RateLimitHit):
            return RetryAfter(waits.throughput, detail)
        if isinstance(exc, wa.TooManyMessages):
            return RetryAfter(waits.pair, detail)
        if isinstance(exc, wa.ThrottlingError):
            return RetryAfter(waits.throttled, detail)
        if isinstance(exc, wa.AuthorizationError):
            return TokenRefused(detail)
        if isinstance(exc, _PERMANENT) or exc.code in _TEMPLATE_CODES:
            return Permanent(detail)
        return Transient(detail)
    if isinstance(exc, httpx.HTTPError):
        return Transient(f"whatsapp cloud: {type(exc).__name__}")
    if isinstance(exc, OSError):
        return Permanent(f"media file unreadable: {exc}")
    return Transient(f"whatsapp cloud: {exc!r}"[:300])
