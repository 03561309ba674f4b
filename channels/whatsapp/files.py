"""The WhatsApp files in the data dir, all owner-only: the neonize session
(``whatsapp.sqlite3``), the channel's state for ``taros whatsapp status``
(``whatsapp-state.json``), and the helpers that create them ``0700``/``0600``.

Whether a session holds a linked device is read straight from whatsmeow's table, without
loading neonize: whatsmeow deletes the device row on logout but keeps the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "SESSION",
    "STATE",
    "linked_device",
    "private_dir",
    "private_file",
    "private_sqlite",
    "read_state",
    "remove_session",
    "write_state",
]

SESSION = "whatsapp.sqlite3"
STATE = "whatsapp-state.json"


def private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, stat.S_IRWXU)


def private_file(path: Path) -> None:
    private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


def private_sqlite(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite file ``path``, created ``0600`` in a ``0700`` folder, in
    WAL mode, in autocommit (each caller opens its own transactions)."""
    private_file(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def linked_device(session: Path) -> str | None:
    """The JID of the device linked in ``session`` (``62811…:12@s.whatsapp.net``), or None
    when there is none (never linked, or logged out)."""
    if not session.is_file() or session.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"file:{session}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT jid FROM whatsmeow_device LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row and row[0] else None


def remove_session(session: Path) -> bool:
    """Delete the session and its SQLite side files; whether there was one."""
    found = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = session.with_name(session.name + suffix)
        if path.exists():
            path.unlink()
            found = True
    return found


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (it is read by other processes)."""
    private_dir(data_dir)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".whatsapp-state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, ensure_ascii=False)
        os.replace(tmp, data_dir / STATE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((data_dir / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
