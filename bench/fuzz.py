"""Bad-input fuzz: push many generated inbound messages through the real engine and database.

Every message is hostile in some way: any unicode, control characters, NUL bytes, RTL marks,
100,000-character texts, format strings (``%s%n{0}``), SQL text, malformed or forged button
payloads (another chat's keyboard), impossible location pins, file names with ``../``. After
the run: no message failed, every reply is non-empty text, every conversation loads with a
valid state, no file lies outside the media store, and ``PRAGMA integrity_check`` is ok.

    python -m bench.fuzz --messages 100000      # full size (by hand)
    python -m bench.fuzz --messages 3000        # smoke size (CI, via pytest)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.ops.process import configure_process
from bot.storage.writer_lock import LOCK as WRITERS_LOCK
from channels.recording import RecordingChannel, file_attachment
from conversations.engine import Handled
from conversations.messages import AttachmentKind, Inbound, InboundKind, Location
from conversations.state import Step

VALID = [
    "halo",
    "1",
    "2",
    "9",
    "Cibatu",
    "mekarsari",
    "ya",
    "bukan",
    "tidak ada",
    "selesai",
    "/batal",
    "/mulai",
    "/bantuan",
    "/status GRT-2026-00001",
    "/bahasa su",
    "/bahasa en",
    "Tadi pagi ada yang belanja pakai uang palsu di warung saya di Cibatu.",
]
NASTY = [
    "%s%n{0}%(x)s%d",
    "'); DROP TABLE tickets;--",
    "\x00\x00\x00",
    "\u202e\u202dabc",
    "🙏🙏🙏 tolooong",
    "０１２",
    "²",
    "⑨",
    "-1",
    "99999999999999999999",
    "\r\n\t",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "NaN",
    "null",
    "ГАРУТ",
    "ガルト",
    "\ud7ff\ue000",
    "A" * 5000,
]
OPTIONS = [
    "more",
    "back",
    "yes",
    "no",
    "done",
    "none",
    "skip",
    "cancel",
    "submit",
    "edit",
    "field:category",
    "field:location",
    "closing:yes",
    "uang_palsu",
    "32.05.12.2001",
    "x" * 300,
    "",
    "\x00",
    "1' OR '1'='1",
]


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(VALID)
    if roll < 0.6:
        return rng.choice(NASTY)
    if roll < 0.62:
        return rng.choice(NASTY + VALID) * rng.randint(1000, 100_000 // 5)
    length = rng.randint(0, 60)
    return "".join(
        chr(
            rng.choice(
                [rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF), rng.randint(0xE000, 0x10FFFF)]
            )
        )
        for _ in range(length)
    )


def random_message(rng: random.Random, n: int, chats: int) -> Inbound:
    chat = f"f{rng.randrange(chats)}"
    fields: dict[str, object] = {"text": random_text(rng)}
    roll = rng.random()
    if roll < 0.08:
        fields["chosen_option"] = rng.choice(OPTIONS)
    elif roll < 0.12:
        lat = rng.choice([-7.1, 95.0, math.nan, math.inf, -math.inf, -1e308, rng.uniform(-90, 90)])
        fields["location"] = Location(lat, rng.uniform(-200, 200), rng.choice([None, "../x"]))
    elif roll < 0.15:
        size = rng.choice([None, -5, 0, 10, 10**12])
        fields["attachments"] = (
            file_attachment(
                rng.randbytes(rng.randint(0, 64)),
                kind=rng.choice(list(AttachmentKind)),
                mime=rng.choice(["image/jpeg", "", "../../x", "a/b c", "x" * 200]),
                size=size,
                filename=rng.choice(["../../etc/passwd", None, "a\x00b"]),
            ),
        )
    elif roll < 0.17:
        fields["kind"] = InboundKind.UNSUPPORTED
    message_id = f"m{n}" if rng.random() > 0.02 else f"m{max(0, n - 1)}"  # some redeliveries
    return Inbound(
        channel="fuzz",
        chat_id=chat,
        sender_id=chat,
        message_id=message_id,
        timestamp=datetime.now(UTC),
        **fields,
    )  # type: ignore[arg-type]


async def fuzz(messages: int, chats: int, seed: int, data_dir: Path) -> Counter[str]:
    rng = random.Random(seed)
    settings = Settings(data_dir=data_dir, messages_per_minute=1_000_000, tickets_per_day=1_000_000)
    app = await App.open(settings, understander=None)
    channel = RecordingChannel("fuzz")
    app.add_channel(channel)
    await app.start(timers=False)
    outcomes: Counter[str] = Counter()
    try:
        batch = 200
        for start in range(0, messages, batch):
            futures = [
                app.engine.submit(random_message(rng, n, chats))
                for n in range(start, min(messages, start + batch))
            ]
            for outcome in await asyncio.gather(*futures):
                outcomes[outcome.value] += 1
            await app.dispatcher.flush()
            for reply in channel.sent:
                assert isinstance(reply.text, str) and reply.text.strip(), reply
                assert all(o.label.strip() for o in reply.options), reply
            outcomes["replies"] += len(channel.sent)
            channel.sent.clear()
        for n in range(chats):
            conv = await app.store.load_conversation(
                Inbound("fuzz", f"f{n}", "", "", datetime.now(UTC)).key
            )
            if conv is not None:
                assert conv.step in Step
                assert (conv.draft is None) == (conv.step == Step.IDLE), conv
    finally:
        await app.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--seed", type=int, default=110)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="taros-fuzz-") as tmp:
        data = Path(tmp) / "data"
        outcomes = asyncio.run(fuzz(args.messages, args.chats, args.seed, data))
        with sqlite3.connect(data / "taros.db") as db:
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        strays = [
            p
            for p in data.rglob("*")
            if p.is_file()
            and not (
                p.name.startswith("taros.db")
                or p.name == WRITERS_LOCK  # held by every process that opens the database
                or p.parent.parent.name == "media"
            )
        ]
    seconds = time.monotonic() - started
    for name, count in sorted(outcomes.items()):
        print(f"{name:<12} {count}")
    failed = outcomes.get(Handled.FAILED.value, 0)
    ok = failed == 0 and integrity == "ok" and not strays
    print(
        f"fuzz {'PASS' if ok else 'FAIL'}: {args.messages} messages, {failed} failed, "
        f"integrity {integrity}, {len(strays)} stray files, {seconds:.1f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
