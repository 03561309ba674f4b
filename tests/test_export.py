"""``taros export``: the recap as CSV and XLSX, the reporter masked unless an admin asks for
the identity, which is audited; anyone else is refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from support import Harness, running, texts

from bot.cli import main
from bot.config import Settings
from bot.identity import ChannelId
from bot.officers import add_officer, remove_officer
from channels.recording import RecordingChannel, inbound

STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."
TICKET = re.compile(r"GRT-\d{4}-\d{5}")
PHONE = "6281113404040"
RANGE = ["--from", "2026-11-01", "--to", "2026-11-30"]
HEADER = [
    "Nomor",
    "Dibuat",
    "Kategori",
    "Satuan",
    "Polsek",
    "Kecamatan",
    "Desa/kelurahan",
    "Status",
    "Mendesak",
    "Tanggapan pertama",
    "Ditutup",
    "Tertangani (menurut pelapor)",
    "Pelapor",
]


async def report(bot: Harness, chat: str, topic: str, place: str, channel: str = "test") -> str:
    """A report through the real intake; ``channel`` may be a second recording channel."""
    recorder = next(c for c in bot.app.channels.values() if c.name == channel)
    assert isinstance(recorder, RecordingChannel)
    for line in ["halo", topic, place, STORY, "tidak ada", "1"]:
        message = inbound(line, chat=chat, channel=channel, when=bot.clock.now())
        await bot.app.engine.handle(message)
        await bot.app.dispatcher.flush()
    found = TICKET.search(texts(recorder.to(chat)))
    assert found
    return found.group()


@pytest.fixture
async def recap(settings: Settings) -> AsyncIterator[tuple[Harness, list[str]]]:
    """Three reports (one from WhatsApp), one worked to the end by an officer."""
    async with running(settings) as bot:
        bot.app.add_channel(RecordingChannel("whatsapp"))
        for who, role, unit in [
            ("test:reskrim", "officer", "SATRESKRIM"),  # works tickets in the chat
            ("console:adm", "admin", None),
            ("console:former", "admin", None),
            ("console:kapolres", "kapolres", None),
            ("console:petugas", "officer", "SATLANTAS"),
        ]:
            channel, _sep, ident = who.partition(":")
            await add_officer(
                bot.app.db,
                ChannelId(channel, ident),
                name=ident.title(),
                role=role,
                unit=unit,
                now=bot.clock.now(),
            )
        await remove_officer(bot.app.db, ChannelId("console", "former"), now=bot.clock.now())
        numbers = [
            await report(bot, PHONE, "1", "Desa Sukamaju, Cilawu", channel="whatsapp"),
            await report(bot, "budi", "6", "Leles"),
            await report(bot, "cici", "1", "Cibatu"),
        ]
        await bot.send(f"/status {numbers[2]} proses", chat="reskrim")
        await bot.send(f"/status {numbers[2]} selesai beres", chat="reskrim")
        await bot.send("1", chat="cici")  # yes, handled
        yield bot, numbers


async def taros(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> int:
    """``taros ARGS`` in this process (its own event loop, in a thread), on the test's data."""
    monkeypatch.setenv("TAROS_DATA_DIR", str(settings.data_dir))
    return await asyncio.to_thread(main, list(args))


async def test_the_csv_recap_masks_the_reporter(
    recap: tuple[Harness, list[str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _bot, numbers = recap
    out = tmp_path / "rekap.csv"
    assert (
        await taros(
            monkeypatch, settings, "export", "--format", "csv", *RANGE, "--output", str(out)
        )
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read the accents right
    assert PHONE.encode() not in raw and b"budi" not in raw and b"cici" not in raw
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == numbers
    first, second, third = rows[1:]
    assert first[2] == "Uang palsu (upal)" and first[3] == "SATRESKRIM"
    assert first[5] == "Cilawu" and first[6] == "Sukamaju"
    assert re.fullmatch(r"#[0-9A-F]{4,8} \(0811\*\*\*\*4040\)", first[12])
    assert second[2] == "Kecelakaan lalu lintas" and second[5] == "Leles"
    assert re.fullmatch(r"#[0-9A-F]{4,8}", second[12])  # no number to mask on this channel
    assert third[7] == "selesai" and third[11] == "ya" and third[8] == "tidak"
    assert re.fullmatch(r"2026-11-27 09:\d\d", third[1])  # local time (WIB)
    assert third[9] and third[10]  # first response, closed
    assert first[9] == first[10] == first[11] == ""


async def test_the_xlsx_recap_opens_in_openpyxl(
    recap: tuple[Harness, list[str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from openpyxl import load_workbook

    _bot, numbers = recap
    monkeypatch.chdir(tmp_path)
    assert await taros(monkeypatch, settings, "export", "--format", "xlsx", *RANGE) == 0
    out = tmp_path / "taros-rekap-2026-11-01-2026-11-30.xlsx"
    book = load_workbook(out)
    sheet = book.active
    assert sheet is not None and sheet.title == "Rekap"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert len(rows) == 4 and all(len(r) == len(HEADER) for r in rows)
    assert [r[0] for r in rows[1:]] == numbers
    assert isinstance(rows[1][1], datetime) and rows[1][1].hour == 9  # 09:00 WIB
    assert rows[3][7] == "selesai" and isinstance(rows[3][10], datetime)
    assert "0811****4040" in str(rows[1][12])
    assert all(PHONE not in str(cell) for row in rows for cell in row)


async def test_an_admin_gets_the_identity_and_it_is_audited(
    recap: tuple[Harness, list[str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    bot, _numbers = recap
    out = tmp_path / "rekap.xlsx"
    args = ["export", "--format", "xlsx", *RANGE, "--output", str(out), "--with-identity"]
    assert await taros(monkeypatch, settings, *args, "--as-admin", "console:adm") == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][-1] == "Identitas (kanal:id)"
    assert [r[-1] for r in rows[1:]] == [f"whatsapp:{PHONE}", "test:budi", "test:cici"]
    audits = await bot.query(
        "SELECT actor, action, detail FROM audit_log WHERE action LIKE 'export%'"
    )
    assert len(audits) == 1
    actor, action, detail = audits[0]
    assert action == "export.identity" and str(actor).startswith("officer:")
    assert json.loads(str(detail)) == {
        "admin": "console:adm",
        "from": "2026-11-01",
        "to": "2026-11-30",
        "output": str(out.resolve()),
        "tickets": 3,
    }


@pytest.mark.parametrize(
    "who",
    [
        None,
        "console:petugas",
        "console:kapolres",
        "console:former",  # an admin no more
        "console:nobody",
        "not-an-id",
        "test:reskrim",  # not a channel an operator can name
    ],
)
async def test_the_identity_is_refused_to_anyone_else(
    recap: tuple[Harness, list[str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    who: str | None,
) -> None:
    bot, _numbers = recap
    out = tmp_path / "rekap.csv"
    args = ["export", "--format", "csv", *RANGE, "--output", str(out), "--with-identity"]
    if who is not None:
        args += ["--as-admin", who]
    assert await taros(monkeypatch, settings, *args) == 2
    assert not out.exists()
    error = capsys.readouterr().err
    assert "admin" in error or "CHANNEL:ID" in error
    audits = await bot.query("SELECT action FROM audit_log WHERE action LIKE 'export%'")
    expected = [("export.identity.refused",)] if who and who.startswith("console:") else []
    assert audits == expected


async def test_a_range_selects_by_local_day_and_must_be_ordered(
    recap: tuple[Harness, list[str]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    out = tmp_path / "kosong.csv"
    day_after = ["--from", "2026-11-28", "--to", "2026-11-28", "--output", str(out)]
    assert await taros(monkeypatch, settings, "export", "--format", "csv", *day_after) == 0
    assert len(out.read_text("utf-8-sig").splitlines()) == 1  # the header only
    backwards = ["--from", "2026-11-30", "--to", "2026-11-01"]
    assert await taros(monkeypatch, settings, "export", "--format", "csv", *backwards) == 2
    with pytest.raises(SystemExit) as bad_date:
        main(["export", "--format", "csv", "--from", "30/11/2026"])
    assert bad_date.value.code == 2
