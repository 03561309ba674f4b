"""Crash soak: N citizens report at once while the bot is killed with SIGKILL K times.

The driver writes every citizen's messages to a feed (the platform). A child process runs the
real engine, database and outbox dispatcher on it: it reads the feed from its acknowledged
offset (so, like Telegram, whatever it had not acknowledged is delivered again after a crash),
and "sends" replies by appending their outbox id to a file (the platform stand-in). The driver
kills the child at random moments, restarts it, and at the end checks:

- every completed intake has exactly one ticket, and no ticket exists twice;
- every reply in the outbox was delivered at least once (lost = 0);
- how many replies were delivered twice: only possible when the kill fell between the send and
  its "sent" mark, reported as a figure;
- ``PRAGMA integrity_check`` is ok.

    python -m bench.soak --conversations 1000 --kills 50     # full size (by hand)
    python -m bench.soak --conversations 40 --kills 4        # smoke size (CI, via pytest)

Prints a table and a final summary line; exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.ops.process import configure_process

SCRIPT = [
    "halo",
    "1",
    "Cibatu, dekat pasar",
    "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya, pelakunya laki-laki.",
    "tidak ada",
    "1",
]
BATCH = 40


@dataclass(frozen=True)
class Result:
    conversations: int
    kills: int
    tickets: int
    duplicate_tickets: int
    chats_without_one_ticket: int
    outbox_rows: int
    lost: int
    delivered_twice: int
    integrity: str
    seconds: float

    @property
    def ok(self) -> bool:
        return (
            self.duplicate_tickets == 0
            and self.chats_without_one_ticket == 0
            and self.lost == 0
            and self.integrity == "ok"
        )


def write_feed(path: Path, conversations: int, seed: int) -> int:
    """Every citizen's messages, interleaved at random but in order within each chat."""
    rng = random.Random(seed)
    cursors = {f"c{n}": 0 for n in range(conversations)}
    lines = []
    while cursors:
        chat = rng.choice(list(cursors))
        step = cursors[chat]
        lines.append(json.dumps({"chat": chat, "id": f"{chat}-{step}", "text": SCRIPT[step]}))
        if step + 1 == len(SCRIPT):
            del cursors[chat]
        else:
            cursors[chat] = step + 1
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


# --- the child: the bot -------------------------------------------------------------------


class PlatformStandIn:
    """A channel whose every delivery is one appended line: the outbox id it delivered."""

    name = "soak"
    only_chat: str | None = None

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def start(self, on_inbound: object) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, outbound: object) -> None:
        outbox_id = getattr(outbound, "outbox_id", None)
        os.write(self.fd, f"{outbox_id}\n".encode())


async def child(work: Path) -> None:
    from bot.app import App
    from bot.config import Settings
    from conversations.messages import Inbound

    settings = Settings(data_dir=work / "data", messages_per_minute=10_000, tickets_per_day=10_000)
    app = await App.open(settings, understander=None, poll_interval=0.05)
    app.add_channel(PlatformStandIn(work / "delivered.log"))  # type: ignore[arg-type]
    await app.start(timers=False)
    feed = (work / "feed.jsonl").read_text().splitlines()
    ack_file = work / "ack"
    offset = int(ack_file.read_text()) if ack_file.exists() else 0
    while offset < len(feed):
        batch = [json.loads(line) for line in feed[offset : offset + BATCH]]
        futures = [
            app.engine.submit(
                Inbound(
                    channel="soak",
                    chat_id=m["chat"],
                    sender_id=m["chat"],
                    message_id=m["id"],
                    timestamp=datetime.now(UTC),
                    text=m["text"],
                )
            )
            for m in batch
        ]
        await asyncio.gather(*futures)
        offset += len(batch)
        tmp = ack_file.with_suffix(".tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, ack_file)  # the platform's offset: acknowledged only once committed
    await app.dispatcher.flush(limit_seconds=120)
    (work / "done").write_text("1")
    await app.close()


# --- the driver ---------------------------------------------------------------------------


def run(conversations: int, kills: int, seed: int, work: Path) -> Result:
    rng = random.Random(seed)
    total = write_feed(work / "feed.jsonl", conversations, seed)
    # Kill points spread over the whole run: after the bot has acknowledged this much of the
    # feed, plus a random few milliseconds so that kills land inside a batch, a commit or a
    # delivery, not only between them.
    points = sorted(rng.sample(range(1, total), min(kills, total - 1)))
    started = time.monotonic()
    command = [sys.executable, "-m", "bench.soak", "--child", str(work)]
    env = {**os.environ, "TAROS_LOG_LEVEL": "ERROR"}
    root = Path(__file__).resolve().parent.parent
    done_kills = 0
    while not (work / "done").exists():
        process = subprocess.Popen(command, cwd=root, env=env)
        if done_kills < len(points):
            point = points[done_kills]
            while process.poll() is None and acknowledged(work) < point:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                done_kills += 1
                continue
        if process.wait(timeout=600) != 0 and not (work / "done").exists():
            raise SystemExit(f"the bot exited with {process.returncode}")
    return check(work, conversations, done_kills, time.monotonic() - started)


def acknowledged(work: Path) -> int:
    try:
        return int((work / "ack").read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def check(work: Path, conversations: int, kills: int, seconds: float) -> Result:
    with sqlite3.connect(work / "data" / "taros.db") as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        per_chat = dict(db.execute("SELECT chat_id, COUNT(*) FROM tickets GROUP BY chat_id"))
        numbers = [row[0] for row in db.execute("SELECT number FROM tickets")]
        outbox = [row[0] for row in db.execute("SELECT id FROM outbox")]
    delivered = Counter(
        int(line) for line in (work / "delivered.log").read_text().split() if line != "None"
    )
    return Result(
        conversations=conversations,
        kills=kills,
        tickets=len(numbers),
        duplicate_tickets=len(numbers) - len(set(numbers)),
        chats_without_one_ticket=sum(
            1 for n in range(conversations) if per_chat.get(f"c{n}", 0) != 1
        ),
        outbox_rows=len(outbox),
        lost=sum(1 for row in outbox if delivered[row] == 0),
        delivered_twice=sum(1 for row in outbox if delivered[row] > 1),
        integrity=integrity,
        seconds=seconds,
    )


def report(result: Result) -> str:
    rows = [
        ("conversations", result.conversations),
        ("kills (SIGKILL)", result.kills),
        ("tickets", result.tickets),
        ("duplicate tickets (must be 0)", result.duplicate_tickets),
        ("chats without exactly one ticket (must be 0)", result.chats_without_one_ticket),
        ("replies in the outbox", result.outbox_rows),
        ("replies lost (must be 0)", result.lost),
        ("replies delivered twice (crash between send and mark)", result.delivered_twice),
        ("integrity_check", result.integrity),
        ("seconds", f"{result.seconds:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    table = "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
    verdict = "PASS" if result.ok else "FAIL"
    summary = (
        f"soak {verdict}: {result.conversations} conversations, {result.kills} kills, "
        f"{result.tickets} tickets, {result.duplicate_tickets} duplicates, {result.lost} lost, "
        f"{result.delivered_twice} delivered twice, integrity {result.integrity}"
    )
    return f"{table}\n{summary}"


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20221101)
    parser.add_argument("--work", type=Path, help="folder to keep the run in (default: temp)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        asyncio.run(child(args.child))
        return 0
    with tempfile.TemporaryDirectory(prefix="taros-soak-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = run(args.conversations, args.kills, args.seed, work)
    print(report(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
