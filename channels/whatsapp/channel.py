"""The WhatsApp channel: the Kapolres's number as a linked device, through neonize.

neonize (whatsmeow in Go, loaded into Python) runs in a worker process
(:mod:`channels.whatsapp.worker`) that this channel starts and supervises
(:mod:`channels.whatsapp.supervisor`): a Go panic, a hang or a crash there ends the
worker only, never the engine or the other channels, and the worker is restarted with
backoff. They talk over a pipe, one JSON object per line; attachments come as files in the
data dir's inbox. This process never imports neonize.

Receiving: the worker keeps private messages only and downloads their media at once; here
each becomes an :class:`Inbound` keyed by the sender's phone number
(:mod:`channels.whatsapp.identity`) and goes to the engine without waiting (the
engine keeps each chat's order).

Sending (called by the outbox dispatcher, one message at a time per chat): only to people
who wrote first; options as a numbered list; paced conservatively (by default one message a
second per chat and 30 a minute overall); while WhatsApp is not connected a send waits a
little, then asks the dispatcher to retry, so replies wait in the outbox and go out in order
after the reconnection. Logouts, bans and "client outdated" are logged and announced to the
admins and the Kapolres on their other channels, with what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from channels.base import (
    ChannelBase,
    InboundHandler,
    Permanent,
    RetryAfter,
    Transient,
)
from channels.delivery import PartialSends
from channels.pacing import Pacer, Rate
from channels.whatsapp.files import private_dir, write_state
from channels.whatsapp.identity import CONTACTS, Contacts, jid_of
from channels.whatsapp.inbound import Received, person_of, to_inbound
from channels.whatsapp.outbound import delivery_error, plan
from channels.whatsapp.protocol import INBOX, WORKER
from channels.whatsapp.session import WorkerConfig
from channels.whatsapp.supervisor import Supervisor, SupervisorOptions, WorkerDown
from channels.whatsapp.texts import alert_text, apology
from conversations.messages import Outbound

__all__ = ["WORKER", "WhatsAppChannel", "WhatsAppOptions"]

log = logging.getLogger(__name__)

AlertSink = Callable[[str], Awaitable[object]]
# The channel's states (its ``state``) in which the session is not usable.
LOGGED_OUT_STATES = frozenset({"logged_out", "not_linked", "banned", "outdated"})
PER_CHAT = Rate(1.0, 1)  # at most one message a second to one chat
OVERALL = Rate(0.5, 5)  # 30 a minute overall, bursts of 5: far from bulk sending


@dataclass(frozen=True, slots=True)
class WhatsAppOptions:
    per_chat: Rate = PER_CHAT
    overall: Rate = OVERALL
    hold: float = 10.0  # a send waits this long for the connection, then the dispatcher retries
    send_timeout: float = 90.0
    stop_grace: float = 20.0
    alert_every: float = 6 * 3600.0  # the same alert at most this often
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    supervisor: SupervisorOptions = field(default_factory=SupervisorOptions)


class WhatsAppChannel(ChannelBase):
    def __init__(
        self,
        data_dir: Path,
        *,
        options: WhatsAppOptions | None = None,
        alerts: AlertSink | None = None,
        worker_command: Sequence[str] = WORKER,
        locale: str | None = None,
        tz: ZoneInfo | None = None,
        name: str = "whatsapp",
    ) -> None:
        self.name = name
        self.only_chat: str | None = None
        self.data_dir = data_dir
        self.options = options or WhatsAppOptions()
        self.alerts = alerts
        self.locale = locale
        self.tz = tz or ZoneInfo("Asia/Jakarta")
        command = [
            *worker_command,
            str(data_dir),
            "--mode",
            "serve",
            "--config",
            json.dumps(self.options.worker.to_dict(), separators=(",", ":")),
        ]
        self._supervisor = Supervisor(
            command, data_dir=data_dir, on_event=self._on_event, options=self.options.supervisor
        )
        self._pacer = Pacer(self.options.overall, self.options.per_chat)
        self._contacts: Contacts | None = None
        self._on_inbound: InboundHandler | None = None
        self._receiving = False
        self._handling: set[asyncio.Future[object]] = set()
        self._chores: set[asyncio.Task[Any]] = set()
        self._partial: PartialSends[dict[str, Any]] = PartialSends()
        self._alerted: dict[str, float] = {}
        self._state: dict[str, Any] = {"state": "stopped"}

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_inbound: InboundHandler) -> None:
        if self._contacts is not None:
            return
        private_dir(self.data_dir)
        inbox = self.data_dir / INBOX
        private_dir(inbox)
        for leftover in inbox.iterdir():  # from a run that stopped while handling them
            leftover.unlink(missing_ok=True)
        self._contacts = Contacts.open(self.data_dir / CONTACTS)
        self._on_inbound = on_inbound
        self._receiving = True
        self._supervisor.start()
        log.info("whatsapp: channel started (worker supervised)")

    async def stop(self) -> None:
        if self._contacts is None:
            return
        await self._supervisor.stop()  # what the worker still says is received and handled
        self._receiving = False
        if self._handling:  # let the engine commit what was received
            await asyncio.wait(list(self._handling), timeout=self.options.stop_grace)
        for chore in list(self._chores):
            chore.cancel()
        await asyncio.gather(*self._chores, return_exceptions=True)
        self._contacts.close()
        self._contacts = None
        self._publish({"state": "stopped"})

    @property
    def state(self) -> str:
        return self._supervisor.state

    @property
    def worker_pid(self) -> int | None:
        return self._supervisor.pid

    @property
    def connected(self) -> bool:
        return self._supervisor.connected.is_set()

    @property
    def logged_in(self) -> bool:
        return self.state not in LOGGED_OUT_STATES

    # --- sending -----------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> None:
        key = outbound.chat_id
        try:
            jid_of(key)
        except ValueError:
            raise Permanent(f"not a WhatsApp chat id: {key!r}") from None
        contacts = self._contacts
        if contacts is None:
            raise Transient("whatsapp channel not started")
        if not contacts.knows(key):
            raise Permanent(
                "this number never wrote to TAROS on WhatsApp, and the bot writes only to people"
                " who wrote first (an officer on WhatsApp sends it one message, e.g. /bantuan)"
            )

        async def send_part(part: dict[str, Any]) -> None:
            await self._until_connected()
            await self._pacer.wait(key)
            try:
                result = await self._supervisor.request(
                    {"op": "send", "to": key, **part}, self.options.send_timeout
                )
            except WorkerDown:
                raise RetryAfter(1.0, "whatsapp worker restarting") from None
            except TimeoutError:
                raise Transient("whatsapp send timed out") from None
            if not result.get("ok"):
                raise delivery_error(result)

        await self._partial.send(outbound, plan(outbound), send_part)

    async def _until_connected(self) -> None:
        """Wait for the connection; after ``hold`` the dispatcher keeps the row and retries
        (RetryAfter never exhausts its attempts)."""
        connected = self._supervisor.connected
        if connected.is_set():
            return
        try:
            await asyncio.wait_for(connected.wait(), self.options.hold)
        except TimeoutError:
            raise RetryAfter(1.0, f"whatsapp not connected ({self.state})") from None

    # --- events from the worker ------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind == "message":
            data = event.get("data")
            if isinstance(data, dict):
                self._on_message(data)
        elif kind == "failed":
            self._on_failed(event)
        elif kind == "alert":
            self._on_alert(event)
        elif kind == "state":
            self._on_state(event)
        elif kind == "hello":
            log.info(
                "whatsapp: worker %s up (neonize %s, Python %s)",
                event.get("pid"),
                event.get("neonize"),
                event.get("python"),
            )

    def _on_message(self, data: dict[str, Any]) -> None:
        contacts = self._contacts
        person = person_of(data)
        if contacts is None or person is None:
            log.warning("whatsapp: a message without a usable sender was dropped")
            return
        received = to_inbound(
            data,
            contacts.resolve(person),
            channel=self.name,
            data_dir=self.data_dir,
            now=datetime.now(UTC),
        )
        if received is None:
            log.warning("whatsapp: a malformed message event was dropped")
            return
        if not self._receiving:
            _discard(received)
            return
        task: asyncio.Future[object] = asyncio.ensure_future(self._handle(received))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, received: Received) -> object:
        assert self._on_inbound is not None
        try:
            return await self._on_inbound(received.inbound)
        except Exception:
            log.exception("whatsapp: the engine failed on message %s", received.inbound.message_id)
            return None
        finally:
            _discard(received)

    def _on_failed(self, event: dict[str, Any]) -> None:
        """The worker could not read a message: say so to its sender."""
        contacts = self._contacts
        person = person_of(event)
        if contacts is None or person is None:
            return
        key = contacts.resolve(person).key
        self._chore(self._say(Outbound(self.name, key, apology(self.locale))))

    async def _say(self, outbound: Outbound) -> None:
        try:
            await self.send(outbound)
        except Exception as exc:
            log.warning("whatsapp: could not tell %s: %r", outbound.chat_id, exc)

    def _on_alert(self, event: dict[str, Any]) -> None:
        kind = str(event.get("kind"))
        detail = str(event.get("detail") or "")
        until = event.get("until") if isinstance(event.get("until"), int | float) else None
        self._publish({"state": kind, "detail": detail})
        now = time.monotonic()
        same = ("logged_out", "not_linked") if kind == "not_linked" else (kind,)
        if any(now - self._alerted.get(k, -math.inf) < self.options.alert_every for k in same):
            return  # told already (the session a logout deletes is "not linked" next)
        self._alerted[kind] = now
        log.error("whatsapp: %s", alert_text(kind, detail, until, locale="en", tz=self.tz))
        if self.alerts is not None:
            text = alert_text(kind, detail, until, locale=self.locale, tz=self.tz)
            self._chore(self._announce(text))

    async def _announce(self, text: str) -> None:
        assert self.alerts is not None
        try:
            await self.alerts(text)
        except Exception:
            log.exception("whatsapp: could not queue the alert for the admins")

    def _on_state(self, event: dict[str, Any]) -> None:
        state = str(event.get("state"))
        detail = event.get("detail")
        if state == "connected":
            self._alerted.clear()  # a new episode deserves a new alert
            log.info("whatsapp: connected as %s", event.get("phone") or "?")
        elif state in ("disconnected", "unreachable", "unstable"):
            log.warning("whatsapp: %s%s", state, f" ({detail})" if detail else "")
        self._publish({"state": state, "detail": detail, "phone": event.get("phone")})

    def _publish(self, state: dict[str, Any]) -> None:
        """The state file `taros whatsapp status` reads while this process serves."""
        previous = self._state
        phone = state.get("phone") or previous.get("phone")
        since = previous.get("since") if previous.get("state") == state["state"] else None
        self._state = {
            **state,
            "phone": phone,
            "since": since or datetime.now(UTC).isoformat(timespec="seconds"),
            "pid": self._supervisor.pid,
        }
        try:
            write_state(self.data_dir, self._state)
        except OSError as exc:
            log.warning("whatsapp: could not write the state file: %s", exc)

    def _chore(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)


def _discard(received: Received) -> None:
    for path in received.files:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)

