"""``taros officer add|list|remove``."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.app import App
from bot.config import Settings
from bot.identity import parse_channel_id
from bot.officers import (
    ROLES,
    add_officer,
    block_sender,
    list_officers,
    remove_officer,
    reveal_reporter,
    unblock_sender,
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    officer = sub.add_parser("officer", help="register officers, the Kapolres and admins")
    verbs = officer.add_subparsers(dest="verb", required=True, metavar="VERB")
    add = verbs.add_parser("add", help="register or update an officer")
    add.add_argument("identity", metavar="CHANNEL:ID")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", help="SATRESKRIM, SATLANTAS, POLSEK-CIBATU, ... (officers)")
    verbs.add_parser("list", help="the registered officers")
    remove = verbs.add_parser("remove", help="take away the officer interface")
    remove.add_argument("identity", metavar="CHANNEL:ID")
    block = sub.add_parser("block", help="stop reading a sender (anti-prank; audited)")
    block.add_argument("identity", metavar="CHANNEL:ID")
    block.add_argument("--days", type=int, default=30, help="how long (default 30)")
    block.add_argument("--reason", default="admin", help="why (kept in the audit log)")
    unblock = sub.add_parser("unblock", help="lift a block (audited)")
    unblock.add_argument("identity", metavar="CHANNEL:ID")
    reporter = sub.add_parser(
        "reporter", help="who sent a report (admins only; every look-up is audited)"
    )
    reporter.add_argument("number", metavar="NOMOR", help="the ticket number, e.g. GRT-2026-00042")
    reporter.add_argument(
        "--as-admin", required=True, metavar="CHANNEL:ID", help="the registered admin asking"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    app = await App.open(settings)
    try:
        now = app.clock.now()
        if args.command == "block":
            who = parse_channel_id(args.identity)
            if not 0 < args.days <= 3650:
                raise ValueError("--days must be between 1 and 3650")
            until = now + timedelta(days=args.days)
            await block_sender(app.db, who, until=until, reason=args.reason, now=now, actor="cli")
            print(f"blocked {who} until {until.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}")
            return 0
        if args.command == "unblock":
            who = parse_channel_id(args.identity)
            if not await unblock_sender(app.db, who, now=now, actor="cli"):
                print(f"{who} was not blocked")
                return 1
            print(f"unblocked {who}")
            return 0
        if args.command == "reporter":
            admin = parse_channel_id(args.as_admin)
            found = await reveal_reporter(app.db, args.number, admin, now=now)
            for channel, external_id, name in found.identities:
                print(f"{channel}:{external_id}" + (f"\t{name}" if name else ""))
            for typed in found.typed:
                print(f"typed in the report: {typed}")
            return 0
        if args.verb == "add":
            who = parse_channel_id(args.identity)
            officer = await add_officer(
                app.db, who, name=args.name, role=args.role, unit=args.unit, now=now
            )
            print(
                f"registered {who} as {officer.role}"
                + (f" of {officer.unit}" if officer.unit else "")
                + f": {officer.name}"
            )
        elif args.verb == "remove":
            who = parse_channel_id(args.identity)
            if not await remove_officer(app.db, who, now=now):
                print(f"{who} is not a registered officer")
                return 1
            print(f"removed {who}")
        else:
            for officer in await list_officers(app.db):
                print(
                    f"{officer.channel}:{officer.external_id}\t{officer.role}\t"
                    f"{officer.unit or '-'}\t{officer.name}"
                )
    finally:
        await app.close()
    return 0
