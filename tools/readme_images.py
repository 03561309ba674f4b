"""The pictures of the README: a map of a month of reports and the page of a monthly recap.

Made from an invented month (November 2026; no real report) written into a temporary data
dir with the test suite's ticket seeding, then drawn by the product's own code:

    .venv/bin/python tools/readme_images.py   # docs/peta-contoh.png, docs/rekap-contoh.png

The PNGs are reduced to a palette so that they stay small in the repository.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the seeding helpers of the test suite

from history import Seed, seed  # noqa: E402
from support import running  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.jobs.recap_numbers import RecapKind  # noqa: E402
from conversations.understanding.places import Gazetteer  # noqa: E402

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # Tuesday 1 December 2026, 07:00 WIB
BUSY = {"32.05.01": 9, "32.05.05": 8, "32.05.04": 6, "32.05.12": 5, "32.05.09": 4, "32.05.10": 3}
CATEGORIES = ("pencurian", "penipuan", "kecelakaan", "uang_palsu", "narkoba", "premanisme")


def invented_month(gazetteer: Gazetteer, rng: random.Random) -> list[Seed]:
    codes = [k.code for k in gazetteer.kecamatan]
    weights = [BUSY.get(code, 1) for code in codes]
    seeds = []
    for _ in range(150):
        kecamatan = rng.choices(codes, weights)[0]
        desa = rng.choice(gazetteer.desa_of(kecamatan)).code
        at = NOW - timedelta(days=rng.uniform(0.5, 60))
        answered = rng.random() < 0.95
        response = timedelta(hours=rng.choice([1, 2, 3, 5, 8, 12, 20, 30]))
        closed = answered and rng.random() < 0.7
        seeds.append(
            Seed(
                at,
                category=rng.choice(CATEGORIES),
                kecamatan=kecamatan,
                desa=desa,
                urgent=rng.random() < 0.04,
                responded_after=response if answered else None,
                closed_after=response + timedelta(hours=rng.uniform(6, 90)) if closed else None,
                resolved_ok=rng.choice([True, True, True, False, None]) if closed else None,
            )
        )
    hotspot = gazetteer.desa_of("32.05.12")[1].code  # a rise of curanmor in one desa
    seeds += [
        Seed(NOW - timedelta(days=d), category="pencurian", kecamatan="32.05.12", desa=hotspot)
        for d in (11, 7, 4, 2)
    ]
    return seeds


def small_png(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        reduced = image.convert("RGB").quantize(colors=256)
        buffer = io.BytesIO()
        reduced.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


async def make(folder: Path) -> None:
    from bot.jobs.recap_pdf import recap_pdf

    gazetteer = Gazetteer.load()
    async with running(Settings(data_dir=folder / "data"), clock=ManualClock(NOW)) as bot:
        await seed(bot.app, invented_month(gazetteer, random.Random(17)))
        drawn = await bot.app.digest.map(NOW, 30, "id")
        stats = await bot.app.recaps.stats(RecapKind.MONTH, NOW)
        page = await asyncio.to_thread(bot.app.recaps.page, stats, NOW, "id")
        picture = await asyncio.to_thread(recap_pdf, page, gazetteer, png_dpi=72)
    docs = ROOT / "docs"
    (docs / "peta-contoh.png").write_bytes(small_png(drawn.path.read_bytes()))
    (docs / "rekap-contoh.png").write_bytes(small_png(picture))
    for name in ("peta-contoh.png", "rekap-contoh.png"):
        print(f"{docs / name}: {(docs / name).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="taros-readme-") as temporary:
        asyncio.run(make(Path(temporary)))
