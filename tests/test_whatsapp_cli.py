"""``taros whatsapp link | status | logout``: clear messages and exit codes, never a
traceback or a hang, with no network; the worker is the product's, its client the recording
stand-in (``whatsapp_fakes``)."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from whatsapp_fakes import ME, FakeWhatsApp, link_session

from bot.cli import whatsapp as cli_whatsapp
from bot.config import ConfigError, Settings
from bot.ops.serving import claim_serving
from channels.recording import RecordingChannel
from channels.whatsapp.files import SESSION, linked_device, write_state
from channels.whatsapp.link import link, logout, status
from channels.whatsapp.session import WorkerConfig

FAKE_WORKER = (sys.executable, str(Path(__file__).with_name("whatsapp_fake_worker.py")))
QUICK = WorkerConfig(connect_timeout=10.0, link_timeout=10.0)


def taros(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TAROS_DATA_DIR": str(data_dir)},
        check=False,
    )


def test_link_help_works_offline(tmp_path: Path) -> None:
    result = taros("whatsapp", "link", "--help", data_dir=tmp_path / "data")
    assert result.returncode == 0
    assert "--phone" in result.stdout and "pairing code" in result.stdout
    assert result.stderr == ""


def test_status_and_logout_without_a_session_say_so(tmp_path: Path) -> None:
    for verb, expected in (("status", "taros whatsapp link"), ("logout", "no WhatsApp session")):
        result = taros("whatsapp", verb, data_dir=tmp_path / "data")
        assert result.returncode == 1, result.stderr
        assert expected in result.stderr
        assert "Traceback" not in result.stderr


def test_a_bad_pairing_number_is_refused_clearly(tmp_path: Path) -> None:
    result = taros("whatsapp", "link", "--phone", "12ab", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "phone number like 62811" in result.stderr
    assert "Traceback" not in result.stderr


async def test_linking_shows_a_qr_code_and_reports_the_linked_number(tmp_path: Path) -> None:
    codes: list[str] = []
    outcome = await link(
        tmp_path, show_qr=codes.append, show_code=codes.append, config=QUICK, command=FAKE_WORKER
    )
    assert outcome.ok, outcome.message
    assert outcome.phone == ME and f"+{ME}" in outcome.message
    assert codes == ["2@TAROS-FAKE-QR,abc,def"]
    assert linked_device(tmp_path / SESSION) is not None
    again = await link(tmp_path, show_qr=codes.append, show_code=codes.append, config=QUICK)
    assert not again.ok and "already linked" in again.message


async def test_linking_with_a_pairing_code(tmp_path: Path) -> None:
    codes: list[str] = []
    outcome = await link(
        tmp_path,
        phone="6281100000001",
        show_qr=lambda code: pytest.fail("no QR code with --phone"),
        show_code=codes.append,
        config=QUICK,
        command=FAKE_WORKER,
    )
    assert outcome.ok, outcome.message
    assert codes == ["TARO-S123"]


async def test_without_a_network_link_and_status_fail_with_a_clear_message(
    tmp_path: Path,
) -> None:
    FakeWhatsApp(tmp_path).flag("offline")
    outcome = await link(
        tmp_path, show_qr=print, show_code=print, config=QUICK, command=FAKE_WORKER
    )
    assert not outcome.ok
    assert "WhatsApp cannot be reached" in outcome.message and "no such host" in outcome.message
    link_session(tmp_path)
    checked = await status(tmp_path, config=QUICK, command=FAKE_WORKER)
    assert not checked.ok
    assert checked.message.startswith(f"linked to +{ME}, but WhatsApp cannot be reached")


async def test_status_and_logout_with_a_session(tmp_path: Path) -> None:
    link_session(tmp_path)
    checked = await status(tmp_path, config=QUICK, command=FAKE_WORKER)
    assert checked.ok and "connects to WhatsApp (ok)" in checked.message
    ended = await logout(tmp_path, config=QUICK, command=FAKE_WORKER)
    assert ended.ok, ended.message
    assert linked_device(tmp_path / SESSION) is None


async def test_a_worker_that_hangs_is_given_up_on(tmp_path: Path) -> None:
    sleeper = (sys.executable, "-c", "import time; time.sleep(60)")
    link_session(tmp_path)
    quick = WorkerConfig(connect_timeout=0.5, startup=0.5)
    checked = await status(tmp_path, config=quick, command=sleeper)
    assert not checked.ok
    assert "no result after 1 s of connecting" in checked.message


def test_status_while_taros_run_serves_reads_its_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    link_session(settings.data_dir)
    channel = RecordingChannel("whatsapp")
    held = claim_serving(settings.data_dir, [channel])
    try:
        write_state(settings.data_dir, {"state": "connected", "phone": ME, "since": "2026"})
        out = io.StringIO()
        code = cli_whatsapp.run(argparse.Namespace(verb="status"), settings, out=out)
        assert code == 0
        assert f"+{ME}, connected" in out.getvalue()
        code = cli_whatsapp.run(argparse.Namespace(verb="logout", local=False), settings)
        assert code == 2
        assert "stop it first" in capsys.readouterr().err
    finally:
        for fd in held:
            os.close(fd)


def test_logout_local_deletes_the_session(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    link_session(settings.data_dir)
    out = io.StringIO()
    code = cli_whatsapp.run(argparse.Namespace(verb="logout", local=True), settings, out=out)
    assert code == 0 and "Linked devices" in out.getvalue()
    assert not (settings.data_dir / SESSION).exists()


def test_taros_run_serves_whatsapp_when_enabled_and_never_loads_neonize_otherwise(
    tmp_path: Path,
) -> None:
    probe = (
        "import sys\n"
        "from bot.config import Settings\n"
        "from bot.ops.serve import describe, platform_channels\n"
        f"on = Settings.from_env({{'TAROS_WHATSAPP': '1', 'TAROS_DATA_DIR': {str(tmp_path)!r},"
        " 'TAROS_WHATSAPP_PER_MINUTE': '12'})\n"
        "[factory] = platform_channels(on)\n"
        "channel = factory()\n"
        "print(factory.__name__, channel.name, channel.options.overall.per_second)\n"
        "print(describe(channel, on).split(' ')[0])\n"
        "print('neonize' in sys.modules)\n"
        "off = Settings.from_env({'TAROS_TELEGRAM_TOKEN': '1:x'})\n"
        "print([f.__name__ for f in platform_channels(off)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == [
        "whatsapp whatsapp 0.2",
        "WhatsApp",
        "False",
        "['telegram']",
    ]


def test_a_bad_pacing_setting_is_a_configuration_error_with_a_clear_message(
    tmp_path: Path,
) -> None:
    for name, bad in (("TAROS_WHATSAPP_CHAT_GAP", "sekejap"), ("TAROS_WHATSAPP_PER_MINUTE", "0")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({"TAROS_DATA_DIR": str(tmp_path), name: bad})
