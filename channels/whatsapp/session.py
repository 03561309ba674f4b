"""The worker's side of the WhatsApp connection: neonize's event handlers and the channel's
requests, on the worker's one asyncio loop.

neonize schedules each handler with ``run_coroutine_threadsafe`` and drops the future, so an
exception in a handler would vanish: every handler here is wrapped, logs what failed with
its context, and for a message tells the channel, which apologises to the citizen. No call
reaches the Go client before it exists (a call before ``connect()`` panics the process):
requests wait for the first event, and sends wait for ``Connected``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from channels.whatsapp.events import Ignore, Incoming, Media, classify, person_users
from channels.whatsapp.identity import jid_of
from channels.whatsapp.protocol import INBOX, Exit
from channels.whatsapp.sdk import Sdk

__all__ = ["Session", "WorkerConfig"]

log = logging.getLogger("channels.whatsapp.worker")

Emit = Callable[[dict[str, Any]], None]
IMAGE_MIMES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    max_bytes: int = 20 * 1024 * 1024
    download_attempts: int = 3
    download_delay: float = 1.0  # doubled after each failed attempt
    download_timeout: float = 120.0
    send_timeout: float = 60.0
    connect_timeout: float = 60.0  # no answer from WhatsApp within this: give up, be restarted
    reconnect_timeout: float = 300.0  # disconnected this long: give up, be restarted
    link_timeout: float = 180.0
    call_timeout: float = 15.0  # small calls: mark read, look-ups
    startup: float = 20.0  # for a one-shot worker: time to load neonize, and some slack

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> WorkerConfig:
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name in known and isinstance(value, int | float) and value > 0:
                values[name] = int(value) if known[name] == "int" else float(value)
        return cls(**values)


class Session:
    def __init__(
        self, sdk: Sdk, client: Any, emit: Emit, *, data_dir: Path, config: WorkerConfig
    ) -> None:
        self.sdk = sdk
        self.client = client
        self.emit = emit
        self.data_dir = data_dir
        self.config = config
        self.ready = asyncio.Event()  # the Go client exists: calls are safe
        self.connected = asyncio.Event()
        self.outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.phone: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lines: dict[str, asyncio.Future[None]] = {}  # the last message of each person
        self._disconnected_at: float | None = None
        self.on_connected: Callable[[], Awaitable[None]] | None = None  # link/status/logout

    # --- wiring ----------------------------------------------------------------------------

    def attach(self) -> None:
        ev = self.sdk.events
        handlers: dict[Any, Callable[[Any], Awaitable[None]]] = {
            ev.MessageEv: self._on_message,
            ev.ConnectedEv: self._on_connected,
            ev.DisconnectedEv: self._on_disconnected,
            ev.LoggedOutEv: self._on_logged_out,
            ev.TemporaryBanEv: self._on_banned,
            ev.ConnectFailureEv: self._on_connect_failure,
            ev.ClientOutdatedEv: self._on_outdated,
            ev.StreamReplacedEv: self._on_replaced,
            ev.KeepAliveTimeoutEv: self._on_keepalive_timeout,
            ev.KeepAliveRestoredEv: self._on_keepalive_restored,
            ev.PairStatusEv: self._on_pair_status,
        }
        for event_type, handler in handlers.items():
            self.client.event(event_type)(self._guard(handler))

    def _guard(self, handler: Callable[[Any], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        name = handler.__name__.removeprefix("_on_")

        async def guarded(_client: Any, event: Any) -> None:
            try:
                await handler(event)
            except Exception:
                log.exception("whatsapp: the %s handler failed%s", name, _context(event))
                if name == "message":
                    self._tell_failed(event)

        return guarded

    def finish(self, code: int) -> None:
        if not self.outcome.done():
            self.outcome.set_result(code)

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- connecting --------------------------------------------------------------------------

    async def connect(self, first_sign: asyncio.Event | None = None) -> None:
        """Dial; the session ends (see :attr:`outcome`) when the dial fails, or when
        ``first_sign`` (default: connected) is not set within the connect timeout."""
        task = await self.client.connect()
        task.add_done_callback(self._dial_ended)
        self.spawn(self._watch(first_sign or self.connected))

    def _dial_ended(self, task: asyncio.Future[Any]) -> None:
        if self.outcome.done():
            return
        error = None if task.cancelled() else task.exception()
        detail = f"{type(error).__name__}: {error}" if error else "the connection ended"
        self.emit({"ev": "state", "state": "unreachable", "detail": detail})
        self.finish(Exit.FAILED)

    async def _watch(self, first_sign: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(first_sign.wait(), self.config.connect_timeout)
        except TimeoutError:
            detail = f"no answer from WhatsApp within {self.config.connect_timeout:.0f} s"
            self.emit({"ev": "state", "state": "unreachable", "detail": detail})
            self.finish(Exit.FAILED)
            return
        while not self.outcome.done():
            await asyncio.sleep(min(5.0, self.config.reconnect_timeout / 4))
            since = self._disconnected_at
            if since is not None and time.monotonic() - since > self.config.reconnect_timeout:
                detail = f"disconnected for more than {self.config.reconnect_timeout:.0f} s"
                self.emit({"ev": "state", "state": "unreachable", "detail": detail})
                self.finish(Exit.FAILED)

    async def is_connected(self) -> bool:
        """What the Go client says (only asked once it exists)."""
        if not self.ready.is_set():
            return False
        return bool(await asyncio.wait_for(self.client.is_connected, self.config.call_timeout))

    # --- connection events -------------------------------------------------------------------

    async def _on_connected(self, _event: Any) -> None:
        self.ready.set()
        self._disconnected_at = None
        me = self.client.me
        if me is not None and me.JID.User:
            self.phone = me.JID.User
        self.connected.set()
        self.emit({"ev": "state", "state": "connected", "phone": self.phone})
        if self.on_connected is not None:
            await self.on_connected()

    async def _on_disconnected(self, _event: Any) -> None:
        self.connected.clear()
        self._disconnected_at = time.monotonic()
        self.emit({"ev": "state", "state": "disconnected"})

    async def _on_keepalive_timeout(self, event: Any) -> None:
        log.warning("whatsapp: keep-alive timed out (%d errors)", event.ErrorCount)
        self.emit({"ev": "state", "state": "unstable", "detail": "keep-alive timed out"})

    async def _on_keepalive_restored(self, _event: Any) -> None:
        if self.connected.is_set():
            self.emit({"ev": "state", "state": "connected", "phone": self.phone})

    async def _on_logged_out(self, event: Any) -> None:
        reason = _enum_name(self.sdk.proto.ConnectFailureReason, event.Reason)
        self._alert("logged_out", f"logged out ({reason}, on connect: {event.OnConnect})")
        self.finish(Exit.NOT_LINKED)

    async def _on_banned(self, event: Any) -> None:
        reason = _enum_name(self.sdk.proto.TemporaryBan.TempBanReason, event.Code)
        until = time.time() + max(0, int(event.Expire)) if event.Expire else None
        self._alert("banned", f"temporarily banned ({reason})", until)
        self.finish(Exit.BANNED)

    async def _on_connect_failure(self, event: Any) -> None:
        reason = _enum_name(self.sdk.proto.ConnectFailureReason, event.Reason)
        detail = f"connect failure {reason}: {event.Message}".strip().rstrip(":")
        if reason in ("LOGGED_OUT", "MAIN_DEVICE_GONE", "UNKNOWN_LOGOUT"):
            self._alert("logged_out", detail)
            self.finish(Exit.NOT_LINKED)
        elif reason == "TEMP_BANNED":
            await asyncio.sleep(1.0)  # the TemporaryBan event, with the end of the ban, follows
            self._alert("banned", detail)
            self.finish(Exit.BANNED)
        elif reason in ("CLIENT_OUTDATED", "BAD_USER_AGENT"):
            self._alert("outdated", detail)
            self.finish(Exit.OUTDATED)
        else:
            self.emit({"ev": "state", "state": "unreachable", "detail": detail})
            self.finish(Exit.FAILED)

    async def _on_outdated(self, _event: Any) -> None:
        self._alert("outdated", "client outdated (405)")
        self.finish(Exit.OUTDATED)

    async def _on_replaced(self, _event: Any) -> None:
        self._alert("replaced", "another client connected with this session")
        self.finish(Exit.REPLACED)

    async def _on_pair_status(self, event: Any) -> None:
        if event.Error or event.Status != self.sdk.proto.PairStatus.SUCCESS:
            self.emit({"ev": "error", "message": f"pairing failed: {event.Error or 'refused'}"})
            self.finish(Exit.FAILED)
        else:
            self.emit({"ev": "paired", "phone": event.ID.User})

    def _alert(self, kind: str, detail: str, until: float | None = None) -> None:
        self.connected.clear()
        self.emit({"ev": "alert", "kind": kind, "detail": detail, "until": until})

    # --- messages ------------------------------------------------------------------------

    async def _on_message(self, event: Any) -> None:
        self.ready.set()
        routed = classify(event)
        if isinstance(routed, Ignore):
            log.debug("whatsapp: message ignored (%s)", routed.reason)
            return
        # neonize starts the handlers in the order the messages came; a download must not let
        # a later message of the same person overtake this one.
        person = routed.lid_user or routed.phone_user or ""
        previous = self._lines.get(person)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lines[person] = mine
        try:
            phone_user = routed.phone_user
            if phone_user is None and routed.lid_user is not None:
                phone_user = await self._phone_of(routed.lid_user)
            attachment = await self._fetch(routed.media) if routed.media is not None else None
            if previous is not None:
                await previous
            self.emit({"ev": "message", "data": _message_data(routed, phone_user, attachment)})
        finally:
            mine.set_result(None)
            if self._lines.get(person) is mine:
                del self._lines[person]
        await self._mark_read(event)

    def _tell_failed(self, event: Any) -> None:
        try:
            source = event.Info.MessageSource
            if source.IsFromMe or source.IsGroup:
                return
            phone_user, lid_user = person_users(source)
        except Exception:
            return
        self.emit({"ev": "failed", "phone_user": phone_user, "lid_user": lid_user})

    async def _phone_of(self, lid_user: str) -> str | None:
        """The phone number WhatsApp told this device for a linked identity (a local look-up
        in the session store, no network)."""
        try:
            jid = await asyncio.wait_for(
                self.client.get_pn_from_lid(self.sdk.jid(lid_user, "lid")),
                self.config.call_timeout,
            )
        except Exception as exc:
            log.info("whatsapp: no phone number known for a linked identity (%s)", exc)
            return None
        return jid.User or None

    async def _fetch(self, media: Media) -> dict[str, Any]:
        """Download now (WhatsApp media links expire) into the inbox; a failure is described,
        and the channel tells the citizen."""
        about: dict[str, Any] = {
            "kind": media.kind,
            "mime": media.mime,
            "size": media.size,
            "filename": media.filename,
        }
        if media.size is not None and media.size > self.config.max_bytes:
            return about | {"error": "too large"}  # the engine refuses it by its size
        error: Exception | None = None
        for attempt in range(self.config.download_attempts):
            if attempt:
                await asyncio.sleep(self.config.download_delay * 2 ** (attempt - 1))
            try:
                data = await asyncio.wait_for(
                    self.client.download_any(media.message), self.config.download_timeout
                )
            except Exception as exc:  # 403/410 when the link expired, network errors, timeouts
                error = exc
                log.warning("whatsapp: download attempt %d failed: %r", attempt + 1, exc)
                continue
            if not data:
                error = ValueError("empty download")
                continue
            if len(data) > self.config.max_bytes:
                return about | {"size": len(data), "error": "too large"}
            name = await asyncio.to_thread(self._write_inbox, bytes(data))
            return about | {"size": len(data), "file": name}
        return about | {"error": f"download failed: {error!r}"}

    def _write_inbox(self, data: bytes) -> str:
        name = secrets.token_hex(16)
        fd = os.open(self.data_dir / INBOX / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return name

    async def _mark_read(self, event: Any) -> None:
        source = event.Info.MessageSource
        try:
            await asyncio.wait_for(
                self.client.mark_read(
                    event.Info.ID,
                    chat=source.Chat,
                    sender=source.Sender,
                    receipt=self.sdk.enums.ReceiptType.READ,
                ),
                self.config.call_timeout,
            )
        except Exception as exc:
            log.warning("whatsapp: could not mark message %s read: %r", event.Info.ID, exc)

    # --- requests from the channel -----------------------------------------------------------

    async def request(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "ping":
            connected = False
            try:
                connected = await self.is_connected()
            except Exception as exc:
                log.warning("whatsapp: is_connected failed: %r", exc)
            self.emit({"ev": "pong", "id": request.get("id"), "connected": connected})
        elif op == "send":
            self.spawn(self._send(request))
        elif op == "stop":
            self.finish(Exit.STOPPED)
        else:
            log.warning("whatsapp: unknown request %r", op)

    async def _send(self, request: dict[str, Any]) -> None:
        rid = request.get("id")
        try:
            if not self.connected.is_set():
                raise NotConnected("not connected to WhatsApp")
            message = await self._outgoing(request)
            user, server = jid_of(str(request.get("to")))
            response = await asyncio.wait_for(
                self.client.send_message(self.sdk.jid(user, server), message),
                self.config.send_timeout,
            )
        except (MediaUnusable, ValueError) as exc:
            self.emit(
                {"ev": "result", "id": rid, "ok": False, "permanent": True, "error": str(exc)}
            )
        except TimeoutError:
            self.emit({"ev": "result", "id": rid, "ok": False, "error": "send timed out"})
        except Exception as exc:  # SendMessageError, UploadError, NotConnected...
            self.emit({"ev": "result", "id": rid, "ok": False, "error": str(exc) or repr(exc)})
        else:
            self.emit({"ev": "result", "id": rid, "ok": True, "message_id": response.ID})

    async def _outgoing(self, request: dict[str, Any]) -> Any:
        text = str(request.get("text") or "")
        media = request.get("media")
        if not isinstance(media, dict):
            return self.sdk.e2e.Message(conversation=text)
        path = Path(str(media.get("path")))
        data = await asyncio.to_thread(_read_media, path, self.data_dir)
        mime = str(media.get("mime") or "application/octet-stream").lower()
        caption = text or None
        if mime in IMAGE_MIMES:
            return await self.client.build_image_message(data, caption=caption)
        return await self.client.build_document_message(
            data, caption=caption, filename=path.name, mimetype=mime
        )


class NotConnected(RuntimeError):
    pass


class MediaUnusable(ValueError):
    pass


def _read_media(path: Path, data_dir: Path) -> bytes:
    """A file TAROS wrote in its data dir (a chart, a copy of evidence), nothing else."""
    if not path.is_absolute() or data_dir.resolve() not in path.resolve().parents:
        raise MediaUnusable(f"media outside the data dir: {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MediaUnusable(f"media unreadable: {exc}") from None


def _message_data(
    routed: Incoming, phone_user: str | None, attachment: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": routed.id,
        "phone_user": phone_user,
        "lid_user": routed.lid_user,
        "name": routed.name,
        "timestamp": routed.timestamp,
        "text": routed.text,
        "location": routed.location,
        "attachment": attachment,
        "unsupported": routed.unsupported,
    }


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def _context(event: Any) -> str:
    try:
        info = event.Info
        return f" (message {info.ID} in {info.MessageSource.Chat.Server})"
    except AttributeError:
        return f" ({type(event).__name__})"
