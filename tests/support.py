"""Helpers for the tests: a running TAROS driven through a recording channel."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.clock import ManualClock
from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import add_officer
from bot.ops.logs import _TarosHandler, setup_logging
from channels.recording import RecordingChannel, file_attachment, inbound
from conversations.intake.prefill import Understander
from conversations.messages import Inbound, Location, Outbound

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 in Garut


@dataclass
class Harness:
    """A running TAROS with a recording channel, driven one message at a time."""

    app: App
    channel: RecordingChannel
    clock: ManualClock

    async def send(
        self, text: str = "", *, chat: str = "warga", **fields: object
    ) -> list[Outbound]:
        """Send one message and return the replies it caused, once delivered."""
        return await self.deliver(inbound(text, chat=chat, when=self.clock.now(), **fields))

    async def deliver(self, message: Inbound) -> list[Outbound]:
        before = len(self.channel.sent)
        self.last_outcome = await self.app.engine.handle(message)
        await self.app.engine.idle()  # notices the message caused, sent in the background
        await self.app.dispatcher.flush()
        return [o for o in self.channel.sent[before:] if o.chat_id == message.chat_id]

    async def fire_timers(self) -> list[Outbound]:
        before = len(self.channel.sent)
        await self.app.timers.fire_due()
        await self.app.dispatcher.flush()
        return self.channel.sent[before:]

    async def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        async def job(conn):  # type: ignore[no-untyped-def]
            async with conn.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        return await self.app.db.read(job)


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    clock: ManualClock | None = None,
    channel: RecordingChannel | None = None,
    understander: Understander | None = None,
) -> AsyncIterator[Harness]:
    clock = clock or ManualClock(START)
    app = await App.open(settings, clock=clock, understander=understander)
    channel = channel or RecordingChannel()
    app.add_channel(channel)
    try:
        await app.start(timers=False)
        yield Harness(app, channel, clock)
    finally:
        await app.close()


TICKET = re.compile(r"GRT-\d{4}-\d{5}")
STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."


async def report(
    bot: Harness,
    chat: str = "warga",
    *,
    topic: str = "1",
    place: str | Location = "Cibatu",
    story: str = STORY,
    evidence: tuple[bytes, ...] = (),
) -> str:
    """A whole intake by one citizen, answered the plain way; returns the confirmation."""
    for line in ("halo", topic):
        await bot.send(line, chat=chat)
    if isinstance(place, Location):
        await bot.send(location=place, chat=chat)
    else:
        await bot.send(place, chat=chat)
    await bot.send(story, chat=chat)
    for data in evidence:
        await bot.send(attachments=(file_attachment(data),), chat=chat)
    await bot.send("selesai" if evidence else "tidak ada", chat=chat)
    return texts(await bot.send("1", chat=chat))


def ticket_number(text: str) -> str:
    found = TICKET.search(text)
    assert found, text
    return found.group()


async def reported(bot: Harness, chat: str = "warga", **how: object) -> str:
    """The ticket number of a whole intake (see :func:`report`)."""
    return ticket_number(await report(bot, chat, **how))  # type: ignore[arg-type]


async def register(
    bot: Harness,
    chat: str = "reskrim",
    role: str = "officer",
    unit: str | None = "SATRESKRIM",
    name: str = "Bripka Asep",
) -> None:
    """Register an officer on the test channel (default: SATRESKRIM, which works uang palsu)."""
    await add_officer(
        bot.app.db,
        ChannelId(bot.channel.name, chat),
        name=name,
        role=role,
        unit=unit,
        now=bot.clock.now(),
    )


ROOT = Path(__file__).resolve().parent.parent


def run_bench(name: str, *args: str, timeout: float = 300) -> str:
    """Run ``python -m bench.NAME ARGS`` from the repository root; it must pass. Returns its
    final summary line."""
    run = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.strip().splitlines()[-1]


def texts(replies: list[Outbound]) -> str:
    """Everything the user read, options included, as one string (for assertions)."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(f"{i}. {o.label}" for i, o in enumerate(reply.options, 1))
    return "\n".join(parts)


async def start_taros_run(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """``taros run`` as a process with ``env``, its stderr written to ``log``."""
    with log.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``condition()`` holds, checking every 2 ms; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {within}s")
        await asyncio.sleep(0.002)


@contextmanager
def captured_logs(fmt: str = "json", secrets: Sequence[str] = ()) -> Iterator[io.StringIO]:
    """Everything logged meanwhile, at DEBUG, as TAROS writes it (redacted)."""
    root = logging.getLogger()
    level = root.level
    floors = {name: logging.getLogger(name).level for name in ("telegram", "aiosqlite")}
    stream = io.StringIO()
    setup_logging("DEBUG", fmt, secrets=secrets, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            if isinstance(handler, _TarosHandler):
                root.removeHandler(handler)
        root.setLevel(level)
        for name, floor in floors.items():
            logging.getLogger(name).setLevel(floor)
