"""The systemd unit and the example environment file that ship in ``deploy/``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.checks import check_configuration, known_variables

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNIT = DEPLOY / "taros.service"
ENV = DEPLOY / "env.example"


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _sep, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_runs_taros_as_a_hardened_service() -> None:
    unit = directives(UNIT.read_text())
    assert unit["User"] == ["taros"] and unit["Group"] == ["taros"]
    assert unit["ExecStart"] == ["/opt/taros/.venv/bin/taros run"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["KillSignal"] == ["SIGTERM"]
    assert unit["EnvironmentFile"] == ["/etc/taros/taros.env"]
    assert unit["Environment"] == ["TAROS_DATA_DIR=/var/lib/taros"]
    assert unit["ReadWritePaths"] == ["/var/lib/taros"]
    assert unit["StateDirectoryMode"] == ["0700"] and unit["UMask"] == ["0077"]
    for hardening in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "RestrictSUIDSGID"):
        assert unit[hardening] == ["yes"], hardening
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["WantedBy"] == ["multi-user.target"]


def test_the_installed_taros_command_runs(tmp_path: Path) -> None:
    """The console script the README and the systemd unit call, as installed (not
    ``python -m``): its entry point must import and run."""
    taros = Path(sys.executable).with_name("taros")
    assert taros.exists(), "pip install -e . puts the taros command next to this Python"
    done = subprocess.run(
        [str(taros), "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TAROS_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr
    assert "console" in done.stdout


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    # the unit names /opt/taros; verify it against the taros of this checkout instead
    taros = Path(sys.executable).with_name("taros")
    if not taros.exists():
        pytest.skip("no taros console script next to this Python")
    unit = tmp_path / "taros.service"
    unit.write_text(UNIT.read_text().replace("/opt/taros/.venv/bin/taros", str(taros)))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0 and "System has not been booted with systemd" in done.stderr:
        pytest.skip("systemd-analyze cannot run here")
    assert done.returncode == 0, done.stderr
    complaints = [line for line in done.stderr.splitlines() if str(unit) in line]
    assert complaints == []  # unknown keys and bad values are only warned about


async def test_the_example_environment_is_valid(tmp_path: Path) -> None:
    text = ENV.read_text()
    named = set(re.findall(r"^#?(TAROS_[A-Z0-9_]+)=", text, re.MULTILINE))
    assert named <= known_variables(), named - known_variables()
    active = {
        key: value
        for key, value in (
            line.split("=", 1) for line in text.splitlines() if line and line[0] != "#"
        )
    }
    assert "TAROS_HTTP" in active
    commented = {
        key: value
        for key, value in (
            line[1:].split("=", 1)
            for line in text.splitlines()
            if re.match(r"#TAROS_[A-Z_]+=", line)
        )
    }
    environ = {**commented, **active, "TAROS_DATA_DIR": str(tmp_path / "data")}
    environ.pop("TAROS_WHATSAPP")  # needs a linked session
    report = await check_configuration(environ)
    assert report.ok, report.problems
