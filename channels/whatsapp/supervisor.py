"""The WhatsApp worker process, kept alive: spawn it, talk to it, watch it, restart it.

The worker runs in its own session (terminal signals do not reach it) and exits when its
stdin closes, so it never outlives TAROS. Requests carry an id and are answered by a
``result`` or ``pong`` with that id; every other event goes to the channel. A worker that
does not answer a ping in time is killed. After an exit the next start waits: with
exponential backoff after a failure, until a session exists after a logout, until the end
of a ban, an hour after "client outdated". What the worker writes on stderr is logged here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.whatsapp.files import SESSION, linked_device
from channels.whatsapp.protocol import Exit, decode, encode, parse_log_line, spawn_worker

__all__ = ["Supervisor", "SupervisorOptions", "WorkerDown"]

log = logging.getLogger("channels.whatsapp.channel")
worker_log = logging.getLogger("channels.whatsapp.worker")

EventSink = Callable[[dict[str, Any]], None]


class WorkerDown(RuntimeError):
    """No worker is running (starting, restarting, or waiting for a session)."""


@dataclass(frozen=True, slots=True)
class SupervisorOptions:
    heartbeat: float = 15.0
    heartbeat_timeout: float = 20.0
    backoff_start: float = 1.0
    backoff_max: float = 300.0
    stable_after: float = 60.0  # connected this long: the next failure starts the backoff anew
    relink_poll: float = 30.0  # how often to look for a session while none is linked
    settle: float = 5.0  # a session that just appeared is used after this (the linker exits)
    outdated_wait: float = 3600.0
    replaced_wait: float = 300.0
    ban_wait_max: float = 3600.0
    stop_grace: float = 5.0


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        data_dir: Path,
        on_event: EventSink,
        options: SupervisorOptions | None = None,
    ) -> None:
        self.command = list(command)
        self.data_dir = data_dir
        self.on_event = on_event
        self.options = options or SupervisorOptions()
        self.connected = asyncio.Event()
        self.state = "stopped"
        self.starts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._ban_until: float | None = None
        self._connected_since: float | None = None
        self._tail: deque[str] = deque(maxlen=20)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="whatsapp supervisor")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(Exception):
                await self._write(proc, {"op": "stop"})
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), self.options.stop_grace)
            except TimeoutError:
                log.warning("whatsapp: the worker did not stop in time; killed")
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), self.options.stop_grace + 5)
            except TimeoutError:
                log.error("whatsapp: the supervisor did not stop in time; cancelled")
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def request(self, message: dict[str, Any], within: float) -> dict[str, Any]:
        """Send ``message`` to the worker and wait up to ``within`` seconds for its answer."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            raise WorkerDown("the WhatsApp worker is not running")
        rid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await self._write(proc, {**message, "id": rid})
            return await asyncio.wait_for(future, within)
        finally:
            self._pending.pop(rid, None)

    async def _write(self, proc: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
        stdin = proc.stdin
        if stdin is None or stdin.is_closing():
            raise WorkerDown("the WhatsApp worker's pipe is closed")
        try:
            stdin.write(encode(message))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WorkerDown(f"the WhatsApp worker is gone ({exc})") from None

    # --- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        waiting_for_session = False
        while not self._stopping:
            if linked_device(self.data_dir / SESSION) is None:
                if not waiting_for_session:
                    waiting_for_session = True
                    self._set_state("not_linked")
                    self.on_event({"ev": "alert", "kind": "not_linked", "detail": "no session"})
                await self._sleep(self.options.relink_poll)
                continue
            if waiting_for_session:  # just linked: let `taros whatsapp link` let go of it
                waiting_for_session = False
                await self._sleep(self.options.settle)
                continue
            try:
                code = await self._run_worker()
            except OSError as exc:
                log.error("whatsapp: cannot start the worker: %s", exc)
                code = Exit.FAILED
            if self._stopping:
                break
            stable = self._connected_since is not None and (
                time.monotonic() - self._connected_since >= self.options.stable_after
            )
            failures = 0 if stable else failures + 1
            delay = self._delay(code, failures)
            log.log(
                logging.INFO if code == Exit.NOT_LINKED else logging.WARNING,
                "whatsapp: the worker exited (%s); next start in %.0f s",
                code,
                delay,
            )
            await self._sleep(delay)
        self._set_state("stopped", notify=True)

    def _delay(self, code: int, failures: int) -> float:
        options = self.options
        if code == Exit.NOT_LINKED:
            return 0.0  # the loop waits for a session
        if code == Exit.BANNED:
            remaining = (self._ban_until or 0) - time.time()
            return min(options.ban_wait_max, max(60.0, remaining))
        if code == Exit.OUTDATED:
            return options.outdated_wait
        if code == Exit.REPLACED:
            return options.replaced_wait
        if failures > 1 and self._tail:
            log.warning("whatsapp: last worker output:\n%s", "\n".join(self._tail))
        return min(options.backoff_max, options.backoff_start * 2 ** max(0, failures - 1))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        if self._stopping or seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _run_worker(self) -> int:
        self._set_state("starting", notify=True)
        self._tail.clear()
        self._connected_since = None
        proc = await spawn_worker(self.command)
        self._proc = proc
        self.starts += 1
        log.info("whatsapp: worker started (pid %d)", proc.pid)
        if self._stopping:  # stop() came while it was starting: end it at once
            assert proc.stdin is not None
            proc.stdin.close()
        readers = [
            asyncio.create_task(self._read_events(proc)),
            asyncio.create_task(self._read_logs(proc)),
        ]
        heartbeat = asyncio.create_task(self._heartbeat(proc))
        try:
            code = await proc.wait()
            await asyncio.wait(readers, timeout=2.0)
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        finally:
            heartbeat.cancel()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(heartbeat, *readers, return_exceptions=True)
            self._proc = None
            self.connected.clear()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(WorkerDown("the WhatsApp worker exited"))
            self._set_state("down", notify=True)
        return code

    async def _read_events(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:
                log.error("whatsapp: an event line from the worker was too long; dropped")
                continue
            if not line:
                return
            event = decode(line)
            if event is None:
                log.error("whatsapp: unreadable event from the worker: %r", line[:200])
                continue
            self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind in ("result", "pong"):
            future = self._pending.get(event.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(event)
            if kind == "pong":
                self._set_connected(bool(event.get("connected")))
            return
        if kind == "state":
            self._set_state(str(event.get("state")))
            self._set_connected(event.get("state") == "connected")
        elif kind == "alert":
            self._set_connected(False)
            self._set_state(str(event.get("kind")))
            if event.get("kind") == "banned" and isinstance(event.get("until"), int | float):
                self._ban_until = float(event["until"])
        try:
            self.on_event(event)
        except Exception:
            log.exception("whatsapp: handling the worker's %r event failed", kind)

    async def _read_logs(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while True:
            try:
                raw = await proc.stderr.readline()
            except ValueError:
                continue
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\n")
            record = parse_log_line(line)
            if record is None:
                if line.strip():
                    self._tail.append(line)
                    worker_log.info("%s", line)
                continue
            level, name, text = record
            self._tail.append(text.splitlines()[0] if text else "")
            logging.getLogger(name).log(level, "%s", text)

    async def _heartbeat(self, proc: asyncio.subprocess.Process) -> None:
        while proc.returncode is None:
            await asyncio.sleep(self.options.heartbeat)
            try:
                await self.request({"op": "ping"}, self.options.heartbeat_timeout)
            except WorkerDown:
                return
            except TimeoutError:
                log.error(
                    "whatsapp: the worker did not answer for %.0f s; restarting it",
                    self.options.heartbeat_timeout,
                )
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                return

    def _set_connected(self, connected: bool) -> None:
        if connected and not self.connected.is_set():
            self._connected_since = time.monotonic()
            self.connected.set()
        elif not connected and self.connected.is_set():
            self.connected.clear()

    def _set_state(self, state: str, *, notify: bool = False) -> None:
        """Record ``state``; ``notify`` for the supervisor's own states (the worker's come
        with their event)."""
        self.state = state
        if notify:
            try:
                self.on_event({"ev": "state", "state": state})
            except Exception:
                log.exception("whatsapp: handling the %r state failed", state)
