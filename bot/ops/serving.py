"""Which process delivers which outbox: ``taros run`` (or an interactive ``taros chat``)
holds an advisory lock per channel it serves (or per console chat), under
``<data dir>/serving/``. A command that puts messages in the outbox asks
:func:`served_elsewhere` to know whether someone will deliver them, or it must itself.
Locks need POSIX ``flock``; without it a command assumes nobody serves.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from channels.base import Channel


def lock_path(data_dir: Path, channel: str, chat_id: str | None) -> Path:
    name = channel if chat_id is None else f"{channel}@{chat_id}"
    return data_dir / "serving" / (re.sub(r"[^\w.@-]", "_", name) + ".lock")


def try_lock(path: Path, attempts: int = 1) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``; None when another process
    holds it (or the platform has no advisory locks)."""
    try:
        import fcntl
    except ImportError:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    for attempt in range(attempts):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if attempt + 1 < attempts:
                time.sleep(0.005)  # a command probing it lets go within microseconds
            continue
        return fd
    os.close(fd)
    return None


def claim_serving(data_dir: Path, channels: Iterable[Channel]) -> list[int]:
    """Mark, for other processes, each channel (or single chat) whose outbox this process
    delivers: a command that puts messages in the outbox then knows someone delivers them."""
    held = [try_lock(lock_path(data_dir, c.name, c.only_chat), 20) for c in channels]
    return [fd for fd in held if fd is not None]


def served_elsewhere(data_dir: Path, channel: str, chat_id: str) -> bool:
    """Whether a running process delivers the outbox of ``channel`` (or of this one chat)."""
    for path in (lock_path(data_dir, channel, None), lock_path(data_dir, channel, chat_id)):
        if not path.exists():
            continue
        fd = try_lock(path)
        if fd is None:
            return True
        os.close(fd)
    return False
