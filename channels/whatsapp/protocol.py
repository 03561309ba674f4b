"""The pipe between the WhatsApp channel and its worker process: one JSON object per line.

The parent writes requests to the worker's stdin (``{"op": "send" | "ping" | "stop", ...}``);
the worker writes events to its stdout (``{"ev": ...}``). The worker's own stdout is moved to
stderr before neonize is loaded, so nothing the Go library prints can corrupt the pipe. Its
log records reach the parent on stderr, one per line, marked with :data:`LOG_MARK`.

Files never travel through the pipe: a downloaded attachment is written by the worker into
the inbox folder of the data dir (``0600``) under a random name, and only that name is sent;
the parent accepts nothing but such a name (:func:`inbox_file`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "INBOX",
    "LOG_MARK",
    "WORKER",
    "Exit",
    "decode",
    "encode",
    "inbox_file",
    "log_line",
    "parse_log_line",
    "spawn_worker",
]

WORKER = (sys.executable, "-m", "channels.whatsapp.worker")  # + DATA_DIR and options
INBOX = "whatsapp-inbox"  # folder of the data dir: attachments on their way to the engine
LOG_MARK = "\x1f"  # starts a log record on the worker's stderr: MARK + [level, logger, text]
MAX_LINE = 1 << 20  # a line longer than this is a protocol error
_INBOX_NAME = re.compile(r"[0-9a-f]{32}")


async def spawn_worker(argv: Sequence[str]) -> asyncio.subprocess.Process:
    """Start the worker on this pipe: its stdin, stdout and stderr piped, lines up to twice
    ``MAX_LINE``, unbuffered, in a session of its own (a Ctrl-C in the terminal reaches only
    the parent, which stops the worker in order)."""
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=pipe,
        stdout=pipe,
        stderr=pipe,
        start_new_session=True,
        limit=2 * MAX_LINE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class Exit:
    """The worker's exit codes: what the supervisor should do next."""

    STOPPED = 0  # asked to stop
    FAILED = 1  # crashed, could not connect, lost the connection: retry with backoff
    NOT_LINKED = 3  # no session (never linked, or logged out): wait for `taros whatsapp link`
    BANNED = 4  # temporarily banned: wait until the ban ends
    OUTDATED = 5  # WhatsApp refuses this client version: wait for an upgrade
    REPLACED = 6  # another client took over the session: back off long


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """One line of the pipe as a dict; None when it is not a JSON object."""
    if len(line) > MAX_LINE:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def inbox_file(data_dir: Path, name: object) -> Path | None:
    """The inbox file called ``name``, or None when ``name`` is not one the worker makes."""
    if not isinstance(name, str) or not _INBOX_NAME.fullmatch(name):
        return None
    return data_dir / INBOX / name


def log_line(level: int, logger: str, text: str) -> str:
    return LOG_MARK + json.dumps([level, logger, text], ensure_ascii=False)


def parse_log_line(line: str) -> tuple[int, str, str] | None:
    if not line.startswith(LOG_MARK):
        return None
    try:
        level, logger, text = json.loads(line[len(LOG_MARK) :])
    except (ValueError, TypeError):
        return None
    if not isinstance(level, int) or not isinstance(logger, str) or not isinstance(text, str):
        return None
    return level, logger, text
