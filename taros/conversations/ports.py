"""What the conversation engine needs from the rest of the application.

The engine and dialogues compute a :class:`Changes` for each message; the store applies it in
one transaction: the message id recorded, the conversation state, a ticket if one is created,
and every reply (outbox). Either all of it is kept or none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from taros.conversations.messages import ChatKey, Outbound
from taros.conversations.state import Conversation, Draft


class TimerKind(StrEnum):
    DRAFT_REMINDER = "draft_reminder"
    DRAFT_EXPIRY = "draft_expiry"


@dataclass(frozen=True, slots=True)
class Timer:
    key: ChatKey
    kind: TimerKind
    due_at: datetime
    id: int | None = None


@dataclass(frozen=True, slots=True)
class NewTicket:
    draft: Draft
    unit: str
    locale: str
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class TicketRef:
    id: int
    number: str


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as its reporter may see it."""

    number: str
    category: str
    status: str
    kecamatan_code: str | None
    desa_code: str | None
    address: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime


@dataclass(slots=True)
class Changes:
    """Everything one message (or timer) changes, applied atomically by the store."""

    key: ChatKey
    inbound_id: str | None = None
    sender_id: str | None = None
    sender_name: str | None = None
    conversation: Conversation | None = None
    ticket: NewTicket | None = None
    replies: list[Outbound] = field(default_factory=list)
    replies_after_ticket: Callable[[TicketRef], list[Outbound]] | None = None
    set_timers: list[Timer] = field(default_factory=list)
    cancel_timers: list[TimerKind] = field(default_factory=list)
    fired_timer_id: int | None = None
    locale: str | None = None  # the reporter's chosen language, remembered across chats


class CommitOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the inbound message id was already handled
    STALE = "stale"  # the timer was already gone (re-armed or cancelled)


@dataclass(frozen=True, slots=True)
class CommitResult:
    outcome: CommitOutcome
    outbox_ids: tuple[int, ...] = ()
    ticket: TicketRef | None = None


class Store(Protocol):
    async def load_conversation(self, key: ChatKey) -> Conversation | None: ...

    async def is_processed(self, channel: str, message_id: str) -> bool: ...

    async def apply(self, changes: Changes, now: datetime) -> CommitResult: ...

    async def ticket_for_reporter(
        self, number: str, channel: str, sender_id: str
    ) -> TicketView | None: ...

    async def tickets_for_reporter(
        self, channel: str, sender_id: str, limit: int
    ) -> list[TicketView]: ...

    async def reporter_locale(self, channel: str, sender_id: str) -> str | None: ...
