#!/usr/bin/env python3
"""Evaluate the understanding of free text on a labelled set of citizen messages.

    .venv/bin/python tools/nlu_eval.py                         # tests/nlu_eval.jsonl
    .venv/bin/python tools/nlu_eval.py tests/nlu_holdout.jsonl --errors

Each line of the set is a JSON object: ``text``; ``category`` (code or null); the place named —
``kecamatan`` (code or null), ``desa`` (code or null), ``ambiguous`` (a desa name shared by
several kecamatan, typed without its kecamatan), ``outside`` (a place outside Garut),
``vague`` (a name that could be several kecamatan, e.g. "Tarogong"); ``urgent``, ``language``,
``greeting``. Messages are read as if sent on Friday 27 November 2026 at 14:00 in Garut.

Prints per-field figures and a confusion summary of category errors, and exits 1 when a target
is missed: category ≥ 92 %, kecamatan ≥ 92 % where a place is named, invented place ≤ 3 % where
none is named, urgent recall ≥ 95 % and precision ≥ 80 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conversations.understanding.understander import (
    PREFILL_CATEGORY_CONFIDENCE,
    Understander,
    Understanding,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "tests" / "nlu_eval.jsonl"
TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=TZ)

TARGETS = {
    "category": (">=", 0.92),
    "kecamatan": (">=", 0.92),
    "invented_place": ("<=", 0.03),
    "urgent_recall": (">=", 0.95),
    "urgent_precision": (">=", 0.80),
}


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%}  ({self.right}/{self.total})"


@dataclass
class Report:
    category: Tally = field(default_factory=Tally)
    prefilled: Tally = field(default_factory=Tally)  # right among confident categories
    kecamatan: Tally = field(default_factory=Tally)
    desa: Tally = field(default_factory=Tally)
    invented: Tally = field(default_factory=Tally)
    language: Tally = field(default_factory=Tally)
    greeting: Tally = field(default_factory=Tally)
    urgent_tp: int = 0
    urgent_fp: int = 0
    urgent_fn: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    slowest_ms: float = 0.0
    mean_ms: float = 0.0

    @property
    def urgent_recall(self) -> float:
        found = self.urgent_tp + self.urgent_fn
        return self.urgent_tp / found if found else 1.0

    @property
    def urgent_precision(self) -> float:
        said = self.urgent_tp + self.urgent_fp
        return self.urgent_tp / said if said else 1.0

    def figures(self) -> dict[str, float]:
        return {
            "category": self.category.rate,
            "kecamatan": self.kecamatan.rate,
            "desa": self.desa.rate,
            "invented_place": self.invented.rate,
            "urgent_recall": self.urgent_recall,
            "urgent_precision": self.urgent_precision,
            "language": self.language.rate,
            "greeting": self.greeting.rate,
        }

    def missed(self) -> list[str]:
        figures = self.figures()
        missed = []
        for name, (op, bound) in TARGETS.items():
            value = figures[name]
            if (op == ">=" and value < bound) or (op == "<=" and value > bound):
                missed.append(f"{name} {value:.1%} (target {op} {bound:.0%})")
        return missed


def load(path: Path) -> list[dict[str, object]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: {exc}") from exc
    return rows


def evaluate(rows: Sequence[dict[str, object]], understander: Understander | None = None) -> Report:
    understander = understander or Understander(TZ)
    report = Report()
    timings = []
    for row in rows:
        text = str(row["text"])
        started = time.perf_counter()
        got = understander.understand(text, NOW)
        timings.append((time.perf_counter() - started) * 1000)
        _score(report, row, got)
    report.slowest_ms = max(timings, default=0.0)
    report.mean_ms = sum(timings) / len(timings) if timings else 0.0
    return report


def _score(report: Report, row: dict[str, object], got: Understanding) -> None:
    text = str(row["text"])
    problems = []
    gold_category = row.get("category")
    category_ok = got.category == gold_category
    report.category.add(category_ok)
    if got.category is not None and got.category_confidence >= PREFILL_CATEGORY_CONFIDENCE:
        report.prefilled.add(category_ok)
    if not category_ok:
        report.confusion[(str(gold_category), str(got.category))] += 1
        problems.append(f"category {gold_category} → {got.category} ({got.category_confidence})")
    got_kec = None if got.kecamatan is None else got.kecamatan.code
    named = any(row.get(k) for k in ("kecamatan", "ambiguous", "outside", "vague"))
    if named:
        if row.get("ambiguous"):
            place_ok = got_kec is None and bool(got.ambiguous_places)
        elif row.get("outside"):
            place_ok = got_kec is None and got.outside is not None
        else:
            place_ok = got_kec == row.get("kecamatan")
        report.kecamatan.add(place_ok)
        if not place_ok:
            problems.append(f"place {_gold_place(row)} → {_got_place(got)}")
        if row.get("desa"):
            got_desa = None if got.desa is None else got.desa.code
            report.desa.add(got_desa == row["desa"])
            if got_desa != row["desa"]:
                problems.append(f"desa {row['desa']} → {got_desa}")
    else:
        invented = (
            got.kecamatan is not None
            or got.desa is not None
            or bool(got.ambiguous_places)
            or got.outside is not None
        )
        report.invented.add(invented)
        if invented:
            problems.append(f"invented place {_got_place(got)}")
    gold_urgent = bool(row.get("urgent"))
    if gold_urgent and got.urgent:
        report.urgent_tp += 1
    elif got.urgent:
        report.urgent_fp += 1
        problems.append("urgent: false alarm")
    elif gold_urgent:
        report.urgent_fn += 1
        problems.append("urgent: missed")
    report.language.add(got.language == row.get("language", "id"))
    if got.language != row.get("language", "id"):
        problems.append(f"language {row.get('language')} → {got.language}")
    report.greeting.add(got.greeting == bool(row.get("greeting")))
    if got.greeting != bool(row.get("greeting")):
        problems.append(f"greeting {row.get('greeting')} → {got.greeting}")
    if problems:
        report.errors.append(f"{text[:110]!r}\n    " + "; ".join(problems))


def _gold_place(row: dict[str, object]) -> str:
    for key in ("desa", "kecamatan", "ambiguous", "outside", "vague"):
        if row.get(key):
            return f"{key}={row[key]}"
    return "none"


def _got_place(got: Understanding) -> str:
    if got.ambiguous_places:
        return f"ambiguous={got.ambiguous_places[0].name}×{len(got.ambiguous_places)}"
    if got.outside:
        return f"outside={got.outside}"
    if got.kecamatan is not None:
        desa = f"/{got.desa.name}" if got.desa is not None else ""
        return f"{got.kecamatan.name}{desa} ({got.place_score:.0f})"
    return "none"


def print_report(report: Report, path: Path, *, errors: bool) -> None:
    print(f"NLU evaluation of {path.name}: {report.category.total} messages")
    print(f"  category                    {report.category}")
    share = report.prefilled.total / report.category.total if report.category.total else 0.0
    print(
        f"  category pre-filled         {share:6.1%} of messages, right in {report.prefilled}"
        f" (confidence ≥ {PREFILL_CATEGORY_CONFIDENCE})"
    )
    print(f"  kecamatan (place named)     {report.kecamatan}")
    print(f"  desa (desa named)           {report.desa}")
    print(f"  invented place (none named) {report.invented}")
    tp, fp, fn = report.urgent_tp, report.urgent_fp, report.urgent_fn
    print(f"  urgent recall               {report.urgent_recall:6.1%}  ({tp}/{tp + fn})")
    print(f"  urgent precision            {report.urgent_precision:6.1%}  ({tp}/{tp + fp})")
    print(f"  language                    {report.language}")
    print(f"  greeting                    {report.greeting}")
    print(
        f"  time per message            mean {report.mean_ms:.2f} ms, max {report.slowest_ms:.2f}"
    )
    if report.confusion:
        print("category errors (gold → understood):")
        for (gold, got), count in report.confusion.most_common():
            print(f"  {count:3d}  {gold} → {got}")
    if errors and report.errors:
        print("messages with errors:")
        for line in report.errors:
            print(f"  {line}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--errors", action="store_true", help="list every message with an error")
    args = parser.parse_args(argv)
    report = evaluate(load(args.path))
    print_report(report, args.path, errors=args.errors)
    missed = report.missed()
    if missed:
        print("TARGET MISSED: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
