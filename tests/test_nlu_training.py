"""Training the understanding (``taros nlu train``): officers' corrections teach it, the result
is deterministic, and the shipped models are small."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from support import Harness, register, reported

from conversations.understanding.model import LinearModel, packaged_model_path
from conversations.understanding.understander import (
    CATEGORY_MODEL,
    URGENCY_MODEL,
    Models,
    Understander,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "conversations" / "understanding" / "corpus"
TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=TZ)

# "duit aspal" (asli tapi palsu): Garut's word for counterfeit money that no writer of the
# corpus used. Officers correct reports that say it; other reports that say it are the test.
CORRECTED_STORIES = (
    "Tadi pagi ada pembeli bayar domba pakai duit aspal, baru ketahuan pas disetor ke koperasi",
    "Warung ibu saya dapat duit aspal dua lembar seratus ribuan dari pemuda naik motor",
    "Punten pak, tukang bakso di lembur kami dibayar ku duit aspal tadi wengi",
    "Di pasar hewan ada yang belanja pakai duit aspal, pedagang rugi jutaan",
    "Saya jual hp bekas via COD, dibayar duit aspal, warnanya pudar kalau dipegang",
    "Anak saya dikasih kembalian duit aspal sama penjual pulsa di dekat sekolah",
)
SIMILAR = (
    "pak ada yang belanja di toko bangunan pake duit aspal tadi sore",
    "punten, abdi nampi duit aspal ti nu meser hayam",
    "hati2 pak lagi banyak duit aspal beredar di pasar",
    "tukang ojek dibayar pakai duit aspal sama penumpang",
    "duit aspal lima puluhan dipake beli bensin eceran",
    "kemarin dapat duit aspal pas jualan sayur",
)


def _small_corpus(tmp: Path) -> Path:
    folder = tmp / "corpus"
    folder.mkdir()
    for writer in ("w1", "w2", "w4"):
        shutil.copy(CORPUS / f"{writer}.jsonl", folder)
    return folder


def _train(data_dir: Path, corpus: Path, out: Path, *more: str) -> str:
    env = {**os.environ, "TAROS_DATA_DIR": str(data_dir), "TAROS_LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu", "train", "--corpus", str(corpus),
         "--out", str(out), "--folds", "2", *more],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _accuracy(models: Path, texts: tuple[str, ...], code: str) -> float:
    reader = Understander(TZ, Models.load(models))
    return sum(reader.understand(t, NOW).category == code for t in texts) / len(texts)


async def test_officers_corrections_teach_the_model_similar_messages(
    bot: Harness, tmp_path: Path
) -> None:
    await register(bot, "spkt", unit="SPKT")  # the desk of "lainnya"
    for number, story in enumerate(CORRECTED_STORIES):
        ticket = await reported(bot, f"warga{number}", topic="Lainnya", story=story)
        replies = await bot.send(f"/kategori {ticket} uang_palsu", chat="spkt")
        assert "dikoreksi" in replies[-1].text
    corpus = _small_corpus(tmp_path)
    data_dir = bot.app.settings.data_dir

    before = tmp_path / "before"
    _train(data_dir, corpus, before)
    after = tmp_path / "after"
    printed = _train(data_dir, corpus, after, "--with-corrections")
    assert "correction" in printed

    was = _accuracy(before, SIMILAR, "uang_palsu")
    now = _accuracy(after, SIMILAR, "uang_palsu")
    print(f"similar reports read as counterfeit money: before {was:.0%}, after {now:.0%}")
    assert now > was, (was, now)
    assert now >= 0.8, now


def test_training_is_deterministic(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "w1.jsonl").write_bytes((CORPUS / "w1.jsonl").read_bytes())
    one, two = tmp_path / "one", tmp_path / "two"
    _train(tmp_path / "data", corpus, one)
    _train(tmp_path / "data", corpus, two)
    for name in (CATEGORY_MODEL, URGENCY_MODEL):
        first, second = LinearModel.load(one / name), LinearModel.load(two / name)
        assert first.classes == second.classes
        assert np.array_equal(first.indexes, second.indexes)
        assert np.array_equal(first.weights, second.weights)
        assert first.header == second.header


def test_the_shipped_models_are_small_and_were_never_trained_on_the_held_out_writers() -> None:
    from conversations.understanding.training import HELD_OUT_WRITERS

    for name in (CATEGORY_MODEL, URGENCY_MODEL):
        path = packaged_model_path(name)
        assert path.stat().st_size <= 20 * 1024 * 1024
        model = LinearModel.load(path)
        assert not set(model.header["trained_on"]) & HELD_OUT_WRITERS
