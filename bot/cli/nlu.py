"""``taros nlu "teks"`` / ``taros nlu --jsonl`` (what the bot understands) and ``taros nlu train
[--with-corrections]`` (retrain the category model)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.storage.corrections import CorrectedExample, corrected_examples
from bot.storage.database import Database

__all__ = ["add_parser", "model_dir", "run"]

CORPUS = Path(__file__).resolve().parents[2] / "conversations" / "understanding" / "corpus"
"""The labelled messages shipped in a checkout of TAROS."""
CORRECTION_COPIES = 3
"""An officer's correction counts as this many examples: it is Garut's own ground truth."""


def model_dir(settings: Settings) -> Path:
    """Where an operator's retrained models live (read first by the bot)."""
    return settings.data_dir / "nlu"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nlu = sub.add_parser(
        "nlu",
        help="what the bot understands of a message, as JSON (no database needed); "
        "`taros nlu train` retrains the category model",
    )
    nlu.add_argument("text", nargs="?", help='the message to read, or "train"')
    nlu.add_argument(
        "--jsonl",
        action="store_true",
        help="read one message per line on stdin and write one JSON object per line",
    )
    nlu.add_argument(
        "--with-corrections",
        action="store_true",
        help="train: add the officers' /kategori corrections from the database",
    )
    nlu.add_argument(
        "--corpus",
        type=Path,
        default=CORPUS,
        metavar="DIR",
        help="train: the labelled messages (*.jsonl; default: the corpus of this checkout)",
    )
    nlu.add_argument(
        "--folds",
        type=int,
        default=5,
        metavar="K",
        help="train: cross-validation folds for the held-out figures and thresholds (2-10)",
    )
    nlu.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="train: where to write the model (default: TAROS_DATA_DIR/nlu with corrections, "
        "else the model shipped with TAROS)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.text == "train" and not args.jsonl:
        return _train(args, settings)
    return _read(args, settings)


def _read(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON object per message. Reads no database; the time zone is ``TAROS_TZ``."""
    from conversations.understanding.understander import Models, Understander

    if args.jsonl == (args.text is not None):
        print('taros nlu: give one message ("teks") or --jsonl, not both', file=sys.stderr)
        return 2
    understander = Understander(settings.tz, Models.load(model_dir(settings)))
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8")
    lines = (
        (raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in sys.stdin.buffer)
        if args.jsonl
        else iter([args.text])
    )
    for line in lines:
        understood = understander.understand(line, datetime.now(settings.tz))
        print(json.dumps(understood.to_json(), ensure_ascii=False), flush=args.jsonl)
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from conversations.understanding import training
    from conversations.understanding.model import packaged_model_path
    from conversations.understanding.understander import (
        CATEGORY_MODEL,
        URGENCY_MODEL,
        Models,
        Understander,
    )

    if not 2 <= args.folds <= 10:
        print("taros nlu train: --folds must be 2 to 10", file=sys.stderr)
        return 2
    corpus_files = sorted(Path(args.corpus).glob("*.jsonl"))
    if not corpus_files:
        print(f"taros nlu train: no *.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    examples = [
        e
        for e in training.load_corpus(corpus_files)
        if e.source not in training.HELD_OUT_WRITERS
    ]
    if args.with_corrections:
        corrections = asyncio.run(_corrections(settings))
        examples += [
            training.Example(c.text, c.category, False, "id", "correction")
            for c in corrections
            for _ in range(CORRECTION_COPIES)
        ]
    out = args.out or (model_dir(settings) if args.with_corrections else None)

    def target(name: str) -> Path:
        return Path(out) / name if out is not None else packaged_model_path(name)

    now = datetime.now(settings.tz)
    rules = Understander(settings.tz, Models())
    category = training.train_category(
        examples, lambda text: rules.features(text, now), folds=args.folds
    )
    category.model.save(target(CATEGORY_MODEL))
    print(training.report(category))
    print(f"category model written to {target(CATEGORY_MODEL)}")
    reader = Understander(settings.tz, Models(category=category.model))
    urgency = training.train_urgency(
        [e for e in examples if e.source != "correction"],
        lambda text: reader.urgency_features(text, now),
        folds=args.folds,
    )
    urgency.model.save(target(URGENCY_MODEL))
    header = urgency.model.header
    print(
        f"urgency: cross-validated recall {header['cv_recall']:.1%}, precision"
        f" {header['cv_precision']:.1%} from probability {header['confident_at']}"
    )
    print(f"urgency model written to {target(URGENCY_MODEL)}")
    return 0


async def _corrections(settings: Settings) -> list[CorrectedExample]:
    db = await Database.open(settings.database_path)
    try:
        return list(await db.read(corrected_examples))
    finally:
        await db.close()
