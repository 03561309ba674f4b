"""The console channel: TAROS in a terminal, the embedded default for trying it.

Interactive when stdin is a terminal; otherwise it reads one message per line, prints the
replies, and exits at end of input, so a whole conversation can be piped in. Besides text,
a line can send a file or a location pin (see :func:`console_help`).
"""

from __future__ import annotations

import asyncio
import mimetypes
import shlex
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TextIO

from channels.base import ChannelBase, InboundHandler, Permanent, render_options
from conversations.i18n import _
from conversations.messages import (
    Attachment,
    AttachmentKind,
    Inbound,
    InboundKind,
    Location,
    Outbound,
)

PROMPT = "> "
BOT = "TAROS"


def console_help() -> str:
    return _(
        "On the console you can also send:\n"
        "  !file PATH [caption]   a photo, video, document or voice note from a file\n"
        "  !loc LAT,LON [name]    a location pin, e.g. !loc -7.2116,107.9005 Alun-alun Garut\n"
        "  !sticker               a sticker (something the bot does not accept)\n"
        "Answer a numbered question with its number. End with Ctrl-D."
    )


class LineError(ValueError):
    """A console line that cannot be sent; the message says why, in the user's language."""


def attachment_kind(mime: str, path: Path) -> AttachmentKind:
    if mime.startswith("image/"):
        return AttachmentKind.PHOTO
    if mime.startswith("video/"):
        return AttachmentKind.VIDEO
    if path.suffix.lower() in (".ogg", ".opus", ".oga"):
        return AttachmentKind.VOICE
    if mime.startswith("audio/"):
        return AttachmentKind.AUDIO
    return AttachmentKind.DOCUMENT


def _file_attachment(raw_path: str) -> Attachment:
    path = Path(raw_path).expanduser()
    if not path.is_file():
        raise LineError(_("File not found: %(path)s") % {"path": raw_path})
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    return Attachment(
        kind=attachment_kind(mime, path),
        mime=mime,
        size=path.stat().st_size,
        fetch=fetch,
        filename=path.name,
    )


def _location(args: list[str]) -> Location:
    joined = " ".join(args)
    head, _sep, name = joined.partition(" ")
    parts = head.replace(";", ",").split(",")
    try:
        if len(parts) == 2:
            lat, lon = float(parts[0]), float(parts[1])
        else:
            lat, lon = float(args[0]), float(args[1])
            name = " ".join(args[2:])
    except (ValueError, IndexError) as exc:
        raise LineError(_("Write a location like this: !loc -7.2116,107.9005 [name]")) from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise LineError(_("Write a location like this: !loc -7.2116,107.9005 [name]"))
    return Location(lat, lon, name.strip() or None)


def parse_line(
    line: str, *, chat_id: str, now: datetime, channel: str = "console"
) -> Inbound | None:
    """One console line as an Inbound; ``None`` for a blank line. Raises :class:`LineError`."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    make = partial(
        Inbound,
        channel=channel,
        chat_id=chat_id,
        sender_id=chat_id,
        message_id=uuid.uuid4().hex,
        timestamp=now,
    )
    stripped = text.strip()
    if not stripped.startswith("!"):
        return make(text=text)
    try:
        words = shlex.split(stripped)
    except ValueError:
        words = stripped.split()
    verb, args = words[0].lower(), words[1:]
    if verb == "!file":
        if not args:
            raise LineError(_("Write a file like this: !file photo.jpg [caption]"))
        attachment = _file_attachment(args[0])
        return make(text=" ".join(args[1:]), attachments=(attachment,))
    if verb in ("!loc", "!lokasi", "!location"):
        return make(location=_location(args))
    if verb == "!sticker":
        return make(kind=InboundKind.UNSUPPORTED)
    return make(text=text)


def render(outbound: Outbound) -> str:
    lines = outbound.text.splitlines() or [""]
    if outbound.options:
        lines += ["  " + line for line in render_options(outbound.options).splitlines()]
    for media in outbound.album or ((outbound.media,) if outbound.media else ()):
        lines.append(f"[{media.mime}: {media.path}]")
    pad = " " * (len(BOT) + 2)
    return "\n".join([f"{BOT}: {lines[0]}", *(pad + line for line in lines[1:])]) + "\n"


class ConsoleChannel(ChannelBase):
    """The console as a channel: ``send`` prints; :meth:`run` reads the user's lines."""

    def __init__(
        self,
        *,
        chat_id: str,
        channel: str = "console",
        clock: Callable[[], datetime],
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.name = channel
        self.only_chat: str | None = chat_id
        self.chat_id = chat_id
        self.clock = clock
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self._handler: InboundHandler | None = None

    async def start(self, on_inbound: InboundHandler) -> None:
        self._handler = on_inbound

    async def stop(self) -> None:
        self._handler = None

    async def send(self, outbound: Outbound) -> None:
        try:
            await self._write(render(outbound))
        except OSError as exc:  # the terminal or the pipe is gone: nobody will read it
            raise Permanent(f"console output closed: {exc}") from None

    async def _write(self, text: str) -> None:
        def write() -> None:
            self.stdout.write(text)
            self.stdout.flush()

        await asyncio.to_thread(write)

    async def run(self, after_each: Callable[[], Awaitable[None]]) -> None:
        """Read lines until end of input; after each message, ``after_each`` (deliver the
        replies) runs before the next line is read, so a piped script reads like a chat."""
        if self._handler is None:
            raise RuntimeError("console channel not started")
        if self.interactive:
            await self._write(console_help() + "\n\n")
        while True:
            if self.interactive:
                await self._write(PROMPT)
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                return
            if not self.interactive and line.strip():
                await self._write(f"{self.chat_id}> {line.rstrip()}\n")
            try:
                inbound = parse_line(
                    line, chat_id=self.chat_id, now=self.clock(), channel=self.name
                )
            except LineError as exc:
                await self._write(f"! {exc}\n")
                continue
            if inbound is None:
                continue
            await self._handler(inbound)
            await after_each()
            if inbound.text.strip().lower() in ("/bantuan", "bantuan", "/help"):
                await self._write(console_help() + "\n")
