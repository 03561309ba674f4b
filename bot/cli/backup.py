"""``taros backup PATH`` and ``taros restore PATH [--force]`` (see :mod:`bot.ops.backup`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.ops.backup import BackupError, backup, restore
from bot.storage.database import Database


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser(
        "backup",
        help="copy the database (online, while taros run serves) and the evidence to a new folder",
    )
    made.add_argument("path", type=Path, metavar="PATH", help="a new or empty folder")
    back = sub.add_parser(
        "restore", help="check a backup (sha256, integrity) and put it in the data dir"
    )
    back.add_argument("path", type=Path, metavar="PATH", help="a folder made by taros backup")
    back.add_argument(
        "--force",
        action="store_true",
        help="replace a database that holds tickets (it is kept as a copy)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.command == "backup":
            summary = backup(settings.data_dir, args.path)
            print(f"backup: {summary.path}: {summary.text()}")
            return 0
        summary = restore(settings.data_dir, args.path, force=args.force)
    except BackupError as exc:
        print(f"taros {args.command}: {exc}", file=sys.stderr)
        return 1
    asyncio.run(_migrate(settings))  # a backup from an older TAROS is brought up to date
    print(f"restore: {settings.data_dir}: {summary.text()}; integrity ok")
    if summary.saved_as is not None:
        print(f"the database it replaced is kept as {summary.saved_as}")
    return 0


async def _migrate(settings: Settings) -> None:
    db = await Database.open(settings.database_path)
    await db.close()
