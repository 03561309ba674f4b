"""``taros run``: serve every configured platform channel until SIGINT or SIGTERM.

Which channels run is decided in one place, :func:`platform_channels`. Stopping is graceful:
channels stop taking updates, in-flight messages are committed, the outbox attempt in
progress ends, the database closes; a restart continues where this one stopped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from taros.bot.app import App
from taros.bot.config import Settings
from taros.channels.base import Channel, ChannelUnavailable

log = logging.getLogger(__name__)


def platform_channels(settings: Settings) -> list[Callable[[], Channel]]:
    """Factories of the configured platform channels (imported lazily: a deployment that
    does not use a platform never loads its SDK)."""
    factories: list[Callable[[], Channel]] = []
    if settings.telegram_token:

        def telegram() -> Channel:
            from taros.channels.telegram import TelegramChannel

            return TelegramChannel.from_settings(settings)

        factories.append(telegram)
    return factories


def describe(channel: Channel, settings: Settings) -> str:
    if channel.name == "telegram":
        return "Telegram (webhook)" if settings.telegram_webhook_url else "Telegram (long polling)"
    return channel.name


async def serve(settings: Settings, factories: list[Callable[[], Channel]]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    app = await App.open(settings)
    try:
        for factory in factories:
            app.add_channel(factory())
        await app.start(timers=True)
        names = ", ".join(describe(c, settings) for c in app.channels.values())
        print(f"taros: serving {names}; Ctrl-C or SIGTERM stops.", file=sys.stderr)
        await stop.wait()
    except ChannelUnavailable as exc:
        print(f"taros: {exc}", file=sys.stderr)
        return 2
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await app.close()
    return 0
