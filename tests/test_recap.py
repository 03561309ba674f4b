"""The weekly and monthly recap: its numbers on a crafted history, one PDF page that names the
period and the totals (read back with pypdf), the XLSX with masked reporters, the schedule
(Monday and the 1st, a missed slot sent once at start, never twice) and ``taros recap``."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pypdf
from history import Seed, seed
from openpyxl import load_workbook
from support import Harness, register, running
from test_digest import eventually

from bot.app import App
from bot.clock import ManualClock
from bot.config import Settings
from bot.jobs.recap import PDF_MIME, XLSX_MIME
from bot.jobs.recap_numbers import RecapKind
from channels.recording import RecordingChannel
from conversations.messages import ChatKey
from conversations.understanding.places import Gazetteer

WIB = timedelta(hours=7)
CIBATU, LELES, GARUT_KOTA = "32.05.12", "32.05.09", "32.05.01"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
ROOT = Path(__file__).resolve().parent.parent


def wib(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC) - WIB


MONDAY = wib(11, 30, 7)  # Monday 30 November 2026, 07:00 WIB: the week 23-29 is due


async def week_history(bot: Harness) -> list[str]:
    """The week of 23-29 November 2026 and the one before:

    - three uang palsu in one desa of Cibatu (a hotspot), answered in 2 h, 30 h (late) and
      never (overdue); the first closed after 1 day, the reporter says it was handled;
    - a kecelakaan in Leles answered in 4 h, closed after 2 days, the reporter says not yet;
    - a narkoba report the week before, and one in Garut Kota after the week.
    """
    desa = Gazetteer.load().desa_of(CIBATU)[0].code
    return await seed(
        bot.app,
        [
            Seed(
                wib(11, 23), desa=desa, responded_after=2 * HOUR, closed_after=DAY, resolved_ok=True
            ),
            Seed(wib(11, 24), desa=desa, responded_after=30 * HOUR),
            Seed(wib(11, 27), desa=desa, urgent=True),
            Seed(
                wib(11, 25),
                category="kecelakaan",
                kecamatan=LELES,
                responded_after=4 * HOUR,
                closed_after=2 * DAY,
                resolved_ok=False,
            ),
            Seed(wib(11, 18), category="narkoba", kecamatan=GARUT_KOTA),
            Seed(wib(11, 30, 6), category="narkoba", kecamatan=GARUT_KOTA),
        ],
    )


async def test_the_weekly_numbers(bot: Harness) -> None:
    numbers = await week_history(bot)
    stats = await bot.app.recaps.stats(RecapKind.WEEK, MONDAY)
    assert (stats.period.first, stats.period.last) == (date(2026, 11, 23), date(2026, 11, 29))
    assert (stats.total, stats.previous_total) == (4, 1)
    assert stats.by_category == (("uang_palsu", 3, 0), ("kecelakaan", 1, 0), ("narkoba", 0, 1))
    assert (stats.sla_met, stats.sla_judged) == (2, 4)  # 2 h and 4 h; 30 h late; one overdue
    assert stats.median_response == 4 * HOUR
    assert stats.median_closing == 36 * HOUR  # 1 and 2 days
    assert (stats.handled_yes, stats.handled_no, stats.handled_unanswered) == (1, 1, 0)
    assert [h.numbers for h in stats.hotspots] == [tuple(numbers[:3])]
    assert stats.top_kecamatan == ((CIBATU, 3), (LELES, 1))


async def test_the_monthly_period_is_the_month_before() -> None:
    from zoneinfo import ZoneInfo

    jakarta = ZoneInfo("Asia/Jakarta")
    period = RecapKind.MONTH.period_before(date(2026, 12, 1), jakarta)
    assert (period.first, period.last) == (date(2026, 11, 1), date(2026, 11, 30))
    before = RecapKind.MONTH.previous(period, jakarta)
    assert (before.first, before.last) == (date(2026, 10, 1), date(2026, 10, 31))
    week = RecapKind.WEEK.period_before(date(2026, 11, 29), jakarta)  # a Sunday
    assert (week.first, week.last) == (date(2026, 11, 16), date(2026, 11, 22))


def pdf_text(path: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), " ".join((page.extract_text() or "") for page in reader.pages)


async def test_the_recap_is_one_pdf_page_and_an_xlsx(bot: Harness) -> None:
    numbers = await week_history(bot)
    composed = await bot.app.recaps.compose(RecapKind.WEEK, MONDAY, "id")
    pages, text = pdf_text(composed.pdf)
    assert pages == 1
    width, height = pypdf.PdfReader(composed.pdf).pages[0].mediabox.upper_right
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    assert "Rekap mingguan — Polres Garut" in text
    assert "23–29 Nov 2026" in text
    assert "Laporan: 4 (periode sebelumnya: 1, +3)" in text
    assert "Ditanggapi dalam 24 jam: 50% (2 dari 4)" in text
    assert "ya 1 · belum 1 · tidak menjawab 0" in text
    assert numbers[0] in text  # the hotspot, with its report numbers
    assert "Dibuat Senin, 30 November 2026 07.00 WIB" in text
    assert composed.pdf.parent == composed.xlsx.parent
    assert composed.pdf.parent.parent == bot.app.settings.data_dir / "recaps"
    assert composed.pdf.name == "taros-rekap-2026-11-23-2026-11-29.pdf"

    sheet = load_workbook(composed.xlsx).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [*numbers[:2], numbers[3], numbers[2]]  # by creation
    reporters = [str(r[12]) for r in rows[1:]]
    assert all(re.fullmatch(r"#[0-9A-F]{4}", r) for r in reporters), reporters  # as export
    assert "warga-" not in " ".join(reporters)

    assert composed.text.startswith("Rekap mingguan — Polres Garut: 23–29 Nov 2026")
    outbounds = composed.outbounds(ChatKey("test", "kapolres"))
    assert [o.media.mime if o.media else None for o in outbounds] == [None, PDF_MIME, XLSX_MIME]


async def test_an_empty_month_still_has_its_page(bot: Harness) -> None:
    composed = await bot.app.recaps.compose(RecapKind.MONTH, bot.clock.now(), "id")
    pages, text = pdf_text(composed.pdf)
    assert pages == 1
    assert "Rekap bulanan — Polres Garut" in text and "1–31 Okt 2026" in text
    assert "Laporan: 0 (periode sebelumnya: 0, 0)" in text
    assert "Tidak ada laporan dalam periode ini" in text  # the empty map says so


# --- the schedule ------------------------------------------------------------------------------


async def recaps_after_start(settings: Settings, clock: ManualClock) -> list[str]:
    """Open the app as ``taros run`` does, let the recap schedulers look once, close;
    returns the documents delivered."""
    channel = RecordingChannel()
    app = await App.open(settings, clock=clock)
    app.add_channel(channel)
    try:
        await app.start(timers=True)
        await eventually(lambda: all(s.passes for s in app.recap_schedulers))
        await app.dispatcher.flush()
    finally:
        await app.close()
    return [o.media.path.name for o in channel.sent if o.media and o.media.mime == PDF_MIME]


async def test_recaps_go_out_on_monday_and_the_first_once_across_restarts(
    settings: Settings,
) -> None:
    settings = Settings(data_dir=settings.data_dir, digest_at=(time(7, 0), time(17, 0)))
    clock = ManualClock(wib(11, 27, 10))  # Friday 27 November
    async with running(settings, clock=clock) as bot:
        await register(bot, "kapolres", "kapolres", None)
        weekly, monthly = bot.app.recap_schedulers
        assert await weekly.send_due() == "week:2026-11-23"  # the last Monday's, never sent
        assert await weekly.send_due() is None
        assert await monthly.send_due() == "month:2026-11-01"
        await bot.app.dispatcher.flush()
    clock.advance(wib(11, 30, 6) - clock.now())  # Monday 06:00: not yet
    assert await recaps_after_start(settings, clock) == []
    clock.advance(2 * DAY)  # down from Monday 06:00 to Wednesday 2 December 06:00
    sent = await recaps_after_start(settings, clock)
    # the weekly and the monthly scheduler are independent: either may deliver first
    assert sorted(sent) == [
        "taros-rekap-2026-11-01-2026-11-30.pdf",  # the missed 1st's, once
        "taros-rekap-2026-11-23-2026-11-29.pdf",  # the missed Monday's, once
    ]
    assert await recaps_after_start(settings, clock) == []  # restarted: nothing again
    with sqlite3.connect(settings.database_path) as db:
        slots = [r[0] for r in db.execute("SELECT slot FROM digests WHERE slot NOT LIKE '2%'")]
    assert sorted(slots) == [
        "month:2026-11-01",
        "month:2026-12-01",
        "week:2026-11-23",
        "week:2026-11-30",
    ]


async def test_the_next_slots(bot: Harness) -> None:
    weekly, monthly = bot.app.recap_schedulers
    now = wib(11, 30, 7)
    assert weekly.latest_slot(now) == now and monthly.latest_slot(now) == wib(11, 1, 7)
    assert weekly.next_slot(now) == wib(12, 7, 7)
    assert monthly.next_slot(now) == wib(12, 1, 7)
    assert monthly.next_slot(wib(12, 1, 8)) == datetime(2027, 1, 1, tzinfo=UTC)  # 07:00 WIB


# --- taros recap --------------------------------------------------------------------------------


def taros(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def test_taros_recap_writes_its_files_and_sends_them(tmp_path: Path) -> None:
    env = {**os.environ, "TAROS_DATA_DIR": str(tmp_path / "data")}
    written = taros("recap", "--week", env=env, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "Rekap mingguan" in written.stdout
    pdf = re.search(r"^pdf: (.+)$", written.stdout, re.MULTILINE)
    xlsx = re.search(r"^xlsx: (.+)$", written.stdout, re.MULTILINE)
    assert pdf and xlsx, written.stdout
    assert Path(pdf[1]).parent == tmp_path and Path(xlsx[1]).suffix == ".xlsx"
    assert pdf_text(Path(pdf[1]))[0] == 1

    monthly = taros("recap", "--month", "--output", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert monthly.returncode == 2 and "no folder" in monthly.stderr

    unsent = taros("recap", "--month", "--send", env=env, cwd=tmp_path)
    assert unsent.returncode == 1 and "no kapolres" in unsent.stderr
    added = taros(
        "officer",
        "add",
        "console:kapolres",
        "--name",
        "K",
        "--role",
        "kapolres",
        env=env,
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    sent = taros("recap", "--month", "--send", env=env, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert "console:kapolres" in sent.stdout and "Rekap bulanan" in sent.stdout
    with sqlite3.connect(tmp_path / "data" / "taros.db") as db:
        payloads = [r[0] for r in db.execute("SELECT payload FROM outbox ORDER BY id")]
    assert len(payloads) == 3
    assert PDF_MIME in payloads[1] and XLSX_MIME in payloads[2]
