"""An :class:`Outbound` as WhatsApp messages, and the worker's send errors as the
dispatcher's.

Unofficial clients cannot show buttons or lists (WhatsApp drops them), so options are a
numbered list in the text, answered with the number. A file (the digest chart) goes first,
with the text as its caption when it fits; otherwise the text follows as its own message.
"""

from __future__ import annotations

from typing import Any

from channels.base import DeliveryError, Permanent, RetryAfter, Transient, render_text
from conversations.messages import Outbound

__all__ = ["MAX_CAPTION", "delivery_error", "plan"]

MAX_CAPTION = 1000
RATE_LIMITED_WAIT = 60.0

_RATE_LIMITED = ("rate-overlimit", "rate limit", "429", "too many")
_GONE = ("not on whatsapp", "unknown server", "invalid jid", "no such user", "not a whatsapp")


def plan(outbound: Outbound) -> list[dict[str, Any]]:
    """The send requests for ``outbound``, in order."""
    text = render_text(outbound)
    media = outbound.media
    if media is None:
        return [{"text": text if text.strip() else "…"}]
    caption = media.caption if media.caption is not None else text
    if len(caption) > MAX_CAPTION:
        caption = ""
    parts: list[dict[str, Any]] = [
        {"text": caption, "media": {"path": str(media.path.absolute()), "mime": media.mime}}
    ]
    if text.strip() and text != caption:
        parts.append({"text": text})
    return parts


def delivery_error(result: dict[str, Any]) -> DeliveryError:
    """What the dispatcher should do about a failed send reported by the worker."""
    message = str(result.get("error") or "unknown error")[:300]
    if result.get("permanent") is True:
        return Permanent(f"whatsapp: {message}")
    lowered = message.lower()
    if any(mark in lowered for mark in _RATE_LIMITED):
        return RetryAfter(RATE_LIMITED_WAIT, f"whatsapp rate limit: {message}")
    if any(mark in lowered for mark in _GONE):
        return Permanent(f"whatsapp recipient unreachable: {message}")
    return Transient(f"whatsapp: {message}")
