"""How fast the understanding reads a message, how long its models take to load, and how much
memory they cost.

    .venv/bin/python -m bench.understanding [--repeat 5] [--targets]

Reads every message of the corpus (``conversations/understanding/corpus``) ``--repeat`` times
in one process after a warm-up pass; each repetition gives a p50 and a p99 per message, and the
table prints the median of the repetitions with their spread (min-max). The load time is the
construction of an :class:`Understander` (rules, gazetteer, landmarks, models) in a fresh
process, repeated; RSS growth is that process's resident memory after loading and reading all
messages minus before importing anything of TAROS. Prints the load average before and after.

Targets (issue 13): p99 ≤ 5 ms per message; the models load in ≤ 1 s; RSS grows by ≤ 60 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "conversations" / "understanding" / "corpus"
TARGET_P99_MS = 5.0
TARGET_LOAD_S = 1.0
TARGET_RSS_MB = 60.0


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(repeat: int) -> dict[str, object]:
    """Runs in a fresh process: load, then read the corpus ``repeat`` times."""
    before = _rss_mb()
    started = time.perf_counter()
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from conversations.understanding.understander import Understander

    tz = ZoneInfo("Asia/Jakarta")
    reader = Understander(tz)
    load_s = time.perf_counter() - started
    texts = [
        json.loads(line)["text"]
        for path in sorted(CORPUS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    now = datetime(2026, 11, 27, 14, 0, tzinfo=tz)
    for text in texts:  # warm-up: caches of words and typos fill as in a running bot
        reader.understand(text, now)
    runs = []
    for _ in range(repeat):
        timings = []
        for text in texts:
            t0 = time.perf_counter()
            reader.understand(text, now)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        runs.append(
            {
                "p50": timings[len(timings) // 2],
                "p99": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
                "max": timings[-1],
            }
        )
    return {
        "messages": len(texts),
        "load_s": load_s,
        "rss_growth_mb": _rss_mb() - before,
        "models": reader.models.category is not None and reader.models.urgency is not None,
        "runs": runs,
    }


def _spread(values: list[float], unit: str, digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="readings of the corpus per process")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes (load times)")
    parser.add_argument("--targets", action="store_true", help="fail when a target is missed")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.repeat)))
        return 0
    load_before = os.getloadavg()
    results = []
    for _ in range(args.processes):
        done = subprocess.run(
            [sys.executable, "-m", "bench.understanding", "--child", "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results.append(json.loads(done.stdout))
    load_after = os.getloadavg()
    runs = [run for result in results for run in result["runs"]]
    p50 = [float(r["p50"]) for r in runs]
    p99 = [float(r["p99"]) for r in runs]
    loads = [float(r["load_s"]) for r in results]
    rss = [float(r["rss_growth_mb"]) for r in results]
    print(
        f"understanding: {results[0]['messages']} messages × {args.repeat} readings × "
        f"{args.processes} processes; models loaded: {all(r['models'] for r in results)}"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"  p50 per message   {_spread(p50, 'ms')}")
    print(f"  p99 per message   {_spread(p99, 'ms')}   target ≤ {TARGET_P99_MS} ms")
    print(f"  load (fresh)      {_spread(loads, 's')}   target ≤ {TARGET_LOAD_S} s")
    print(f"  RSS growth        {_spread(rss, 'MB', 1)}   target ≤ {TARGET_RSS_MB} MB")
    met = (
        statistics.median(p99) <= TARGET_P99_MS
        and statistics.median(loads) <= TARGET_LOAD_S
        and statistics.median(rss) <= TARGET_RSS_MB
    )
    verdict = "PASS" if met or not args.targets else "FAIL"
    print(
        f"understanding {verdict}: p99 {statistics.median(p99):.2f} ms, load"
        f" {statistics.median(loads):.2f} s, RSS +{statistics.median(rss):.1f} MB"
    )
    return 0 if met or not args.targets else 1


if __name__ == "__main__":
    sys.exit(main())
