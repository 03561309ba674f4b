"""Memory: many open drafts held at once, and what the process's RSS is then.

Citizens start a report and stop half-way (greeting, category, place, story, one photo: the
draft waits at the evidence question), all through the real engine, database and outbox
dispatcher. Their conversation state lives in the database, not in the process: the RSS
after 10,000 open drafts must stay within 150 MB (issue 8).

    python -m bench.memory                    # full size: 10,000 open drafts (by hand)
    python -m bench.memory --drafts 1000      # smoke size (CI, via pytest)

Prints a table and a final summary line; exits non-zero when a draft is missing, or (with
``--targets``) when the RSS is over the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.engine import CHANNEL, InstantChannel, _rss, inbound, intake_steps
from bot.ops.process import configure_process

OPEN_STEPS = 5  # greeting, category, place, story, photo: the draft waits for more evidence
LIMIT_MB = 150.0


async def hold_drafts(data_dir: Path, drafts: int, concurrency: int) -> dict[str, float]:
    from bot.app import App
    from bot.config import Settings

    app = await App.open(Settings(data_dir=data_dir), poll_interval=1.0)
    app.add_channel(InstantChannel())
    await app.start(timers=False)
    gc.collect()
    figures = {"rss_started": _rss("VmRSS")}
    numbers = iter(range(drafts))
    outcomes: dict[str, int] = {}
    began = time.perf_counter()

    async def citizen() -> None:
        for n in numbers:
            for step, fields in enumerate(intake_steps(n)[:OPEN_STEPS]):
                outcome = await app.engine.submit(inbound("m", n, step, fields))
                outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1

    try:
        await asyncio.gather(*(citizen() for _ in range(concurrency)))
        await app.engine.idle()
        await app.dispatcher.flush(limit_seconds=300)
        figures["seconds"] = time.perf_counter() - began
        gc.collect()
        figures["rss_held"] = _rss("VmRSS")
        figures["peak"] = _rss("VmHWM")

        async def count(conn: object) -> tuple[int, int]:
            async with conn.execute(  # type: ignore[attr-defined]
                "SELECT COUNT(*) FROM conversations WHERE channel = ? AND state = 'evidence'",
                (CHANNEL,),
            ) as cursor:
                open_drafts = (await cursor.fetchone())[0]
            async with conn.execute(  # type: ignore[attr-defined]
                "SELECT COUNT(*) FROM timers WHERE channel = ?", (CHANNEL,)
            ) as cursor:
                timers = (await cursor.fetchone())[0]
            return open_drafts, timers

        open_drafts, timers = await app.db.read(count)
        figures["open_drafts"] = open_drafts
        figures["timers"] = timers
        figures["applied"] = outcomes.get("applied", 0)
        figures["in_memory_queues"] = len(app.engine._queues)
    finally:
        await app.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500, help="citizens at once")
    parser.add_argument("--targets", action="store_true", help="fail when over the limit")
    args = parser.parse_args(argv)
    os.environ.setdefault("TAROS_LOG_LEVEL", "ERROR")
    with tempfile.TemporaryDirectory(prefix="taros-bench-memory-") as tmp:
        f = asyncio.run(hold_drafts(Path(tmp) / "data", args.drafts, args.concurrency))
    rows = [
        ("open drafts held (in the database)", f"{f['open_drafts']:,.0f}"),
        ("messages applied", f"{f['applied']:,.0f}"),
        ("draft timers (reminder, expiry)", f"{f['timers']:,.0f}"),
        ("chats with work queued in the engine", f"{f['in_memory_queues']:,.0f}"),
        ("RSS once started (MB)", f"{f['rss_started']:.0f}"),
        ("RSS with every draft open (MB)", f"{f['rss_held']:.0f}"),
        ("peak RSS during the run (MB)", f"{f['peak']:.0f}"),
        ("seconds", f"{f['seconds']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{args.drafts:,} citizens stop at the evidence question; {os.cpu_count()} cores,")
    print(f"Python {sys.version.split()[0]}")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")
    complete = f["open_drafts"] == args.drafts and f["applied"] == args.drafts * OPEN_STEPS
    within = f["peak"] <= LIMIT_MB
    ok = complete and (within or not args.targets)
    print(
        f"memory {'PASS' if ok else 'FAIL'}: {f['open_drafts']:,.0f} open drafts,"
        f" RSS {f['rss_held']:.0f} MB (peak {f['peak']:.0f} MB,"
        f" {'within' if within else 'OVER'} {LIMIT_MB:.0f} MB)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
