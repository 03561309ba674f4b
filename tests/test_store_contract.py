"""The contract of the storage ports, run against every implementation.

Written against the ports as their consumers see them: the engine's ``Store``
(``conversations.ports``), the outbox (the dispatcher's ``Outbox`` and the engine's
``FailureNotifier``), the timers (the scheduler's ``DueTimers``) and the block list (the
guard's ``BlockSource``). Each implementation provides them over real storage, plus three
set-up hooks the ports do not offer (register an officer, make a ticket disappear, a second
store over the same data with nothing cached). No mocks: SQLite on a file, and in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import aiosqlite
import pytest

from bot.clock import to_db
from bot.identity import ChannelId
from bot.jobs.dispatcher import Outbox
from bot.jobs.timers import DueTimers
from bot.officers import add_officer
from bot.storage.blocks import SqliteBlocks
from bot.storage.database import Database
from bot.storage.outbox import OutboxScope, SqliteOutbox
from bot.storage.store import SqliteStore
from bot.storage.timers import SqliteTimers
from conversations.domain import PromptKind, Role, TicketStatus
from conversations.engine import FailureNotifier, StaleConversation
from conversations.guard import BlockSource
from conversations.messages import ChatKey, Media, Option, Outbound
from conversations.ports import (
    BlockReporter,
    Changes,
    ClearPrompt,
    CommitOutcome,
    CommitResult,
    EraseReporter,
    NewTicket,
    Officer,
    SetPrompt,
    StatusChange,
    Store,
    Strike,
    TicketRef,
    Timer,
    TimerKind,
)
from conversations.state import Conversation, Draft, EvidenceItem, Step

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 in Garut
WA = "whatsapp"
SHA = "ab" + "0" * 62


class OutboxPort(Outbox, FailureNotifier, Protocol):
    """The outbox as both its consumers see it: the dispatcher, and whoever queues a notice."""


@dataclass
class Backend:
    """One implementation of the ports, and the set-up hooks the ports do not offer."""

    store: Store
    outbox: OutboxPort
    timers: DueTimers
    blocks: BlockSource
    fresh_store: Callable[[], Store]  # the same data, nothing remembered
    register_officer: Callable[[str, Role, str | None], Awaitable[Officer]]
    drop_ticket: Callable[[str], Awaitable[None]]  # e.g. erased by an operator


def sqlite_backend(db: Database) -> Backend:
    def fresh_store() -> Store:
        return SqliteStore(db, ticket_prefix="GRT", tz=JAKARTA)

    async def register_officer(chat: str, role: Role, unit: str | None) -> Officer:
        return await add_officer(
            db, ChannelId(WA, chat), name=f"Petugas {chat}", role=role, unit=unit, now=NOW
        )

    async def drop_ticket(number: str) -> None:
        async def job(conn: aiosqlite.Connection) -> None:
            await conn.execute("DELETE FROM tickets WHERE number = ?", (number,))

        await db.write(job)

    return Backend(
        store=fresh_store(),
        outbox=SqliteOutbox(db),
        timers=SqliteTimers(db),
        blocks=SqliteBlocks(db),
        fresh_store=fresh_store,
        register_officer=register_officer,
        drop_ticket=drop_ticket,
    )


def database_path(kind: str, tmp_path: Path) -> Path:
    return tmp_path / "data" / "taros.db" if kind == "sqlite-file" else Path(":memory:")


@pytest.fixture(params=["sqlite-file", "sqlite-memory"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    db = await Database.open(database_path(request.param, tmp_path))
    try:
        yield sqlite_backend(db)
    finally:
        await db.close()


# --- building changes ------------------------------------------------------------------------


def chat(name: str) -> ChatKey:
    return ChatKey(WA, name)


def reply(to: str, text: str) -> Outbound:
    return Outbound(WA, to, text)


def draft(**fields: object) -> Draft:
    values: dict[str, object] = {
        "started_at": to_db(NOW - timedelta(minutes=5)),
        "category": "uang_palsu",
        "location_done": True,
        "kecamatan_code": "32.05.01",
        "desa_code": "32.05.01.1001",
        "address": "dekat pasar",
        "chronology": "Ada yang belanja pakai uang palsu di warung saya",
        "evidence": [EvidenceItem("photo", SHA, "image/jpeg", 122, f"ab/{SHA}")],
        "evidence_done": True,
    }
    values.update(fields)
    return Draft(**values)  # type: ignore[arg-type]


def new_ticket(when: datetime = NOW, *, unit: str = "SATRESKRIM", **fields: object) -> NewTicket:
    return NewTicket(
        draft=draft(**fields),
        unit=unit,
        polsek="POLSEK-GARUT-KOTA",
        locale="id",
        created_at=when,
        due_at=when + timedelta(hours=24),
    )


def report_changes(
    sender: str, when: datetime = NOW, *, message_id: str | None = None, **extra: object
) -> Changes:
    """What the intake hands the store when a citizen confirms a report."""
    changes = Changes(
        key=chat(sender),
        inbound_id=message_id,
        sender_id=sender,
        conversation=Conversation(chat(sender)),
        ticket=new_ticket(when),
        replies=[reply(sender, "Terima kasih")],
    )
    for name, value in extra.items():
        setattr(changes, name, value)
    return changes


async def report(
    backend: Backend,
    sender: str,
    when: datetime = NOW,
    *,
    message_id: str | None = None,
    sender_aliases: tuple[str, ...] = (),
) -> TicketRef:
    changes = report_changes(sender, when, message_id=message_id, sender_aliases=sender_aliases)
    result = await backend.store.apply(changes, when)
    assert result.outcome == CommitOutcome.APPLIED
    assert result.ticket is not None
    return result.ticket


async def pending(
    backend: Backend, *scopes: OutboxScope, after_id: int = 0, limit: int = 1000
) -> list[Outbound]:
    rows = await backend.outbox.pending_outbox(scopes or (OutboxScope(WA),), after_id, limit)
    assert [row.id for row in rows] == [row.outbound.outbox_id for row in rows]
    return [row.outbound for row in rows]


async def texts_pending(backend: Backend, *scopes: OutboxScope) -> list[str]:
    return [o.text for o in await pending(backend, *scopes)]


# --- apply: all or nothing -------------------------------------------------------------------


class Boom(RuntimeError):
    pass


async def test_a_failing_apply_leaves_nothing(backend: Backend) -> None:
    store = backend.store
    before = await store.apply(
        Changes(chat("ani"), conversation=Conversation(chat("ani"), step=Step.CATEGORY)), NOW
    )
    assert before.outcome == CommitOutcome.APPLIED

    def explode(ticket: TicketRef) -> list[Outbound]:
        raise Boom(f"could not word the reply for {ticket.number}")

    broken = report_changes(
        "ani",
        message_id="m-1",
        conversation=Conversation(chat("ani"), step=Step.SUMMARY),
        replies_after_ticket=explode,
        set_timers=[Timer(chat("ani"), TimerKind.DRAFT_EXPIRY, NOW)],
        locale="su",
    )
    with pytest.raises(Boom):
        await store.apply(broken, NOW)

    for reader in (store, backend.fresh_store()):
        conv = await reader.load_conversation(chat("ani"))
        assert conv is not None and conv.step == Step.CATEGORY
        assert not await reader.is_processed(WA, "m-1")
        assert await reader.tickets_for_reporter(WA, "ani", 10) == []
        assert await reader.ticket_detail("GRT-2026-00001") is None
        assert await reader.reporter_locale(WA, "ani") is None
    assert await pending(backend) == []
    assert await backend.timers.due_timers(NOW + timedelta(days=2)) == []
    # nothing was used up: the redelivered message is handled, and gets the first number
    again = await store.apply(report_changes("ani", message_id="m-1"), NOW)
    assert again.outcome == CommitOutcome.APPLIED
    assert again.ticket is not None and again.ticket.number == "GRT-2026-00001"


async def test_a_failing_ticket_operation_undoes_the_whole_message(backend: Backend) -> None:
    first = await report(backend, "ani")
    store = backend.store
    bad = Changes(
        chat("ani"),
        inbound_id="m-2",
        sender_id="ani",
        conversation=Conversation(chat("ani"), step=Step.CHRONOLOGY),
        ticket=new_ticket(),
        replies=[reply("ani", "tidak boleh terkirim")],
        ops=[StatusChange(first.id, TicketStatus.RESOLVED, TicketStatus.REJECTED, "officer:1")],
    )
    with pytest.raises(RuntimeError):
        await store.apply(bad, NOW)

    conv = await store.load_conversation(chat("ani"))
    assert conv is not None and conv.step == Step.IDLE
    assert not await store.is_processed(WA, "m-2")
    assert [t.number for t in await store.tickets_for_reporter(WA, "ani", 10)] == [first.number]
    assert await texts_pending(backend) == ["Terima kasih"]
    detail = await store.ticket_detail(first.number)
    assert detail is not None and detail.status == TicketStatus.NEW
    assert [e.kind for e in detail.events] == ["created"]


async def test_a_repeated_message_id_is_a_duplicate_and_changes_nothing(backend: Backend) -> None:
    store = backend.store
    first = await store.apply(
        Changes(
            chat("ani"),
            inbound_id="m-1",
            sender_id="ani",
            conversation=Conversation(chat("ani"), step=Step.CATEGORY),
            replies=[reply("ani", "Pilih kategori")],
        ),
        NOW,
    )
    assert first.outcome == CommitOutcome.APPLIED and len(first.outbox_ids) == 1
    assert await store.is_processed(WA, "m-1")

    again = await store.apply(report_changes("ani", message_id="m-1"), NOW)

    assert again == CommitResult(CommitOutcome.DUPLICATE)
    conv = await backend.fresh_store().load_conversation(chat("ani"))
    assert conv is not None and conv.step == Step.CATEGORY and conv.version == 1
    assert await store.tickets_for_reporter(WA, "ani", 10) == []
    assert await texts_pending(backend) == ["Pilih kategori"]
    # the same id on another channel is another message
    assert not await store.is_processed("telegram", "m-1")
    other = await store.apply(Changes(ChatKey("telegram", "9"), inbound_id="m-1"), NOW)
    assert other.outcome == CommitOutcome.APPLIED


# --- ticket numbers --------------------------------------------------------------------------


async def test_ticket_numbers_are_sequential_per_year_in_local_time(backend: Backend) -> None:
    june = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    new_years_eve = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 in Jakarta
    new_year = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # already 01:00 on 1 Jan 2027

    numbers = [
        (await report(backend, sender, when)).number
        for sender, when in [("a", june), ("b", new_years_eve), ("c", new_year), ("d", june)]
    ]

    assert numbers == ["GRT-2026-00001", "GRT-2026-00002", "GRT-2027-00001", "GRT-2026-00003"]


async def test_ticket_numbers_are_never_reused(backend: Backend) -> None:
    together = await asyncio.gather(*(report(backend, f"c{n}") for n in range(12)))
    assert sorted(t.number for t in together) == [f"GRT-2026-{n:05d}" for n in range(1, 13)]
    assert len({t.id for t in together}) == 12

    await backend.drop_ticket("GRT-2026-00012")  # the newest one disappears ...
    assert await backend.store.ticket_detail("GRT-2026-00012") is None
    # ... and its number is not handed out again
    assert (await report(backend, "next")).number == "GRT-2026-00013"


# --- conversations ---------------------------------------------------------------------------


async def test_a_conversation_round_trips(backend: Backend) -> None:
    store = backend.store
    assert await store.load_conversation(chat("ani")) is None
    conv = Conversation(
        chat("ani"),
        step=Step.EVIDENCE,
        draft=draft(lat=-7.2, lon=107.9, urgent=True, prefilled=["category"]),
        locale="su",
        options=[Option("1", "Kirim"), Option("2", "Ubah")],
        invalid=2,
        editing=True,
        resume=Step.SUMMARY,
        pending={"place": "Cibatu"},
        language_asked=True,
    )
    await store.apply(Changes(chat("ani"), conversation=conv), NOW)

    for reader in (store, backend.fresh_store()):
        loaded = await reader.load_conversation(chat("ani"))
        assert loaded == replace(conv, version=1)
    loaded = await store.load_conversation(chat("ani"))
    assert loaded is not None
    loaded.step = Step.IDLE  # a caller's copy is its own
    again = await store.load_conversation(chat("ani"))
    assert again is not None and again.step == Step.EVIDENCE

    await store.apply(Changes(chat("ani"), conversation=replace(conv, step=Step.SUMMARY)), NOW)
    saved = await backend.fresh_store().load_conversation(chat("ani"))
    assert saved is not None and (saved.step, saved.version) == (Step.SUMMARY, 2)
    assert await store.load_conversation(chat("budi")) is None


async def test_a_conversation_written_elsewhere_since_it_was_read_is_not_overwritten(
    backend: Backend,
) -> None:
    store, elsewhere = backend.store, backend.fresh_store()
    await store.apply(Changes(chat("ani"), conversation=Conversation(chat("ani"))), NOW)
    assert await store.load_conversation(chat("ani")) is not None
    cancelled = Conversation(chat("ani"), step=Step.CATEGORY)
    await elsewhere.apply(Changes(chat("ani"), conversation=cancelled), NOW)

    late = Changes(
        chat("ani"),
        inbound_id="m-1",
        conversation=Conversation(chat("ani"), step=Step.SUMMARY),
        replies=[reply("ani", "Ringkasan")],
    )
    with pytest.raises(StaleConversation):
        await store.apply(late, NOW)

    assert not await store.is_processed(WA, "m-1")
    assert await pending(backend) == []
    now_stored = await store.load_conversation(chat("ani"))  # read again: the other write
    assert now_stored == replace(cancelled, version=2)
    redone = await store.apply(replace(late, conversation=replace(now_stored)), NOW)
    assert redone.outcome == CommitOutcome.APPLIED


# --- reporters -------------------------------------------------------------------------------


async def test_a_reporter_reads_only_their_own_tickets(backend: Backend) -> None:
    store = backend.store
    ani_first = await report(backend, "6281100000001")
    budi = await report(backend, "6281100000002")
    ani_second = await report(backend, "6281100000001", NOW + timedelta(hours=1))

    mine = await store.tickets_for_reporter(WA, "6281100000001", 10)
    assert [t.number for t in mine] == [ani_second.number, ani_first.number]
    assert [t.number for t in await store.tickets_for_reporter(WA, "6281100000001", 1)] == [
        ani_second.number
    ]
    view = await store.ticket_for_reporter(ani_first.number, WA, "6281100000001")
    assert view is not None
    assert (view.number, view.status, view.category) == (
        ani_first.number,
        TicketStatus.NEW,
        "uang_palsu",
    )
    assert view.created_at == NOW and view.due_at == NOW + timedelta(hours=24)
    assert await store.ticket_for_reporter(budi.number, WA, "6281100000001") is None
    assert await store.ticket_for_reporter(ani_first.number, "telegram", "6281100000001") is None
    assert await store.tickets_for_reporter(WA, "stranger", 10) == []
    assert ani_first.pseudonym and ani_first.pseudonym == ani_second.pseudonym != budi.pseudonym
    assert await store.tickets_since(WA, "6281100000001", NOW) == 2
    assert await store.tickets_since(WA, "6281100000001", NOW + timedelta(minutes=1)) == 1


async def test_a_sender_s_aliases_are_the_same_reporter(backend: Backend) -> None:
    store = backend.store
    first = await report(backend, "6281100000001", sender_aliases=("111@lid",))
    # the next message comes from the @lid form only
    second = await store.apply(
        Changes(
            ChatKey(WA, "111@lid"),
            sender_id="111@lid",
            ticket=new_ticket(NOW + timedelta(hours=1)),
            locale="en",
        ),
        NOW,
    )
    assert second.ticket is not None and second.ticket.pseudonym == first.pseudonym
    numbers = [t.number for t in await store.tickets_for_reporter(WA, "6281100000001", 10)]
    assert numbers == [second.ticket.number, first.number]
    assert await store.reporter_locale(WA, "6281100000001") == "en"
    assert await store.reporter_locale(WA, "111@lid") == "en"
    assert await store.reporter_locale(WA, "stranger") is None


async def test_a_chat_is_loaded_as_its_message_finds_it(backend: Backend) -> None:
    """load_chat: the saved conversation; a new one in the sender's chosen language when none
    is saved; the sender's officer record whenever it was read along (else it is asked)."""
    store = backend.store
    officer = await backend.register_officer("6281200000001", Role.OFFICER, "SATRESKRIM")
    # a reporter who chose English, with no conversation saved
    await store.apply(Changes(chat("6281100000001"), sender_id="6281100000001", locale="en"), NOW)
    saved = Conversation(chat("6281100000003"), step=Step.CHRONOLOGY, draft=draft(), locale="su")
    await store.apply(Changes(chat("6281100000003"), inbound_id="m-3", conversation=saved), NOW)

    for reader in (store, backend.fresh_store()):
        stranger = await reader.load_chat(chat("stranger"), "stranger")
        assert stranger.prompts == []
        assert stranger.conversation.key == chat("stranger")
        assert stranger.conversation.step == Step.IDLE and stranger.conversation.draft is None
        assert stranger.conversation.locale is None
        assert not stranger.officer_read or stranger.officer is None

        english = await reader.load_chat(chat("6281100000001"), "6281100000001")
        assert english.conversation.locale == "en" and english.conversation.draft is None

        officer_chat = await reader.load_chat(chat("6281200000001"), "6281200000001")
        assert officer_chat.conversation.draft is None
        assert not officer_chat.officer_read or officer_chat.officer == officer

        loaded = await reader.load_chat(chat("6281100000003"), "6281100000003")
        assert loaded.conversation.step == Step.CHRONOLOGY
        assert loaded.conversation.draft == saved.draft
        assert loaded.conversation.locale == "su"
        assert not loaded.officer_read or loaded.officer is None
        assert loaded.prompts is None  # a draft is open: no question of a report is answered

    # read for a chat nothing was cached of, the officer record comes along
    first = await backend.fresh_store().load_chat(chat("6281200000001"), "6281200000001")
    assert first.officer_read and first.officer == officer


async def test_an_erased_reporter_is_forgotten(backend: Backend) -> None:
    store = backend.store
    ticket = await report(backend, "6281100000001", message_id="m-1")
    await store.apply(
        Changes(
            chat("6281100000001"),
            inbound_id="m-2",
            sender_id="6281100000001",
            conversation=Conversation(chat("6281100000001"), step=Step.IDLE),
            ops=[EraseReporter(chat("6281100000001"), "6281100000001")],
            replies=[reply("6281100000001", "Data Anda dihapus")],
        ),
        NOW,
    )

    assert await store.load_conversation(chat("6281100000001")) is None
    assert await store.tickets_for_reporter(WA, "6281100000001", 10) == []
    assert await store.ticket_for_reporter(ticket.number, WA, "6281100000001") is None
    detail = await store.ticket_detail(ticket.number)  # the report stays, pseudonymous
    assert detail is not None and detail.reporter_pseudonym == ticket.pseudonym
    assert detail.reporter_masked == ""
    assert "Data Anda dihapus" in await texts_pending(backend)


# --- officers --------------------------------------------------------------------------------


async def test_officer_reads(backend: Backend) -> None:
    store = backend.store
    reskrim = await backend.register_officer("6281200000001", Role.OFFICER, "SATRESKRIM")
    lantas = await backend.register_officer("6281200000002", Role.OFFICER, "SATLANTAS")
    chief = await backend.register_officer("6281200000003", Role.KAPOLRES, None)

    assert await store.officer(WA, "6281200000001") == reskrim
    assert await store.officer(WA, "6281100000001") is None
    assert await store.officer("telegram", "6281200000001") is None
    assert await store.officers() == [reskrim, lantas, chief]
    assert await store.officers(units=("SATRESKRIM",)) == [reskrim]
    assert await store.officers(roles=(Role.KAPOLRES,)) == [chief]
    assert await store.officers(units=("SATLANTAS",), roles=(Role.KAPOLRES,)) == [lantas, chief]

    ticket = await report(backend, "6281100000001")
    detail = await store.ticket_detail(ticket.number)
    assert detail is not None
    assert (detail.id, detail.unit, detail.status) == (ticket.id, "SATRESKRIM", TicketStatus.NEW)
    assert detail.reporter_pseudonym == ticket.pseudonym
    assert detail.reporter_masked == "0811****0001"  # never the whole number
    assert detail.evidence_count == 1 and detail.first_response_at is None
    assert [(e.kind, e.to_status) for e in detail.events] == [("created", TicketStatus.NEW)]
    assert await store.ticket_detail("GRT-2026-99999") is None


async def test_officer_ticket_lists_and_status_changes(backend: Backend) -> None:
    store = backend.store
    old = await report(backend, "a", NOW - timedelta(days=2))
    fresh = await report(backend, "b")
    other_unit = await store.apply(
        Changes(chat("c"), sender_id="c", ticket=new_ticket(unit="SATLANTAS")), NOW
    )
    assert other_unit.ticket is not None

    async def listed(
        *,
        units: tuple[str, ...] | None = None,
        status: TicketStatus | None = None,
        overdue_at: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> list[str]:
        tickets = await store.ticket_list(
            units=units, status=status, overdue_at=overdue_at, offset=offset, limit=limit
        )
        return [t.number for t in tickets]

    assert await listed() == [other_unit.ticket.number, fresh.number, old.number]
    assert await listed(units=("SATRESKRIM",)) == [fresh.number, old.number]
    assert await listed(units=("POLSEK-GARUT-KOTA",), limit=1, offset=1) == [
        fresh.number
    ]  # the polsek sees its area's tickets too
    assert await listed(units=()) == []
    assert await listed(overdue_at=NOW) == [old.number]

    change = StatusChange(fresh.id, TicketStatus.NEW, TicketStatus.IN_PROGRESS, "officer:7", "ok")
    await store.apply(Changes(chat("officer"), ops=[change]), NOW + timedelta(hours=1))
    assert await listed(status=TicketStatus.IN_PROGRESS) == [fresh.number]
    detail = await store.ticket_detail(fresh.number)
    assert detail is not None and detail.status == TicketStatus.IN_PROGRESS
    assert detail.first_response_at == NOW + timedelta(hours=1)
    assert [(e.actor, e.from_status, e.to_status, e.note) for e in detail.events[1:]] == [
        ("officer:7", TicketStatus.NEW, TicketStatus.IN_PROGRESS, "ok")
    ]
    closing = StatusChange(fresh.id, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, "officer:7")
    await store.apply(Changes(chat("officer"), ops=[closing]), NOW)
    assert fresh.number not in await listed()  # closed tickets leave the open list

    old_detail = await store.ticket_detail(old.number)
    assert old_detail is not None
    reporter = old_detail.reporter_id
    assert await store.strike_count(reporter) == 0
    rejected = StatusChange(old.id, TicketStatus.NEW, TicketStatus.REJECTED, "officer:7")
    strike = Strike(reporter, old.id, "officer:7")
    await store.apply(Changes(chat("officer"), ops=[rejected, strike]), NOW)
    assert await store.strike_count(reporter) == 1
    assert await listed(status=TicketStatus.REJECTED) == [old.number]
    assert await store.strike_count(detail.reporter_id) == 0  # fresh's reporter: another one


async def test_open_tickets_alike_are_found_for_duplicates(backend: Backend) -> None:
    store = backend.store
    first = await report(backend, "a", NOW - timedelta(hours=3))
    await store.apply(Changes(chat("b"), sender_id="b", ticket=new_ticket(category="narkoba")), NOW)
    alike = await store.open_tickets_like("uang_palsu", NOW - timedelta(days=1))
    assert [(t.id, t.number, t.desa_code) for t in alike] == [
        (first.id, first.number, "32.05.01.1001")
    ]
    assert await store.open_tickets_like("uang_palsu", NOW - timedelta(hours=1)) == []


# --- prompts ---------------------------------------------------------------------------------


async def test_pending_prompts(backend: Backend) -> None:
    store = backend.store
    ticket = await report(backend, "ani")
    assert await store.pending_prompts(chat("ani")) == []

    officer = await backend.register_officer("6281200000001", Role.OFFICER, "SATRESKRIM")
    ask = SetPrompt(chat("ani"), PromptKind.RELAY, ticket.id, officer_id=officer.id)
    await store.apply(Changes(chat("officer"), ops=[ask]), NOW)
    [prompt] = await store.pending_prompts(chat("ani"))
    assert (prompt.kind, prompt.ticket_id, prompt.ticket_number, prompt.officer_id) == (
        PromptKind.RELAY,
        ticket.id,
        ticket.number,
        officer.id,
    )
    assert prompt.created_at == NOW
    assert await store.pending_prompts(chat("budi")) == []

    closing = SetPrompt(chat("ani"), PromptKind.CLOSING, ticket.id)
    await store.apply(Changes(chat("officer"), ops=[closing]), NOW + timedelta(minutes=1))
    [prompt] = await store.pending_prompts(chat("ani"))  # one question per ticket
    assert (prompt.kind, prompt.officer_id) == (PromptKind.CLOSING, None)

    other = await report(backend, "ani")
    ask = SetPrompt(chat("ani"), PromptKind.RELAY, other.id, officer_id=officer.id)
    await store.apply(Changes(chat("officer"), ops=[ask]), NOW + timedelta(minutes=2))
    both = await store.pending_prompts(chat("ani"))
    assert [(p.ticket_id, p.kind) for p in both] == [
        (ticket.id, PromptKind.CLOSING),
        (other.id, PromptKind.RELAY),
    ]
    await store.apply(Changes(chat("ani"), ops=[ClearPrompt(chat("ani"), ticket.id)]), NOW)
    assert [p.ticket_id for p in await store.pending_prompts(chat("ani"))] == [other.id]
    # a message of the chat finds them with its conversation (it holds no draft)
    for reader in (store, backend.fresh_store()):
        loaded = await reader.load_chat(chat("ani"), "ani")
        assert loaded.prompts is not None
        assert [p.ticket_id for p in loaded.prompts] == [other.id]
    await store.apply(Changes(chat("ani"), ops=[ClearPrompt(chat("ani"))]), NOW)
    assert await store.pending_prompts(chat("ani")) == []


# --- timers ----------------------------------------------------------------------------------


async def test_one_change_arms_and_cancels_several_timers(backend: Backend) -> None:
    """A change that arms two timers, one of them twice, keeps the later time; one that
    cancels two kinds removes both and leaves another chat's alone."""
    store, timers = backend.store, backend.timers
    first, second = NOW + timedelta(minutes=30), NOW + timedelta(minutes=45)
    expiry = NOW + timedelta(hours=24)
    await store.apply(
        Changes(
            chat("ani"),
            set_timers=[
                Timer(chat("ani"), TimerKind.DRAFT_REMINDER, first),
                Timer(chat("ani"), TimerKind.DRAFT_EXPIRY, expiry),
                Timer(chat("ani"), TimerKind.DRAFT_REMINDER, second),
            ],
        ),
        NOW,
    )
    await store.apply(
        Changes(chat("budi"), set_timers=[Timer(chat("budi"), TimerKind.DRAFT_EXPIRY, expiry)]),
        NOW,
    )
    assert [(t.key, t.kind, t.due_at) for t in await timers.due_timers(expiry)] == [
        (chat("ani"), TimerKind.DRAFT_REMINDER, second),
        (chat("ani"), TimerKind.DRAFT_EXPIRY, expiry),
        (chat("budi"), TimerKind.DRAFT_EXPIRY, expiry),
    ]

    await store.apply(
        Changes(
            chat("ani"), cancel_timers=[TimerKind.DRAFT_REMINDER, TimerKind.DRAFT_EXPIRY]
        ),
        NOW,
    )
    assert [(t.key, t.kind) for t in await timers.due_timers(expiry)] == [
        (chat("budi"), TimerKind.DRAFT_EXPIRY)
    ]


async def test_timers_are_armed_moved_cancelled_and_fired_once(backend: Backend) -> None:
    store, timers = backend.store, backend.timers
    reminder = NOW + timedelta(minutes=30)
    expiry = NOW + timedelta(hours=24)
    await store.apply(
        Changes(
            chat("ani"),
            set_timers=[
                Timer(chat("ani"), TimerKind.DRAFT_REMINDER, reminder),
                Timer(chat("ani"), TimerKind.DRAFT_EXPIRY, expiry),
            ],
        ),
        NOW,
    )
    assert await timers.due_timers(NOW) == []
    assert await timers.next_timer_due() == reminder
    due = await timers.due_timers(expiry)
    assert [(t.key, t.kind, t.due_at) for t in due] == [
        (chat("ani"), TimerKind.DRAFT_REMINDER, reminder),
        (chat("ani"), TimerKind.DRAFT_EXPIRY, expiry),
    ]
    assert len(await timers.due_timers(expiry, limit=1)) == 1

    later = NOW + timedelta(hours=1)  # armed again: moved, not doubled
    await store.apply(
        Changes(chat("ani"), set_timers=[Timer(chat("ani"), TimerKind.DRAFT_REMINDER, later)]),
        NOW,
    )
    assert [(t.kind, t.due_at) for t in await timers.due_timers(expiry)] == [
        (TimerKind.DRAFT_REMINDER, later),
        (TimerKind.DRAFT_EXPIRY, expiry),
    ]

    await store.apply(Changes(chat("ani"), cancel_timers=[TimerKind.DRAFT_REMINDER]), NOW)
    (left,) = await timers.due_timers(expiry)
    assert left.kind == TimerKind.DRAFT_EXPIRY and left.id is not None
    assert await timers.next_timer_due() == expiry

    fired = await store.apply(
        Changes(chat("ani"), fired_timer_id=left.id, replies=[reply("ani", "Draf kedaluwarsa")]),
        expiry,
    )
    assert fired.outcome == CommitOutcome.APPLIED and len(fired.outbox_ids) == 1
    assert await timers.due_timers(expiry) == []
    assert await timers.next_timer_due() is None

    stale = await store.apply(
        Changes(
            chat("ani"),
            fired_timer_id=left.id,
            conversation=Conversation(chat("ani"), step=Step.CATEGORY),
            replies=[reply("ani", "sekali lagi")],
        ),
        expiry,
    )
    assert stale == CommitResult(CommitOutcome.STALE)
    assert await texts_pending(backend) == ["Draf kedaluwarsa"]
    assert await store.load_conversation(chat("ani")) is None


# --- outbox ----------------------------------------------------------------------------------


async def test_the_outbox_hands_out_rows_in_order_per_chat(backend: Backend) -> None:
    outbox = backend.outbox
    ids = await outbox.enqueue([reply("a", "a1"), reply("b", "b1"), reply("a", "a2")], NOW)
    applied = await backend.store.apply(
        Changes(chat("b"), replies=[reply("b", "b2"), reply("a", "a3")]), NOW
    )
    ids += await outbox.enqueue([reply("b", "b3"), Outbound("telegram", "9", "elsewhere")], NOW)
    ids[3:3] = applied.outbox_ids
    assert ids == sorted(ids) and len(set(ids)) == 7

    rows = await pending(backend)
    assert [o.text for o in rows] == ["a1", "b1", "a2", "b2", "a3", "b3"]
    assert [o.outbox_id for o in rows] == ids[:6]
    # read a page at a time, from where the last page ended (as the dispatcher does)
    paged: list[str] = []
    after = 0
    while page := await outbox.pending_outbox((OutboxScope(WA),), after, 2):
        paged += [row.outbound.text for row in page]
        after = page[-1].id
    assert paged == ["a1", "b1", "a2", "b2", "a3", "b3"]
    assert await texts_pending(backend, OutboxScope(WA, "a")) == ["a1", "a2", "a3"]
    assert await texts_pending(backend, OutboxScope("telegram")) == ["elsewhere"]
    assert await texts_pending(backend, OutboxScope(WA, "b"), OutboxScope("telegram")) == [
        "b1",
        "b2",
        "b3",
        "elsewhere",
    ]
    assert await outbox.pending_outbox((), 0, 10) == []


async def test_an_outbox_row_keeps_the_whole_message(backend: Backend) -> None:
    message = Outbound(
        WA,
        "a",
        "Pilih:",
        options=(Option("1", "Ya"), Option("2", "Tidak")),
        media=Media(Path("/tmp/chart.png"), "image/png", "Grafik"),
        locale="su",
    )
    (outbox_id,) = await backend.outbox.enqueue([message], NOW)
    assert await pending(backend) == [replace(message, outbox_id=outbox_id)]


async def test_the_outbox_marks_rows_sent_failed_or_to_retry(backend: Backend) -> None:
    outbox = backend.outbox
    sent, failed, retried, waiting = await outbox.enqueue(
        [reply("a", "sent"), reply("a", "failed"), reply("a", "retried"), reply("b", "waiting")],
        NOW,
    )
    await outbox.mark_sent(sent, NOW)
    await outbox.mark_failed(failed, NOW, "blocked by the user")
    await outbox.mark_retry(retried, NOW + timedelta(seconds=4), "x" * 2000)

    rows = await outbox.pending_outbox((OutboxScope(WA),), 0, 10)
    assert [(r.id, r.attempts, r.next_attempt_at) for r in rows] == [
        (retried, 1, NOW + timedelta(seconds=4)),
        (waiting, 0, None),
    ]
    await outbox.mark_retry(retried, NOW + timedelta(seconds=8), "again")
    (row, _) = await outbox.pending_outbox((OutboxScope(WA),), 0, 10)
    assert (row.attempts, row.next_attempt_at) == (2, NOW + timedelta(seconds=8))

    many = await outbox.enqueue([reply(f"c{n}", "burst") for n in range(30)], NOW)
    await asyncio.gather(*(outbox.mark_sent(i, NOW) for i in [retried, waiting, *many]))
    assert await pending(backend) == []


# --- blocks ----------------------------------------------------------------------------------


async def test_blocking_a_reporter_blocks_every_identity_until_the_end(backend: Backend) -> None:
    store, blocks = backend.store, backend.blocks
    await report(backend, "6281100000001", sender_aliases=("111@lid",))
    await report(backend, "6281100000002")
    detail = await store.ticket_detail("GRT-2026-00001")
    assert detail is not None
    assert await blocks.active_blocks(NOW) == {}

    until = NOW + timedelta(days=30)
    block = BlockReporter(detail.reporter_id, until, "prank", "officer:1")
    await store.apply(Changes(chat("officer"), ops=[block]), NOW)

    active = await blocks.active_blocks(NOW)
    assert set(active) == {(WA, "6281100000001"), (WA, "111@lid")}
    assert {(b.until, b.reason) for b in active.values()} == {(until, "prank")}
    assert await blocks.active_blocks(until) == {}


# --- SQLite specifics ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", "sqlite-memory"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(database_path(request.param, tmp_path))
    try:
        yield database
    finally:
        await database.close()


async def test_sent_marks_of_one_moment_share_one_write(db: Database) -> None:
    outbox = SqliteOutbox(db)
    ids = await outbox.enqueue([reply(f"c{n}", "hi") for n in range(40)], NOW)
    jobs = db.write_jobs
    await asyncio.gather(*(outbox.mark_sent(i, NOW) for i in ids))
    assert db.write_jobs == jobs + 1
    assert await outbox.pending_outbox((OutboxScope(WA),), 0, 100) == []


async def test_a_chat_s_next_message_needs_no_read(db: Database) -> None:
    store = SqliteStore(db, ticket_prefix="GRT", tz=JAKARTA)
    await store.apply(Changes(chat("ani"), conversation=Conversation(chat("ani"))), NOW)
    reads = 0
    real_read = db.read

    async def counting(job, **kw):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await real_read(job, **kw)

    db.read = counting  # type: ignore[method-assign]
    assert await store.load_conversation(chat("ani")) == Conversation(chat("ani"), version=1)
    assert reads == 0
