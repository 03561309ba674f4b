"""The ``taros`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence

from bot.app import App
from bot.cli import backup as cli_backup
from bot.cli import nlu as cli_nlu
from bot.cli import officers as cli_officers
from bot.cli import reports as cli_reports
from bot.config import LOG_FORMATS, LOG_LEVELS, ConfigError, Settings
from bot.identity import parse_channel_id
from bot.ops.checks import check_configuration
from bot.ops.logs import setup_logging
from bot.ops.process import configure_process
from bot.ops.serve import platform_channels, serve
from bot.storage.writer_lock import DataDirBusy
from channels.console import ConsoleChannel


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
    cli_nlu.add_parser(sub)
    cli_officers.add_parser(sub)
    cli_reports.add_parsers(sub)
    cli_backup.add_parsers(sub)
    from bot.cli import whatsapp as cli_whatsapp  # neonize itself is loaded only by the worker

    cli_whatsapp.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_process()
    _setup_logging(os.environ)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        if args.command == "check":  # tells every problem, not only the first
            return asyncio.run(_check())
        print(f"taros: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.identity))
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "check":
            return asyncio.run(_check())
        if args.command == "nlu":
            return cli_nlu.run(args, settings)
        if args.command in ("officer", "reporter", "block", "unblock"):
            return asyncio.run(cli_officers.run(args, settings))
        if args.command in ("digest", "recap", "export"):
            return asyncio.run(cli_reports.run(args, settings))
        if args.command in ("backup", "restore"):
            return cli_backup.run(args, settings)
        if args.command == "whatsapp":
            from bot.cli import whatsapp as cli_whatsapp

            return cli_whatsapp.run(args, settings)
    except KeyboardInterrupt:
        return 130
    except (ValueError, DataDirBusy) as exc:
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
    report = await check_configuration(os.environ, database=False)  # App.open checks it
    if not report.ok:
        print(f"taros: not starting.\n{report.text()}", file=sys.stderr)
        return 2
    factories = platform_channels(settings)
    if settings.whatsapp and not any(f.__name__ == "whatsapp" for f in factories):
        print(
            "taros: TAROS_WHATSAPP is set, but this build has no WhatsApp channel.", file=sys.stderr
        )
        return 2
    if factories:
        return await serve(settings, factories)
    return await _console(settings, "console:warga", timers=True)


async def _check() -> int:
    """``taros check``: every problem of the configuration, or what is enabled."""
    report = await check_configuration(os.environ)
    print(report.text(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 2


def _setup_logging(environ: Mapping[str, str]) -> None:
    """Logging as configured; a bad TAROS_LOG_* value falls back to the default here and is
    reported by the configuration check."""
    level = environ.get("TAROS_LOG_LEVEL", "").strip().upper()
    fmt = environ.get("TAROS_LOG_FORMAT", "").strip().lower()
    setup_logging(
        level if level in LOG_LEVELS else "WARNING",
        fmt if fmt in LOG_FORMATS else "keyvalue",
        secrets=(
            environ.get("TAROS_TELEGRAM_TOKEN"),
            environ.get("TAROS_TELEGRAM_SECRET"),
            environ.get("TAROS_WHATSAPP_CLOUD_TOKEN"),
            environ.get("TAROS_WHATSAPP_CLOUD_APP_SECRET"),
            environ.get("TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN"),
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
