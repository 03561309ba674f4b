"""Each platform channel built from the settings: the application decides what a channel is
given (its pacing, its webhook, where its alerts go); the channel only adapts the platform.

A platform's SDK is imported only when its channel is built, so a deployment that does not
use a platform never loads it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from bot.config import Settings
from channels.pacing import Rate

if TYPE_CHECKING:
    from channels.telegram.channel import TelegramChannel, TelegramOptions
    from channels.whatsapp.channel import WhatsAppChannel, WhatsAppOptions


def telegram_channel(
    settings: Settings, options: TelegramOptions | None = None
) -> TelegramChannel:
    from channels.telegram.channel import TelegramChannel, Webhook

    if not settings.telegram_token:
        raise ValueError("TAROS_TELEGRAM_TOKEN is not set")
    webhook = None
    if settings.telegram_webhook_url:
        host, _sep, port = settings.telegram_listen.rpartition(":")
        webhook = Webhook(
            url=settings.telegram_webhook_url,
            host=host.strip("[]"),
            port=int(port),
            secret=settings.telegram_secret or secrets.token_urlsafe(32),
            shared=bool(settings.http_listen),
        )
    return TelegramChannel(
        settings.telegram_token,
        api_url=settings.telegram_api_url,
        webhook=webhook,
        options=options,
    )


def whatsapp_channel(
    settings: Settings, options: WhatsAppOptions | None = None
) -> WhatsAppChannel:
    from bot.whatsapp_alerts import OutboxAlerts
    from channels.whatsapp.channel import WhatsAppChannel, WhatsAppOptions
    from channels.whatsapp.session import WorkerConfig

    options = options or WhatsAppOptions(
        per_chat=Rate(1.0 / settings.whatsapp_chat_gap, 1),
        overall=Rate(settings.whatsapp_per_minute / 60.0, 5),
        worker=WorkerConfig(max_bytes=settings.max_evidence_bytes),
    )
    return WhatsAppChannel(
        settings.data_dir,
        options=options,
        alerts=OutboxAlerts(settings),
        locale=settings.locale,
        tz=settings.tz,
    )
