"""One writer per data directory, whatever the command.

Every process that opens the database (``taros run``, ``taros chat``, the officer, digest,
export and backup commands) holds ``<data dir>/writers.lock`` shared for as long as it is
open: many of them write together safely through SQLite. ``taros restore`` replaces the
database under them, so it needs the lock exclusive: while anyone holds it, restore refuses
and names them; a process that starts while a restore runs waits for it to end.

Each holder also keeps ``<data dir>/writers/<pid>-<n>.lock`` locked, with its pid and
command in it, so that restore can say who holds the data dir. Locks need POSIX ``flock``;
without it (or for an in-memory database) nothing is locked.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LOCK = "writers.lock"
HOLDERS = "writers"
POLL = 0.05

_serial = itertools.count(1)


class DataDirBusy(RuntimeError):
    """The data dir's lock could not be taken; the message says who holds it."""


@dataclass(slots=True)
class WriterLock:
    """A held lock (shared for a writer, exclusive for a restore)."""

    fd: int
    own: Path | None = None
    own_fd: int | None = None

    def release(self) -> None:
        if self.own is not None:
            with contextlib.suppress(FileNotFoundError):
                self.own.unlink()
        if self.own_fd is not None:
            os.close(self.own_fd)
            self.own_fd = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _flock(fd: int, exclusive: bool) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open(path: Path) -> int:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(path, os.O_CREAT | os.O_RDWR, 0o600)


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True


def hold_as_writer(data_dir: Path, wait: float = 120.0) -> WriterLock | None:
    """Hold the data dir as one of its writers; waits up to ``wait`` seconds while a restore
    holds it (then :class:`DataDirBusy`)."""
    if not _has_flock():
        return None
    fd = _open(data_dir / LOCK)
    deadline = time.monotonic() + wait
    while not _flock(fd, exclusive=False):
        if time.monotonic() >= deadline:
            os.close(fd)
            raise DataDirBusy(f"{data_dir} is being restored; try again when it is done")
        time.sleep(POLL)
    own = data_dir / HOLDERS / f"{os.getpid()}-{next(_serial)}.lock"
    own_fd = _open(own)
    _flock(own_fd, exclusive=True)
    os.ftruncate(own_fd, 0)
    os.write(own_fd, f"pid {os.getpid()} ({_command()})".encode())
    return WriterLock(fd, own, own_fd)


def hold_alone(data_dir: Path) -> WriterLock | None:
    """Hold the data dir alone (a restore); :class:`DataDirBusy` naming every process that
    holds it as a writer."""
    if not _has_flock():
        return None
    fd = _open(data_dir / LOCK)
    if _flock(fd, exclusive=True):
        return WriterLock(fd)
    os.close(fd)
    holders = writers(data_dir)
    raise DataDirBusy(
        f"{data_dir} is in use by {', '.join(holders) or 'another process'}: stop it first"
    )


def writers(data_dir: Path) -> list[str]:
    """Who holds the data dir as a writer now (``pid 1234 (taros chat)``); stale entries of
    processes gone are removed."""
    found: list[str] = []
    folder = data_dir / HOLDERS
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        fd = os.open(path, os.O_RDONLY)
        try:
            if _flock(fd, exclusive=True):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            found.append(os.read(fd, 300).decode("utf-8", "replace").strip())
        finally:
            os.close(fd)
    return found


def _command() -> str:
    """``taros chat``: the program and its subcommand (never its arguments: an identity)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program in ("__main__.py", "-m", "-c"):
        program = "taros"
    sub = next((a for a in sys.argv[1:2] if a.isalpha()), "")
    return f"{program} {sub}".strip()
