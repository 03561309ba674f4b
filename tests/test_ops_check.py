"""``taros check`` (and ``taros run``'s same checks): every problem told with what to do, and
what is enabled when all is well. The data dir and everything in it stays private."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support import Harness, texts

from bot.app import App
from bot.identity import ChannelId
from bot.officers import add_officer
from bot.ops.checks import check_configuration, known_variables
from bot.ops.serving import claim_serving
from channels.recording import file_attachment

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def taros(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TAROS_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_good_configuration_says_what_is_enabled(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = taros(
        "check",
        env={
            "TAROS_DATA_DIR": str(data),
            "TAROS_TELEGRAM_TOKEN": TOKEN,
            "TAROS_DIGEST_AT": "07:00,17:30",
            "TAROS_HTTP": "127.0.0.1:8080",
            "TAROS_LOG_FORMAT": "json",
        },
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"data dir: {data.resolve()}" in out
    assert "channels: telegram (long polling)" in out
    assert "digest at: 07:00, 17:30" in out
    assert "http: 127.0.0.1:8080 (/healthz, /metrics)" in out
    assert "logs: json, level WARNING" in out
    assert TOKEN not in out + done.stderr
    assert (data / "taros.db").is_file()  # created and migrated
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_every_problem_is_told_at_once_and_the_exit_status_is_not_zero(tmp_path: Path) -> None:
    done = taros(
        "check",
        env={
            "TAROS_DATA_DIR": str(tmp_path / "data"),
            "TAROS_TZ": "Asia/Garut",
            "TAROS_DIGEST_AT": "7 pagi",
            "TAROS_TELEGRAM_TOKEN": "bot" + TOKEN,
            "TAROS_SLA_HOUR": "24",
        },
    )
    assert done.returncode == 2
    err = done.stderr
    assert "configuration: 4 problems" in err
    assert "TAROS_SLA_HOUR is not a TAROS setting; did you mean TAROS_SLA_HOURS?" in err
    assert "TAROS_TZ='Asia/Garut' is not a known time zone" in err
    assert "TAROS_DIGEST_AT='7 pagi' must be times like 07:00" in err
    assert "starts with 'bot'" in err
    assert TOKEN not in err + done.stdout
    assert "Traceback" not in err


def test_taros_run_runs_the_same_checks_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = taros("run", env={"TAROS_DATA_DIR": str(data), "TAROS_TELEGRAM_TOKEN": "12345"})
    assert done.returncode == 2
    assert "not starting" in done.stderr
    assert "does not look like a bot token" in done.stderr
    assert not (data / "taros.db").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TAROS_TELEGRAM_TOKN": TOKEN}, "did you mean TAROS_TELEGRAM_TOKEN?"),
        ({"TAROS_FOO": "1"}, "TAROS_FOO is not a TAROS setting"),
        ({"TAROS_TZ": "Mars/Olympus"}, "not a known time zone"),
        ({"TAROS_DIGEST_AT": "25:00"}, "TAROS_DIGEST_AT='25:00' must be times"),
        ({"TAROS_DIGEST_AT": "07:00,"}, "TAROS_DIGEST_AT='07:00,' must be times"),
        ({"TAROS_TELEGRAM_TOKEN": "123456789"}, "does not look like a bot token"),
        ({"TAROS_TELEGRAM_TOKEN": "abc:" + TOKEN[10:]}, "does not look like a bot token"),
        ({"TAROS_TELEGRAM_TOKEN": "123:has spaces inside"}, "does not look like a bot token"),
        ({"TAROS_TELEGRAM_TOKEN": f'"{TOKEN}"'}, "has quotes around it"),
        ({"TAROS_TELEGRAM_TOKEN": "bot" + TOKEN}, "starts with 'bot'"),
        ({"TAROS_WHATSAPP": "1"}, "there is no WhatsApp session"),
        ({"TAROS_WHATSAPP": "ya"}, "TAROS_WHATSAPP='ya' must be 1 or 0"),
        ({"TAROS_HTTP": "localhost"}, "TAROS_HTTP='localhost' must be HOST:PORT"),
        ({"TAROS_LOG_FORMAT": "xml"}, "TAROS_LOG_FORMAT='xml' must be one of keyvalue, json"),
        ({"TAROS_LOG_LEVEL": "LOUD"}, "TAROS_LOG_LEVEL='LOUD' must be one of DEBUG"),
    ],
)
async def test_a_bad_configuration_is_refused_with_a_clear_message(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    report = await check_configuration({"TAROS_DATA_DIR": str(tmp_path / "d"), **environ})
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
    assert TOKEN not in report.text()


async def test_an_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data dir's parent should be")
    report = await check_configuration({"TAROS_DATA_DIR": str(blocker / "data")})
    assert not report.ok
    assert "cannot be created or written" in report.problems[0]
    if os.geteuid() != 0:  # root writes anywhere: the mode test means nothing then
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        report = await check_configuration({"TAROS_DATA_DIR": str(locked)})
        assert "cannot be created or written" in report.problems[0]


async def test_a_data_dir_readable_by_others_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (await check_configuration({"TAROS_DATA_DIR": str(data)})).ok
    os.chmod(data, 0o755)
    os.chmod(data / "taros.db", 0o644)
    report = await check_configuration({"TAROS_DATA_DIR": str(data)})
    assert f"chmod 700 {data}" in report.text()
    assert f"chmod 600 {data / 'taros.db'}" in report.text()


async def test_whatsapp_needs_a_session_with_a_linked_device(tmp_path: Path) -> None:
    data = tmp_path / "data"
    environ = {"TAROS_DATA_DIR": str(data), "TAROS_WHATSAPP": "1"}
    report = await check_configuration(environ)
    assert "there is no WhatsApp session in" in report.text()
    assert "taros whatsapp link" in report.text()

    session = sqlite3.connect(data / "whatsapp.sqlite3")  # whatsmeow's own table
    session.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
    session.commit()
    os.chmod(data / "whatsapp.sqlite3", 0o600)
    report = await check_configuration(environ)
    assert "has no linked device (logged out)" in report.text()

    session.execute("INSERT INTO whatsmeow_device VALUES ('6281234567890:12@s.whatsapp.net')")
    session.commit()
    session.close()
    report = await check_configuration(environ)
    assert report.ok, report.problems
    assert "channels: whatsapp" in report.text()


def test_the_known_variables_include_every_documented_one() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    documented = set(re.findall(r"\bTAROS_[A-Z][A-Z0-9_]*[A-Z0-9]\b", readme))
    assert documented <= known_variables()
    assert {"TAROS_HTTP", "TAROS_LOG_FORMAT", "TAROS_HEALTH_OUTBOX_SECONDS"} <= known_variables()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


async def test_the_data_dir_its_folders_and_files_are_private(bot: Harness) -> None:
    """After a report with a photo, an officer's copy of it, a digest chart and a serving lock:
    folders 0700, files 0600, everywhere in the data dir."""
    app = bot.app
    await add_officer(
        app.db,
        ChannelId("test", "reskrim"),
        name="Asep",
        role="kapolres",
        unit=None,
        now=bot.clock.now(),
    )
    for line in ["halo", "1", "Cibatu", "Uang palsu dipakai belanja di warung saya tadi pagi."]:
        await bot.send(line)
    await bot.send(attachments=(file_attachment(_jpeg()),))
    await bot.send("selesai")
    number = re.search(r"GRT-\d{4}-\d{5}", texts(await bot.send("1")))
    assert number
    sent = await bot.send(f"/bukti {number.group()}", chat="reskrim")
    assert any(o.media is not None for o in sent)
    await bot.send("/digest", chat="reskrim")
    held = claim_serving(app.settings.data_dir, app.channels.values())
    try:
        found = {p.relative_to(app.settings.data_dir).parts[0] for p in _walk(app)}
        assert {"media", "charts", "officer-copies", "serving", "taros.db"} <= found
        for path in [app.settings.data_dir, *_walk(app)]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {mode:o}"
    finally:
        for fd in held:
            os.close(fd)


def _walk(app: App) -> list[Path]:
    return sorted(app.settings.data_dir.rglob("*"))


CLOUD = {
    "TAROS_WHATSAPP_CLOUD_PHONE_ID": "106540352242922",
    "TAROS_WHATSAPP_CLOUD_TOKEN": "EAAFAKEtokenForChecks",
    "TAROS_WHATSAPP_CLOUD_APP_SECRET": "0123456789abcdef0123456789abcdef",
    "TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN": "taros-verify-me",
}


def test_a_half_configured_cloud_api_is_told_variable_by_variable(tmp_path: Path) -> None:
    half = {k: CLOUD[k] for k in ("TAROS_WHATSAPP_CLOUD_PHONE_ID", "TAROS_WHATSAPP_CLOUD_TOKEN")}
    done = taros("check", env={"TAROS_DATA_DIR": str(tmp_path / "data"), **half})
    assert done.returncode == 2
    assert "the WhatsApp Cloud API is half configured" in done.stdout + done.stderr
    told = done.stdout + done.stderr
    assert "TAROS_WHATSAPP_CLOUD_APP_SECRET, TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN are not set" in told
    assert "TAROS_WHATSAPP_CLOUD_PHONE_ID" not in told.split("half configured:")[1].split("(")[0]


async def test_the_cloud_api_needs_the_http_server_and_is_never_beside_the_linked_device(
    tmp_path: Path,
) -> None:
    data = {"TAROS_DATA_DIR": str(tmp_path / "data")}
    report = await check_configuration({**data, **CLOUD}, database=False)
    assert "set TAROS_HTTP" in report.text() and "/webhooks/whatsapp" in report.text()

    both = await check_configuration(
        {**data, **CLOUD, "TAROS_WHATSAPP": "1", "TAROS_HTTP": "127.0.0.1:8080"}, database=False
    )
    assert "one WhatsApp route serves a number at a time" in both.text()

    bad = await check_configuration(
        {**data, **CLOUD, "TAROS_WHATSAPP_CLOUD_PHONE_ID": "+62 821 1111 0000"}, database=False
    )
    assert "phone number ID (digits)" in bad.text()


async def test_a_configured_cloud_api_says_its_templates_and_warns_of_missing_ones(
    tmp_path: Path,
) -> None:
    environ = {
        "TAROS_DATA_DIR": str(tmp_path / "data"),
        "TAROS_HTTP": "127.0.0.1:8080",
        **CLOUD,
        "TAROS_WHATSAPP_CLOUD_TEMPLATE_STATUS": "taros_status_update",
        "TAROS_WHATSAPP_CLOUD_TEMPLATE_RELAY": "taros_officer_message:en_US",
    }
    report = await check_configuration(environ, database=False)
    assert report.ok, report.problems
    text = report.text()
    assert "whatsapp (Cloud API, phone number id 106540352242922" in text
    assert "templates: relay, status" in text
    assert "/webhooks/whatsapp" in text
    assert "TAROS_WHATSAPP_CLOUD_TEMPLATE_CLOSING" in text  # warned: no closing template
    assert CLOUD["TAROS_WHATSAPP_CLOUD_TOKEN"] not in text

    wrong = await check_configuration(
        {**environ, "TAROS_WHATSAPP_CLOUD_TEMPLATE_DIGEST": "Ringkasan Harian"}, database=False
    )
    assert "TAROS_WHATSAPP_CLOUD_TEMPLATE_DIGEST" in wrong.text() and not wrong.ok
