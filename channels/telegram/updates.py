"""Receiving updates so that none is lost: Telegram forgets an update only once it is handled.

python-telegram-bot's ``Updater`` confirms a batch of updates as soon as it has queued them
(its next ``getUpdates`` carries the higher offset, and its webhook answers 200 before any
handler runs), so a crash between receiving and committing would lose what the citizen sent.
Here the offset only moves past an update once the engine has committed it (or it was
deliberately dropped): a crash means Telegram sends it again, and the engine's
``(channel, message id)`` record makes the repeat harmless.

- :class:`Poller` long-polls ``getUpdates``. While some update is still being handled the
  offset stays at the oldest one, so the poller asks again briefly (``busy_interval``) for
  newer updates instead of long-polling; Telegram returns at most 100 updates past the offset.
- :class:`WebhookServer` answers Telegram's POST only when the update is handled (or 503 if
  that takes too long, and Telegram tries again). It checks the secret token header.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import json
import logging
import socket
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram import error as tg

from channels.telegram.outbound import retry_seconds

__all__ = ["Poller", "UpdateTracker", "WebhookServer"]

log = logging.getLogger(__name__)

Dispatch = Callable[[Update], Awaitable["asyncio.Future[object] | None"]]
_REMEMBERED = 10_000


class UpdateTracker:
    """Which fetched updates are still being handled; ``offset`` is what may be confirmed."""

    def __init__(self) -> None:
        self._pending: set[int] = set()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._next: int | None = None
        self._changed = asyncio.Event()

    def batch(self, updates: Sequence[Update]) -> None:
        if updates:
            self._next = updates[-1].update_id + 1

    def begin(self, update_id: int) -> bool:
        """True for an update not seen before (it is now pending)."""
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
        self._pending.add(update_id)
        return True

    def follow(self, update_id: int, handled: asyncio.Future[object] | None) -> None:
        """The update is finished when ``handled`` is (now when None). A cancelled one (the
        bot stopped first) stays pending, so it is fetched again after a restart."""
        if handled is None:
            self._finish(update_id)
            return

        def done(future: asyncio.Future[object]) -> None:
            if not future.cancelled():
                self._finish(update_id)

        handled.add_done_callback(done)

    def _finish(self, update_id: int) -> None:
        self._pending.discard(update_id)
        self._changed.set()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def offset(self) -> int | None:
        return min(self._pending) if self._pending else self._next

    async def changed(self, within: float) -> None:
        """Wait until some update finished, or ``within`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._changed.wait()
        self._changed.clear()


class Poller:
    def __init__(
        self,
        bot: Bot,
        dispatch: Dispatch,
        *,
        allowed_updates: Sequence[str],
        timeout: float = 30.0,
        busy_interval: float = 0.25,
    ) -> None:
        self.bot = bot
        self.dispatch = dispatch
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self.busy_interval = busy_interval
        self.tracker = UpdateTracker()

    async def run(self) -> None:
        failures = 0
        while True:
            busy = self.tracker.busy
            if busy:
                await self.tracker.changed(self.busy_interval)
                busy = self.tracker.busy
            try:
                updates = await self.bot.get_updates(
                    offset=self.tracker.offset,
                    timeout=0 if busy else int(self.timeout),
                    limit=100,
                    allowed_updates=self.allowed_updates,
                )
            except Exception as exc:
                failures += 1
                await asyncio.sleep(_pause(exc, failures))
                continue
            failures = 0
            self.tracker.batch(updates)
            for update in updates:
                if self.tracker.begin(update.update_id):
                    self.tracker.follow(update.update_id, await self.dispatch(update))

    async def confirm(self) -> None:
        """Tell Telegram to forget every handled update (called when stopping)."""
        offset = self.tracker.offset
        if offset is None:
            return
        try:
            await self.bot.get_updates(offset=offset, timeout=0, limit=1)
        except tg.TelegramError as exc:
            log.warning(
                "could not confirm the last updates (%s); they will come again, "
                "and repeats are ignored",
                type(exc).__name__,
            )


def _pause(exc: Exception, failures: int) -> float:
    backoff = min(30.0, 2.0 ** min(failures, 5))
    if isinstance(exc, tg.RetryAfter):
        return retry_seconds(exc)
    if isinstance(exc, tg.TimedOut):
        return 1.0
    if isinstance(exc, tg.InvalidToken):
        log.error("the Bot API rejected TAROS_TELEGRAM_TOKEN; trying again in 60 s")
        return 60.0
    if isinstance(exc, tg.Conflict):
        log.error(
            "another process is receiving this bot's updates (another taros run, or a "
            "webhook); trying again in %.0f s",
            backoff,
        )
        return backoff
    if isinstance(exc, tg.TelegramError):
        log.warning(
            "getUpdates failed (%s: %s); trying again in %.0f s",
            type(exc).__name__,
            exc.message,
            backoff,
        )
        return backoff
    log.error("getUpdates failed unexpectedly; trying again in %.0f s", backoff, exc_info=exc)
    return backoff


Accept = Callable[[dict[str, Any]], Coroutine[Any, Any, bool]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def refuse_secret(given: str | None, expected: bytes) -> int | None:
    """403 unless the request carries the secret token set with setWebhook."""
    if given is None or not hmac.compare_digest(given.encode(), expected):
        return 403
    return None


def read_update(body: bytes) -> dict[str, Any] | None:
    """The update in a webhook request body, or None when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    return data


class WebhookServer:
    """A small HTTP server (standard library, one thread per connection) for Telegram's
    webhook; TLS is the reverse proxy's job."""

    max_body = 1 << 20

    def __init__(
        self,
        host: str,
        port: int,
        *,
        path: str,
        secret: str,
        accept: Accept,
        loop: asyncio.AbstractEventLoop,
        answer_within: float = 50.0,
    ) -> None:
        self.path = path or "/"
        self.secret = secret.encode()
        self.accept = accept
        self.loop = loop
        self.answer_within = answer_within
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None
        # The application's context (its default language, ...), in which each update is
        # handled: a connection's thread has a context of its own, empty.
        self._context = contextvars.copy_context()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="telegram webhook", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            await asyncio.to_thread(self._server.shutdown)
            self._thread = None
        self._server.server_close()

    def check(self, path: str, secret: str | None) -> int | None:
        """A refusal status for the request line and headers, or None to read the body."""
        if urlsplit(path).path != self.path:
            return 404
        return refuse_secret(secret, self.secret)

    async def _accept_in_context(self, data: dict[str, Any]) -> bool:
        return await asyncio.create_task(self.accept(data), context=self._context.copy())

    def handle(self, body: bytes) -> int:
        """The HTTP status for one update (runs in the connection's thread)."""
        data = read_update(body)
        if data is None:
            return 400
        future = asyncio.run_coroutine_threadsafe(self._accept_in_context(data), self.loop)
        try:
            handled = future.result(self.answer_within)
        except TimeoutError:
            return 503  # still being handled; Telegram sends it again, the repeat is ignored
        except Exception:
            log.exception("webhook update failed")
            return 500
        return 200 if handled else 503


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def _handler_for(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120
        server_version = "taros"
        sys_version = ""

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                length = -1
            if not 0 <= length <= server.max_body:
                self.close_connection = True  # the body is not read
                self._reply(411 if length < 0 else 413)
                return
            body = self.rfile.read(length)
            status = server.check(self.path, self.headers.get(SECRET_HEADER))
            self._reply(status if status is not None else server.handle(body))

        def do_GET(self) -> None:
            self._reply(405)

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("webhook: " + format, *args)

    return Handler
