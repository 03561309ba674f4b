"""A fake WhatsApp Cloud API for the tests: the Graph API on 127.0.0.1, and Meta's webhook.

:class:`FakeGraphApi` is an aiohttp server the product's pywa client talks to over real HTTP
(``TAROS_WHATSAPP_CLOUD_API_URL``): ``POST /v<n>/<phone id>/messages`` (text, interactive
buttons and lists, image, template), ``POST /v<n>/<phone id>/media`` (uploads),
``GET /v<n>/<media id>`` (a media URL, valid until the test expires it) and the media
download itself. It checks the bearer token, records every message as the citizen's phone
would show it, and fails on request with Meta's error codes (130429 throughput, 131056 pair
rate, 131047 re-engagement, 190 token expired, 131026 undeliverable, HTTP 500).

Meta's side of the webhook is :class:`Meta`: it builds the payloads WhatsApp posts
(messages of every kind, interactive replies, status callbacks), signs them with the app
secret (``X-Hub-Signature-256``) and posts them to TAROS's ``/webhooks/whatsapp``, and can
post the same payload again, as Meta does when it is unsure of a delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from local_http import LocalServer

PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
DISPLAY_NUMBER = "6282111110000"
TOKEN = "EAAFAKE-token-for-tests-only"
APP_SECRET = "fake-app-secret-0123456789abcdef"
VERIFY_TOKEN = "taros-verify-me"
WEBHOOK_PATH = "/webhooks/whatsapp"

ERRORS: dict[int, tuple[int, str]] = {  # code -> (HTTP status, title)
    130429: (400, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131047: (400, "Re-engagement message"),
    131026: (400, "Message undeliverable"),
    131000: (500, "Something went wrong"),
    190: (401, "Error validating access token: Session has expired"),
    132001: (404, "Template name does not exist in the translation"),
}


@dataclass
class Sent:
    """One message the Graph API accepted, as sent."""

    wamid: str
    to: str
    type: str
    body: dict[str, Any]
    tracker: str | None

    @property
    def text(self) -> str:
        """What the citizen reads first: the text, the body of an interactive message, the
        caption of an image, the filled template body."""
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        if self.type == "image":
            return str(self.body["image"].get("caption") or "")
        if self.type == "template":
            return "template:" + self.body["template"]["name"]
        return ""

    @property
    def interactive(self) -> dict[str, Any] | None:
        return self.body.get("interactive") if self.type == "interactive" else None

    def choices(self) -> list[tuple[str, str]]:
        """(id, title) of each button, or each list row, of an interactive message."""
        interactive = self.interactive
        if interactive is None:
            return []
        action = interactive["action"]
        if interactive["type"] == "button":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        return [(r["id"], r["title"]) for section in action["sections"] for r in section["rows"]]

    @property
    def labels(self) -> list[str]:
        return [title for _id, title in self.choices()]

    @property
    def option_ids(self) -> list[str]:
        return [option_id for option_id, _title in self.choices()]

    @property
    def template_params(self) -> list[str]:
        """The body parameters of a template, in order."""
        if self.type != "template":
            return []
        for component in self.body["template"].get("components", []):
            if component.get("type") == "body":
                return [p["text"] for p in component["parameters"]]
        return []


@dataclass
class StoredMedia:
    data: bytes
    mime: str
    sha256: str
    expired_urls: int = 0  # how many of the next URLs handed out are already expired
    nonce: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class FakeGraphApi:
    def __init__(self, *, token: str = TOKEN, phone_id: str = PHONE_ID) -> None:
        self.token = token
        self.phone_id = phone_id
        self.sent: list[Sent] = []
        self.attempts: list[dict[str, Any]] = []  # every POST to /messages, accepted or not
        self.media: dict[str, StoredMedia] = {}
        self.uploads: list[tuple[str, bytes]] = []
        self.downloads: list[str] = []
        self.url_requests: list[str] = []
        self.scripted: list[tuple[str | None, int]] = []  # next sends' errors: (to, code)
        self.expired_token = False
        self.latency = 0.0
        self.on_sent: Callable[[Sent], Awaitable[None]] | None = None
        self._wamids = itertools.count(1)
        self._media_ids = itertools.count(8_000_000)
        self._server: LocalServer | None = None
        self._expired: set[str] = set()
        self.url = ""

    # --- server ------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v{version}/{phone}/messages", self._messages)
        app.router.add_post("/v{version}/{phone}/media", self._upload)
        app.router.add_get("/v{version}/{media_id}", self._media_url)
        app.router.add_get("/download/{media_id}/{nonce}", self._download)
        self._server = LocalServer(app)
        self.url = await self._server.start()
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def __aenter__(self) -> FakeGraphApi:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def _authorised(self, request: web.Request) -> web.Response | None:
        if self.expired_token or request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(190)
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        refused = self._authorised(request)
        if refused is not None:
            return refused
        if request.match_info["phone"] != self.phone_id:
            return _error(100, 400, "Unsupported post request: unknown phone number id")
        body = await request.json()
        self.attempts.append(body)
        for index, (to, code) in enumerate(self.scripted):
            if to is None or to == body.get("to"):
                del self.scripted[index]
                return _error(code)
        kind = body["type"]
        if kind == "image" and "id" in body["image"] and body["image"]["id"] not in self.media:
            return _error(131053, 400, "Media upload error")
        sent = Sent(
            wamid=f"wamid.FAKE{next(self._wamids):06d}",
            to=body["to"],
            type=kind,
            body=body,
            tracker=body.get("biz_opaque_callback_data"),
        )
        self.sent.append(sent)
        if self.on_sent is not None:
            await self.on_sent(sent)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": sent.to, "wa_id": sent.to}],
                "messages": [{"id": sent.wamid}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField), form
        data = upload.file.read()
        media_id = self.put_media(data, str(form.get("type") or upload.content_type))
        self.uploads.append((media_id, data))
        return web.json_response({"id": media_id})

    async def _media_url(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        media_id = request.match_info["media_id"]
        if media_id == self.phone_id:  # the number itself (asked at start)
            return web.json_response(
                {
                    "id": self.phone_id,
                    "display_phone_number": "+62 821-1111-0000",
                    "verified_name": "Polres Garut",
                    "throughput": {"level": "STANDARD"},
                }
            )
        stored = self.media.get(media_id)
        if stored is None:
            return _error(100, 400, "Unsupported get request: media not found")
        self.url_requests.append(media_id)
        nonce = f"{next(stored.nonce)}"
        if stored.expired_urls > 0:
            stored.expired_urls -= 1
            self._expired.add(f"{media_id}/{nonce}")
        return web.json_response(
            {
                "url": f"{self.url}/download/{media_id}/{nonce}",
                "mime_type": stored.mime,
                "sha256": stored.sha256,
                "file_size": len(stored.data),
                "id": media_id,
                "messaging_product": "whatsapp",
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        key = f"{request.match_info['media_id']}/{request.match_info['nonce']}"
        self.downloads.append(key)
        stored = self.media.get(request.match_info["media_id"])
        if stored is None or key in self._expired:
            return web.Response(status=404, text="URL signature expired")
        return web.Response(body=stored.data, content_type=stored.mime)

    # --- what tests arrange ----------------------------------------------------------------

    def put_media(self, data: bytes, mime: str, *, expired_urls: int = 0) -> str:
        """Keep a file as WhatsApp keeps a citizen's upload; returns its media id."""
        media_id = str(next(self._media_ids))
        self.media[media_id] = StoredMedia(
            data, mime, hashlib.sha256(data).hexdigest(), expired_urls
        )
        return media_id

    def fail_next(self, *codes: int, to: str | None = None) -> None:
        """The next sends (to ``to`` only, when given) fail with these Graph API error
        codes, one each."""
        self.scripted.extend((to, code) for code in codes)

    def to(self, number: str) -> list[Sent]:
        return [s for s in self.sent if s.to == number]

    def texts(self, number: str) -> list[str]:
        return [s.text for s in self.to(number)]

    async def wait_sent(self, number: str, count: int, within: float = 15.0) -> list[Sent]:
        """The messages to ``number`` once there are at least ``count``."""
        deadline = time.monotonic() + within
        while len(self.to(number)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{number}: {len(self.to(number))} of {count} messages: {self.texts(number)}"
                )
            await asyncio.sleep(0.02)
        return self.to(number)


def _error(code: int, status: int | None = None, message: str | None = None) -> web.Response:
    known_status, title = ERRORS.get(code, (status or 400, message or "error"))
    body = {
        "error": {
            "message": f"({'#'}{code}) {message or title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message or title},
            "fbtrace_id": "AbCdEfFakeTrace",
        }
    }
    if code == 190:
        body["error"]["error_subcode"] = 463
    return web.json_response(body, status=status or known_status)


# --- Meta's side of the webhook ----------------------------------------------------------------


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """``X-Hub-Signature-256`` as Meta computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Meta:
    """Builds WhatsApp's webhook payloads and posts them, signed, to TAROS."""

    def __init__(
        self,
        webhook_url: str,
        *,
        secret: str = APP_SECRET,
        phone_id: str = PHONE_ID,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.webhook_url = webhook_url
        self.secret = secret
        self.phone_id = phone_id
        self.clock = clock or (lambda: datetime.now(UTC))
        self.posted: list[tuple[bytes, int]] = []  # each body and the answer's status
        self._ids = itertools.count(1)

    def _stamp(self) -> str:
        """When WhatsApp says a message was sent or a status happened (Unix seconds)."""
        return str(int(self.clock().timestamp()))

    async def post(
        self, payload: dict[str, Any] | bytes, *, signature: str | None = "", within: float = 30
    ) -> int:
        """Post one webhook; returns TAROS's HTTP status. ``signature=""`` signs it right;
        ``None`` sends none; any other string is sent as it is."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "":
            headers["X-Hub-Signature-256"] = sign(body, self.secret)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        timeout = aiohttp.ClientTimeout(total=within)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(self.webhook_url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        self.posted.append((body, status))
        return status

    async def repost_last(self) -> int:
        body, _status = self.posted[-1]
        return await self.post(body)

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": DISPLAY_NUMBER,
                                    "phone_number_id": self.phone_id,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }

    def message(
        self,
        sender: str,
        kind: str,
        content: dict[str, Any],
        *,
        name: str = "Warga Garut",
        context: dict[str, Any] | None = None,
        wamid: str | None = None,
    ) -> dict[str, Any]:
        """One message from ``sender`` (E.164 digits), as the webhook carries it."""
        message: dict[str, Any] = {
            "from": sender,
            "id": wamid or f"wamid.IN{next(self._ids):08d}",
            "timestamp": self._stamp(),
            "type": kind,
            **content,
        }
        if context is not None:
            message["context"] = context
        return self.envelope(
            {
                "contacts": [
                    {"profile": {"name": name}, "wa_id": sender, "user_id": f"ID.{sender[-8:]}X"}
                ],
                "messages": [message],
            }
        )

    def text(self, sender: str, body: str, **kw: Any) -> dict[str, Any]:
        return self.message(sender, "text", {"text": {"body": body}}, **kw)

    def image(self, sender: str, media_id: str, caption: str = "", **kw: Any) -> dict[str, Any]:
        image = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
        if caption:
            image["caption"] = caption
        return self.message(sender, "image", {"image": image}, **kw)

    def document(
        self, sender: str, media_id: str, filename: str, mime: str = "application/pdf", **kw: Any
    ) -> dict[str, Any]:
        document = {"id": media_id, "mime_type": mime, "sha256": "x", "filename": filename}
        return self.message(sender, "document", {"document": document}, **kw)

    def voice(self, sender: str, media_id: str, **kw: Any) -> dict[str, Any]:
        audio = {
            "id": media_id,
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "x",
            "voice": True,
        }
        return self.message(sender, "audio", {"audio": audio}, **kw)

    def location(
        self, sender: str, lat: float, lon: float, name: str = "", address: str = "", **kw: Any
    ) -> dict[str, Any]:
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if name:
            location["name"] = name
        if address:
            location["address"] = address
        return self.message(sender, "location", {"location": location}, **kw)

    def sticker(self, sender: str, **kw: Any) -> dict[str, Any]:
        sticker = {"id": "9999", "mime_type": "image/webp", "sha256": "x", "animated": False}
        return self.message(sender, "sticker", {"sticker": sticker}, **kw)

    def contacts(self, sender: str, **kw: Any) -> dict[str, Any]:
        card = [
            {
                "name": {"formatted_name": "Asep", "first_name": "Asep"},
                "phones": [{"phone": "+62 811 1111 2222", "type": "CELL"}],
            }
        ]
        return self.message(sender, "contacts", {"contacts": card}, **kw)

    def press(self, sender: str, shown: Sent, option_id: str, **kw: Any) -> dict[str, Any]:
        """The citizen taps ``option_id`` on the interactive message ``shown``."""
        interactive = shown.interactive
        assert interactive is not None, f"not an interactive message: {shown}"
        index = shown.option_ids.index(option_id)
        title = shown.labels[index]
        context = {"from": DISPLAY_NUMBER, "id": shown.wamid}
        if interactive["type"] == "button":
            reply = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
        else:
            reply = {"type": "list_reply", "list_reply": {"id": option_id, "title": title}}
        return self.message(sender, "interactive", {"interactive": reply}, context=context, **kw)

    def quick_reply(self, sender: str, shown: Sent, payload: str, text: str) -> dict[str, Any]:
        """The citizen taps a template's quick-reply button."""
        context = {"from": DISPLAY_NUMBER, "id": shown.wamid}
        return self.message(
            sender, "button", {"button": {"payload": payload, "text": text}}, context=context
        )

    def status(self, sent: Sent, status: str, *, error: int | None = None) -> dict[str, Any]:
        """A status callback for a message TAROS sent (sent, delivered, read, failed)."""
        item: dict[str, Any] = {
            "id": sent.wamid,
            "status": status,
            "timestamp": self._stamp(),
            "recipient_id": sent.to,
        }
        if sent.tracker:
            item["biz_opaque_callback_data"] = sent.tracker
        if error is not None:
            _http, title = ERRORS.get(error, (400, "error"))
            item["errors"] = [
                {"code": error, "title": title, "message": title, "error_data": {"details": title}}
            ]
        # A failed message's contact has the number only (no profile, no user id).
        return self.envelope({"contacts": [{"wa_id": sent.to}], "statuses": [item]})
