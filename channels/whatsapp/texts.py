"""What the WhatsApp channel says by itself: the alerts to the admins and the Kapolres when
the number cannot be served (each says what to do), and the apology to a citizen whose
message could not be read. Translated through the catalogs like every other text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.i18n import _, use_locale

__all__ = ["ALERTS", "alert_text", "apology"]

ALERTS = ("logged_out", "not_linked", "banned", "outdated", "replaced")


def alert_text(
    kind: str, detail: str, until: float | None, *, locale: str | None, tz: ZoneInfo
) -> str:
    with use_locale(locale):
        if kind == "logged_out":
            text = _(
                "WhatsApp ended the linked session of the TAROS number (%(detail)s). Replies "
                "wait in the outbox. On the server, run `taros whatsapp link` and scan the QR "
                "code with the phone of the TAROS number (WhatsApp > Linked devices)."
            ) % {"detail": detail}
        elif kind == "not_linked":
            text = _(
                "TAROS is set to serve WhatsApp, but no number is linked. On the server, run "
                "`taros whatsapp link` and scan the QR code with the phone of the TAROS number "
                "(WhatsApp > Linked devices)."
            )
        elif kind == "banned":
            text = _(
                "WhatsApp has temporarily banned the TAROS number (%(detail)s). Replies wait "
                "in the outbox and go out when the ban ends. Do not link the number anywhere "
                "else meanwhile, and keep it a normal person-to-person account."
            ) % {"detail": detail}
            if until is not None:
                end = datetime.fromtimestamp(until, tz).strftime("%Y-%m-%d %H:%M %Z")
                text += " " + _("The ban ends at %(time)s.") % {"time": end}
        elif kind == "outdated":
            text = _(
                "WhatsApp refuses the TAROS WhatsApp client as outdated (405). On the server, "
                "update it (`pip install -U neonize`) and restart `taros run`. Replies wait in "
                "the outbox."
            )
        elif kind == "replaced":
            text = _(
                "Another program connected with the WhatsApp session of TAROS, so TAROS was "
                "disconnected. Make sure only one `taros run` serves WhatsApp; TAROS connects "
                "again in a few minutes."
            )
        else:
            text = _("WhatsApp problem: %(detail)s") % {"detail": detail}
        return text


def apology(locale: str | None) -> str:
    """The engine's own apology (one message in the catalogs)."""
    with use_locale(locale):
        return _("Sorry, something went wrong on our side. Please send your message again.")
