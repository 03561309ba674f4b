"""The console channel: a whole report piped into `taros chat`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.console import LineError, parse_line, render
from conversations.messages import AttachmentKind, InboundKind, Option, Outbound

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def taros(*args: str, stdin: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAROS_DATA_DIR": str(data_dir), **env},
        check=False,
    )


def test_a_piped_conversation_prints_a_ticket_number(tmp_path: Path) -> None:
    photo = tmp_path / "upal.jpg"
    photo.write_bytes(b"\xff\xd8\xff fake note")
    script = "\n".join(
        [
            "halo",
            "1",
            "Cibatu, dekat pasar",
            "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya",
            f"!file {photo} foto uangnya",
            "selesai",
            "1",
        ]
    )
    result = taros("chat", stdin=script + "\n", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert re.search(r"GRT-\d{4}-\d{5}", result.stdout), result.stdout
    assert "Bukti: 1 file" in result.stdout
    assert "warga> halo" in result.stdout
    assert result.stderr == ""
    data = tmp_path / "data"
    assert (data.stat().st_mode & 0o777) == 0o700
    assert ((data / "taros.db").stat().st_mode & 0o777) == 0o600


def test_run_serves_the_console_when_no_channel_is_configured(tmp_path: Path) -> None:
    result = taros("run", stdin="halo\n/bantuan\n", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "Selamat datang di TAROS" in result.stdout
    assert "!file PATH" in result.stdout  # the console's own syntax, shown with /bantuan


def test_chat_as_another_identity_and_in_english(tmp_path: Path) -> None:
    result = taros(
        "chat",
        "--as",
        "console:budi",
        stdin="hello\n",
        data_dir=tmp_path / "data",
        TAROS_LOCALE="en",
    )
    assert result.returncode == 0, result.stderr
    assert "budi> hello" in result.stdout
    assert "Welcome to TAROS" in result.stdout


def test_a_bad_identity_or_configuration_is_a_clear_error(tmp_path: Path) -> None:
    bad_id = taros("chat", "--as", "fax:1", stdin="", data_dir=tmp_path / "data")
    assert bad_id.returncode == 2
    assert "CHANNEL:ID" in bad_id.stderr
    bad_tz = taros("chat", stdin="", data_dir=tmp_path / "data", TAROS_TZ="Mars/Olympus")
    assert bad_tz.returncode == 2
    assert "TAROS_TZ" in bad_tz.stderr
    assert "Traceback" not in bad_tz.stderr + bad_id.stderr


def test_console_lines_become_files_pins_and_stickers(tmp_path: Path) -> None:
    voice = tmp_path / "pesan.ogg"
    voice.write_bytes(b"OggS")
    note = parse_line(f"!file {voice} dengar ini", chat_id="ani", now=NOW)
    assert note is not None
    assert note.attachments[0].kind == AttachmentKind.VOICE
    assert note.attachments[0].size == 4
    assert note.text == "dengar ini"
    pin = parse_line("!loc -7.2116,107.9005 Alun-alun Garut", chat_id="ani", now=NOW)
    assert pin is not None and pin.location is not None
    assert (pin.location.lat, pin.location.lon, pin.location.name) == (
        -7.2116,
        107.9005,
        "Alun-alun Garut",
    )
    sticker = parse_line("!sticker", chat_id="ani", now=NOW)
    assert sticker is not None and sticker.kind == InboundKind.UNSUPPORTED
    assert parse_line("   ", chat_id="ani", now=NOW) is None
    with pytest.raises(LineError):
        parse_line("!file /does/not/exist.jpg", chat_id="ani", now=NOW)
    with pytest.raises(LineError):
        parse_line("!loc utara", chat_id="ani", now=NOW)
    with pytest.raises(LineError):
        parse_line("!loc 95,200", chat_id="ani", now=NOW)
    one = parse_line("halo", chat_id="ani", now=NOW)
    two = parse_line("halo", chat_id="ani", now=NOW)
    assert one is not None and two is not None and one.message_id != two.message_id


def test_options_are_rendered_as_a_numbered_list() -> None:
    shown = render(
        Outbound("console", "ani", "Pilih:", options=(Option("a", "Satu"), Option("b", "Dua")))
    )
    assert shown == "TAROS: Pilih:\n         1. Satu\n         2. Dua\n"
