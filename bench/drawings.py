"""Drawings: how long the map, the digest and the recap take to make.

A database is pre-filled like ``bench.engine`` does (``--tickets`` spread over three years,
across every routed kecamatan), then each drawing is made ``--renders`` times after one
warm-up (matplotlib loads its fonts on first use) and timed:

| row | what is timed |
|---|---|
| `map (thread)` | the map PNG alone, drawn in the calling thread (``map_png``) |
| `map (to_thread)` | ``/peta 7``: the week's numbers read, drawn in a worker thread, written |
| `digest` | the whole digest: numbers, hotspots, text, chart, map and their combined image |
| `recap week`, `recap month` | numbers, the PDF page and the XLSX, written |

    python -m bench.drawings --targets            # by hand: 20,000 tickets, 7 renders each
    python -m bench.drawings --tickets 2000 --renders 2   # smoke size (CI)

Prints the median, the fastest and the slowest of each row and a summary line; with
``--targets`` the run fails when the map's median is over 2 s (issue 17).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.engine import prefill
from bot.ops.process import configure_process

MAP_LIMIT = 2.0  # seconds, the map's median


async def timed(make: Callable[[], Awaitable[object]], renders: int) -> list[float]:
    await make()  # warm-up
    times = []
    for _ in range(renders):
        began = time.perf_counter()
        await make()
        times.append(time.perf_counter() - began)
    return times


async def bench(data_dir: Path, tickets: int, renders: int) -> dict[str, list[float]]:
    from bot.app import App
    from bot.config import Settings
    from bot.jobs.map_drawing import MapData, map_png
    from bot.jobs.map_numbers import Period, collect_map, map_words
    from bot.jobs.recap_numbers import RecapKind

    settings = Settings(data_dir=data_dir)
    app = await App.open(settings)  # creates the schema
    await app.close()
    now = datetime.now(UTC)
    prefill(settings.database_path, 0, tickets, history=0.0, now=now)
    app = await App.open(settings)
    try:
        digest, recaps, tz = app.digest, app.recaps, settings.tz
        period = Period.days_to(now, 30, tz)
        numbers = await app.db.read(lambda conn: collect_map(conn, period))
        data = MapData(numbers.counts, numbers.marks, map_words(period, "id"))

        async def in_thread() -> object:
            return map_png(data, digest.gazetteer)

        return {
            "map (thread)": await timed(in_thread, renders),
            "map (to_thread)": await timed(lambda: digest.map(now, 7, "id"), renders),
            "digest": await timed(lambda: digest.compose(now, "id"), renders),
            "recap week": await timed(lambda: recaps.compose(RecapKind.WEEK, now, "id"), renders),
            "recap month": await timed(
                lambda: recaps.compose(RecapKind.MONTH, now, "id"), renders
            ),
        }
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drawings")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--renders", type=int, default=7)
    parser.add_argument("--targets", action="store_true", help="fail when the map is too slow")
    args = parser.parse_args(argv)
    configure_process()
    with tempfile.TemporaryDirectory(prefix="taros-drawings-") as folder:
        results = asyncio.run(bench(Path(folder) / "data", args.tickets, args.renders))
    print(f"{'drawing':<18}{'median s':>10}{'min s':>8}{'max s':>8}  (n={args.renders})")
    for name, times in results.items():
        print(
            f"{name:<18}{statistics.median(times):>10.3f}{min(times):>8.3f}{max(times):>8.3f}"
        )
    median = statistics.median(results["map (to_thread)"])
    spread = max(results["map (to_thread)"]) - min(results["map (to_thread)"])
    ok = median <= MAP_LIMIT or not args.targets
    verdict = "PASS" if ok else "FAIL"
    print(
        f"drawings {verdict}: map median {median:.3f} s (spread {spread:.3f} s) over "
        f"{args.renders} renders, {args.tickets} tickets; limit {MAP_LIMIT:.0f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
