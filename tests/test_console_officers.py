"""On the console: a report reaches the unit's officer, who works it to the end; the citizen
is told each time and answers the closing question. Each party is its own `taros` process."""

from __future__ import annotations

import re
from pathlib import Path

from test_console import taros


def test_a_report_is_worked_to_the_end_across_console_processes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = taros(
        "officer",
        "add",
        "console:asep",
        "--name",
        "Bripka Asep",
        "--role",
        "officer",
        "--unit",
        "satreskrim",
        stdin="",
        data_dir=data,
    )
    assert added.returncode == 0, added.stderr
    assert "SATRESKRIM" in added.stdout
    listed = taros("officer", "list", stdin="", data_dir=data)
    assert "console:asep\tofficer\tSATRESKRIM\tBripka Asep" in listed.stdout

    citizen = taros(
        "chat",
        stdin="halo\n1\nCibatu\nTadi pagi ada yang belanja pakai uang palsu "
        "di warung saya\ntidak ada\n1\n",
        data_dir=data,
    )
    number = re.search(r"GRT-\d{4}-\d{5}", citizen.stdout)
    assert number, citizen.stdout
    n = number.group()

    officer = taros(
        "chat",
        "--as",
        "console:asep",
        stdin=f"/status {n} proses tim sedang ke lokasi\n"
        f"/status {n} selesai pelaku sudah diamankan\n",
        data_dir=data,
    )
    assert officer.returncode == 0, officer.stderr
    assert f"Laporan baru {n}" in officer.stdout  # the notice waited for the officer
    assert "Pelapor #" in officer.stdout
    assert f"Laporan {n} sekarang diproses" in officer.stdout
    assert f"Laporan {n} sekarang selesai" in officer.stdout
    assert "Selamat datang" not in officer.stdout  # officers get no citizen intake

    answer = taros("chat", stdin="1\n", data_dir=data)
    assert f"Perkembangan laporan {n}: diproses" in answer.stdout
    assert "tim sedang ke lokasi" in answer.stdout
    assert f"Perkembangan laporan {n}: selesai" in answer.stdout
    assert "Apakah masalah Anda sudah tertangani?" in answer.stdout
    assert "Terima kasih atas konfirmasinya" in answer.stdout


def test_the_reporters_identity_is_for_admins_only_and_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    citizen = taros(
        "chat",
        "--as",
        "console:siti",
        stdin="halo\n1\nCibatu\nTadi pagi ada yang "
        "belanja pakai uang palsu di warung saya\ntidak ada\n1\n",
        data_dir=data,
    )
    number = re.search(r"GRT-\d{4}-\d{5}", citizen.stdout)
    assert number
    refused = taros(
        "reporter", number.group(), "--as-admin", "console:admin", stdin="", data_dir=data
    )
    assert refused.returncode == 2
    assert "not a registered admin" in refused.stderr
    taros(
        "officer",
        "add",
        "console:admin",
        "--name",
        "Operator",
        "--role",
        "admin",
        stdin="",
        data_dir=data,
    )
    shown = taros(
        "reporter", number.group(), "--as-admin", "console:admin", stdin="", data_dir=data
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "console:siti"
    import sqlite3

    with sqlite3.connect(data / "taros.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
        refusal = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'reporter.reveal.refused'"
        ).fetchone()
    # the refused look-up is in the audit log too: who asked, for which report
    assert actions == ["reporter.reveal.refused", "officer.add", "reporter.reveal"]
    assert refusal[0] == "console:admin" and number.group() in refusal[1]


def test_an_admin_blocks_and_unblocks_a_sender(tmp_path: Path) -> None:
    data = tmp_path / "data"
    blocked = taros(
        "block", "console:iseng", "--days", "7", "--reason", "spam", stdin="", data_dir=data
    )
    assert blocked.returncode == 0, blocked.stderr
    assert "blocked console:iseng until" in blocked.stdout
    chat = taros("chat", "--as", "console:iseng", stdin="halo\nhalo\n", data_dir=data)
    assert chat.stdout.count("diblokir") == 1  # told once, then ignored
    assert "Laporan Anda tentang apa?" not in chat.stdout
    assert taros("unblock", "console:iseng", stdin="", data_dir=data).returncode == 0
    again = taros("chat", "--as", "console:iseng", stdin="halo\n", data_dir=data)
    assert "Laporan Anda tentang apa?" in again.stdout
    assert taros("unblock", "console:iseng", stdin="", data_dir=data).returncode == 1
    import sqlite3

    with sqlite3.connect(data / "taros.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["block", "unblock"]
