"""Isolation under load: one flooder at 30 messages a second must not raise the other
citizens' p99 reply latency by more than 20 % (issue 7).

Citizens do the whole intake at a human pace (an exponential pause of ``--think`` seconds on
average before each message) through the real engine, database and outbox dispatcher; a
reply's latency runs from handing the message to the engine to its first reply leaving
through the channel. Rounds alternate without and with one flooder (one sender, 30 messages
a second, every one a new message), so both see the same machine; the p99 of each kind is
taken over all its rounds. With the production settings the per-sender rate limit (20 a
minute) stops the flooder after one polite notice; a second pair of rounds lifts that limit
for everyone (the flooder's every message is then read and answered) to show what the
per-chat queues alone give.

    python -m bench.flooder                               # full size (by hand)
    python -m bench.flooder --citizens 40 --seconds 4 --rounds 1     # smoke size (CI)

Prints a table and a final summary line; exits non-zero when a message failed, or (with
``--targets``) when the flooder raised the p99 by more than 20 % under the production limits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.engine import inbound, intake_steps
from bot.ops.process import configure_process

FLOOD_RATE = 30.0  # messages per second
TARGET = 1.20


class TimedChannel:
    """Answers at once and wakes whoever waits for a chat's next reply."""

    only_chat: str | None = None

    def __init__(self, name: str = "bench") -> None:
        self.name = name
        self.sent = 0
        self._waiting: dict[str, asyncio.Event] = {}

    async def start(self, on_inbound: object) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, outbound: Any) -> None:
        self.sent += 1
        event = self._waiting.get(outbound.chat_id)
        if event is not None:
            event.set()

    def expect(self, chat: str) -> asyncio.Event:
        event = self._waiting.setdefault(chat, asyncio.Event())
        event.clear()
        return event


@dataclass
class Round:
    flooder: bool
    latencies: list[float] = field(default_factory=list)
    flood_sent: int = 0
    failed: int = 0
    timeouts: int = 0


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def one_round(
    app: Any, channel: TimedChannel, args: argparse.Namespace, flooder: bool, tag: str, seed: int
) -> Round:
    rng = random.Random(seed)
    result = Round(flooder)
    stop_at = time.monotonic() + args.seconds
    counter = iter(range(10**9))

    async def citizen(slot: int) -> None:
        await asyncio.sleep(rng.uniform(0, args.think))
        while time.monotonic() < stop_at:
            n = next(counter)
            for step, fields in enumerate(intake_steps(n)):
                if step:
                    pause = rng.expovariate(1 / args.think)
                    await asyncio.sleep(min(pause, max(0.0, stop_at - time.monotonic())))
                if time.monotonic() >= stop_at:
                    return
                msg = inbound(f"{tag}c", n, step, fields)
                replied = channel.expect(msg.chat_id)
                began = time.perf_counter()
                handled = app.engine.submit(msg)
                try:
                    await asyncio.wait_for(replied.wait(), 10.0)
                except TimeoutError:
                    result.timeouts += 1
                    continue
                result.latencies.append(time.perf_counter() - began)
                if (await handled).value == "failed":
                    result.failed += 1

    async def flood() -> None:
        interval = 1 / FLOOD_RATE
        n = 0
        next_at = time.monotonic()
        futures = []
        while time.monotonic() < stop_at:
            futures.append(
                app.engine.submit(
                    inbound(f"{tag}flood", 0, n, {"text": f"tolong {n} halo halo cepat"})
                )
            )
            n += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        result.flood_sent = n
        for outcome in await asyncio.gather(*futures):
            if outcome.value == "failed":
                result.failed += 1

    tasks = [citizen(slot) for slot in range(args.citizens)]
    if flooder:
        tasks.append(flood())
    await asyncio.gather(*tasks)
    await app.engine.idle()
    await app.dispatcher.flush(limit_seconds=60)
    return result


async def bench(args: argparse.Namespace, data_dir: Path, limited: bool) -> list[Round]:
    from bot.app import App
    from bot.config import Settings

    settings = (
        Settings(data_dir=data_dir)
        if limited
        else Settings(data_dir=data_dir, messages_per_minute=10**9, tickets_per_day=10**9)
    )
    app = await App.open(settings, poll_interval=1.0)
    channel = TimedChannel()
    app.add_channel(channel)
    await app.start(timers=False)
    rounds = []
    try:
        await one_round(app, channel, _warm(args), False, "warm", 1)
        for r in range(args.rounds):
            for flooder in (False, True):
                tag = f"{'L' if limited else 'U'}{r}{'f' if flooder else 'q'}"
                rounds.append(await one_round(app, channel, args, flooder, tag, seed=100 + r))
    finally:
        await app.close()
    return rounds


def _warm(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "seconds": min(2.0, args.seconds)})


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=300, help="citizens reporting at once")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause before a message")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of rounds (quiet, flood)")
    parser.add_argument("--targets", action="store_true", help="fail when over +20 %")
    args = parser.parse_args(argv)
    os.environ.setdefault("TAROS_LOG_LEVEL", "ERROR")
    lines = []
    verdicts = {}
    failed = 0
    for limited in (True, False):
        with tempfile.TemporaryDirectory(prefix="taros-bench-flood-") as tmp:
            rounds = asyncio.run(bench(args, Path(tmp) / "data", limited))
        quiet = [x for r in rounds if not r.flooder for x in r.latencies]
        flood = [x for r in rounds if r.flooder for x in r.latencies]
        failed += sum(r.failed + r.timeouts for r in rounds)
        sent = sum(r.flood_sent for r in rounds)
        ratio = p(flood, 0.99) / p(quiet, 0.99) if quiet and flood else 0.0
        verdicts[limited] = ratio
        name = "production limits (20/min)" if limited else "rate limit lifted"
        lines.append(
            f"{name:<28} {len(quiet):>8} {p(quiet, 0.5):>9.1f} {p(quiet, 0.99):>9.1f}"
            f" {len(flood):>8} {p(flood, 0.5):>9.1f} {p(flood, 0.99):>9.1f} {sent:>8}"
            f" {ratio - 1:>+8.0%}"
        )
    print(
        f"{args.citizens} citizens, pause {args.think:g} s on average, {args.rounds} x"
        f" ({args.seconds:g} s quiet + {args.seconds:g} s with one flooder at"
        f" {FLOOD_RATE:.0f} msg/s); reply latency in ms; {os.cpu_count()} cores"
    )
    print(
        f"{'settings':<28} {'replies':>8} {'p50':>9} {'p99':>9} {'replies':>8} {'p50':>9}"
        f" {'p99':>9} {'flooded':>8} {'p99 +':>8}"
    )
    print(f"{'':<28} {'--- without flooder ---':>28} {'--- with flooder ---':>28}")
    for line in lines:
        print(line)
    impact = verdicts[True]
    within = impact <= TARGET
    ok = failed == 0 and (within or not args.targets)
    print(
        f"flooder {'PASS' if ok else 'FAIL'}: one flooder at {FLOOD_RATE:.0f} msg/s changes the"
        f" others' p99 reply latency by {impact - 1:+.0%} (limit +20%), {failed} failed;"
        f" with the rate limit lifted {verdicts[False] - 1:+.0%}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
