"""What ``/metrics`` and ``/healthz`` report, with the official Prometheus client.

Counters move as messages pass (the engine's and the dispatcher's ``observer`` hooks, wired by
:func:`observe`, which also writes the one log line per message); gauges are read from the
database and the channels when scraped (:meth:`Metrics.refresh`). Each :class:`Metrics` has its
own registry, so several applications in one process (the tests) do not mix.

- ``taros_inbound_messages_total{channel, outcome}`` (counter): messages received; outcome
  is applied, duplicate, limited, blocked, failed or stale.
- ``taros_outbound_messages_total{channel, status}`` (counter): replies sent, failed (given
  up) or retried.
- ``taros_handler_errors_total{channel}`` (counter): handling raised, nothing was committed.
- ``taros_outbox_backlog`` / ``taros_outbox_oldest_age_seconds`` (gauges): replies waiting
  for the channels served here, and how long the oldest has waited.
- ``taros_tickets{status}``, ``taros_tickets_overdue`` (gauges): tickets by status; open ones
  past the response promise with no response yet.
- ``taros_channel_connected{channel}``, ``taros_whatsapp_logged_in``, ``taros_database_up``
  (gauges, 0 or 1).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiosqlite
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from bot.clock import from_db, to_db
from bot.ops.logs import message_line
from conversations.domain import ChannelName, TicketStatus
from conversations.engine import Handled
from conversations.messages import Inbound
from conversations.ports import CommitOutcome, CommitResult

if TYPE_CHECKING:
    from bot.app import App
    from bot.storage.outbox import OutboxRow
    from conversations.ports import Timer

log = logging.getLogger(__name__)

TICKET_STATUSES = tuple(TicketStatus)
DATABASE_TIMEOUT = 5.0
_REMEMBERED = 10_000  # outbox rows whose ticket number is kept for the log line


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state of a running TAROS, read at one moment."""

    database_ok: bool
    database_error: str | None
    channels: dict[str, bool]  # name -> connected
    whatsapp_logged_in: bool | None  # None: no WhatsApp channel here
    outbox_pending: int = 0
    outbox_oldest_age: float = 0.0  # seconds
    tickets: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    whatsapp_state: str | None = None  # the WhatsApp channel's own word for its state


async def read_snapshot(app: App) -> Snapshot:
    channels = {name: c.connected for name, c in app.channels.items()}
    whatsapp = app.channels.get(ChannelName.WHATSAPP)
    session_ok = whatsapp.logged_in if whatsapp is not None else None
    state = whatsapp.state if whatsapp is not None else None
    served = tuple(app.channels)
    now = app.clock.now()

    async def job(conn: aiosqlite.Connection) -> tuple[int, str | None, dict[str, int], int]:
        pending, oldest = 0, None
        if served:
            marks = ",".join("?" for _ in served)
            async with conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM outbox"
                f" WHERE sent_at IS NULL AND failed_at IS NULL AND channel IN ({marks})",
                served,
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                pending, oldest = int(row[0]), row[1]
        async with conn.execute("SELECT status, COUNT(*) FROM tickets GROUP BY status") as cursor:
            tickets = {str(r[0]): int(r[1]) for r in await cursor.fetchall()}
        async with conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE status NOT IN ('selesai', 'ditolak')"
            " AND first_response_at IS NULL AND due_at < ?",
            (to_db(now),),
        ) as cursor:
            row = await cursor.fetchone()
        return pending, oldest, tickets, int(row[0]) if row else 0

    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            pending, oldest, tickets, overdue = await app.db.read(job)
    except Exception as exc:
        return Snapshot(
            False, f"{type(exc).__name__}: {exc}", channels, session_ok, whatsapp_state=state
        )
    age = max(0.0, (now - from_db(oldest)).total_seconds()) if oldest else 0.0
    return Snapshot(
        True, None, channels, session_ok, pending, age, tickets, overdue, whatsapp_state=state
    )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.inbound = Counter(
            "taros_inbound_messages",
            "Messages received, by channel and what became of them",
            ["channel", "outcome"],
            registry=r,
        )
        self.outbound = Counter(
            "taros_outbound_messages",
            "Replies delivered (sent), given up (failed) or retried, by channel",
            ["channel", "status"],
            registry=r,
        )
        self.handler_errors = Counter(
            "taros_handler_errors",
            "Messages or timers whose handling raised (nothing was committed)",
            ["channel"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "taros_outbox_backlog", "Replies waiting to be delivered", registry=r
        )
        self.outbox_oldest = Gauge(
            "taros_outbox_oldest_age_seconds",
            "How long the oldest waiting reply has waited",
            registry=r,
        )
        self.tickets = Gauge("taros_tickets", "Tickets by status", ["status"], registry=r)
        self.overdue = Gauge(
            "taros_tickets_overdue",
            "Open tickets past the response promise with no response yet",
            registry=r,
        )
        self.connected = Gauge(
            "taros_channel_connected", "1 when the channel is connected", ["channel"], registry=r
        )
        self.whatsapp_logged_in = Gauge(
            "taros_whatsapp_logged_in", "1 when the WhatsApp session is logged in", registry=r
        )
        self.database_up = Gauge("taros_database_up", "1 when the database answered", registry=r)
        for status in TICKET_STATUSES:
            self.tickets.labels(status)
        self._tickets_of: OrderedDict[int, str] = OrderedDict()

    # --- counters, from the engine and the dispatcher ----------------------------------------

    def on_handled(self, item: Inbound | Timer, result: Handled | CommitResult | None) -> None:
        channel = item.key.channel
        outcome = _outcome(result)
        ticket = None
        if isinstance(result, CommitResult) and result.ticket is not None:
            ticket = result.ticket.number
        if outcome == Handled.FAILED:
            self.handler_errors.labels(channel).inc()
        if isinstance(result, CommitResult) and ticket is not None:
            for outbox_id in result.outbox_ids:
                self._tickets_of[outbox_id] = ticket
            while len(self._tickets_of) > _REMEMBERED:
                self._tickets_of.popitem(last=False)
        if not isinstance(item, Inbound):
            return  # a fired timer: no message came in
        self.inbound.labels(channel, outcome.value).inc()
        message_line("inbound", channel, outcome.value, ticket=ticket)

    def on_delivery(self, row: OutboxRow, status: str) -> None:
        channel = row.outbound.channel
        self.outbound.labels(channel, status).inc()
        ticket = self._tickets_of.get(row.id)
        if status != "retried":
            self._tickets_of.pop(row.id, None)
        message_line("outbound", channel, status, outbox=row.id, ticket=ticket)

    # --- gauges, when scraped ------------------------------------------------------------------

    def update(self, snapshot: Snapshot) -> None:
        self.database_up.set(1 if snapshot.database_ok else 0)
        for name, connected in snapshot.channels.items():
            self.connected.labels(name).set(1 if connected else 0)
        self.whatsapp_logged_in.set(1 if snapshot.whatsapp_logged_in else 0)
        if not snapshot.database_ok:
            return
        self.outbox_backlog.set(snapshot.outbox_pending)
        self.outbox_oldest.set(snapshot.outbox_oldest_age)
        for status in {*TICKET_STATUSES, *snapshot.tickets}:
            self.tickets.labels(status).set(snapshot.tickets.get(status, 0))
        self.overdue.set(snapshot.overdue)

    async def refresh(self, app: App) -> Snapshot:
        snapshot = await read_snapshot(app)
        self.update(snapshot)
        return snapshot

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _outcome(result: Handled | CommitResult | None) -> Handled:
    if isinstance(result, Handled):
        return result
    if result is None or result.outcome == CommitOutcome.DUPLICATE:
        return Handled.DUPLICATE
    if result.outcome == CommitOutcome.STALE:
        return Handled.STALE
    return Handled.APPLIED


def observe(app: App, metrics: Metrics) -> None:
    """Count and log every message ``app`` handles and delivers."""
    app.engine.observer = metrics.on_handled
    app.dispatcher.observer = metrics.on_delivery
