"""``taros backup`` / ``taros restore``: a consistent copy while the bot writes, a restore that
checks everything first, and a damaged backup refused without touching the data dir."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from support import Harness, running, texts

from bot.config import Settings
from bot.ops.backup import BackupError, backup, restore, verify
from bot.ops.serving import claim_serving
from channels.recording import file_attachment

STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."


async def report(bot: Harness, chat: str, photo: bytes | None = None) -> str:
    for line in ["halo", "1", "Cibatu", STORY]:
        await bot.send(line, chat=chat)
    if photo is not None:
        await bot.send(attachments=(file_attachment(photo),), chat=chat)
        await bot.send("selesai", chat=chat)
    else:
        await bot.send("tidak ada", chat=chat)
    found = re.search(r"GRT-\d{4}-\d{5}", texts(await bot.send("1", chat=chat)))
    assert found
    return found.group()


async def taros(*args: str, data_dir: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAROS_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={**env, "TAROS_DATA_DIR": str(data_dir)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def consistent(data_dir: Path) -> int:
    """Checks a restored data dir; returns its ticket count."""
    database = data_dir / "taros.db"
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    assert query(database, "PRAGMA foreign_key_check") == []
    # every ticket came with its creation event and its reporter; every evidence with its file
    orphans = "SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_events e"
    orphans += " WHERE e.ticket_id = t.id)"
    assert query(database, orphans) == [(0,)]
    for sha, path in query(database, "SELECT sha256, stored_path FROM evidence"):
        stored = data_dir / "media" / str(path)
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    return int(query(database, "SELECT COUNT(*) FROM tickets")[0][0])


async def test_a_backup_taken_while_the_bot_writes_restores_consistently(
    settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    async with running(settings) as bot:
        await report(bot, "first", b"photo before the backup")
        done = asyncio.Event()

        async def keep_writing(lane: int) -> int:
            count = 0
            while not done.is_set():
                await report(bot, f"warga{lane}-{count}", f"photo {lane} {count}".encode())
                count += 1
            return count

        writers = asyncio.gather(*(keep_writing(lane) for lane in range(4)))
        await asyncio.sleep(0.1)  # the reports are in full flow
        code, out, err = await taros("backup", str(target), data_dir=settings.data_dir)
        done.set()
        written = sum(await writers)
        assert code == 0, err
        assert re.search(r"backup: .*: database .* \(\d+ tickets, schema \d+\); \d+ evidence", out)
        taken = json.loads((target / "MANIFEST.json").read_text())["database"]["tickets"]
        assert 1 < taken < 1 + written  # reports were written before and after the copy

    restored = tmp_path / "restored"
    code, out, err = await taros("restore", str(target), data_dir=restored)
    assert code == 0, err
    assert "integrity ok" in out
    assert consistent(restored) == taken
    for path in [target, *target.rglob("*"), restored, *restored.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {mode:o}"

    async with running(Settings(data_dir=restored)) as again:  # it serves again, and counts on
        number = await report(again, "after", b"photo after the restore")
        assert int(number[-5:]) == taken + 1


async def test_a_damaged_backup_is_refused_and_nothing_is_touched(
    settings: Settings, tmp_path: Path
) -> None:
    async with running(settings) as bot:
        await report(bot, "ani", b"an evidence photo")
    good = tmp_path / "good"
    summary = backup(settings.data_dir, good)
    assert (summary.tickets, summary.media_files) == (1, 1)
    verify(good)

    def copy(name: str) -> Path:
        folder = tmp_path / name
        backup(settings.data_dir, folder)
        return folder

    flipped = copy("flipped")
    data = bytearray((flipped / "taros.db").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (flipped / "taros.db").write_bytes(bytes(data))
    with pytest.raises(BackupError, match="does not match the backup's manifest"):
        verify(flipped)

    rehashed = copy("rehashed")  # damaged, and the manifest made to agree: SQLite notices
    db = rehashed / "taros.db"
    pages = bytearray(db.read_bytes())
    for offset in range(4096, len(pages), 4096):  # every page after the header's
        pages[offset : offset + 64] = b"\xa5" * 64
    db.write_bytes(bytes(pages))
    manifest = json.loads((rehashed / "MANIFEST.json").read_text())
    manifest["database"]["sha256"] = hashlib.sha256(pages).hexdigest()
    (rehashed / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="integrity check"):
        verify(rehashed)

    photo = copy("photo")
    evidence = next(p for p in (photo / "media").rglob("*") if p.is_file())
    evidence.write_bytes(b"a different photo")
    with pytest.raises(BackupError, match="does not match"):
        verify(photo)

    unfinished = copy("unfinished")
    (unfinished / "MANIFEST.json").unlink()
    with pytest.raises(BackupError, match="not a complete TAROS backup"):
        verify(unfinished)

    target = tmp_path / "target"
    for damaged in (rehashed, photo, unfinished):
        with pytest.raises(BackupError):
            restore(target, damaged)
        assert not (target / "taros.db").exists()
    code, _out, err = await taros("restore", str(flipped), data_dir=target)
    assert code == 1
    assert err.startswith("taros restore: ") and "does not match" in err
    assert "Traceback" not in err
    assert not (target / "taros.db").exists()
    code, _out, err = await taros("restore", str(good), data_dir=target)
    assert code == 0, err
    assert consistent(target) == 1


async def one_report_saved(settings: Settings, tmp_path: Path) -> Path:
    """A data dir with one report, and its backup."""
    async with running(settings) as bot:
        await report(bot, "ani")
    saved = tmp_path / "saved"
    backup(settings.data_dir, saved)
    return saved


async def test_restore_keeps_what_it_replaces_and_asks_before_replacing_tickets(
    settings: Settings, tmp_path: Path
) -> None:
    saved = await one_report_saved(settings, tmp_path)
    async with running(settings) as bot:
        await report(bot, "budi")  # the data dir moves on: two tickets now

    with pytest.raises(BackupError, match=r"already holds 2 tickets.*--force"):
        restore(settings.data_dir, saved)
    summary = restore(settings.data_dir, saved, force=True)
    assert summary.tickets == 1
    assert summary.saved_as is not None
    assert query(summary.saved_as, "SELECT COUNT(*) FROM tickets") == [(2,)]
    assert stat.S_IMODE(summary.saved_as.stat().st_mode) == 0o600
    assert consistent(settings.data_dir) == 1


async def test_restore_is_refused_while_taros_run_serves(
    settings: Settings, tmp_path: Path
) -> None:
    async with running(settings) as bot:
        await report(bot, "ani")
        backup(settings.data_dir, tmp_path / "b")
        held = claim_serving(settings.data_dir, bot.app.channels.values())
        try:
            code, _out, err = await taros(
                "restore", str(tmp_path / "b"), data_dir=settings.data_dir
            )
        finally:
            for fd in held:
                os.close(fd)
    assert code == 1
    assert "taros run is serving" in err


def test_a_backup_needs_a_database_and_a_new_folder(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database to back up"):
        backup(settings.data_dir, tmp_path / "b")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("x")
    settings.data_dir.mkdir(parents=True)
    sqlite3.connect(settings.data_dir / "taros.db").close()
    with pytest.raises(BackupError, match="not empty"):
        backup(settings.data_dir, taken)


async def test_restore_races_a_piped_chat_and_no_number_is_given_twice(
    settings: Settings, tmp_path: Path
) -> None:
    saved = await one_report_saved(settings, tmp_path)
    one = "halo\n1\nCibatu\n" + STORY + "\ntidak ada\n1\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAROS_")}
    env |= {
        "TAROS_DATA_DIR": str(settings.data_dir),
        "TAROS_TICKETS_PER_DAY": "100",
        "TAROS_MESSAGES_PER_MINUTE": "1000",
    }
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "chat",
        "--as",
        "console:budi",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert chat.stdin is not None
    chat.stdin.write((one * 30).encode())  # 30 reports, piped while restores are tried
    await chat.stdin.drain()
    assert chat.stdout is not None
    first = await asyncio.wait_for(chat.stdout.readline(), 60)  # it holds the data dir now
    refusals: list[str] = []
    for _attempt in range(3):
        code, _out, err = await taros("restore", str(saved), "--force", data_dir=settings.data_dir)
        assert code == 1, err  # never while the chat writes
        assert f"pid {chat.pid} (taros chat)" in err  # who holds the data dir
        refusals.append(err)
    chat.stdin.close()
    out, err = await asyncio.wait_for(chat.communicate(), 120)
    assert chat.returncode == 0, err.decode()
    numbers = re.findall(r"terima dengan nomor (GRT-\d{4}-\d{5})", (first + out).decode())
    assert len(numbers) == 30
    assert len(set(numbers)) == 30  # no number given twice
    assert "GRT-2026-00001" not in numbers  # the first was ani's, before the chat
    assert all("in use by" in e for e in refusals)
    # once the chat is done, the restore goes through
    code, _out, err = await taros("restore", str(saved), "--force", data_dir=settings.data_dir)
    assert code == 0, err
