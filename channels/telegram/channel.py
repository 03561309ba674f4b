"""The Telegram channel: python-telegram-bot 22 behind the TAROS channel contract.

The channel holds a PTB :class:`~telegram.ext.Application`, built against
``TAROS_TELEGRAM_API_URL`` (``{url}/bot<token>/<method>``, files from
``{url}/file/bot<token>/<path>``) with no rate limiter, no persistence and no ``Updater``; it
uses the Application's bot for every Bot API call. Updates are fetched by
:mod:`channels.telegram.updates`, which confirms an update to Telegram only once the
engine has committed it (PTB's ``Updater`` confirms on receipt). Each update is classified
(:mod:`channels.telegram.inbound`) and handed to the engine without waiting: the engine
keeps each chat's order and runs chats concurrently, so one busy chat never holds up polling
or the other chats. (Updates do not go through ``Application.process_update``: without a
persistence it remembers every chat and user id it ever saw.)

Sending (called by the outbox dispatcher, one message at a time per chat) is paced
proactively (:mod:`channels.pacing`) and reports failures as the dispatcher's
:class:`RetryAfter`, :class:`Transient` or :class:`Permanent`. Options become an inline
keyboard; the keyboard of a question that was answered, pressed or replaced is edited away.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram import error as tg
from telegram.ext import Application, ApplicationBuilder

from channels.base import (
    ChannelBase,
    ChannelUnavailable,
    HttpRoute,
    InboundHandler,
    Permanent,
    Transient,
)
from channels.delivery import PartialSends
from channels.pacing import Pacer, Rate, Window
from channels.telegram.albums import AlbumBuffer
from channels.telegram.chores import Chores
from channels.telegram.inbound import (
    FromGroup,
    Ignore,
    Press,
    Private,
    classify,
)
from channels.telegram.keyboards import KeyboardLedger, OptionCodec, keyboard
from channels.telegram.outbound import (
    MAX_TEXT,
    Part,
    delivery_error,
    plan,
)
from channels.telegram.texts import MENU_LANGUAGES, command_menu, group_notice
from channels.telegram.updates import (
    SECRET_HEADER,
    Poller,
    WebhookServer,
    read_update,
    refuse_secret,
)
from conversations.i18n import _, default_locale, use_locale
from conversations.messages import FetchBytes, Inbound, Media, Outbound

__all__ = ["TelegramChannel", "TelegramOptions", "TelegramUnavailable", "Webhook"]

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
ALLOWED_UPDATES = ("message", "callback_query")
TELEGRAM_OVERALL = Window(30, 1.0)  # Telegram: about 30 calls a second, edits included
TELEGRAM_PER_CHAT = Rate(1.0, 3)  # about one a second per chat; short bursts are tolerated


WEBHOOK_ANSWER_WITHIN = 50.0
WebHandler = Callable[[web.Request], Awaitable[web.Response]]


class TelegramUnavailable(ChannelUnavailable):
    """The channel cannot start: the token was rejected or the Bot API is unreachable."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """Receive updates on ``host:port`` for ``url`` (TLS terminated by a reverse proxy)."""

    url: str
    host: str = "127.0.0.1"
    port: int = 8443
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    shared: bool = False  # served by the application's HTTP server (TAROS_HTTP), not its own


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    overall: Rate | Window = TELEGRAM_OVERALL
    per_chat: Rate = TELEGRAM_PER_CHAT
    album_wait: float = 1.0  # an album is complete when no part came for this long
    poll_timeout: float = 30.0
    busy_interval: float = 0.25
    stop_grace: float = 20.0
    download_timeout: float = 120.0


class TelegramChannel(ChannelBase):
    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API,
        webhook: Webhook | None = None,
        options: TelegramOptions | None = None,
        name: str = "telegram",
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required")
        self.name = name
        self.only_chat: str | None = None
        self.api_url = api_url.rstrip("/")
        self.webhook = webhook
        self.options = options or TelegramOptions()
        self._token = token
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._on_inbound: InboundHandler | None = None
        self._receiving = False
        self._codec = OptionCodec()
        self._keyboards = KeyboardLedger()
        self._pacer = Pacer(self.options.overall, self.options.per_chat)
        self._albums = AlbumBuffer(self.options.album_wait, self._submit)
        self._partial: PartialSends[Part] = PartialSends()
        self._handling: set[asyncio.Future[object]] = set()
        self._chores = Chores(self._bot, self._pacer)
        self._inflight: dict[int, asyncio.Future[bool]] = {}
        self._poller: Poller | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._server: WebhookServer | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, on_inbound: InboundHandler) -> None:
        if self._app is not None:
            return
        self._on_inbound = on_inbound
        app = self._build()
        try:
            await app.initialize()  # getMe: checks the token
        except tg.InvalidToken:
            await app.shutdown()
            raise TelegramUnavailable("the Bot API rejected TAROS_TELEGRAM_TOKEN") from None
        except tg.TelegramError as exc:
            await app.shutdown()
            raise TelegramUnavailable(
                f"cannot reach the Bot API at {self.api_url} ({type(exc).__name__})"
            ) from None
        self._app = app
        self._receiving = True
        try:
            await self._set_commands()
            if self.webhook is not None:
                await self._start_webhook(self.webhook)
            else:
                await self._start_polling()
        except BaseException:
            await self.stop()
            raise
        log.info(
            "telegram: serving @%s (%s)",
            app.bot.username,
            "webhook" if self.webhook else "long polling",
        )

    async def stop(self) -> None:
        app = self._app
        if app is None:
            return
        self._receiving = False
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
            self._poll_task = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        self._albums.flush_all()
        if self._handling:  # let the engine commit what was received
            await asyncio.wait(list(self._handling), timeout=self.options.stop_grace)
            await asyncio.sleep(0)  # let the finished updates be marked done
        if self._poller is not None:
            await self._poller.confirm()
            self._poller = None
        await self._chores.drain(within=2.0)
        self._app = None
        await app.shutdown()

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """No updater (see telegram_updates), no job queue, no persistence, no rate limiter
        (PTB's would pause every chat on one 429; the dispatcher and the pacer do better)."""
        return (
            ApplicationBuilder()
            .token(self._token)
            .base_url(f"{self.api_url}/bot")
            .base_file_url(f"{self.api_url}/file/bot")
            .updater(None)
            .job_queue(None)
            .connection_pool_size(64)
            .connect_timeout(10.0)
            .read_timeout(20.0)
            .write_timeout(20.0)
            .pool_timeout(10.0)
            .media_write_timeout(60.0)
            .build()
        )

    async def _set_commands(self) -> None:
        bot = self._bot()
        for language in MENU_LANGUAGES:
            menu = [BotCommand(command, text) for command, text in command_menu(language)]
            try:
                await bot.set_my_commands(
                    menu, language_code=None if language == "id" else language
                )
            except tg.TelegramError as exc:
                log.warning("telegram: setMyCommands (%s) failed: %s", language, type(exc).__name__)

    async def _start_polling(self) -> None:
        bot = self._bot()
        try:
            await bot.delete_webhook(drop_pending_updates=False)
        except tg.TelegramError as exc:
            raise TelegramUnavailable(f"deleteWebhook failed: {exc.message}") from None
        self._poller = Poller(
            bot,
            self._dispatch,
            allowed_updates=ALLOWED_UPDATES,
            timeout=self.options.poll_timeout,
            busy_interval=self.options.busy_interval,
        )
        self._poll_task = asyncio.create_task(self._poller.run(), name="telegram polling")

    async def _start_webhook(self, webhook: Webhook) -> None:
        if not webhook.shared:
            self._server = WebhookServer(
                webhook.host,
                webhook.port,
                path=urlsplit(webhook.url).path or "/",
                secret=webhook.secret,
                accept=self._accept,
                loop=asyncio.get_running_loop(),
            )
            self._server.start()
        try:
            await self._bot().set_webhook(
                webhook.url,
                secret_token=webhook.secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
        except tg.TelegramError as exc:
            raise TelegramUnavailable(f"setWebhook failed: {exc.message}") from None

    @property
    def connected(self) -> bool:
        """Started and receiving."""
        return self._app is not None and self._receiving

    def http_routes(self) -> list[HttpRoute]:
        """The webhook, to be served by the application's HTTP server (``TAROS_HTTP``)."""
        if self.webhook is None or not self.webhook.shared:
            return []
        return [("POST", urlsplit(self.webhook.url).path or "/", self._webhook_request)]

    async def _webhook_request(self, request: web.Request) -> web.Response:
        """One webhook call: 200 once the update is committed, 503 to have it sent again."""
        assert self.webhook is not None
        refused = refuse_secret(request.headers.get(SECRET_HEADER), self.webhook.secret.encode())
        if refused is not None:
            return web.Response(status=refused)
        if request.content_length is None or request.content_length > WebhookServer.max_body:
            return web.Response(status=411 if request.content_length is None else 413)
        data = read_update(await request.read())
        if data is None:
            return web.Response(status=400)
        try:
            async with asyncio.timeout(WEBHOOK_ANSWER_WITHIN):
                handled = await self._accept(data)
        except TimeoutError:
            return web.Response(status=503)  # still being handled; the repeat is ignored
        return web.Response(status=200 if handled else 503)

    @property
    def webhook_port(self) -> int | None:
        return self._server.port if self._server is not None else None

    def _bot(self) -> Bot:
        if self._app is None:
            raise Transient("telegram channel not started")
        return self._app.bot

    # --- receiving -------------------------------------------------------------------------

    async def _dispatch(self, update: Update) -> asyncio.Future[object] | None:
        """Hand ``update`` on; the future is done when it is handled (None: nothing to do)."""
        if not self._receiving:
            return asyncio.get_running_loop().create_future()  # never done: fetched again
        try:
            routed = classify(update, channel=self.name, codec=self._codec, fetch_for=self._fetcher)
            return self._route(routed)
        except Exception:
            log.exception("telegram: update %s could not be handled; dropped", update.update_id)
            return None

    async def _accept(self, data: dict[str, Any]) -> bool:
        """A webhook update; True once handled (then Telegram may forget it)."""
        if not self._receiving:
            return False
        update_id = int(data["update_id"])
        running = self._inflight.get(update_id)
        if running is None:  # Telegram may repeat an update we are still handling
            running = asyncio.ensure_future(self._accept_new(data))
            self._inflight[update_id] = running
            running.add_done_callback(lambda _f: self._inflight.pop(update_id, None))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            return False

    async def _accept_new(self, data: dict[str, Any]) -> bool:
        try:
            update = Update.de_json(data, self._bot())
        except Exception:
            log.error("telegram: update %s could not be read; dropped", data.get("update_id"))
            return True
        handled = await self._dispatch(update)
        if handled is None:
            return True
        try:
            await asyncio.shield(handled)
        except asyncio.CancelledError:
            return False
        return True

    def _route(self, routed: Private | Press | FromGroup | Ignore) -> asyncio.Future[object] | None:
        if isinstance(routed, Private):
            inbound = routed.inbound
            if routed.album is not None:
                return self._albums.add(inbound, routed.album)
            self._albums.flush_chat(inbound.chat_id)
            if routed.typed:
                shown = self._keyboards.take_live(inbound.chat_id)
                if shown is not None:
                    self._chores.retire(inbound.chat_id, shown.message_id)
            return self._submit(inbound)
        if isinstance(routed, Press):
            return self._press(routed)
        if isinstance(routed, FromGroup):
            self._chores.notice_group(
                routed.chat_id, group_notice(default_locale(), self._bot().username)
            )
            return None
        log.debug("telegram: update ignored (%s)", routed.reason)
        return None

    def _press(self, press: Press) -> asyncio.Future[object] | None:
        if press.chat_id is None or press.message_id is None:
            self._chores.answer(press.query_id, None)
            return None
        if press.inbound is None:
            self._chores.answer(press.query_id, _stale_text(None))
            return None
        pressed = self._keyboards.press(
            press.chat_id, press.message_id, press.inbound.chosen_option
        )
        if pressed.stale:  # a double tap is taken silently; another button is told it is old
            notice = None if pressed.repeat else _stale_text(pressed.locale)
            self._chores.answer(press.query_id, notice)
            return None
        self._chores.answer(press.query_id, None)
        self._albums.flush_chat(press.chat_id)
        text = None  # show the choice under a live question; an unknown one just loses its keys
        if pressed.locale is not None and press.text and press.label:
            text = f"{press.text}\n\n» {press.label}"
            text = text if len(text) <= MAX_TEXT else None
        self._chores.retire(press.chat_id, press.message_id, text)
        return self._submit(press.inbound)

    def _submit(self, inbound: Inbound) -> asyncio.Future[object]:
        task: asyncio.Future[object] = asyncio.ensure_future(self._handle(inbound))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
        return task

    async def _handle(self, inbound: Inbound) -> object:
        assert self._on_inbound is not None
        try:
            return await self._on_inbound(inbound)
        except Exception:
            log.exception("telegram: the engine failed on message %s", inbound.message_id)
            return None

    def _fetcher(self, file_id: str) -> FetchBytes:
        async def fetch() -> bytes:
            bot = self._bot()
            file = await bot.get_file(file_id)
            path = file.file_path or ""
            if not path.startswith(bot.base_file_url + "/"):
                # never read a path on this machine because the server said so
                raise ValueError("the Bot API gave a file path outside its file URL")
            data = await file.download_as_bytearray(read_timeout=self.options.download_timeout)
            return bytes(data)

        return fetch

    # --- sending ---------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> None:
        bot = self._bot()
        try:
            chat = int(outbound.chat_id)
        except ValueError:
            raise Permanent(f"not a telegram chat id: {outbound.chat_id!r}") from None

        async def send_part(part: Part) -> None:
            await self._pacer.wait(outbound.chat_id)
            try:
                message = await self._send_part(bot, chat, part, outbound)
            except tg.TelegramError as exc:
                raise delivery_error(exc) from None
            except OSError as exc:
                raise Permanent(f"media file unreadable: {exc}") from None
            if part.keyboard:
                previous = self._keyboards.shown(
                    outbound.chat_id, message.message_id, outbound.locale
                )
                if previous is not None:
                    self._chores.retire(outbound.chat_id, previous.message_id)

        await self._partial.send(outbound, plan(outbound), send_part)

    async def _send_part(self, bot: Bot, chat: int, part: Part, outbound: Outbound) -> Message:
        markup = keyboard(outbound.options, self._codec) if part.keyboard else None
        if part.album:
            return await self._send_album(bot, chat, part.album)
        media = part.media
        if media is None:
            return await bot.send_message(
                chat,
                part.text,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        data = await asyncio.to_thread(media.path.read_bytes)
        upload = InputFile(data, filename=media.path.name)
        caption = part.text or None
        if part.as_photo:
            return await bot.send_photo(chat, upload, caption=caption, reply_markup=markup)
        return await bot.send_document(chat, upload, caption=caption, reply_markup=markup)

    async def _send_album(self, bot: Bot, chat: int, album: tuple[Media, ...]) -> Message:
        """Photos as one album (``sendMediaGroup``); returns its first message."""
        items = []
        for media in album:
            data = await asyncio.to_thread(media.path.read_bytes)
            items.append(
                InputMediaPhoto(
                    InputFile(data, filename=media.path.name, attach=True), caption=media.caption
                )
            )
        messages = await bot.send_media_group(chat, items)
        return messages[0]


def _stale_text(locale: str | None) -> str:
    with use_locale(locale):
        return _("That button is no longer active.")
