"""The WhatsApp channel on Meta's Cloud API (the official route), through pywa.

The channel holds a ``pywa_async.WhatsApp`` client whose HTTP client sends every Graph API
call to ``TAROS_WHATSAPP_CLOUD_API_URL`` (:mod:`channels.whatsapp_cloud.graph`). It is named
``whatsapp`` like the linked-device route and keys a citizen by the same E.164 number, so the
two routes are interchangeable for one number: the reporter, the dialogue, the reports and
the outbox stay.

Receiving: Meta posts to ``/webhooks/whatsapp`` on the ``TAROS_HTTP`` server. The GET
handshake answers ``hub.challenge`` when ``hub.verify_token`` matches; every POST must carry
a valid ``X-Hub-Signature-256`` (401 otherwise, nothing read). Each message of a POST becomes
an :class:`Inbound` (:mod:`channels.whatsapp_cloud.inbound`) handed to the engine, and the
POST is answered 200 only once the engine has committed them all (503 after
``answer_within``: Meta posts it again, and the repeat joins the handling still running or is
recognised by its message id). Status callbacks (sent, delivered, read, failed) are reported
to the application's :class:`~channels.base.DeliverySink` (the outbox row), matched by the
``biz_opaque_callback_data`` every send carries (``outbox:<id>``).

Sending (the dispatcher, one message at a time per chat): within 24 hours of the citizen's
last message, free messages with native buttons and lists (:mod:`outbound`); after that, the
template configured for the message's purpose (:mod:`templates`), or, with none, a
:class:`~channels.base.Permanent` error that says why (the outbox keeps it; staff are told).
Paced within the number's throughput (messages received count too) and a gap per person;
Meta's throughput and pair-rate errors make that chat wait; a refused token makes the channel
unhealthy (``/healthz``), alerts the admins on another channel, and keeps the replies waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from pywa_async import WhatsApp
from pywa_async import errors as wa_errors
from pywa_async.types import Button, Section, SectionList, SectionRow

from channels.base import (
    ChannelBase,
    DeliveryReport,
    DeliverySink,
    DeliveryStatus,
    HttpRoute,
    InboundHandler,
    Permanent,
    RetryAfter,
    Transient,
)
from channels.delivery import PartialSends
from channels.pacing import Pacer, Rate
from channels.whatsapp.identity import phone_key
from channels.whatsapp_cloud.graph import DEFAULT_API, graph_session
from channels.whatsapp_cloud.inbound import MediaFetch, read_message, sender_key
from channels.whatsapp_cloud.outbound import (
    Buttons,
    FilePart,
    ListPart,
    Part,
    TextPart,
    TokenRefused,
    Waits,
    WindowClosed,
    delivery_error,
    plan,
    row,
)
from channels.whatsapp_cloud.templates import TemplateBook, components
from channels.whatsapp_cloud.texts import token_alert
from channels.whatsapp_cloud.webhook import MAX_BODY, signed, split
from channels.whatsapp_cloud.window import WINDOW_FILE, WindowBook
from conversations.messages import Inbound, InboundKind, Outbound

__all__ = ["WEBHOOK_PATH", "CloudCredentials", "CloudOptions", "WhatsAppCloudChannel"]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"
GRAPH_VERSION = "23.0"
THROUGHPUT = 80.0  # messages a second, inbound included (Meta's default for a number)
CHAT_GAP = 6.0  # seconds between two messages to one person (Meta's pair rate)
_TRACKER = re.compile(r"outbox:(\d{1,18})")
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
_STATUSES = {s.value: s for s in DeliveryStatus}

AlertSink = Callable[[str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CloudCredentials:
    """What Meta's app dashboard gives (``TAROS_WHATSAPP_CLOUD_*``)."""

    phone_id: str
    token: str
    app_secret: str
    verify_token: str

    def __repr__(self) -> str:  # never the secrets in a log or a traceback
        return f"CloudCredentials(phone_id={self.phone_id!r})"


@dataclass(frozen=True, slots=True)
class CloudOptions:
    api_url: str = DEFAULT_API
    per_second: float = THROUGHPUT
    per_chat: Rate = field(default_factory=lambda: Rate(1.0 / CHAT_GAP, 10))
    templates: dict[str, tuple[str, str]] = field(default_factory=dict)
    max_media_bytes: int = 20 * 1024 * 1024
    media_attempts: int = 3
    media_backoff: float = 1.0
    waits: Waits = field(default_factory=Waits)
    token_wait: float = 60.0  # a refused token: the dispatcher asks again this often
    answer_within: float = 15.0  # a webhook POST is answered 503 after this (Meta resends)
    stop_grace: float = 20.0
    alert_every: float = 6 * 3600.0
    request_timeout: float = 30.0


class WhatsAppCloudChannel(ChannelBase):
    def __init__(
        self,
        credentials: CloudCredentials,
        data_dir: Path,
        *,
        options: CloudOptions | None = None,
        alerts: AlertSink | None = None,
        locale: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        name: str = "whatsapp",
    ) -> None:
        self.name = name
        self.only_chat: str | None = None
        self.credentials = credentials
        self.data_dir = data_dir
        self.options = options or CloudOptions()
        self.alerts = alerts
        self.locale = locale
        self.clock = clock
        self.templates = TemplateBook(self.options.templates)
        rate = self.options.per_second
        self._pacer = Pacer(Rate(rate, max(1, int(rate))), self.options.per_chat)
        self._fetch = MediaFetch(
            self.options.max_media_bytes, self.options.media_attempts, self.options.media_backoff
        )
        self._client: WhatsApp | None = None
        self._session: httpx.AsyncClient | None = None
        self._window: WindowBook | None = None
        self._on_inbound: InboundHandler | None = None
        self._sink: DeliverySink | None = None
        self._receiving = False
        self._token_refused: str | None = None
        self._alerted_at = -math.inf
        self._inflight: dict[str, asyncio.Future[object]] = {}
        self._partial: PartialSends[Part] = PartialSends()
        self._chores: set[asyncio.Task[Any]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_inbound: InboundHandler) -> None:
        if self._client is not None:
            return
        self._window = await WindowBook.open(
            self.data_dir / WINDOW_FILE, self.credentials.app_secret
        )
        self._session = graph_session(self.options.api_url, timeout=self.options.request_timeout)
        self._client = WhatsApp(
            phone_id=self.credentials.phone_id,
            token=self.credentials.token,
            session=self._session,
            verify_token=self.credentials.verify_token,
            app_secret=self.credentials.app_secret,
            api_version=GRAPH_VERSION,
        )
        self._on_inbound = on_inbound
        self._receiving = True
        await self._check_number()

    async def _check_number(self) -> None:
        """Ask the Graph API about the number: a refused token is reported at once (the
        webhook keeps receiving meanwhile); an unreachable API is only logged."""
        assert self._client is not None
        try:
            number = await self._client.get_business_phone_number()
        except wa_errors.AuthorizationError as exc:
            self._refused(f"{exc.code}: {exc.message}")
        except (wa_errors.WhatsAppError, httpx.HTTPError) as exc:
            log.warning("whatsapp cloud: the Graph API did not answer at start: %r", exc)
        else:
            log.info(
                "whatsapp cloud: serving %s (%s), throughput %s",
                number.display_phone_number or "?",
                number.verified_name or "?",
                (number.throughput or {}).get("level", "?")
                if isinstance(number.throughput, dict)
                else number.throughput,
            )

    async def stop(self) -> None:
        if self._client is None:
            return
        self._receiving = False
        running = list(self._inflight.values())
        if running:  # let the engine commit what was received
            await asyncio.wait(running, timeout=self.options.stop_grace)
        for chore in list(self._chores):
            chore.cancel()
        await asyncio.gather(*self._chores, return_exceptions=True)
        self._client = None
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        if self._window is not None:
            await self._window.close()
            self._window = None

    @property
    def connected(self) -> bool:
        """Started and receiving (Meta reaches the webhook through the HTTP server)."""
        return self._client is not None and self._receiving

    @property
    def logged_in(self) -> bool:
        """False while Meta refuses the access token."""
        return self._token_refused is None

    @property
    def state(self) -> str:
        if self._client is None:
            return "stopped"
        return "token_refused" if self._token_refused else "connected"

    def report_deliveries_to(self, sink: DeliverySink) -> None:
        self._sink = sink

    def http_routes(self) -> Sequence[HttpRoute]:
        return (("GET", WEBHOOK_PATH, self._handshake), ("POST", WEBHOOK_PATH, self._webhook))

    # --- the webhook -------------------------------------------------------------------------

    async def _handshake(self, request: web.Request) -> web.Response:
        """Meta's subscription check: echo ``hub.challenge`` for the right verify token."""
        query = request.query
        token = query.get("hub.verify_token", "")
        expected = self.credentials.verify_token
        if query.get("hub.mode") != "subscribe" or not _same(token, expected):
            log.warning("whatsapp cloud: a webhook verification with a wrong token was refused")
            return web.Response(status=403, text="Forbidden")
        return web.Response(text=query.get("hub.challenge", ""))

    async def _webhook(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is None or length > MAX_BODY:
            return web.Response(status=411 if length is None else 413)
        body = await request.read()
        if not signed(
            body, request.headers.get("X-Hub-Signature-256"), self.credentials.app_secret
        ):
            log.warning("whatsapp cloud: a webhook POST without a valid signature was refused")
            return web.Response(status=401, text="Unauthorized")
        if not self._receiving:
            return web.Response(status=503)  # Meta posts it again later
        items = split(body)
        if items is None:
            return web.Response(status=400, text="Bad Request")
        jobs = [
            self._accept(item.body, item.value)
            if item.kind == "message"
            else self._status(item.value)
            for item in items
        ]
        try:
            async with asyncio.timeout(self.options.answer_within):
                outcomes = await asyncio.gather(*jobs)
        except TimeoutError:
            return web.Response(status=503)  # still being handled; the repeat joins it
        return web.Response(status=200 if all(outcomes) else 503)

    async def _accept(self, body: bytes, value: dict[str, Any]) -> bool:
        """A message of the webhook; True once handled (Meta may then forget it)."""
        message = value["messages"][0]
        wamid = message.get("id")
        if not isinstance(wamid, str) or not wamid or len(wamid) > 256:
            log.warning("whatsapp cloud: a message without an id was dropped")
            return True
        running = self._inflight.get(wamid)
        if running is None:  # Meta may post a message again while it is being handled
            running = asyncio.ensure_future(self._handle(body, value))
            self._inflight[wamid] = running
            running.add_done_callback(lambda _f: self._inflight.pop(wamid, None))
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            return False
        return True

    async def _handle(self, body: bytes, value: dict[str, Any]) -> object:
        client, window, on_inbound = self._client, self._window, self._on_inbound
        assert client is not None and window is not None and on_inbound is not None
        self._pacer.record()  # a message received counts against the number's throughput
        now = self.clock()
        try:
            parsed = read_message(
                client, body, value, channel=self.name, fetch=self._fetch, now=now
            )
        except Exception as exc:
            inbound = self._unreadable(value, now, exc)
            if inbound is None:
                return None
        else:
            if parsed.inbound is None:
                log.debug("whatsapp cloud: %s ignored", parsed.ignored)
                return None
            inbound = parsed.inbound
        await window.wrote(inbound.chat_id, inbound.timestamp)
        try:
            return await on_inbound(inbound)
        except Exception:
            log.exception("whatsapp cloud: the engine failed on message %s", inbound.message_id)
            return None

    def _unreadable(self, value: dict[str, Any], now: datetime, exc: Exception) -> Inbound | None:
        """A message pywa could not read is answered as unsupported, when its sender is known."""
        message = value["messages"][0]
        key = sender_key(value, message)
        log.warning(
            "whatsapp cloud: a %s message could not be read (%s: %s)",
            str(message.get("type"))[:20],
            type(exc).__name__,
            str(exc)[:200],
        )
        if key is None:
            return None
        return Inbound(
            channel=self.name,
            chat_id=key,
            sender_id=key,
            message_id=str(message["id"]),
            timestamp=now,
            kind=InboundKind.UNSUPPORTED,
        )

    async def _status(self, value: dict[str, Any]) -> bool:
        """A status callback: the outbox row it is about is told (read here, not through
        pywa: pywa's ``MessageStatus`` needs a contact ``user_id`` that the callback of an
        undeliverable message does not carry, pywa issues #188 and #227)."""
        status = value["statuses"][0]
        word = _STATUSES.get(str(status.get("status")))
        if word is None:
            return True  # "deleted", "warning", ...: nothing for the outbox
        recipient = str(status.get("recipient_id") or "")
        errors = status.get("errors") or value.get("errors") or []
        error = errors[0] if errors and isinstance(errors[0], dict) else None
        code = error.get("code") if error else None
        detail = (
            f"whatsapp cloud {code}: {error.get('title') or error.get('message')}"
            if error
            else None
        )
        resend = word is DeliveryStatus.FAILED and code == 131047
        if resend and self._window is not None:
            await self._window.closed(phone_key(recipient) or recipient)
        if word is DeliveryStatus.FAILED:
            log.warning("whatsapp cloud: a message to %s failed: %s", recipient, detail)
        tracker = _TRACKER.fullmatch(str(status.get("biz_opaque_callback_data") or ""))
        if tracker is None or self._sink is None:
            return True
        report = DeliveryReport(
            outbox_id=int(tracker[1]),
            status=word,
            at=_stamp(status.get("timestamp"), self.clock()),
            error=detail,
            resend=resend,
        )
        try:
            await self._sink.delivery_report(report)
        except Exception:
            log.exception("whatsapp cloud: a delivery report could not be recorded")
            return False  # Meta posts it again
        return True

    # --- sending -----------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> None:
        key = outbound.chat_id
        if phone_key(key) != key and not _BSUID.fullmatch(key):
            raise Permanent(f"not a WhatsApp number: {key!r}")
        client, window = self._client, self._window
        if client is None or window is None:
            raise Transient("whatsapp cloud channel not started")
        if self._token_refused is not None:
            raise RetryAfter(self.options.token_wait, f"token refused: {self._token_refused}")
        tracker = f"outbox:{outbound.outbox_id}" if outbound.outbox_id is not None else None
        if window.is_open(key, self.clock()):
            try:
                await self._partial.send(
                    outbound,
                    plan(outbound),
                    lambda part: self._send_part(client, key, part, tracker),
                )
                return
            except WindowClosed:
                await window.closed(key)
        await self._send_template(client, outbound, tracker)

    async def _send_part(self, client: WhatsApp, key: str, part: Part, tracker: str | None) -> None:
        await self._pacer.wait(key)
        await self._call(self._part_call(client, key, part, tracker))

    def _part_call(
        self, client: WhatsApp, key: str, part: Part, tracker: str | None
    ) -> Awaitable[object]:
        if isinstance(part, TextPart):
            return client.send_message(key, part.text, tracker=tracker)
        if isinstance(part, Buttons):
            buttons = [Button(title=o.label, callback_data=o.id) for o in part.options]
            return client.send_message(key, part.text, buttons=buttons, tracker=tracker)
        if isinstance(part, ListPart):
            rows = []
            for option in part.options:
                title, description = row(option)
                rows.append(
                    SectionRow(title=title, callback_data=option.id, description=description)
                )
            menu = SectionList(
                button_title=part.button, sections=[Section(title=part.button, rows=rows)]
            )
            return client.send_message(key, part.text, buttons=menu, tracker=tracker)
        return self._send_file(client, key, part, tracker)

    async def _send_file(
        self, client: WhatsApp, key: str, part: FilePart, tracker: str | None
    ) -> object:
        media = part.media
        data = await asyncio.to_thread(media.path.read_bytes)
        caption = part.caption or None
        if media.mime.startswith("image/"):
            return await client.send_image(
                key, data, caption=caption, mime_type=media.mime, tracker=tracker
            )
        if media.mime.startswith("video/"):
            return await client.send_video(
                key, data, caption=caption, mime_type=media.mime, tracker=tracker
            )
        return await client.send_document(
            key,
            data,
            filename=media.path.name,
            caption=caption,
            mime_type=media.mime,
            tracker=tracker,
        )

    async def _send_template(
        self, client: WhatsApp, outbound: Outbound, tracker: str | None
    ) -> None:
        key = outbound.chat_id
        template = outbound.template
        ref = self.templates.get(template.purpose) if template is not None else None
        if template is None or ref is None:
            raise Permanent(self._why_not(outbound))
        await self._pacer.wait(key)
        await self._call(
            client.send_template(
                key,
                name=ref.name,
                language=ref.language,
                params=components(template, outbound.options),
                tracker=tracker,
            )
        )

    def _why_not(self, outbound: Outbound) -> str:
        """Why ``outbound`` cannot go: the window is closed and no template serves it."""
        last = self._window.last(outbound.chat_id) if self._window is not None else None
        since = f"last wrote {last:%Y-%m-%d %H:%M} UTC" if last else "has not written on this route"
        template = outbound.template
        if template is None:
            return (
                f"outside WhatsApp's 24-hour window (the person {since}), and this kind of"
                " message has no template; it reaches them once they write again"
            )
        return (
            f"outside WhatsApp's 24-hour window (the person {since}), and no template is"
            f" configured for {template.purpose.value} messages: set"
            f" TAROS_WHATSAPP_CLOUD_TEMPLATE_{template.purpose.value.upper()}"
        )

    async def _call(self, call: Awaitable[object]) -> None:
        try:
            await call
        except Exception as exc:
            error = delivery_error(exc, self.options.waits)
            if isinstance(error, TokenRefused):
                self._refused(str(error))
                raise RetryAfter(self.options.token_wait, str(error)) from None
            raise error from None

    # --- a refused token -----------------------------------------------------------------------

    def _refused(self, detail: str) -> None:
        """The access token is refused: unhealthy until a restart with a new one; the admins
        and the Kapolres are told on their other channels (at most every ``alert_every``)."""
        self._token_refused = detail
        log.error("whatsapp cloud: the access token was refused (%s)", detail)
        now = time.monotonic()
        if self.alerts is None or now - self._alerted_at < self.options.alert_every:
            return
        self._alerted_at = now
        text = token_alert(detail, self.locale)
        task = asyncio.ensure_future(self._announce(text))
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _announce(self, text: str) -> None:
        assert self.alerts is not None
        try:
            await self.alerts(text)
        except Exception:
            log.exception("whatsapp cloud: could not queue the alert for the admins")


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets of any length."""
    digest = hashlib.sha256
    return hmac.compare_digest(digest(given.encode()).digest(), digest(expected.encode()).digest())


def _stamp(value: object, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return now
