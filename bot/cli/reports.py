"""``taros digest [--map] [--send]``, ``taros recap --week|--month [--send]`` and ``taros export
--format csv|xlsx``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import aiosqlite

from bot.app import App
from bot.config import Settings
from bot.export import (
    FORMATS,
    ExportRefused,
    default_output,
    load_recap,
    write_recap,
)
from bot.identity import parse_channel_id
from bot.jobs.map_numbers import DrawnPeriod
from bot.jobs.recap_numbers import RecapKind
from bot.jobs.slots import Deliverable
from bot.ops.serving import served_elsewhere
from bot.platforms import telegram_channel
from conversations.desk.commands import MAP_DAYS
from conversations.domain import ChannelName
from conversations.messages import ChatKey, Media, Outbound
from conversations.ports import Officer


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-27") from None


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser(
        "digest", help="print the digest of the last 24 hours, or send it to every kapolres"
    )
    digest.add_argument(
        "--send",
        action="store_true",
        help="send the text, the chart and the map to every registered kapolres",
    )
    digest.add_argument(
        "--map",
        action="store_true",
        help="only the map of the reports (with --send: send only the map)",
    )
    digest.add_argument(
        "--days",
        type=int,
        choices=MAP_DAYS,
        default=MAP_DAYS[0],
        help="the days the map covers (default %(default)s)",
    )
    recap = sub.add_parser(
        "recap",
        help="the recap of the last whole week or month: one PDF page and the XLSX of its reports",
    )
    which = recap.add_mutually_exclusive_group(required=True)
    which.add_argument("--week", action="store_true", help="the last week, Monday to Sunday")
    which.add_argument("--month", action="store_true", help="the last calendar month")
    recap.add_argument(
        "--send", action="store_true", help="send both files to every registered kapolres"
    )
    recap.add_argument(
        "--output",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where the files are written without --send (default: here)",
    )
    export = sub.add_parser(
        "export", help="the recap of the reports as CSV or XLSX, reporter identity masked"
    )
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument(
        "--from",
        dest="start",
        type=_day,
        metavar="YYYY-MM-DD",
        help="first day (default: the first day of the month of --to)",
    )
    export.add_argument(
        "--to", dest="end", type=_day, metavar="YYYY-MM-DD", help="last day (default: today)"
    )
    export.add_argument(
        "--output", type=Path, metavar="PATH", help="default: taros-rekap-FROM-TO.EXT here"
    )
    export.add_argument(
        "--with-identity",
        action="store_true",
        help="add the reporter's channel and id (registered admins only; audited)",
    )
    export.add_argument(
        "--as-admin", metavar="CHANNEL:ID", help="the registered admin asking for the identity"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "digest":
        return await _digest(settings, send=args.send, only_map=args.map, days=args.days)
    if args.command == "recap":
        kind = RecapKind.WEEK if args.week else RecapKind.MONTH
        return await _recap(settings, kind, send=args.send, output=args.output)
    return await _export(args, settings)


# --- digest ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MapOnly:
    """``taros digest --map --send``: the map alone, as ``/peta`` sends it."""

    drawn: DrawnPeriod
    locale: str

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.drawn.path,)

    def outbounds(self, to: ChatKey) -> list[Outbound]:
        media = Media(self.drawn.path, "image/png", self.drawn.caption)
        return [
            Outbound(to.channel, to.chat_id, self.drawn.caption, media=media, locale=self.locale)
        ]


async def _digest(settings: Settings, *, send: bool, only_map: bool, days: int) -> int:
    async def work(app: App, now: datetime) -> Deliverable:
        if only_map:
            drawn = await app.digest.map(now, days, settings.locale)
            print(drawn.caption)
            print(f"map: {drawn.path.resolve()}")
            return _MapOnly(drawn, settings.locale)
        digest = await app.digest.compose(now, settings.locale)
        print(digest.text)
        print(f"chart: {digest.chart.resolve()}")
        print(f"map: {digest.map.path.resolve()}")
        return digest

    return await _compose_and_send(settings, "digest", work, send=send)


async def _recap(settings: Settings, kind: RecapKind, *, send: bool, output: Path) -> int:
    folder = None if send else await asyncio.to_thread(_writable_place, output / "recap")
    if not send and folder is None:
        print(f"taros recap: no folder {output}", file=sys.stderr)
        return 2

    async def work(app: App, now: datetime) -> Deliverable:
        into = Path(folder).parent if folder is not None else None
        composed = await app.recaps.compose(kind, now, settings.locale, into=into)
        print(composed.text)
        print(f"pdf: {composed.pdf}")
        print(f"xlsx: {composed.xlsx}")
        return composed

    return await _compose_and_send(settings, "recap", work, send=send)


async def _compose_and_send(
    settings: Settings,
    command: str,
    work: Callable[[App, datetime], Awaitable[Deliverable]],
    *,
    send: bool,
) -> int:
    """Compose now (``work`` prints it); with ``send``, deliver it to every kapolres."""
    app = await App.open(settings)
    try:
        now = app.clock.now()
        readers = await _kapolres_or_say(app, command) if send else []
        if send and not readers:
            return 1
        composed = await work(app, now)
        if send:
            await deliver_to_kapolres(app, settings, composed, readers, now)
    finally:
        await app.close()
    return 0


async def _kapolres_or_say(app: App, command: str) -> list[Officer]:
    """The registered kapolres; when there is none, say how to add one."""
    readers = await app.mailer.kapolres()
    if not readers:
        print(
            f"taros {command}: no kapolres is registered; add one with "
            "`taros officer add CHANNEL:ID --name N --role kapolres`",
            file=sys.stderr,
        )
    return readers


async def deliver_to_kapolres(
    app: App, settings: Settings, composed: Deliverable, readers: list[Officer], now: datetime
) -> None:
    """Put ``composed`` in every reader's outbox, deliver what this command can, and print
    where each one stands."""
    ids = await app.mailer.send(composed, readers, now)
    elsewhere = {r.id for r in readers if _served(settings, r)}
    await _deliver_here(app, settings, [r for r in readers if r.id not in elsewhere])
    sent = await _sent(app, ids)
    per = len(ids) // len(readers)  # each reader's rows, in order
    for n, reader in enumerate(readers):
        state = _state(reader, ids[n * per : (n + 1) * per], sent, elsewhere)
        print(f"{reader.channel}:{reader.external_id}\t{state}")


def _served(settings: Settings, reader: Officer) -> bool:
    return served_elsewhere(settings.data_dir, reader.channel, reader.external_id)


async def _deliver_here(app: App, settings: Settings, readers: list[Officer]) -> None:
    """Deliver what no running process delivers and this command can: Telegram, when it is
    configured. A console chat is shown only by its own ``taros chat --as`` process."""
    if settings.telegram_token and any(r.channel == ChannelName.TELEGRAM for r in readers):
        app.add_channel(telegram_channel(settings))
    if app.channels:
        await app.start(timers=False)
        await app.dispatcher.flush()


async def _sent(app: App, ids: list[int]) -> set[int]:
    async def job(conn: aiosqlite.Connection) -> set[int]:
        marks = ",".join("?" for _ in ids)
        async with conn.execute(
            f"SELECT id FROM outbox WHERE id IN ({marks}) AND sent_at IS NOT NULL", ids
        ) as cursor:
            return {row[0] for row in await cursor.fetchall()}

    return await app.db.read(job) if ids else set()


def _state(reader: Officer, ids: list[int], sent: set[int], elsewhere: set[int]) -> str:
    if all(i in sent for i in ids):
        return "delivered"
    if reader.id in elsewhere:
        return "queued; the running taros process delivers it within seconds"
    if reader.channel == "console":
        return f"queued; `taros chat --as console:{reader.external_id}` shows it"
    return f"queued; delivered when `taros run` serves {reader.channel}"


# --- export ----------------------------------------------------------------------------------


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    admin = None
    if args.with_identity:
        if not args.as_admin:
            print(
                "taros export: --with-identity needs --as-admin CHANNEL:ID, a registered admin",
                file=sys.stderr,
            )
            return 2
        admin = parse_channel_id(args.as_admin)
    app = await App.open(settings)
    try:
        end = args.end or app.clock.now().astimezone(settings.tz).date()
        start = args.start or end.replace(day=1)
        if end < start:
            print(f"taros export: --to {end} is before --from {start}", file=sys.stderr)
            return 2
        output: Path = args.output or default_output(start, end, args.format)
        where = _writable_place(output)
        if where is None:
            print(f"taros export: no folder {output.parent} for {output}", file=sys.stderr)
            return 2
        try:
            recap = await load_recap(
                app.db,
                start=start,
                end=end,
                tz=settings.tz,
                categories=app.digest.categories,
                gazetteer=app.digest.gazetteer,
                locale=settings.locale,
                now=app.clock.now(),
                admin=admin,
                output=where,
            )
        except ExportRefused as exc:
            print(
                f"taros export: refused: {exc}; the reporter's identity is for registered "
                "admins only (the attempt is recorded in the audit log)",
                file=sys.stderr,
            )
            return 2
    finally:
        await app.close()
    await write_recap(recap, output, args.format, settings.locale)
    what = "report" if len(recap.rows) == 1 else "reports"
    note = " with the reporters' identities (audited)" if recap.with_identity else ""
    print(f"wrote {len(recap.rows)} {what} from {start} to {end}{note} to {output}")
    return 0


def _writable_place(output: Path) -> str | None:
    """The absolute path the recap goes to; None when its folder does not exist."""
    absolute = output.resolve()
    return str(absolute) if absolute.parent.is_dir() else None
