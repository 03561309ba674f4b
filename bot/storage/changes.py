"""Applying a :class:`~conversations.ports.Changes` inside the caller's transaction, in the
order that keeps the engine's promises: the inbound message id first (a repeat is DUPLICATE
and changes nothing), then the fired timer (gone: STALE, nothing changes), the conversation,
the reporter's language, the ticket, the ticket operations, the replies (outbox) and the
timers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import aiosqlite

from bot.clock import to_db
from bot.storage import timers
from bot.storage.conversation_rows import ConversationRow, save_conversation
from bot.storage.erasure import forget_when_sent
from bot.storage.inbound import record_inbound
from bot.storage.outbox import enqueue_in
from bot.storage.reporters import reporter_for_sender, set_locale
from bot.storage.ticket_ops import apply_op
from bot.storage.tickets import Numbering, create_ticket
from conversations.ports import Changes, CommitOutcome, CommitResult, EraseReporter, TicketRef


async def _sender_reporter(conn: aiosqlite.Connection, changes: Changes, stamp: str) -> int:
    if changes.sender_id is None:
        raise ValueError(f"changes for {changes.key} name no sender")
    return await reporter_for_sender(
        conn,
        changes.key.channel,
        changes.sender_id,
        aliases=changes.sender_aliases,
        display_name=changes.sender_name,
        stamp=stamp,
    )


async def apply_changes(
    conn: aiosqlite.Connection,
    changes: Changes,
    now: datetime,
    numbering: Numbering,
    expected_version: int | None = None,
) -> tuple[CommitResult, ConversationRow | None]:
    """Write everything ``changes`` says. ``expected_version``: the version the chat's own
    conversation was read at (see :func:`save_conversation`). Returns the result and the
    chat's conversation row as this change left it when that is known without reading it
    (the change saved it and no ticket operation, an erasure say, came after), else None.
    Raises when any part fails; the caller's transaction then keeps none of it."""
    key = changes.key
    stamp = to_db(now)
    if changes.inbound_id is not None and not await record_inbound(
        conn, key, changes.inbound_id, stamp
    ):
        return CommitResult(CommitOutcome.DUPLICATE), None
    if changes.fired_timer_id is not None and not await timers.consume(
        conn, changes.fired_timer_id
    ):
        return CommitResult(CommitOutcome.STALE), None
    saved: ConversationRow | None = None
    if changes.conversation is not None:
        own = changes.conversation.key == key
        row = await save_conversation(
            conn, changes.conversation, stamp, expected_version if own else None
        )
        if own and not changes.ops:
            saved = row
    if changes.locale is not None and changes.sender_id is not None:
        await set_locale(conn, await _sender_reporter(conn, changes, stamp), changes.locale)
    replies = list(changes.replies)
    ticket: TicketRef | None = None
    if changes.ticket is not None:
        new = changes.ticket
        reporter_id = await _sender_reporter(conn, changes, to_db(new.created_at))
        ticket = await create_ticket(conn, numbering, key, new, reporter_id)
        if changes.replies_after_ticket is not None:
            replies.extend(changes.replies_after_ticket(ticket))
    released: set[str] = set()
    for op in changes.ops:
        released |= await apply_op(conn, op, stamp)
    outbox_ids = [await enqueue_in(conn, reply, stamp) for reply in replies]
    if any(isinstance(op, EraseReporter) for op in changes.ops):
        await forget_when_sent(conn, key)  # the confirmation too, once delivered
    if changes.cancel_timers:
        await timers.cancel(conn, key, *changes.cancel_timers)
    if changes.set_timers:
        await timers.arm(conn, *changes.set_timers)
    result = CommitResult(
        CommitOutcome.APPLIED,
        tuple(outbox_ids),
        ticket,
        replies=tuple(
            replace(reply, outbox_id=i) for reply, i in zip(replies, outbox_ids, strict=True)
        ),
        released_files=frozenset(released),
    )
    return result, saved
