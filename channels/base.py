"""The channel contract: how a platform adapter plugs into TAROS.

An adapter translates platform updates into :class:`Inbound` and hands them to the engine
through the ``on_inbound`` callback; it renders :class:`Outbound` on the platform when the
outbox dispatcher calls :meth:`Channel.send`. It holds no dialogue logic and no SQL.

``send`` reports failures with one of three exceptions, so the dispatcher knows what to do
without knowing the platform: :class:`RetryAfter` (the platform said when), :class:`Transient`
(network trouble, 5xx: retry with backoff), :class:`Permanent` (blocked, chat gone: give up on
this message, never block other chats).

Every channel also answers the same few questions about itself, declared in the protocol and
defaulted by :class:`ChannelBase`: whether it is ``connected`` (``/healthz`` and the
``taros_channel_connected`` metric read it), whether its session is ``logged_in`` (false when
the platform ended it from the other side), its ``state`` in its own word, and the
``http_routes`` it wants served on ``TAROS_HTTP`` (a webhook). A channel whose platform reports
later what became of a message (:class:`ReportsDeliveries`) is given a :class:`DeliverySink`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from conversations.messages import Inbound, Option, Outbound

if TYPE_CHECKING:
    from aiohttp import web

InboundHandler = Callable[[Inbound], Awaitable[object]]
HttpHandler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]
HttpRoute = tuple[str, str, HttpHandler]  # method, path, handler


@dataclass(frozen=True, slots=True)
class Ignore:
    """A platform update that is nothing for the engine (a reaction, a service message, a
    status broadcast), and why, for the debug log."""

    reason: str


class ChannelUnavailable(RuntimeError):
    """A configured channel cannot start (credentials refused, platform unreachable); the
    message tells the operator what to do."""


class DeliveryError(Exception):
    """Base of what :meth:`Channel.send` may raise."""


class Transient(DeliveryError):
    """Try again later (network error, server error, not connected)."""


class RetryAfter(Transient):
    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds}s")
        self.seconds = seconds


class Permanent(DeliveryError):
    """This message can never be delivered (user blocked the bot, chat does not exist)."""


class DeliveryStatus(StrEnum):
    """What a platform later says of a message it accepted (WhatsApp Cloud API callbacks)."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A platform's word on an outbox row it accepted earlier. ``resend``: the failure is one
    a new attempt works around (the message goes again, another way: WhatsApp's 24-hour
    window closed, so as a template)."""

    outbox_id: int
    status: DeliveryStatus
    at: datetime
    error: str | None = None
    resend: bool = False


class DeliverySink(Protocol):
    """Where a channel reports what became of the messages it sent (the outbox)."""

    async def delivery_report(self, report: DeliveryReport) -> None: ...


@runtime_checkable
class ReportsDeliveries(Protocol):
    """A channel whose platform tells later what became of a message (sent, delivered, read,
    failed); the application gives it a sink for those reports."""

    def report_deliveries_to(self, sink: DeliverySink) -> None: ...


class Channel(Protocol):
    """What the application asks of every platform adapter (see :class:`ChannelBase`)."""

    name: str
    only_chat: str | None  # a channel serving one chat only (a console session); else None

    async def start(self, on_inbound: InboundHandler) -> None:
        """Begin receiving; each update becomes an Inbound passed to ``on_inbound``.
        May be called again after :meth:`stop`."""
        ...

    async def send(self, outbound: Outbound) -> None:
        """Deliver one message or raise a :class:`DeliveryError`."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release resources; safe to call twice."""
        ...

    @property
    def connected(self) -> bool:
        """True while the channel can receive and send (started, platform reachable)."""
        ...

    @property
    def logged_in(self) -> bool:
        """False when the platform ended the session (the number was logged out, banned)."""
        ...

    @property
    def state(self) -> str:
        """The channel's own word for where it stands (``connected``, ``logged_out``, ...)."""
        ...

    def http_routes(self) -> Sequence[HttpRoute]:
        """The routes the application's HTTP server serves for this channel (a webhook)."""
        ...


class ChannelBase:
    """The defaults of the optional side of :class:`Channel`: a channel that cannot lose its
    connection or its session, and wants no HTTP route."""

    only_chat: str | None = None

    @property
    def connected(self) -> bool:
        return True

    @property
    def logged_in(self) -> bool:
        return True

    @property
    def state(self) -> str:
        return "connected" if self.connected else "disconnected"

    def http_routes(self) -> Sequence[HttpRoute]:
        return ()


def render_options(options: tuple[Option, ...]) -> str:
    """The fallback rendering of options: a numbered list the user answers with the number."""
    return "\n".join(f"{index}. {option.label}" for index, option in enumerate(options, 1))


def render_text(outbound: Outbound) -> str:
    """Text plus numbered options, for channels without native buttons."""
    if not outbound.options:
        return outbound.text
    return f"{outbound.text}\n{render_options(outbound.options)}"
