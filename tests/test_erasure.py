"""``/hapusdata`` keeps its promise, "tanpa apa pun yang mengenali Anda": after it, no
identifier the citizen gave is anywhere in the data dir (the database as SQL and as a file,
the evidence, officers' copies, a backup and an export made afterwards) nor in the logs."""

from __future__ import annotations

import io
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from support import Harness, captured_logs, register, running, texts, ticket_number

from bot.config import Settings
from bot.export import load_recap, write_recap
from bot.ops.backup import backup
from bot.ops.metrics import Metrics, observe
from channels.recording import RecordingChannel, file_attachment

CITIZEN = "6281299887766"
NAME = "Rina Marlina"
STORY = (
    "Saya Rina, warga Cibatu. Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung "
    "saya. Hubungi saya di 081299887766 atau rina.marlina@gmail.com, NIK 3205123456780001."
)
REPLY = "Iya pak, nama saya Rina Marlina, nomor lain 0813-7766-5544"
IDENTIFIERS = [
    CITIZEN,
    "081299887766",
    "81299887766",
    "0812****7766",
    "rina.marlina@gmail.com",
    "3205123456780001",
    "0813-7766-5544",
    "081377665544",
    "Rina",
    "Marlina",
]
OFFICERS = {"6281200000001": ("officer", "SATRESKRIM"), "6281200000003": ("kapolres", None)}


def hits(blob: str) -> list[str]:
    """Every identifier found in ``blob`` (names as whole words, any case)."""
    found = []
    digits_only = re.sub(r"\D", "", blob)
    for value in IDENTIFIERS:
        if value.isalpha():
            if re.search(rf"\b{value}\b", blob, re.IGNORECASE):
                found.append(value)
        elif value in blob or (value.isdigit() and value in digits_only):
            found.append(value)
    return found


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    with captured_logs() as stream:
        yield stream


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def citizen(bot: Harness, text: str = "", **fields: object) -> str:
    return texts(
        await bot.send(text, chat=CITIZEN, channel="whatsapp", sender_name=NAME, **fields)
    )


async def officer(bot: Harness, n: int, text: str) -> str:
    return texts(await bot.send(text, chat=f"628120000000{n}", channel="whatsapp"))


async def a_report(bot: Harness, *, photo: bytes) -> str:
    for line in ("halo", "1", "Cibatu", STORY):
        await citizen(bot, line)
    await citizen(bot, attachments=(file_attachment(photo, mime="image/png"),))
    await citizen(bot, "selesai")
    return ticket_number(await citizen(bot, "1"))


def data_dir_text(data: Path) -> dict[str, str]:
    """Every file below ``data`` as text (bytes decoded leniently), and each database as
    its SQL dump."""
    found: dict[str, str] = {}
    for path in sorted(data.rglob("*")):
        if not path.is_file():
            continue
        found[str(path)] = path.read_bytes().decode("utf-8", "replace")
        if path.name == "taros.db":
            with sqlite3.connect(path) as conn:
                found[f"{path} (dump)"] = "\n".join(conn.iterdump())
    return found


async def test_nothing_that_identifies_the_citizen_is_left_anywhere(
    settings: Settings, tmp_path: Path, logs: io.StringIO
) -> None:
    data = settings.data_dir
    async with running(settings, channel=RecordingChannel("whatsapp")) as bot:
        observe(bot.app, Metrics())
        for phone, (role, unit) in OFFICERS.items():
            await register(bot, phone, role, unit, f"Petugas {phone[-1]}")
        closed = await a_report(bot, photo=png())
        still_open = await a_report(bot, photo=png()[:-1] + b"\x01")
        for number in (closed, still_open):
            assert "0812****7766" in await officer(bot, 1, f"/status {number}")
        await officer(bot, 1, f"/bukti {closed}")  # an officer's copy without metadata
        await officer(bot, 1, f"/balas {still_open} Mohon ceritakan ciri-ciri pelakunya")
        await citizen(bot, REPLY)
        await officer(bot, 1, f"/status {closed} selesai")
        await citizen(bot, "sudah")
        copies = list((data / "officer-copies").glob("*"))
        assert copies

        said = await citizen(bot, "/hapusdata")
        assert still_open in said and "tanpa nama dan nomor Anda" in said
        assert "Data Anda sudah dihapus" in await citizen(bot, "1")

        # officers still work the open report, without anything that identifies the citizen
        detail = await officer(bot, 1, f"/status {still_open}")
        assert "uang palsu" in detail and "[dihapus]" in detail
        assert hits(detail) == []
        assert [p for p in copies if p.exists()] == []  # deleted at once, not at a later pass
        assert len(list(settings.media_dir.glob("??/*"))) == 1  # the open report's photo
        export = tmp_path / "recap.csv"
        recap = await load_recap(
            bot.app.db,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            tz=settings.tz,
            categories=bot.app.engine.intake.categories,
            gazetteer=bot.app.engine.intake.gazetteer,
            locale="id",
            now=bot.clock.now(),
        )
        await write_recap(recap, export, "csv", "id")
        assert still_open in export.read_text()
        backup(data, data / "backup-after")
    # after the process closed (its write-ahead log folded into the database)
    everything = data_dir_text(data)
    everything["export"] = export.read_text()
    everything["logs"] = logs.getvalue()
    assert "inbound message" in everything["logs"]
    left = {where: hits(text) for where, text in everything.items() if hits(text)}
    assert left == {}


async def test_pre_restore_copies_follow_the_retention_policy(bot: Harness) -> None:
    data = bot.app.settings.data_dir
    old = data / "taros.db.pre-restore-20261001-020000"
    recent = data / "taros.db.pre-restore-20261120-020000"
    for path, days in ((old, 31), (recent, 5)):
        path.write_bytes(b"SQLite format 3\x00")
        then = (bot.clock.now() - timedelta(days=days)).timestamp()
        os.utime(path, (then, then))
    bot.clock.advance(timedelta(days=1))
    done = await bot.app.retention.purge()
    assert done["pre_restore_copies_deleted"] == 1
    assert not old.exists() and recent.exists()
