"""Platform faults: citizens report over Telegram while the Bot API misbehaves.

The fake Bot API server of the tests (127.0.0.1 only) answers a share of sends and edits with
502 or 429 (``retry_after``) and adds latency to every call; N citizens do the whole intake at
once through the real python-telegram-bot channel, engine, database and outbox. Checks: every
reply in the outbox was sent exactly once, in each chat's order, and every citizen got a
ticket. Prints a table and a final summary line; exits non-zero when a check fails.

    python -m bench.faults --citizens 200               # full size (by hand)
    python -m bench.faults --citizens 12                # smoke size (CI, via pytest)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot.ops.process import configure_process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_bot_api import FakeBotApi  # noqa: E402 - the tests' fake, on purpose

from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from channels.pacing import Rate  # noqa: E402
from channels.telegram.channel import TelegramChannel, TelegramOptions  # noqa: E402

STORY = "Tadi pagi ada orang belanja di warung saya pakai uang palsu 100 ribu, orangnya kabur."
PIN = (-7.0853, 107.9983)


@dataclass(frozen=True)
class Outcome:
    citizens: int
    tickets: int
    replies: int
    out_of_order_chats: int
    missing: int
    duplicated: int
    injected_502: int
    injected_429: int
    seconds: float

    @property
    def ok(self) -> bool:
        return (
            self.tickets == self.citizens
            and self.out_of_order_chats == 0
            and self.missing == 0
            and self.duplicated == 0
        )


async def citizen(fake: FakeBotApi, chat: int) -> None:
    steps = [
        (lambda: fake.text(chat, "/start"), "Laporan Anda tentang apa"),
        (lambda: fake.press_option(chat, "uang_palsu"), "Di mana kejadiannya"),
        (lambda: fake.location(chat, *PIN), "Ceritakan apa yang terjadi"),
        (lambda: fake.text(chat, STORY), "Apakah ada bukti"),
        (lambda: fake.press_option(chat, "none"), "Ringkasan laporan Anda"),
        (lambda: fake.press_option(chat, "submit"), r"GRT-\d{4}-\d{5}"),
    ]
    for action, expect in steps:
        seen = len(fake.bot_texts(chat))
        action()
        await fake.reply(chat, expect, after=seen, within=300)


async def run(citizens: int, error_rate: float, latency: float, data_dir: Path) -> Outcome:
    started = time.monotonic()
    async with FakeBotApi(seed=20221101) as fake:
        fake.faults.flaky_rate = error_rate
        fake.faults.latency = latency
        fake.faults.retry_after = 1
        app = await App.open(Settings(data_dir=data_dir), understander=None, poll_interval=0.2)
        options = replace(TelegramOptions(), overall=Rate(30.0, 30), per_chat=Rate(1.0, 3))
        app.add_channel(TelegramChannel(fake.token, api_url=fake.url, options=options))
        try:
            await app.start(timers=False)
            chats = list(range(20_001, 20_001 + citizens))
            await asyncio.gather(*(citizen(fake, chat) for chat in chats))
            await app.engine.idle()
            await app.dispatcher.flush(600)

            async def rows(conn):  # type: ignore[no-untyped-def]
                async with conn.execute(
                    "SELECT chat_id, payload FROM outbox WHERE channel = 'telegram' ORDER BY id"
                ) as cursor:
                    return await cursor.fetchall()

            outbox = await app.db.read(rows)

            async def count(conn):  # type: ignore[no-untyped-def]
                async with conn.execute("SELECT COUNT(*) FROM tickets") as cursor:
                    return (await cursor.fetchone())[0]

            tickets = await app.db.read(count)
        finally:
            await app.close()
        out_of_order = missing = duplicated = 0
        for chat in chats:
            expected = [json.loads(p)["text"] for c, p in outbox if c == str(chat)]
            delivered = [
                call.params["text"]
                for call in fake.calls_of("sendMessage")
                if call.status == 200 and int(call.params["chat_id"]) == chat
            ]
            missing += sum(
                1 for text in set(expected) if delivered.count(text) < expected.count(text)
            )
            duplicated += sum(
                1 for text in set(delivered) if delivered.count(text) > expected.count(text)
            )
            if delivered != expected:
                out_of_order += 1
        return Outcome(
            citizens=citizens,
            tickets=tickets,
            replies=len(outbox),
            out_of_order_chats=out_of_order,
            missing=missing,
            duplicated=duplicated,
            injected_502=fake.faults.injected.get(502, 0),
            injected_429=fake.faults.injected.get(429, 0),
            seconds=time.monotonic() - started,
        )


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to each call")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="taros-faults-") as tmp:
        outcome = asyncio.run(run(args.citizens, args.error_rate, args.latency, Path(tmp)))
    rows = [
        ("citizens", outcome.citizens),
        ("tickets", outcome.tickets),
        ("replies in the outbox", outcome.replies),
        ("502 injected", outcome.injected_502),
        ("429 injected (retry_after)", outcome.injected_429),
        ("chats not in order or not exact (must be 0)", outcome.out_of_order_chats),
        ("replies missing (must be 0)", outcome.missing),
        ("replies duplicated (must be 0)", outcome.duplicated),
        ("seconds", f"{outcome.seconds:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    print(
        f"faults {'PASS' if outcome.ok else 'FAIL'}: {outcome.citizens} citizens, "
        f"{args.error_rate:.0%} errors, {args.latency * 1000:.0f} ms latency, "
        f"{outcome.missing} missing, {outcome.duplicated} duplicated, "
        f"{outcome.out_of_order_chats} chats out of order"
    )
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
