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
    from channels.whatsapp_cloud.channel import CloudOptions, WhatsAppCloudChannel


def telegram_channel(settings: Settings, options: TelegramOptions | None = None) -> TelegramChannel:
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


def whatsapp_channel(settings: Settings, options: WhatsAppOptions | None = None) -> WhatsAppChannel:
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


def whatsapp_cloud_channel(
    settings: Settings, options: CloudOptions | None = None
) -> WhatsAppCloudChannel:
    """The WhatsApp Cloud API route (``TAROS_WHATSAPP_CLOUD_*``): paced within the number's
    throughput and a gap per person, with the configured templates; a refused token is told
    to the admins and the Kapolres on their other channels."""
    from bot.whatsapp_alerts import OutboxAlerts
    from channels.whatsapp_cloud.channel import CloudCredentials, CloudOptions, WhatsAppCloudChannel

    if not settings.whatsapp_cloud:
        missing = ", ".join(settings.whatsapp_cloud_missing) or "TAROS_WHATSAPP_CLOUD_*"
        raise ValueError(f"the WhatsApp Cloud API is not configured: {missing}")
    assert settings.whatsapp_cloud_phone_id and settings.whatsapp_cloud_token
    assert settings.whatsapp_cloud_app_secret and settings.whatsapp_cloud_verify_token
    options = options or CloudOptions(
        api_url=settings.whatsapp_cloud_api_url,
        per_second=settings.whatsapp_cloud_per_second,
        per_chat=Rate(1.0 / settings.whatsapp_cloud_chat_gap, 10),
        templates=dict(settings.whatsapp_cloud_templates),
        max_media_bytes=settings.max_evidence_bytes,
    )
    return WhatsAppCloudChannel(
        CloudCredentials(
            phone_id=settings.whatsapp_cloud_phone_id,
            token=settings.whatsapp_cloud_token,
            app_secret=settings.whatsapp_cloud_app_secret,
            verify_token=settings.whatsapp_cloud_verify_token,
        ),
        settings.data_dir,
        options=options,
        alerts=OutboxAlerts(settings),
        locale=settings.locale,
    )
