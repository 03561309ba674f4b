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

from conversations.desk.duplicates import OpenTicket
from conversations.domain import PromptKind, Role, TicketStatus
from conversations.messages import ChatKey, Outbound
from conversations.state import Conversation, Draft


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
    polsek: str | None
    locale: str
    created_at: datetime
    due_at: datetime
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class TicketRef:
    id: int
    number: str
    pseudonym: str = ""


@dataclass(frozen=True, slots=True)
class Officer:
    id: int
    channel: str
    external_id: str
    name: str
    role: Role
    unit: str | None

    @property
    def actor(self) -> str:
        """How the officer appears in the audit trail."""
        return f"officer:{self.id}"

    def covers(self, *units: str | None) -> bool:
        return self.role.sees_every_unit or (self.unit is not None and self.unit in units)


@dataclass(frozen=True, slots=True)
class LoadedChat:
    """A chat as a message from ``sender_id`` finds it (:meth:`Store.load_chat`): its
    conversation; the sender's officer record when it was read in the same trip
    (``officer_read``; otherwise ask :meth:`Store.officer` if it matters); and, when the
    conversation holds no draft, the questions the chat's reporter has not answered yet
    (:meth:`Store.pending_prompts`; None when not read)."""

    conversation: Conversation
    officer: Officer | None = None
    officer_read: bool = False
    prompts: list[Prompt] | None = None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    at: datetime
    actor: str
    kind: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    note: str | None


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """A ticket as officers see it: the reporter only as a pseudonym and a masked id."""

    id: int
    number: str
    category: str
    unit: str
    polsek: str | None
    status: TicketStatus
    kecamatan_code: str | None
    desa_code: str | None
    address: str | None
    lat: float | None
    lon: float | None
    outside_garut: bool
    chronology: str
    incident_time: datetime | None
    urgent: bool
    locale: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    first_response_at: datetime | None
    reporter_pseudonym: str
    reporter_masked: str
    reporter_channel: str  # where to reach the reporter, used by the bot only
    reporter_chat: str
    evidence_count: int
    events: tuple[TicketEvent, ...] = ()
    reporter_id: int = 0  # internal key, never shown

    @property
    def is_open(self) -> bool:
        return self.status.is_open


@dataclass(frozen=True, slots=True)
class StatusChange:
    ticket_id: int
    from_status: TicketStatus
    to_status: TicketStatus
    actor: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Assign:
    ticket_id: int
    from_unit: str
    to_unit: str
    actor: str


@dataclass(frozen=True, slots=True)
class Recategorise:
    """An officer corrected the ticket's category (``/kategori``): a labelled example for the
    understanding of free text."""

    ticket_id: int
    from_category: str
    to_category: str
    actor: str


@dataclass(frozen=True, slots=True)
class Relocate:
    """An officer corrected the ticket's place (``/lokasi``): the kecamatan and desa, and the
    Polsek that follows from them. Also a labelled example (a place the text named)."""

    ticket_id: int
    from_kecamatan: str | None
    to_kecamatan: str
    to_desa: str | None
    to_polsek: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class TicketNote:
    """An event that changes no field: a relayed message, the reporter's answer."""

    ticket_id: int
    actor: str
    kind: str
    note: str | None = None
    first_response: bool = False


@dataclass(frozen=True, slots=True)
class SetPrompt:
    key: ChatKey
    kind: PromptKind
    ticket_id: int
    officer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClearPrompt:
    """The question on ``ticket_id`` (every question of the chat when None) is answered."""

    key: ChatKey
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    ticket_id: int
    ok: bool


@dataclass(frozen=True, slots=True)
class Strike:
    """A report rejected as a prank counts against its reporter."""

    reporter_id: int
    ticket_id: int
    actor: str


@dataclass(frozen=True, slots=True)
class BlockReporter:
    """Block every identity of a reporter until ``until``."""

    reporter_id: int
    until: datetime
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class EraseReporter:
    """The reporter asked to be forgotten (``/hapusdata``)."""

    key: ChatKey
    sender_id: str


TicketOp = (
    StatusChange
    | Assign
    | Recategorise
    | Relocate
    | TicketNote
    | SetPrompt
    | ClearPrompt
    | Resolved
    | Strike
    | BlockReporter
    | EraseReporter
)


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: PromptKind
    ticket_id: int
    ticket_number: str
    officer_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as its reporter may see it."""

    number: str
    category: str
    status: TicketStatus
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
    sender_aliases: tuple[str, ...] = ()  # the sender's other ids (WhatsApp: phone and @lid)
    sender_name: str | None = None
    conversation: Conversation | None = None
    ticket: NewTicket | None = None
    replies: list[Outbound] = field(default_factory=list)
    replies_after_ticket: Callable[[TicketRef], list[Outbound]] | None = None
    ops: list[TicketOp] = field(default_factory=list)
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
    # the replies as committed, each with its outbox id (in the order of ``outbox_ids``)
    replies: tuple[Outbound, ...] = ()
    # evidence files (sha256) no row refers to any more (an erasure): the store deletes them
    released_files: frozenset[str] = frozenset()


class Store(Protocol):
    async def load_conversation(self, key: ChatKey) -> Conversation | None: ...

    async def load_chat(self, key: ChatKey, sender_id: str) -> LoadedChat:
        """The chat's conversation for a message from ``sender_id``; when it has none yet, a
        new one in the language the sender chose before (their reporter's locale); and when
        it holds no draft, the reporter's pending prompts. What must be read is read in one
        trip, the sender's officer record with it."""
        ...

    async def is_processed(self, channel: str, message_id: str) -> bool: ...

    async def apply(self, changes: Changes, now: datetime) -> CommitResult: ...

    async def ticket_for_reporter(
        self, number: str, channel: str, sender_id: str
    ) -> TicketView | None: ...

    async def tickets_for_reporter(
        self, channel: str, sender_id: str, limit: int
    ) -> list[TicketView]: ...

    async def reporter_locale(self, channel: str, sender_id: str) -> str | None: ...

    async def officer(self, channel: str, external_id: str) -> Officer | None: ...

    async def officers(
        self, *, units: tuple[str, ...] = (), roles: tuple[Role, ...] = ()
    ) -> list[Officer]: ...

    async def ticket_detail(self, number: str) -> TicketDetail | None: ...

    async def ticket_list(
        self,
        *,
        units: tuple[str, ...] | None,
        status: TicketStatus | None,
        overdue_at: datetime | None,
        offset: int,
        limit: int,
    ) -> list[TicketDetail]: ...

    async def pending_prompts(self, key: ChatKey) -> list[Prompt]:
        """The questions the chat's reporter has not answered yet, oldest first (one per
        ticket)."""
        ...

    async def strike_count(self, reporter_id: int) -> int: ...

    async def strikers(self, reporter_id: int) -> dict[str, int]:
        """Who gave the reporter's prank strikes (the actor), and how many each."""
        ...

    async def open_tickets_like(self, category: str, since: datetime) -> list[OpenTicket]: ...

    async def tickets_since(self, channel: str, sender_id: str, since: datetime) -> int: ...
