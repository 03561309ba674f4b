"""The ``taros`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from taros.bot import cli_officers
from taros.bot.app import App
from taros.bot.config import ConfigError, Settings
from taros.bot.identity import parse_channel_id
from taros.channels.console import ConsoleChannel


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taros",
        description="TAROS: the complaint line of Polres Garut (WhatsApp, Telegram, console).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "run",
        help="serve every configured channel; with none configured, the console",
    )
    chat = sub.add_parser(
        "chat",
        help="chat with the bot in this terminal (reads a script when stdin is not a terminal)",
    )
    chat.add_argument(
        "--as",
        dest="identity",
        default="console:warga",
        metavar="CHANNEL:ID",
        help="speak as this identity (default console:warga)",
    )
    sub.add_parser("check", help="validate the configuration and say what is enabled")
    cli_officers.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("TAROS_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"taros: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.identity))
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "check":
            return asyncio.run(_check(settings))
        if args.command in ("officer", "reporter"):
            return asyncio.run(cli_officers.run(args, settings))
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        print(f"taros: {exc}", file=sys.stderr)
        return 2
    return 2


async def _console(settings: Settings, identity: str, *, timers: bool) -> int:
    who = parse_channel_id(identity)
    app = await App.open(settings)
    try:
        console = ConsoleChannel(chat_id=who.id, channel=who.channel, clock=app.clock.now)
        app.add_channel(console)
        await app.start(timers=timers and console.interactive)
        await console.run(after_each=app.dispatcher.flush)
        await app.engine.idle()
        await app.dispatcher.flush()
    finally:
        await app.close()
    return 0


async def _chat(settings: Settings, identity: str) -> int:
    return await _console(settings, identity, timers=True)


async def _run(settings: Settings) -> int:
    if settings.telegram_token or settings.whatsapp:
        print(
            "taros: TAROS_TELEGRAM_TOKEN / TAROS_WHATSAPP are set, but this build serves the "
            "console only; unset them to run on the console.",
            file=sys.stderr,
        )
        return 2
    return await _console(settings, "console:warga", timers=True)


async def _check(settings: Settings) -> int:
    app = await App.open(settings)
    await app.close()
    print(f"data dir: {settings.data_dir.resolve()}")
    print(f"database: {settings.database_path.resolve()} (ok)")
    print(f"language: {settings.locale}; time zone: {settings.tz_name}")
    print(
        "channels: console"
        + (" telegram" if settings.telegram_token else "")
        + (" whatsapp" if settings.whatsapp else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
