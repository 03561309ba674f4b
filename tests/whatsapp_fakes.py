"""WhatsApp without WhatsApp: real neonize events, and a client whose network calls record.

:class:`RecordingClient` *is* neonize's ``NewAClient`` (its event registration and its
``Event.execute`` dispatch, the path the Go library calls, are the real ones); only the calls
that would reach WhatsApp are replaced: connect, send, upload, download, mark read, the
linked-identity look-up, logout. It is driven through a control folder (``DATA_DIR/fake``)
so that a test can steer it inside the worker process too:

- ``inject/<n>-<code>.bin``: a serialized event, dispatched as if the Go library sent it;
- ``commands/<n>-<name>``: ``disconnect``, ``connect``, ``logged_out``, ``outdated``,
  ``freeze`` (the worker's loop blocks for 30 s);
- flags: ``offline`` (the dial fails), ``hang`` (the dial waits while it exists),
  ``stall`` (sends wait while it exists),
  ``fail_send`` (sends fail with its text), ``fail_send_once`` (the next send fails with
  its text, and the flag is removed);
- ``media/<sha1 of directPath>``: what a download returns (missing: HTTP 403);
- ``lids.json``: the linked identities the session store knows ({lid: phone});
- it records ``sent.jsonl``, ``read.jsonl``, ``downloads.jsonl``.

The builders make real ``Neonize_pb2.Message`` events with real ``waE2E`` messages.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import itertools
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from channels.whatsapp.files import SESSION, linked_device
from channels.whatsapp.sdk import load

SDK = load()
N = SDK.proto  # neonize.proto.Neonize_pb2
E = SDK.e2e  # neonize.proto.waE2E.WAWebProtobufsE2E_pb2
CODES = SDK.dispatch.EVENT_TO_INT
ME = "6281100000001"  # the TAROS number in the tests
PN = "s.whatsapp.net"
LID = "lid"
_ids = itertools.count(1)
EMPTY_JID = N.JID(User="", Server="", Device=0, RawAgent=0, Integrator=0, IsEmpty=True)


# --- events ---------------------------------------------------------------------------------


def jid(user: str, server: str = PN, device: int = 0) -> Any:
    return N.JID(User=user, Server=server, Device=device, RawAgent=0, Integrator=0, IsEmpty=False)


def message_event(
    content: Any,
    *,
    chat: tuple[str, str],
    sender: tuple[str, str] | None = None,
    alt: tuple[str, str] | None = None,
    from_me: bool = False,
    group: bool = False,
    msg_id: str | None = None,
    push_name: str = "Warga",
) -> Any:
    """A ``MessageEv`` as neonize delivers it (``Neonize_pb2.Message``)."""
    source = N.MessageSource(
        Chat=jid(*chat),
        Sender=jid(*(sender or chat), device=3 if not from_me else 0),
        IsFromMe=from_me,
        IsGroup=group,
        SenderAlt=jid(*alt) if alt is not None else EMPTY_JID,
        RecipientAlt=EMPTY_JID,
        BroadcastListOwner=EMPTY_JID,
    )
    info = N.MessageInfo(
        MessageSource=source,
        ID=msg_id or f"3EB0{next(_ids):016X}",
        ServerID=0,
        Type="text",
        Pushname=push_name,
        Timestamp=int(time.time()),
        Category="",
        Multicast=False,
        MediaType="",
        Edit="",
    )
    return N.Message(
        Info=info,
        Message=content,
        IsEphemeral=False,
        IsViewOnce=False,
        IsViewOnceV2=False,
        IsViewOnceV2Extension=False,
        IsDocumentWithCaption=False,
        IsLottieSticker=False,
        IsEdit=False,
        UnavailableRequestID="",
        RetryCount=0,
    )


def text(body: str) -> Any:
    return E.Message(conversation=body)


def extended(body: str) -> Any:
    return E.Message(extendedTextMessage=E.ExtendedTextMessage(text=body))


def pin(lat: float, lon: float, name: str = "", address: str = "") -> Any:
    return E.Message(
        locationMessage=E.LocationMessage(
            degreesLatitude=lat, degreesLongitude=lon, name=name, address=address
        )
    )


def live_pin(lat: float, lon: float, caption: str = "") -> Any:
    return E.Message(
        liveLocationMessage=E.LiveLocationMessage(
            degreesLatitude=lat, degreesLongitude=lon, caption=caption
        )
    )


def image(path: str, *, caption: str = "", size: int | None = None, mime: str = "") -> Any:
    part = E.ImageMessage(directPath=path, caption=caption, mimetype=mime or "image/jpeg")
    if size is not None:
        part.fileLength = size
    return E.Message(imageMessage=part)


def document(path: str, filename: str, *, caption: str = "", mime: str = "") -> Any:
    part = E.DocumentMessage(
        directPath=path, fileName=filename, caption=caption, mimetype=mime or "application/pdf"
    )
    return E.Message(
        documentWithCaptionMessage=E.FutureProofMessage(message=E.Message(documentMessage=part))
    )


def voice(path: str, seconds: int = 7) -> Any:
    return E.Message(
        audioMessage=E.AudioMessage(
            directPath=path, PTT=True, seconds=seconds, mimetype="audio/ogg; codecs=opus"
        )
    )


def sticker() -> Any:
    return E.Message(stickerMessage=E.StickerMessage(directPath="/sticker", mimetype="image/webp"))


def reaction(target: str) -> Any:
    return E.Message(reactionMessage=E.ReactionMessage(text="👍", key={"ID": target}))


# --- the client -----------------------------------------------------------------------------


def media_name(direct_path: str) -> str:
    return hashlib.sha1(direct_path.encode()).hexdigest()


class RecordingClient(SDK.client.NewAClient):  # type: ignore[misc, name-defined]
    """neonize's async client with its network calls replaced (see the module docstring)."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.control = Path(name).parent / "fake"
        for folder in ("inject", "commands", "media"):
            (self.control / folder).mkdir(parents=True, exist_ok=True)
        self.online = False
        self._serving: asyncio.Task[None] | None = None

    # The properties neonize makes coroutines of.
    @property
    def is_connected(self) -> Any:  # type: ignore[override]
        return _value(self.online)

    @property
    def is_logged_in(self) -> Any:  # type: ignore[override]
        return _value(True)

    def deliver(self, code: int, event: Any) -> None:
        """Hand ``event`` to neonize's dispatcher exactly as the Go library does."""
        data = event if isinstance(event, bytes) else event.SerializeToString()
        buffer = ctypes.create_string_buffer(data, max(1, len(data)))
        self.event.execute(0, ctypes.addressof(buffer), len(data), code)

    async def connect(self, proxy_settings: Any = None) -> asyncio.Task[None]:  # type: ignore[override]
        SDK.events.event_global_loop = asyncio.get_running_loop()
        self._serving = asyncio.get_running_loop().create_task(self._serve())
        return self._serving

    async def _serve(self) -> None:
        if (self.control / "offline").exists():
            raise SDK.errors.NeonizeError(
                "failed to dial whatsapp web websocket: dial tcp: lookup web.whatsapp.com:"
                " no such host"
            )
        await _while_exists(self.control / "hang")  # a dial that never answers
        if linked_device(Path(self.name)) is None:  # linking: a QR code, then the phone says yes
            await self.event._qr(self, b"2@TAROS-FAKE-QR,abc,def")
            await asyncio.sleep(0.05)
            link_session(Path(self.name).parent)  # whatsmeow stores the new device
            success = N.PairStatus.PStatus.Value("SUCCESS")
            paired = N.PairStatus(ID=jid(ME), BusinessName="", Platform="android", Status=success)
            self.deliver(CODES[SDK.events.PairStatusEv], paired)
        me = N.Device(
            JID=jid(ME, device=7),
            Platform="",
            BussinessName="",
            PushName="Polres Garut",
            Initialized=True,
        )
        self.deliver(0, me)
        self._set_online(True)
        while True:
            for path in sorted((self.control / "inject").glob("*.bin")):
                data = path.read_bytes()
                path.unlink()
                self.deliver(int(path.stem.split("-")[1]), data)
            for path in sorted((self.control / "commands").glob("*-*")):
                path.unlink()
                self._command(path.name.split("-", 1)[1])
            await asyncio.sleep(0.01)

    def _command(self, name: str) -> None:
        if name == "disconnect":
            self._set_online(False)
        elif name == "connect":
            self._set_online(True)
        elif name == "logged_out":
            self.online = False
            _forget_device(Path(self.name))  # whatsmeow deletes the device on logout
            reason = N.ConnectFailureReason.Value("MAIN_DEVICE_GONE")
            self.deliver(CODES[SDK.events.LoggedOutEv], N.LoggedOut(OnConnect=False, Reason=reason))
        elif name == "freeze":  # the worker's loop stops turning (a stuck call, say)
            time.sleep(30)
        elif name == "outdated":
            self.online = False
            self.deliver(CODES[SDK.events.ClientOutdatedEv], N.ClientOutdated())

    def _set_online(self, online: bool) -> None:
        self.online = online
        if online:
            self.deliver(CODES[SDK.events.ConnectedEv], N.Connected(status=True))
        else:
            self.deliver(CODES[SDK.events.DisconnectedEv], N.Disconnected(status=True))

    async def stop(self) -> None:
        if self._serving is not None:
            self._serving.cancel()

    async def disconnect(self) -> None:
        self.online = False

    # --- what would reach WhatsApp ------------------------------------------------------

    async def send_message(self, to: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        await _while_exists(self.control / "stall")
        failure = self.control / "fail_send"
        if failure.exists():
            raise SDK.errors.SendMessageError(failure.read_text())
        once = self.control / "fail_send_once"
        if once.exists():
            reason = once.read_text()
            once.unlink()
            raise SDK.errors.SendMessageError(reason)
        record: dict[str, Any] = {"to": f"{to.User}@{to.Server}"}
        if message.conversation:
            record["text"] = message.conversation
        elif message.HasField("imageMessage"):
            record |= {"image": message.imageMessage.fileSHA256.hex()}
            record["text"] = message.imageMessage.caption
        elif message.HasField("documentMessage"):
            record |= {"document": message.documentMessage.fileName}
            record["text"] = message.documentMessage.caption
        _append(self.control / "sent.jsonl", record)
        return N.SendResponse(ID=f"OUT{next(_ids)}", Timestamp=int(time.time()))

    async def upload(self, binary: bytes, media_type: Any = None) -> Any:
        digest = hashlib.sha256(binary).digest()
        return N.UploadResponse(
            url="https://mmg.example/upload",
            DirectPath="/v/upload",
            MediaKey=b"k" * 32,
            FileEncSHA256=digest,
            FileSHA256=digest,
            FileLength=len(binary),
        )

    async def download_any(self, message: Any, path: str | None = None) -> bytes:
        part = next(value for _field, value in message.ListFields())
        source = self.control / "media" / media_name(part.directPath)
        _append(self.control / "downloads.jsonl", {"path": part.directPath})
        if not source.exists():
            raise SDK.errors.DownloadError("download failed with status code 403")
        return source.read_bytes()

    async def mark_read(self, *message_ids: str, chat: Any, sender: Any, **kwargs: Any) -> None:
        for message_id in message_ids:
            _append(
                self.control / "read.jsonl",
                {"id": message_id, "chat": f"{chat.User}@{chat.Server}"},
            )

    async def get_pn_from_lid(self, lid: Any) -> Any:
        known = _read_json(self.control / "lids.json")
        phone = known.get(lid.User)
        return jid(phone) if phone else N.JID()

    async def get_me(self) -> Any:
        return self.me

    async def logout(self) -> None:
        _forget_device(Path(self.name))

    async def PairPhone(self, phone: str, *args: Any, **kwargs: Any) -> str:
        return "TARO-S123"


async def _while_exists(path: Path) -> None:
    for _tick in itertools.count():
        if not _present(path):
            return
        await asyncio.sleep(0.02)


def _present(path: Path) -> bool:
    return path.exists()


async def _value(value: Any) -> Any:
    return value


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --- the session file and the control folder, from the test's side --------------------------


def link_session(data_dir: Path, device: str = f"{ME}:7@s.whatsapp.net") -> None:
    """A session file holding a linked device, as whatsmeow leaves it after linking."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data_dir / SESSION)
    conn.execute("CREATE TABLE IF NOT EXISTS whatsmeow_device (jid TEXT PRIMARY KEY)")
    conn.execute("INSERT OR IGNORE INTO whatsmeow_device(jid) VALUES (?)", (device,))
    conn.commit()
    conn.close()


def _forget_device(session: Path) -> None:
    conn = sqlite3.connect(session)
    conn.execute("DELETE FROM whatsmeow_device")
    conn.commit()
    conn.close()


class FakeWhatsApp:
    """The test's end of the control folder of a :class:`RecordingClient`."""

    def __init__(self, data_dir: Path) -> None:
        self.control = data_dir / "fake"
        for folder in ("inject", "commands", "media"):
            (self.control / folder).mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)

    def inject(self, event: Any, code: int | None = None) -> Any:
        code = code if code is not None else CODES[SDK.events.MessageEv]
        name = f"{next(self._seq):06d}-{code}.bin"
        tmp = self.control / "inject" / (name + ".tmp")
        tmp.write_bytes(event.SerializeToString())
        tmp.rename(self.control / "inject" / name)
        return event

    def command(self, name: str) -> None:
        (self.control / "commands" / f"{next(self._seq):06d}-{name}").touch()

    def flag(self, name: str, value: str | None = "") -> None:
        path = self.control / name
        if value is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(value)

    def put_media(self, direct_path: str, data: bytes) -> None:
        (self.control / "media" / media_name(direct_path)).write_bytes(data)

    def know_lid(self, lid: str, phone: str) -> None:
        known = _read_json(self.control / "lids.json") | {lid: phone}
        (self.control / "lids.json").write_text(json.dumps(known))

    def records(self, name: str) -> list[dict[str, Any]]:
        path = self.control / f"{name}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.records("sent") if to is None or r["to"] == to]

    def texts(self, to: str) -> list[str]:
        return [r.get("text", "") for r in self.sent(to)]

    async def reply(self, to: str, expect: str, *, after: int, within: float = 15.0) -> str:
        """The first message to ``to`` after the first ``after`` that contains ``expect``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for message in self.texts(to)[after:]:
                if expect in message:
                    return message
            await asyncio.sleep(0.02)
        raise AssertionError(f"no reply with {expect!r} to {to}; got {self.texts(to)[after:]}")


async def eventually(check: Any, *, within: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
