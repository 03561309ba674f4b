"""A fake Telegram Bot API server for the tests (aiohttp, 127.0.0.1, a free port).

The real python-telegram-bot ``Application`` of the product talks to it over HTTP exactly as
it would to ``api.telegram.org``: ``{url}/bot<token>/<method>`` and
``{url}/file/bot<token>/<path>``. It implements the methods TAROS calls (getMe,
deleteWebhook, setWebhook, getUpdates with offsets and long-poll timeouts, sendMessage,
sendPhoto, sendDocument, sendMediaGroup, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, getFile, setMyCommands, close, logOut), records every call, keeps the
chat as the user would see it (messages with their current keyboards), and can misbehave on
request: 429 with ``retry_after``, 502, 403 for a chat, latency.

Tests put updates in its queue with helpers that build them like Telegram does
(:meth:`FakeBotApi.text`, :meth:`photo`, :meth:`album`, :meth:`location`, :meth:`press`,
:meth:`group_text`, ...).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from local_http import LocalServer

TOKEN = "424242:FAKE-token-for-tests_only"
BOT = {
    "id": 424242,
    "is_bot": True,
    "first_name": "TAROS",
    "username": "taros_garut_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
    "entities",
    "caption_entities",
    "reply_parameters",
    "media",
}
SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"}
EDIT_METHODS = {"editMessageText", "editMessageReplyMarkup"}


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class StoredFile:
    file_id: str
    data: bytes | None  # None: announced but never downloadable
    size: int | None
    path: str


@dataclass
class Faults:
    """What the fake does wrong, and how often it did."""

    latency: float = 0.0
    blocked: set[int] = field(default_factory=set)  # 403 for sends and edits to these chats
    flaky_rate: float = 0.0  # share of sends/edits answered 429 or 502
    flaky_methods: frozenset[str] = frozenset(SEND_METHODS | EDIT_METHODS)
    retry_after: int = 1
    file_latency: float = 0.0  # before a file download answers
    scripted: list[tuple[str, ApiError]] = field(default_factory=list)  # next calls that fail
    injected: dict[int, int] = field(default_factory=dict)

    def fail_next(
        self, method: str, status: int, description: str, retry_after: int | None = None
    ) -> None:
        """The next call of ``method`` fails with ``status``."""
        self.scripted.append((method, ApiError(status, description, retry_after)))


class FakeBotApi:
    def __init__(self, token: str = TOKEN, *, seed: int = 7) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.queue: list[dict[str, Any]] = []  # updates not yet confirmed
        self.confirmed = 0  # the highest offset a getUpdates carried
        self.chats: dict[int, list[dict[str, Any]]] = {}  # every message, as the user sees it
        self.files: dict[str, StoredFile] = {}
        self.uploads: list[bytes] = []
        self.downloads: list[str] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._update_ids = itertools.count(5000)
        self._query_ids = itertools.count(900)
        self._file_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._new_update = asyncio.Event()
        self._changed = asyncio.Event()
        self._closing = False
        self._server: LocalServer | None = None
        self.url = ""

    # --- server ----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._server = LocalServer(app)
        self.url = await self._server.start()
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._server is not None:
            await self._server.stop()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        try:
            self._misbehave(method, params)  # limits are counted as calls arrive
            if self.faults.latency and method != "getUpdates":
                await asyncio.sleep(self.faults.latency)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            call.status = exc.status
            self.faults.injected[exc.status] = self.faults.injected.get(exc.status, 0) + 1
            return _error(exc)
        finally:
            self._changed.set()
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        if self.faults.file_latency:
            await asyncio.sleep(self.faults.file_latency)
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None or stored.data is None:
            return web.Response(status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _misbehave(self, method: str, params: dict[str, Any]) -> None:
        faults = self.faults
        for index, (scripted_method, error) in enumerate(faults.scripted):
            if scripted_method == method:
                del faults.scripted[index]
                raise error
        chat = _int(params.get("chat_id"))
        if method in SEND_METHODS | EDIT_METHODS and chat in faults.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if method in faults.flaky_methods and self.rng.random() < faults.flaky_rate:
            if self.rng.random() < 0.5:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {faults.retry_after}",
                    retry_after=faults.retry_after,
                )
            raise ApiError(502, "Bad Gateway")

    # --- Bot API methods -------------------------------------------------------------------

    def _m_getMe(self, _params: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def _m_deleteWebhook(self, _params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands[params.get("language_code") or ""] = params["commands"]
        return True

    def _m_close(self, _params: dict[str, Any]) -> bool:
        return True

    def _m_logOut(self, _params: dict[str, Any]) -> bool:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset")) or 0
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset)
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.queue if u["update_id"] >= offset][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._closing:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                pass

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._bot_message(params, text=text)

    def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        data = params.get("photo")
        if not isinstance(data, bytes):
            raise ApiError(400, "Bad Request: wrong photo")
        self.uploads.append(data)
        sizes = [
            {
                "file_id": f"sent{next(self._file_ids)}",
                "file_unique_id": "u",
                "width": w,
                "height": w,
                "file_size": len(data),
            }
            for w in (90, 320)
        ]
        return self._bot_message(params, photo=sizes, caption=params.get("caption"))

    def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        data = params.get("document")
        if not isinstance(data, bytes):
            raise ApiError(400, "Bad Request: wrong document")
        self.uploads.append(data)
        document = {"file_id": f"sent{next(self._file_ids)}", "file_unique_id": "u"}
        return self._bot_message(params, document=document, caption=params.get("caption"))

    def _m_sendMediaGroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        items = params.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise ApiError(400, "Bad Request: wrong number of items in the media group")
        messages = []
        for item in items:
            name = str(item.get("media", "")).removeprefix("attach://")
            data = params.get(name)
            if item.get("type") != "photo" or not isinstance(data, bytes):
                raise ApiError(400, "Bad Request: wrong media group item")
            self.uploads.append(data)
            photo = [
                {
                    "file_id": f"sent{next(self._file_ids)}",
                    "file_unique_id": "u",
                    "width": 320,
                    "height": 320,
                    "file_size": len(data),
                }
            ]
            content = {"photo": photo, "caption": item.get("caption"), "media_group_id": "1"}
            messages.append(self._bot_message({"chat_id": params.get("chat_id")}, **content))
        return messages

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        markup = params.get("reply_markup")
        if message.get("text") == params.get("text") and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message["text"] = params.get("text")
        _set_markup(message, markup)
        return message

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        markup = params.get("reply_markup")
        if message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        _set_markup(message, markup)
        return message

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old")
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        result: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id,
            "file_path": stored.path,
        }
        if stored.size is not None:
            result["file_size"] = stored.size
        return result

    def _bot_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat not found")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT,
            **{k: v for k, v in content.items() if v is not None},
        }
        _set_markup(message, params.get("reply_markup"))
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        message_id = _int(params.get("message_id"))
        for message in self.chats.get(chat_id or 0, []):
            if message["message_id"] == message_id and message["from"] is BOT:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    # --- what the user does ----------------------------------------------------------------

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        self.queue.append(update)
        self._new_update.set()
        return update

    def user_message(
        self, chat_id: int, *, message_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        """A message from the user of a private chat ``chat_id``, queued as a new update."""
        message = {
            "message_id": message_id or self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _user(chat_id),
            **content,
        }
        self.chats.setdefault(chat_id, []).append(message)
        return self.enqueue({"update_id": next(self._update_ids), "message": message})

    def text(self, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
        return self.user_message(chat_id, text=text, **extra)

    def add_file(
        self,
        data: bytes | None,
        *,
        size: int | None = None,
        kind: str = "photos",
        suffix: str = "jpg",
    ) -> StoredFile:
        number = next(self._file_ids)
        file_id = f"F{number:04d}-{kind}"
        stored = StoredFile(
            file_id,
            data,
            len(data) if size is None and data is not None else size,
            f"{kind}/file_{number}.{suffix}",
        )
        self.files[file_id] = stored
        return stored

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Three sizes like Telegram sends them, smallest first; only the largest is
        ``data``."""
        sizes = []
        for width, content in (
            (90, b"thumb:" + data[:8]),
            (320, b"medium:" + data[:8]),
            (1280, data),
        ):
            stored = self.add_file(content)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_id,
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": stored.size,
                }
            )
        return sizes

    def photo(
        self,
        chat_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"photo": self.photo_sizes(data)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self.user_message(chat_id, **content)

    def album(
        self,
        chat_id: int,
        photos: Iterable[bytes],
        *,
        caption: str | None = None,
        group: str = "album-1",
    ) -> list[dict[str, Any]]:
        updates = []
        for index, data in enumerate(photos):
            updates.append(
                self.photo(
                    chat_id, data, caption=caption if index == 0 else None, media_group_id=group
                )
            )
        return updates

    def document(
        self,
        chat_id: int,
        data: bytes | None,
        *,
        size: int | None = None,
        mime_type: str = "application/pdf",
        file_name: str = "bukti.pdf",
    ) -> dict[str, Any]:
        stored = self.add_file(data, size=size, kind="documents", suffix="pdf")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_id,
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if stored.size is not None:
            document["file_size"] = stored.size
        return self.user_message(chat_id, document=document)

    def location(self, chat_id: int, lat: float, lon: float) -> dict[str, Any]:
        return self.user_message(chat_id, location={"latitude": lat, "longitude": lon})

    def venue(
        self, chat_id: int, lat: float, lon: float, title: str, address: str
    ) -> dict[str, Any]:
        location = {"latitude": lat, "longitude": lon}
        return self.user_message(
            chat_id,
            location=location,
            venue={"location": location, "title": title, "address": address},
        )

    def sticker(self, chat_id: int) -> dict[str, Any]:
        sticker = {
            "file_id": "STK",
            "file_unique_id": "STK",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.user_message(chat_id, sticker=sticker)

    def edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits an earlier message of theirs."""
        message = {
            "message_id": message_id,
            "date": int(time.time()) - 60,
            "edit_date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _user(chat_id),
            "text": text,
        }
        return self.enqueue({"update_id": next(self._update_ids), "edited_message": message})

    def redeliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """The same message again, in a new update (as Telegram does after a lost confirm)."""
        again = copy.deepcopy(update)
        again["update_id"] = next(self._update_ids)
        return self.enqueue(again)

    def group_text(
        self, chat_id: int, user_id: int, text: str, *, kind: str = "group"
    ) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": kind, "title": "Warga Garut"},
            "from": _user(user_id),
            "text": text,
        }
        return self.enqueue({"update_id": next(self._update_ids), "message": message})

    def press(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """The user presses a button with ``data`` under the bot's message ``message_id``."""
        message = next(
            m for m in self.chats[chat_id] if m["message_id"] == message_id and m["from"] is BOT
        )
        query = {
            "id": str(next(self._query_ids)),
            "from": _user(chat_id),
            "message": copy.deepcopy(message),
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self.enqueue({"update_id": next(self._update_ids), "callback_query": query})

    def press_option(self, chat_id: int, option_id: str) -> tuple[dict[str, Any], int]:
        """Press the button of ``option_id`` on the newest keyboard offering it."""
        for message in reversed(self.chats.get(chat_id, [])):
            for button in _buttons(message):
                if button.get("callback_data") == f"o:{option_id}":
                    update = self.press(chat_id, message["message_id"], button["callback_data"])
                    return update, message["message_id"]
        raise AssertionError(f"no live button {option_id!r} in chat {chat_id}")

    # --- what the test checks --------------------------------------------------------------

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.chats.get(chat_id, []) if m["from"] is BOT]

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.bot_messages(chat_id)]

    def live_keyboards(self, chat_id: int) -> list[int]:
        return [m["message_id"] for m in self.bot_messages(chat_id) if _buttons(m)]

    def calls_of(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    async def wait_for(
        self, check: Callable[[], Any], within: float = 15.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + within
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except TimeoutError:
                pass

    async def reply(
        self, chat_id: int, pattern: str, *, after: int = 0, within: float = 15.0
    ) -> str:
        """Wait for a bot message in ``chat_id`` (from index ``after``) matching ``pattern``."""
        regex = re.compile(pattern)

        def found() -> str | None:
            for text in self.bot_texts(chat_id)[after:]:
                if regex.search(text):
                    return text
            return None

        return str(await self.wait_for(found, within, f"{pattern!r} in chat {chat_id}"))

    async def wait_confirmed(self, update: dict[str, Any], within: float = 15.0) -> None:
        """Wait until the bot told the server to forget ``update`` (it was handled)."""
        await self.wait_for(
            lambda: self.confirmed > update["update_id"],
            within,
            f"confirmation of update {update['update_id']}",
        )


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Warga"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Warga", "language_code": "id"}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = value.file.read() if isinstance(value, web.FileField) else value
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.status)
