"""What the WhatsApp Cloud API channel says by itself: the words around native lists, the
alerts to the admins and the Kapolres when the access token is refused, and the note staff
get when a message to a citizen cannot be delivered. Translated like every other text."""

from __future__ import annotations

from conversations.i18n import _, use_locale

__all__ = ["choose_button", "choose_one", "more_choices", "token_alert"]


def choose_button(locale: str | None) -> str:
    """The button that opens a list (WhatsApp shows at most 20 characters)."""
    with use_locale(locale):
        return _("Choose")[:20]


def choose_one(locale: str | None) -> str:
    """The body of a list or buttons when the question came as its own message."""
    with use_locale(locale):
        return _("Choose one:")


def more_choices(part: int, parts: int, locale: str | None) -> str:
    with use_locale(locale):
        return _("More choices (%(part)d/%(parts)d)") % {"part": part, "parts": parts}


def token_alert(detail: str, locale: str | None) -> str:
    with use_locale(locale):
        return _(
            "The WhatsApp Cloud API refused the access token of TAROS (%(detail)s). Replies "
            "wait in the outbox. In Meta Business Settings, generate a new permanent token for "
            "the system user, put it in TAROS_WHATSAPP_CLOUD_TOKEN and restart `taros run`."
        ) % {"detail": detail}
