#!/usr/bin/env python3
"""Set up and run TAROS from a fresh clone with nothing but Python 3.11+.

    python3 dev.py run        # create .venv, install, start the bot (console by default)
    python3 dev.py chat ...   # the same, `taros chat ...`
    python3 dev.py test ...   # create .venv, install with dev tools, lint, run every test

The virtual environment is (re)installed only when pyproject.toml changed since last time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".taros-installed"
SOURCES = ("bot", "channels", "conversations", "locales", "tests", "tools", "bench", "dev.py")


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any check
        sys.exit(f"TAROS needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print("installing TAROS and its tools into .venv ...", file=sys.stderr)
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "-qq",  # errors only: the machine's pip configuration warns about every package
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[dev]",
        ],
        check=True,
    )
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "chat", "test", "taros"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "test":
        lint = subprocess.run(
            [str(BIN / "ruff"), "check", *SOURCES]
        )
        if lint.returncode != 0:
            return lint.returncode
        types = subprocess.run([str(PYTHON), "-m", "mypy"])  # what pyproject.toml says
        if types.returncode != 0:
            return types.returncode
        return subprocess.run([str(PYTHON), "-m", "pytest", *rest]).returncode
    taros = str(BIN / "taros")
    args = rest if command == "taros" else [command, *rest]
    return subprocess.run([taros, *args]).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
