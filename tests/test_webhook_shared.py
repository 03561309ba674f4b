"""With TAROS_HTTP set, the Telegram webhook is served by the same HTTP server as /healthz and
/metrics (one port for the reverse proxy)."""

from __future__ import annotations

import aiohttp
from fake_bot_api import FakeBotApi
from test_telegram import CATEGORY_Q, FAST

from bot.app import App
from bot.config import Settings
from bot.ops.health import HealthServer, channel_routes
from bot.ops.metrics import Metrics, observe
from bot.platforms import telegram_channel
from channels.telegram.channel import TelegramChannel, Webhook

HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def test_the_webhook_shares_the_health_server(settings: Settings) -> None:
    async with FakeBotApi() as fake:
        app = await App.open(settings, poll_interval=0.2)
        hook = Webhook(url="https://bot.example.id/tg/hook", secret="s3cret_ok", shared=True)
        channel = TelegramChannel(fake.token, api_url=fake.url, options=FAST, webhook=hook)
        app.add_channel(channel)
        metrics = Metrics()
        observe(app, metrics)
        server = HealthServer(
            app, metrics, outbox_limit=300, routes=channel_routes(app.channels.values())
        )
        try:
            await app.start(timers=False)
            assert channel.webhook_port is None  # no server of its own
            where = await server.start("127.0.0.1:0")
            base = f"http://{where}"
            update = {
                "update_id": 7,
                "message": {
                    "message_id": 1,
                    "date": 1_790_000_000,
                    "chat": {"id": 9801, "type": "private", "first_name": "Warga"},
                    "from": {"id": 9801, "is_bot": False, "first_name": "Warga"},
                    "text": "/start",
                },
            }
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    f"{base}/tg/hook", json=update, headers={HEADER: "wrong"}
                ) as resp:
                    assert resp.status == 403
                async with http.post(
                    f"{base}/tg/hook", data=b"not json", headers={HEADER: "s3cret_ok"}
                ) as resp:
                    assert resp.status == 400
                async with http.post(
                    f"{base}/tg/hook", json=update, headers={HEADER: "s3cret_ok"}
                ) as resp:
                    assert resp.status == 200
                async with http.get(f"{base}/healthz") as resp:
                    assert resp.status in (200, 503)
                    assert "reasons" in await resp.json()
            await fake.reply(9801, CATEGORY_Q)
            assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret_ok"
        finally:
            await server.stop()
            await app.close()


def test_from_settings_shares_the_server_only_when_taros_http_is_set() -> None:
    base = Settings(telegram_token="1:x", telegram_webhook_url="https://bot.example.id/tg")
    alone = telegram_channel(base)
    assert alone.webhook is not None and not alone.webhook.shared
    assert alone.http_routes() == []
    from dataclasses import replace

    shared = telegram_channel(replace(base, http_listen="127.0.0.1:8080"))
    assert shared.webhook is not None and shared.webhook.shared
    assert [(m, p) for m, p, _h in shared.http_routes()] == [("POST", "/tg")]
