"""The WhatsApp worker: the child process that holds the neonize client.

    python -m channels.whatsapp.worker DATA_DIR [--mode serve|link|status|logout]
                                              [--phone 62...] [--config JSON]

It speaks to its parent over stdin and stdout, one JSON object per line
(:mod:`channels.whatsapp.protocol`). Before neonize is loaded, the process's stdout is
moved to stderr (the Go library prints there) and the pipe keeps a private copy; log records
go to stderr, marked, for the parent to log. The session is ``whatsapp.sqlite3`` in the data
dir (``0600``). A crash, a Go panic or a hang here ends this process only: the channel in
the parent restarts it, and the rest of TAROS never notices.

Modes: ``serve`` (the channel), ``link`` (show QR codes or a pairing code until linked),
``status`` (connect once and say how it went), ``logout``. The exit code tells the parent
what to do next (:class:`~channels.whatsapp.protocol.Exit`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

from channels.whatsapp.files import SESSION, linked_device, private_dir, private_file
from channels.whatsapp.protocol import INBOX, MAX_LINE, Exit, decode, encode, log_line
from channels.whatsapp.sdk import load
from channels.whatsapp.session import Session, WorkerConfig

log = logging.getLogger("channels.whatsapp.worker")

GO_THREADS = 64  # every neonize call holds a thread while Go works; one is held for good


class Output:
    """The pipe to the parent (a private copy of the original stdout)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def take_stdout(cls) -> Output:
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)  # whatever the Go library prints lands on stderr, not in the pipe
        return cls(fd)

    def emit(self, message: dict[str, Any]) -> None:
        data = memoryview(encode(message))
        try:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]
        except OSError:  # the parent is gone
            os._exit(Exit.STOPPED)


class PipeLog(logging.Handler):
    """Log records as single marked lines on stderr, for the parent to log."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            sys.stderr.write(log_line(record.levelno, record.name, text) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m channels.whatsapp.worker")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--mode", choices=("serve", "link", "status", "logout"), default="serve")
    parser.add_argument("--phone", help="link with a pairing code for this number (62...)")
    parser.add_argument("--config", default="{}", help="WorkerConfig as JSON")
    return parser


def main(argv: Sequence[str] | None = None, *, client_class: Any = None) -> NoReturn:
    """Run the worker; ``client_class`` replaces neonize's ``NewAClient`` (tests)."""
    args = _parser().parse_args(argv)
    out = Output.take_stdout()
    os.umask(0o077)
    _log_to_stderr(os.environ.get("TAROS_LOG_LEVEL", "WARNING"))
    code = Exit.FAILED
    try:
        loop = asyncio.new_event_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=GO_THREADS, thread_name_prefix="neonize")
        )
        asyncio.set_event_loop(loop)
        code = loop.run_until_complete(_main(args, out, client_class))
    except BaseException:
        log.exception("whatsapp worker failed")
    finally:
        logging.shutdown()
        # no interpreter shutdown: it would wait for threads stuck in Go calls
        os._exit(code)


def _log_to_stderr(level_name: str) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(PipeLog())
    level = logging.getLevelName(level_name.strip().upper())
    root.setLevel(level if isinstance(level, int) else logging.WARNING)
    floor = max(logging.INFO, root.level)  # whatsmeow's debug output holds message stanzas
    for name in ("whatsmeow", "Whatsmeow", "neonize.utils.log"):
        logging.getLogger(name).setLevel(floor)


async def _main(args: argparse.Namespace, out: Output, client_class: Any) -> int:
    data_dir: Path = args.data_dir
    config = WorkerConfig.from_dict(json.loads(args.config))
    private_dir(data_dir)
    private_dir(data_dir / INBOX)
    session_path = data_dir / SESSION
    linked = linked_device(session_path)
    if args.mode == "serve" and linked is None:
        out.emit({"ev": "alert", "kind": "not_linked", "detail": f"no session in {session_path}"})
        return Exit.NOT_LINKED
    if args.mode in ("status", "logout") and linked is None:
        out.emit({"ev": "done", "ok": False, "message": "not linked"})
        return Exit.NOT_LINKED
    if args.mode == "link" and linked is not None:
        out.emit({"ev": "done", "ok": False, "message": f"already linked ({linked})"})
        return Exit.FAILED
    private_file(session_path)
    sdk = load()
    client = sdk.new_client(str(session_path), client_class)
    session = Session(sdk, client, out.emit, data_dir=data_dir, config=config)
    session.attach()
    out.emit(
        {
            "ev": "hello",
            "pid": os.getpid(),
            "neonize": sdk.version,
            "python": platform.python_version(),
        }
    )
    reader = asyncio.ensure_future(_read_requests(session))
    if args.mode == "link":
        first_sign = _prepare_link(session, args.phone)
    else:
        first_sign = session.connected
        if args.mode == "status":
            session.on_connected = lambda: _report_status(session)
        elif args.mode == "logout":
            session.on_connected = lambda: _log_out(session)
    await session.connect(first_sign)
    code = await session.outcome
    reader.cancel()
    try:
        await asyncio.wait_for(client.stop(), 10)
    except Exception as exc:
        log.warning("whatsapp: stopping the client failed: %r", exc)
    return code


async def _read_requests(session: Session) -> None:
    """Requests from the parent, read by a thread (stdin may be a pipe, a file, a tty)."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[bytes] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in iter(lambda: sys.stdin.buffer.readline(MAX_LINE), b""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, b"")
        except (OSError, RuntimeError, ValueError):  # stdin closed, or the loop is gone
            return

    threading.Thread(target=pump, name="taros-requests", daemon=True).start()
    while True:
        line = await lines.get()
        if not line:
            session.finish(Exit.STOPPED)  # the parent closed the pipe (or is gone)
            return
        request = decode(line)
        if request is None:
            log.error("whatsapp: unreadable request ignored")
            continue
        try:
            await session.request(request)
        except Exception:
            log.exception("whatsapp: request %r failed", request.get("op"))


def _prepare_link(session: Session, phone: str | None) -> asyncio.Event:
    """QR codes (or one pairing code) go to the parent; success is the first Connected."""
    seen = asyncio.Event()
    pairing = False

    async def on_qr(_client: Any, data: bytes) -> None:
        nonlocal pairing
        session.ready.set()
        seen.set()
        if phone is None:
            session.emit({"ev": "qr", "code": data.decode(errors="replace")})
            return
        if pairing:
            return
        pairing = True
        try:
            code = await asyncio.wait_for(
                session.client.PairPhone(phone, True, session.sdk.enums.ClientName.LINUX),
                session.config.call_timeout * 2,
            )
        except Exception as exc:
            session.emit({"ev": "error", "message": f"the pairing code was refused: {exc}"})
            session.finish(Exit.FAILED)
            return
        session.emit({"ev": "pair_code", "code": code})

    async def guarded_qr(client: Any, data: bytes) -> None:
        try:
            await on_qr(client, data)
        except Exception:
            log.exception("whatsapp: the QR handler failed")

    async def linked() -> None:
        session.emit({"ev": "linked", "phone": session.phone})
        session.finish(Exit.STOPPED)

    async def deadline() -> None:
        await asyncio.sleep(session.config.link_timeout)
        session.emit({"ev": "error", "message": "no phone confirmed the link in time"})
        session.finish(Exit.FAILED)

    session.client.qr(guarded_qr)
    session.on_connected = linked
    session.spawn(deadline())
    return seen


async def _report_status(session: Session) -> None:
    connected = await session.is_connected()
    logged_in = bool(
        await asyncio.wait_for(session.client.is_logged_in, session.config.call_timeout)
    )
    session.emit(
        {"ev": "status", "connected": connected, "logged_in": logged_in, "phone": session.phone}
    )
    session.finish(Exit.STOPPED)


async def _log_out(session: Session) -> None:
    try:
        await asyncio.wait_for(session.client.logout(), session.config.call_timeout * 2)
    except Exception as exc:
        session.emit({"ev": "done", "ok": False, "message": f"logout failed: {exc}"})
    else:
        session.emit({"ev": "done", "ok": True, "message": "logged out", "phone": session.phone})
    session.finish(Exit.STOPPED)


if __name__ == "__main__":
    main()
