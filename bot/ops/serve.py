"""``taros run``: serve every configured platform channel until SIGINT or SIGTERM.

Which channels run is decided in one place, :func:`platform_channels`. Stopping is graceful:
channels stop taking updates, in-flight messages are committed, the outbox attempt in
progress ends (:mod:`bot.ops.shutdown`), the database closes; a restart continues where
this one stopped. With ``TAROS_HTTP`` set, ``/healthz`` and ``/metrics`` are served
(:mod:`bot.ops.health`) while the channels are.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from bot.app import App
from bot.config import Settings
from bot.ops.health import HealthServer, channel_routes
from bot.ops.metrics import Metrics, observe
from bot.ops.process import settle_heap
from bot.ops.shutdown import SendGate
from bot.platforms import telegram_channel, whatsapp_channel, whatsapp_cloud_channel
from channels.base import Channel, ChannelUnavailable
from conversations.domain import ChannelName

log = logging.getLogger(__name__)


def platform_channels(settings: Settings) -> list[Callable[[], Channel]]:
    """Factories of the configured platform channels (imported lazily: a deployment that
    does not use a platform never loads its SDK)."""
    factories: list[Callable[[], Channel]] = []
    if settings.telegram_token:

        def telegram() -> Channel:
            return telegram_channel(settings)

        factories.append(telegram)
    if settings.whatsapp:

        def whatsapp() -> Channel:
            return whatsapp_channel(settings)

        factories.append(whatsapp)
    if settings.whatsapp_cloud:

        def whatsapp_cloud() -> Channel:
            return whatsapp_cloud_channel(settings)

        factories.append(whatsapp_cloud)
    return factories


def describe(channel: Channel, settings: Settings) -> str:
    if channel.name == ChannelName.TELEGRAM:
        return "Telegram (webhook)" if settings.telegram_webhook_url else "Telegram (long polling)"
    if channel.name == ChannelName.WHATSAPP and settings.whatsapp_cloud:
        return "WhatsApp (Cloud API; Meta posts to /webhooks/whatsapp on TAROS_HTTP)"
    if channel.name == ChannelName.WHATSAPP:
        return "WhatsApp (linked device; `taros whatsapp status` tells the connection)"
    return channel.name


async def serve(settings: Settings, factories: list[Callable[[], Channel]]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    app = await App.open(settings)
    metrics = Metrics()
    observe(app, metrics)
    gate = SendGate()
    http: HealthServer | None = None
    try:
        for factory in factories:
            app.add_channel(factory())
        gate.guard(app.channels.values())
        await app.start(timers=True)
        settle_heap()  # what was loaded at start stays for the process's life
        names = ", ".join(describe(c, settings) for c in app.channels.values())
        if settings.http_listen:
            http = HealthServer(
                app,
                metrics,
                outbox_limit=settings.health_outbox_seconds,
                routes=channel_routes(app.channels.values()),
            )
            try:
                where = await http.start(settings.http_listen)
            except OSError as exc:  # the address is taken or not this machine's
                print(f"taros: TAROS_HTTP={settings.http_listen}: {exc}", file=sys.stderr)
                return 2
            names += f"; /healthz and /metrics on http://{where}"
        print(f"taros: serving {names}; Ctrl-C or SIGTERM stops.", file=sys.stderr)
        await stop.wait()
        log.info("stopping: no new updates; finishing what is in progress")
    except ChannelUnavailable as exc:
        print(f"taros: {exc}", file=sys.stderr)
        return 2
    finally:
        # Signals stay caught until everything is closed: a second Ctrl-C (or the INT that
        # `timeout` sends) must not interrupt the closing half-way.
        try:
            if http is not None:
                await http.stop()
            await gate.close()  # the sends in progress end and are recorded; no new one starts
            await app.close()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
    log.info("stopped cleanly")
    return 0
