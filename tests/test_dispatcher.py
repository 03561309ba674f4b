"""The outbox dispatcher: every committed reply is delivered once, in order per chat, with one
chat's trouble never holding up another's, across restarts and other processes' writes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from support import eventually, running

import bot.jobs.dispatcher as dispatcher_module
from bot.clock import SystemClock
from bot.config import Settings
from bot.jobs.dispatcher import MAX_ATTEMPTS, Dispatcher
from bot.storage.database import Database
from bot.storage.outbox import SqliteOutbox, outbound_to_json
from channels.base import Permanent, RetryAfter, Transient
from channels.recording import RecordingChannel
from conversations.messages import Outbound

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Transient failures back off 10 ms, 20 ms, 40 ms, ... instead of 1 s, 2 s, 4 s."""
    monkeypatch.setattr(dispatcher_module, "BACKOFF_START", 0.01)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "taros.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteOutbox]:
    db = await Database.open(db_path)
    try:
        yield SqliteOutbox(db)
    finally:
        await db.close()


@asynccontextmanager
async def dispatching(
    store: SqliteOutbox,
    channel: RecordingChannel,
    *,
    poll_interval: float = 0.05,
    max_attempts: int = MAX_ATTEMPTS,
) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher(
        store,
        {channel.name: channel},
        SystemClock(),
        poll_interval=poll_interval,
        max_attempts=max_attempts,
    )
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()


def message(chat: str, n: int) -> Outbound:
    return Outbound("test", chat, f"{chat} #{n}")


def texts(channel: RecordingChannel, chat: str) -> list[str]:
    return [o.text for o in channel.to(chat)]


async def enqueue(store: SqliteOutbox, dispatcher: Dispatcher, *outbounds: Outbound) -> list[int]:
    """What the engine does: commit the replies, then tell the dispatcher."""
    ids = await store.enqueue(list(outbounds), datetime.now(UTC))
    dispatcher.notify(tuple(ids))
    return ids


async def outbox(store: SqliteOutbox) -> dict[int, dict[str, Any]]:
    async def job(conn: aiosqlite.Connection) -> dict[int, dict[str, Any]]:
        async with conn.execute(
            "SELECT id, chat_id, attempts, next_attempt_at, sent_at, failed_at, last_error"
            " FROM outbox ORDER BY id"
        ) as cursor:
            return {row[0]: dict(row) for row in await cursor.fetchall()}

    return await store.db.read(job)


class Attempts:
    """Remembers when each message was tried; ``fail`` decides what the platform says."""

    def __init__(self, fail: Callable[[Outbound, int], None] | None = None) -> None:
        self.at: dict[str, list[float]] = {}
        self._fail = fail

    def __call__(self, outbound: Outbound) -> None:
        tries = self.at.setdefault(outbound.text, [])
        tries.append(time.monotonic())
        if self._fail is not None:
            self._fail(outbound, len(tries))


# --- order and independence -----------------------------------------------------------------


async def test_each_chat_gets_every_message_once_and_in_order(store: SqliteOutbox) -> None:
    flaky = random.Random(20261127)

    def platform(outbound: Outbound, _attempt: int) -> None:
        if outbound.chat_id == "flaky" and flaky.random() < 0.3:
            raise Transient("connection reset")

    channel = RecordingChannel(fail=Attempts(platform))
    chats = ("flaky", "steady", "quiet")
    async with dispatching(store, channel) as dispatcher:
        for n in range(20):
            await enqueue(store, dispatcher, *(message(chat, n) for chat in chats))
        await eventually(lambda: len(channel.sent) == 60)
        await dispatcher.flush()

    assert len(channel.sent) == 60
    for chat in chats:
        assert texts(channel, chat) == [f"{chat} #{n}" for n in range(20)]
    assert dispatcher.retried > 0, "the flaky chat should have failed at least once"
    rows = await outbox(store)
    assert all(r["sent_at"] and r["failed_at"] is None for r in rows.values())


async def test_a_chat_told_to_wait_does_not_delay_the_others(store: SqliteOutbox) -> None:
    def platform(outbound: Outbound, attempt: int) -> None:
        if outbound.text == "slow #0" and attempt == 1:
            raise RetryAfter(0.5)

    attempts = Attempts(platform)
    channel = RecordingChannel(fail=attempts)
    async with dispatching(store, channel) as dispatcher:
        started = time.monotonic()
        slow_ids = await enqueue(store, dispatcher, *(message("slow", n) for n in range(5)))
        await enqueue(store, dispatcher, *(message("fast", n) for n in range(20)))

        await eventually(lambda: len(channel.to("fast")) == 20)
        assert time.monotonic() - started < 0.5
        assert channel.to("slow") == []  # still waiting, order kept behind its first message

        await eventually(lambda: len(channel.to("slow")) == 5)

    assert texts(channel, "slow") == [f"slow #{n}" for n in range(5)]
    first_try, second_try = attempts.at["slow #0"]
    assert second_try - first_try >= 0.5 - 0.01
    row = (await outbox(store))[slow_ids[0]]
    assert row["attempts"] == 2
    assert row["sent_at"] is not None
    assert row["last_error"] == "retry after 0.5s"


# --- failures -------------------------------------------------------------------------------


async def test_a_permanent_failure_is_recorded_and_the_chat_moves_on(store: SqliteOutbox) -> None:
    def platform(outbound: Outbound, _attempt: int) -> None:
        if outbound.text == "blocked #0":
            raise Permanent("bot was blocked by the user")

    attempts = Attempts(platform)
    channel = RecordingChannel(fail=attempts)
    async with dispatching(store, channel) as dispatcher:
        ids = await enqueue(store, dispatcher, *(message("blocked", n) for n in range(3)))
        await eventually(lambda: len(channel.to("blocked")) == 2)
        await dispatcher.flush()

    assert texts(channel, "blocked") == ["blocked #1", "blocked #2"]
    assert len(attempts.at["blocked #0"]) == 1  # never retried
    failed = (await outbox(store))[ids[0]]
    assert failed["failed_at"] is not None
    assert failed["sent_at"] is None
    assert failed["last_error"] == "bot was blocked by the user"
    assert dispatcher.failed == 1


async def test_a_message_is_given_up_after_max_attempts(store: SqliteOutbox) -> None:
    def platform(outbound: Outbound, _attempt: int) -> None:
        if outbound.text == "down #0":
            raise Transient("502 bad gateway")

    attempts = Attempts(platform)
    channel = RecordingChannel(fail=attempts)
    async with dispatching(store, channel, max_attempts=4) as dispatcher:
        ids = await enqueue(store, dispatcher, message("down", 0), message("down", 1))
        await eventually(lambda: len(channel.to("down")) == 1)

    assert texts(channel, "down") == ["down #1"]
    assert len(attempts.at["down #0"]) == 4
    gave_up = (await outbox(store))[ids[0]]
    assert gave_up["attempts"] == 4
    assert gave_up["failed_at"] is not None
    assert gave_up["sent_at"] is None
    assert gave_up["last_error"] == repr(Transient("502 bad gateway"))


# --- other writers, restarts ----------------------------------------------------------------


async def test_rows_written_elsewhere_are_delivered_within_the_poll_interval(
    store: SqliteOutbox, db_path: Path
) -> None:
    poll = 0.2
    channel = RecordingChannel()
    other = await Database.open(db_path)  # a `taros digest --send` in another process
    try:
        other_store = SqliteOutbox(other)
        async with dispatching(store, channel, poll_interval=poll):
            await asyncio.sleep(poll / 2)  # the dispatcher is idle, waiting for its next poll

            written = time.monotonic()
            await other_store.enqueue([message("kapolres", 0)], datetime.now(UTC))
            await eventually(lambda: len(channel.sent) == 1)
            from_other_process = time.monotonic() - written

            async def raw_insert(conn: aiosqlite.Connection) -> None:
                await conn.execute(
                    "INSERT INTO outbox(channel, chat_id, payload, created_at)"
                    " VALUES ('test', 'kapolres', ?, ?)",
                    (outbound_to_json(message("kapolres", 1)), datetime.now(UTC).isoformat()),
                )

            written = time.monotonic()
            await store.db.write(raw_insert)  # no notify(): only polling can find it
            await eventually(lambda: len(channel.sent) == 2)
            from_raw_insert = time.monotonic() - written
    finally:
        await other.close()

    print(f"delivered after {from_other_process:.3f}s and {from_raw_insert:.3f}s (poll {poll}s)")
    assert texts(channel, "kapolres") == ["kapolres #0", "kapolres #1"]
    assert from_other_process < poll + 0.15
    assert from_raw_insert < poll + 0.15


async def test_a_restart_delivers_what_was_pending_and_nothing_twice(
    settings: Settings,
) -> None:
    def platform_down_for_later(outbound: Outbound, _attempt: int) -> None:
        if outbound.chat_id == "later":
            raise Transient("not connected")

    attempts = Attempts(platform_down_for_later)
    before = RecordingChannel(fail=attempts)
    async with running(settings, channel=before) as bot:
        now = bot.clock.now()
        for n in range(5):
            await bot.app.outbox.enqueue([message("ok", n), message("later", n)], now)
        bot.app.dispatcher.notify()
        await eventually(lambda: len(before.to("ok")) == 5)
        await eventually(lambda: len(attempts.at.get("later #0", [])) >= 3)
    assert before.to("later") == []

    after = RecordingChannel()
    async with running(settings, channel=after) as bot:
        await bot.app.dispatcher.flush()
        pending = await bot.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL")

    assert texts(after, "later") == [f"later #{n}" for n in range(5)]
    assert after.to("ok") == []
    assert pending == [(0,)]


async def test_a_stop_while_replies_are_delivered_does_not_send_them_again(
    store: SqliteOutbox,
) -> None:
    stopping: list[asyncio.Task[None]] = []
    holder: list[Dispatcher] = []

    def platform(outbound: Outbound, _attempt: int) -> None:
        # `taros run` is told to stop while it delivers replies to two citizens; both arrive.
        if outbound.chat_id == "second":
            stopping.append(asyncio.get_running_loop().create_task(holder[0].stop()))

    channel = RecordingChannel(fail=Attempts(platform))
    first = Dispatcher(store, {"test": channel}, SystemClock(), poll_interval=0.05)
    holder.append(first)
    await first.start()
    try:
        await enqueue(store, first, message("first", 0), message("second", 0))
        await eventually(lambda: bool(stopping))
        await stopping[0]
    finally:
        await first.stop()
    assert len(channel.sent) == 2

    channel.fail = None
    async with dispatching(store, channel) as second:
        await second.flush()

    assert texts(channel, "first") == ["first #0"]
    assert texts(channel, "second") == ["second #0"]


# --- replies handed over by the engine --------------------------------------------------------


async def hand_over(store: SqliteOutbox, dispatcher: Dispatcher, *outbounds: Outbound) -> None:
    """What the engine does with a message's replies: commit them, then hand them over."""
    ids = await store.enqueue(list(outbounds), datetime.now(UTC))
    dispatcher.take(replace(o, outbox_id=i) for o, i in zip(outbounds, ids, strict=True))


class CountingOutbox(SqliteOutbox):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.reads = 0

    async def pending_outbox(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return await super().pending_outbox(*args, **kwargs)


async def test_replies_handed_over_go_out_without_reading_the_outbox(
    store: SqliteOutbox,
) -> None:
    counting = CountingOutbox(store.db)
    channel = RecordingChannel()
    async with dispatching(counting, channel, poll_interval=3600) as dispatcher:
        await eventually(lambda: counting.reads == 1)  # the poll at start
        for n in range(20):
            await hand_over(counting, dispatcher, message("warga", n), message("polsek", n))
        await eventually(lambda: len(channel.sent) == 40)
        assert counting.reads == 1

        await dispatcher.flush()  # a poll now meets them delivered: nothing again
    assert texts(channel, "warga") == [f"warga #{n}" for n in range(20)]
    assert texts(channel, "polsek") == [f"polsek #{n}" for n in range(20)]
    assert all(r["sent_at"] for r in (await outbox(store)).values())


async def test_a_row_both_handed_over_and_polled_goes_once(store: SqliteOutbox) -> None:
    """A poll that reads a row still being delivered after its hand-over skips it."""
    release = asyncio.Event()
    channel = RecordingChannel()
    real_send = channel.send

    async def slow_send(outbound: Outbound) -> None:
        await release.wait()
        await real_send(outbound)

    channel.send = slow_send  # type: ignore[method-assign]
    async with dispatching(store, channel, poll_interval=3600) as dispatcher:
        await dispatcher.flush()
        await hand_over(store, dispatcher, message("warga", 0))
        await dispatcher._load()  # the row is pending and read: not queued a second time
        assert dispatcher.pending() == 1
        release.set()
        await dispatcher.flush()
        await dispatcher._load()
    assert texts(channel, "warga") == ["warga #0"]


async def test_an_older_row_written_elsewhere_is_not_skipped_by_a_hand_over(
    store: SqliteOutbox, db_path: Path
) -> None:
    """Another process commits a row; this process then commits and hands over a newer one
    before its next poll: the poll still finds the older one, and each goes once."""
    channel = RecordingChannel()
    other = await Database.open(db_path)  # a `taros digest --send` in another process
    try:
        async with dispatching(store, channel, poll_interval=0.1) as dispatcher:
            await dispatcher.flush()
            for n in range(5):
                await SqliteOutbox(other).enqueue([message("kapolres", n)], datetime.now(UTC))
                await hand_over(store, dispatcher, message("warga", n))
            await eventually(lambda: len(channel.sent) == 10)
            await dispatcher.flush()
    finally:
        await other.close()
    assert texts(channel, "kapolres") == [f"kapolres #{n}" for n in range(5)]
    assert texts(channel, "warga") == [f"warga #{n}" for n in range(5)]


async def test_a_chat_s_rows_keep_their_order_when_a_job_notified_first(
    store: SqliteOutbox,
) -> None:
    """A row another job queued (and notified) goes before a reply to the same chat
    committed after it, though the reply is handed over."""
    channel = RecordingChannel()
    async with dispatching(store, channel, poll_interval=3600) as dispatcher:
        await dispatcher.flush()
        for n in range(0, 20, 2):
            await enqueue(store, dispatcher, message("kanit", n))  # a reminder, notified
            await hand_over(store, dispatcher, message("kanit", n + 1))  # a reply
        await eventually(lambda: len(channel.sent) == 20)
    assert texts(channel, "kanit") == [f"kanit #{n}" for n in range(20)]


async def test_replies_for_a_chat_served_elsewhere_are_not_taken(store: SqliteOutbox) -> None:
    console = RecordingChannel()
    console.only_chat = "me"  # a console session: this process delivers to one chat only
    dispatcher = Dispatcher(store, {"test": console}, SystemClock(), poll_interval=3600)
    await dispatcher.start()
    try:
        await dispatcher.flush()
        await hand_over(store, dispatcher, message("me", 0), message("someone", 0))
        await eventually(lambda: len(console.sent) == 1)
        await dispatcher.flush()
    finally:
        await dispatcher.stop()
    assert texts(console, "me") == ["me #0"]
    rows = await outbox(store)
    assert [r["chat_id"] for r in rows.values() if r["sent_at"] is None] == ["someone"]
