"""Alerts about the WhatsApp number to the admins and the Kapolres, through the outbox.

When WhatsApp cannot be served (logged out, banned, outdated), telling the people in charge
on WhatsApp is pointless: each admin and Kapolres registered on another channel (Telegram,
the console) gets the alert as an outbox row, delivered by the dispatcher like any reply.
The database is opened only when an alert is due (rarely), as a command would open it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from conversations.domain import Role
from conversations.messages import Outbound

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["OutboxAlerts"]

ROLES = (Role.ADMIN, Role.KAPOLRES)


class OutboxAlerts:
    def __init__(self, settings: Settings, *, skip_channel: str = "whatsapp") -> None:
        self.settings = settings
        self.skip_channel = skip_channel

    async def __call__(self, text: str) -> int:
        """Queue ``text`` for every admin and Kapolres not on the skipped channel; how many."""
        from bot.storage.database import Database  # the channel layer does not load it otherwise
        from bot.storage.outbox import SqliteOutbox
        from bot.storage.store import SqliteStore

        settings = self.settings
        db = await Database.open(settings.database_path)
        try:
            store = SqliteStore(db, ticket_prefix=settings.ticket_prefix, tz=settings.tz)
            people = {
                (officer.channel, officer.external_id)
                for officer in await store.officers(roles=ROLES)
                if officer.channel != self.skip_channel
            }
            outbounds = [
                Outbound(channel, external_id, text, locale=settings.locale)
                for channel, external_id in sorted(people)
            ]
            if outbounds:
                await SqliteOutbox(db).enqueue(outbounds, datetime.now(UTC))
            return len(outbounds)
        finally:
            await db.close()
