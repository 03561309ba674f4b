"""The map of Garut: drawn from the real polygons, shaded by the counts (read back from the
pixels), the legend up to the largest count, a clear empty map, marks at the desa never at the
pin, ``/peta`` for the Kapolres and admins, and ``taros digest --map``."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from history import Seed, seed
from PIL import Image
from support import Harness, register, texts
from test_digest import taros

from bot.jobs.drawing import is_png
from bot.jobs.map_drawing import (
    COLOURS,
    EMPTY_FILL,
    URGENT_COLOUR,
    DrawnMap,
    MapData,
    MapWords,
    Mark,
    MarkKind,
    geography,
    map_png,
    scale_ticks,
)
from bot.jobs.map_numbers import Period, collect_map
from conversations.understanding.places import Gazetteer

CIBATU, LELES, GARUT_KOTA, CIKELET = "32.05.12", "32.05.09", "32.05.01", "32.05.30"
WORDS = MapWords("Peta", "Laporan", "Mendesak", "Terlambat", "Polsek", "Tidak ada laporan")


def colour_at(drawn: DrawnMap, code: str, around: int = 6) -> tuple[int, int, int]:
    """The commonest colour in a small square around a place's point (a name or a mark may
    cover the point itself)."""
    x, y = drawn.anchors[code]
    with Image.open(io.BytesIO(drawn.png)) as image:
        rgb = image.convert("RGB")
        seen = Counter(
            rgb.getpixel((x + dx, y + dy))
            for dx in range(-around, around + 1)
            for dy in range(-around, around + 1)
        )
    colour = seen.most_common(1)[0][0]
    assert isinstance(colour, tuple)
    return (int(colour[0]), int(colour[1]), int(colour[2]))


def expected(fraction: float) -> tuple[int, int, int]:
    from matplotlib import colormaps

    r, g, b, _a = colormaps[COLOURS](fraction)
    return (round(r * 255), round(g * 255), round(b * 255))


def close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 4) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_the_map_is_drawn_from_the_real_polygons_shaded_by_the_counts() -> None:
    gazetteer = Gazetteer.load()
    assert len(geography(gazetteer).areas) == 42
    data = MapData(((CIBATU, 6), (LELES, 2), (GARUT_KOTA, 3)), (), WORDS)
    drawn = map_png(data, gazetteer)
    assert is_png(drawn.png) and drawn.size == (800, 800)
    cibatu, leles = colour_at(drawn, CIBATU), colour_at(drawn, LELES)
    assert close(cibatu, expected(1.0)), cibatu  # the largest count: the darkest shade
    assert close(leles, expected(2 / 6)), leles
    assert close(colour_at(drawn, GARUT_KOTA), expected(3 / 6))
    assert close(colour_at(drawn, CIKELET), expected(0.0))  # no report: the lightest
    assert sum(cibatu) < sum(leles) < sum(colour_at(drawn, CIKELET))  # more is darker
    assert drawn.scale_ticks[-1] == data.largest == 6  # the legend ends at the largest count
    assert drawn.scale_ticks == (0, 1, 2, 3, 4, 5, 6)


def test_the_scale_always_ends_at_the_largest_count() -> None:
    for largest in (1, 5, 7, 13, 37, 120, 999):
        ticks = scale_ticks(largest)
        assert ticks[0] == 0 and ticks[-1] == largest
        assert list(ticks) == sorted(set(ticks))
        assert len(ticks) <= 8
    assert scale_ticks(0) == ()


def test_a_period_without_reports_is_a_clear_empty_map() -> None:
    drawn = map_png(MapData((), (), WORDS), Gazetteer.load())
    assert is_png(drawn.png)
    assert drawn.scale_ticks == ()  # no scale to read
    for code in (CIBATU, CIKELET):
        assert close(colour_at(drawn, code), hex_rgb(EMPTY_FILL), 2)


def test_urgent_reports_are_marked_at_their_desa() -> None:
    gazetteer = Gazetteer.load()
    desa = gazetteer.desa_of(CIKELET)[0].code
    marks = (Mark(desa, MarkKind.URGENT, 1),)
    drawn = map_png(MapData(((CIKELET, 1),), marks, WORDS), gazetteer)
    assert close(colour_at(drawn, desa, around=2), hex_rgb(URGENT_COLOUR), 8)


async def test_marks_name_the_desa_never_the_pin(bot: Harness) -> None:
    """A pin inside a desa is marked at the desa's representative point: the map's numbers
    carry the desa code, not the coordinates."""
    gazetteer = Gazetteer.load()
    desa = gazetteer.desa_of(CIBATU)[0]
    now = bot.clock.now()
    await seed(
        bot.app,
        [
            Seed(now - timedelta(hours=3), urgent=True, desa=desa.code, lat=desa.lat, lon=desa.lon),
            Seed(now - timedelta(days=3), kecamatan=LELES),  # overdue: no answer for 3 days
            Seed(now - timedelta(days=40), kecamatan=LELES),  # before the period
        ],
    )
    period = Period.days_to(now, 7, bot.app.settings.tz)
    numbers = await bot.app.db.read(lambda conn: collect_map(conn, period))
    assert dict(numbers.counts) == {CIBATU: 1, LELES: 1}
    assert set(numbers.marks) == {
        Mark(desa.code, MarkKind.URGENT, 1),
        Mark(LELES, MarkKind.OVERDUE, 2),  # both Leles reports are still unanswered
    }
    point = geography(gazetteer).points[desa.code]
    assert gazetteer.locate(point[1], point[0]).desa == desa  # the point is inside the desa


# --- /peta ------------------------------------------------------------------------------------


async def test_peta_for_the_kapolres_and_admins_not_for_an_officer(bot: Harness) -> None:
    await register(bot, "kapolres", "kapolres", None)
    await register(bot, "admin", "admin", None)
    await register(bot, "reskrim")
    now = bot.clock.now()
    await seed(bot.app, [Seed(now - timedelta(days=10)), Seed(now - timedelta(hours=1))])

    replies = await bot.send("/peta", chat="kapolres")
    assert len(replies) == 1
    media = replies[0].media
    assert media is not None and media.mime == "image/png" and is_png(media.path.read_bytes())
    assert "Peta laporan" in replies[0].text and "1 laporan" in replies[0].text
    assert "21–27 Nov 2026" in replies[0].text

    month = await bot.send("peta 30", chat="admin")  # the same words without "/"
    assert "2 laporan" in month[0].text and "29 Okt–27 Nov 2026" in month[0].text

    assert "/peta 7 atau /peta 30" in texts(await bot.send("/peta 5", chat="kapolres"))
    refused = texts(await bot.send("/peta", chat="reskrim"))
    assert "Hanya Kapolres dan admin" in refused
    assert "/peta" in texts(await bot.send("/bantuan", chat="kapolres"))
    assert "/peta" not in texts(await bot.send("/bantuan", chat="reskrim"))


async def test_the_digest_sends_the_chart_and_the_map(bot: Harness) -> None:
    await register(bot, "kapolres", "kapolres", None)
    text, pictures = await bot.send("/digest", chat="kapolres")
    assert "Ringkasan harian" in text.text
    assert pictures.media is not None and is_png(pictures.media.path.read_bytes())
    chart, drawn = pictures.album
    assert pictures.text == f"{chart.caption}\n{drawn.caption}"  # both, under one image
    assert "Peta laporan" in (drawn.caption or "")
    with (
        Image.open(pictures.media.path) as combined,
        Image.open(chart.path) as first,
        Image.open(drawn.path) as second,
    ):
        assert combined.size == (800, first.height + second.height)  # one image, two parts


def test_taros_digest_map_writes_the_map_and_prints_where(tmp_path: Path) -> None:
    env = {**os.environ, "TAROS_DATA_DIR": str(tmp_path / "data")}
    done = taros("digest", "--map", "--days", "30", env=env)
    assert done.returncode == 0, done.stderr
    assert "Peta laporan" in done.stdout and "0 laporan" in done.stdout
    found = re.search(r"^map: (.+\.png)$", done.stdout, re.MULTILINE)
    assert found, done.stdout
    assert is_png(Path(found[1]).read_bytes())

    added = taros(
        "officer", "add", "console:kapolres", "--name", "K", "--role", "kapolres", env=env
    )
    assert added.returncode == 0, added.stderr
    sent = taros("digest", "--map", "--send", env=env)
    assert sent.returncode == 0, sent.stderr
    assert "console:kapolres\tqueued" in sent.stdout
    with sqlite3.connect(tmp_path / "data" / "taros.db") as db:
        payloads = [json.loads(r[0]) for r in db.execute("SELECT payload FROM outbox")]
    assert len(payloads) == 1  # the map alone, with its caption
    assert payloads[0]["media"]["mime"] == "image/png"
    assert payloads[0]["text"].startswith("Peta laporan")


@pytest.mark.parametrize("renders", [5])
def test_the_map_renders_well_within_two_seconds(renders: int) -> None:
    import statistics
    import time

    gazetteer = Gazetteer.load()
    data = MapData(((CIBATU, 6), (LELES, 2)), (Mark(CIBATU, MarkKind.URGENT, 2),), WORDS)
    map_png(data, gazetteer)  # matplotlib's first use loads its fonts
    times = []
    for _ in range(renders):
        began = time.perf_counter()
        map_png(data, gazetteer)
        times.append(time.perf_counter() - began)
    assert statistics.median(times) < 2.0, times


def test_period_labels_are_local_days() -> None:
    from zoneinfo import ZoneInfo

    jakarta = ZoneInfo("Asia/Jakarta")
    end = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 WIB
    week = Period.days_to(end, 7, jakarta)
    assert (week.first.day, week.last.day) == (21, 27)
    assert week.label("id") == "21–27 Nov 2026"
    assert week.label("en") == "Nov 21\u2009–\u200927, 2026"
