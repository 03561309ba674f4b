"""The crash soak at smoke size: killed with SIGKILL mid-run, TAROS loses nothing and makes no
ticket twice. (Full size by hand: ``python -m bench.soak --conversations 1000 --kills 50``.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_killing_the_bot_loses_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--conversations",
            "60",
            "--kills",
            "4",
            "--work",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith("soak PASS: 60 conversations")
    assert " 0 duplicates, 0 lost," in summary
