"""An in-memory channel that records what it is asked to send: the test and benchmark double
for every real channel."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

from channels.base import ChannelBase, InboundHandler
from conversations.messages import Attachment, AttachmentKind, Inbound, Outbound

_ids = itertools.count(1)


class RecordingChannel(ChannelBase):
    def __init__(self, name: str = "test", *, fail: Callable[[Outbound], None] | None = None):
        self.name = name
        self.only_chat: str | None = None
        self.sent: list[Outbound] = []
        self.fail = fail
        self.handler: InboundHandler | None = None

    async def start(self, on_inbound: InboundHandler) -> None:
        self.handler = on_inbound

    async def stop(self) -> None:
        self.handler = None

    async def send(self, outbound: Outbound) -> None:
        if self.fail is not None:
            self.fail(outbound)  # may raise a DeliveryError to simulate the platform
        self.sent.append(outbound)

    def to(self, chat_id: str) -> list[Outbound]:
        return [o for o in self.sent if o.chat_id == chat_id]


def inbound(
    text: str = "",
    *,
    chat: str = "warga",
    channel: str = "test",
    sender: str | None = None,
    message_id: str | None = None,
    when: datetime | None = None,
    **overrides: object,
) -> Inbound:
    """An Inbound as a channel would build it; every field can be overridden."""
    return Inbound(
        channel=channel,
        chat_id=chat,
        sender_id=sender or chat,
        message_id=message_id or f"m{next(_ids)}",
        timestamp=when or datetime.now(UTC),
        text=text,
        **overrides,  # type: ignore[arg-type]
    )


def file_attachment(
    data: bytes,
    *,
    kind: AttachmentKind = AttachmentKind.PHOTO,
    mime: str = "image/jpeg",
    size: int | None = -1,
    filename: str | None = None,
) -> Attachment:
    """An attachment whose bytes are ``data``; ``size`` defaults to their length."""

    async def fetch() -> bytes:
        return data

    return Attachment(
        kind=kind,
        mime=mime,
        size=len(data) if size == -1 else size,
        fetch=fetch,
        filename=filename,
    )
