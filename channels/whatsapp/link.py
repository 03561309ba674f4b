"""Linking the number, and asking about the session: the worker in a one-shot mode.

``link`` shows the QR codes (or one pairing code) the worker receives until a phone
confirms; ``status`` connects once and reports; ``logout`` ends the session on WhatsApp's
side too. Each waits with a deadline and returns an :class:`Outcome` with a message for
the operator; a network failure, a refusal or a worker crash is an outcome, never an
exception. Nothing here imports neonize: the worker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.whatsapp.files import SESSION, linked_device
from channels.whatsapp.protocol import WORKER, Exit, decode, parse_log_line, spawn_worker
from channels.whatsapp.session import WorkerConfig

__all__ = ["Outcome", "link", "logout", "pretty", "status"]

log = logging.getLogger("channels.whatsapp.channel")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    phone: str | None = None


Show = Callable[[str], None]


async def link(
    data_dir: Path,
    *,
    phone: str | None = None,
    show_qr: Show,
    show_code: Show,
    config: WorkerConfig | None = None,
    command: Sequence[str] | None = None,
) -> Outcome:
    config = config or WorkerConfig()
    device = linked_device(data_dir / SESSION)
    if device is not None:
        return Outcome(
            False,
            f"already linked to {pretty(device)}; run `taros whatsapp logout` first",
            device,
        )
    found: dict[str, Any] = {}

    def seen(event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind == "qr" and isinstance(event.get("code"), str):
            show_qr(event["code"])
        elif kind == "pair_code" and isinstance(event.get("code"), str):
            show_code(event["code"])
        elif kind == "linked":
            found["phone"] = event.get("phone")
        else:
            _remember_failure(found, event)

    args = ["--mode", "link"] + (["--phone", phone] if phone else [])
    limit = config.startup + config.connect_timeout + config.link_timeout
    code = await _run(data_dir, args, config, seen, limit, command)
    if "phone" in found:
        number = found["phone"]
        return Outcome(True, f"linked: TAROS now serves {pretty(number)}", number)
    return Outcome(False, _failure(found, code, limit, "linking"))


async def status(
    data_dir: Path, *, config: WorkerConfig | None = None, command: Sequence[str] | None = None
) -> Outcome:
    config = config or WorkerConfig()
    device = linked_device(data_dir / SESSION)
    if device is None:
        return Outcome(False, "no WhatsApp session: link the number with `taros whatsapp link`")
    found: dict[str, Any] = {}

    def seen(event: dict[str, Any]) -> None:
        if event.get("ev") == "status":
            found["status"] = event
        else:
            _remember_failure(found, event)

    limit = config.startup + config.connect_timeout
    code = await _run(data_dir, ["--mode", "status"], config, seen, limit, command)
    report = found.get("status")
    if report is not None and report.get("connected"):
        return Outcome(True, f"linked to {pretty(device)}: connects to WhatsApp (ok)", device)
    why = _failure(found, code, limit, "connecting")
    return Outcome(False, f"linked to {pretty(device)}, but {why}", device)


async def logout(
    data_dir: Path, *, config: WorkerConfig | None = None, command: Sequence[str] | None = None
) -> Outcome:
    config = config or WorkerConfig()
    device = linked_device(data_dir / SESSION)
    if device is None:
        return Outcome(False, "no WhatsApp session to log out")
    found: dict[str, Any] = {}

    def seen(event: dict[str, Any]) -> None:
        if event.get("ev") == "done":
            found["done"] = event
        else:
            _remember_failure(found, event)

    limit = config.startup + config.connect_timeout + config.call_timeout * 2
    code = await _run(data_dir, ["--mode", "logout"], config, seen, limit, command)
    done = found.get("done")
    if done is not None and done.get("ok"):
        return Outcome(True, f"logged out: {pretty(device)} is no longer linked", device)
    if done is not None:
        found.setdefault("failure", str(done.get("message")))
    return Outcome(False, _failure(found, code, limit, "logging out"), device)


def pretty(jid_or_phone: str | None) -> str:
    """``6281234567890:12@s.whatsapp.net`` as ``+6281234567890``."""
    if not jid_or_phone:
        return "an unknown number"
    user = jid_or_phone.split("@")[0].split(":")[0].split(".")[0]
    return f"+{user}" if user.isdigit() else user


def _remember_failure(found: dict[str, Any], event: dict[str, Any]) -> None:
    kind = event.get("ev")
    if kind == "error" or (kind == "done" and not event.get("ok")):
        found.setdefault("failure", str(event.get("message")))
    elif kind == "alert":
        found.setdefault("failure", f"WhatsApp said: {event.get('detail') or event.get('kind')}")
    elif kind == "state" and event.get("state") == "unreachable":
        found.setdefault("failure", f"WhatsApp cannot be reached ({event.get('detail')})")


def _failure(found: dict[str, Any], code: int | None, limit: float, doing: str) -> str:
    if "failure" in found:
        return str(found["failure"])
    if code is None:
        return f"no result after {limit:.0f} s of {doing}; stopped"
    if code == Exit.NOT_LINKED:
        return "the session is no longer linked"
    return f"the WhatsApp worker ended without a result (exit {code}); see the log"


async def _run(
    data_dir: Path,
    args: list[str],
    config: WorkerConfig,
    on_event: Callable[[dict[str, Any]], None],
    limit: float,
    command: Sequence[str] | None,
) -> int | None:
    """Run the worker until it exits (its exit code) or ``limit`` passes (None)."""
    argv = [
        *(command or WORKER),
        str(data_dir),
        *args,
        "--config",
        json.dumps(config.to_dict(), separators=(",", ":")),
    ]
    try:
        proc = await spawn_worker(argv)
    except OSError as exc:
        on_event({"ev": "error", "message": f"cannot start the WhatsApp worker: {exc}"})
        return Exit.FAILED
    readers = asyncio.gather(_events(proc, on_event), _logs(proc))
    try:
        await asyncio.wait_for(proc.wait(), limit)
    except TimeoutError:
        return None
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(readers, 5)
    return proc.returncode


async def _events(
    proc: asyncio.subprocess.Process, on_event: Callable[[dict[str, Any]], None]
) -> None:
    assert proc.stdout is not None
    async for line in proc.stdout:
        event = decode(line)
        if event is not None:
            on_event(event)


async def _logs(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    async for raw in proc.stderr:
        line = raw.decode(errors="replace").rstrip("\n")
        record = parse_log_line(line)
        if record is None:
            if line.strip():
                log.debug("worker: %s", line)
            continue
        level, name, text = record
        logging.getLogger(name).log(level, "%s", text)
