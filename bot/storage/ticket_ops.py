"""Applying the ticket operations of a :class:`~conversations.ports.Changes` inside its
transaction: status changes, reassignment, category corrections, notes, reporter prompts,
strikes, and the reporter's block (:mod:`bot.storage.blocks`) and erasure
(:mod:`bot.storage.erasure`). Each ticket change writes its event to the audit trail
(``ticket_events``)."""

from __future__ import annotations

import aiosqlite

from bot.storage.blocks import block_reporter
from bot.storage.erasure import erase_reporter
from conversations.domain import TicketStatus
from conversations.ports import (
    Assign,
    BlockReporter,
    ClearPrompt,
    EraseReporter,
    Recategorise,
    Relocate,
    Resolved,
    SetPrompt,
    StatusChange,
    Strike,
    TicketNote,
    TicketOp,
)


class StaleTicket(RuntimeError):
    """The ticket changed since it was read; nothing was applied."""


async def apply_op(conn: aiosqlite.Connection, op: TicketOp, stamp: str) -> set[str]:
    """Apply ``op`` in the caller's transaction; raises StaleTicket when the ticket is no
    longer as the op saw it. Returns the sha256 of the evidence files it released (an
    erasure), to be deleted once committed."""
    if isinstance(op, StatusChange):
        await _status_change(conn, op, stamp)
    elif isinstance(op, Assign):
        cursor = await conn.execute(
            "UPDATE tickets SET unit = ?, updated_at = ?,"
            " first_response_at = COALESCE(first_response_at, ?) WHERE id = ? AND unit = ?",
            (op.to_unit, stamp, stamp, op.ticket_id, op.from_unit),
        )
        if cursor.rowcount != 1:
            raise StaleTicket(f"ticket {op.ticket_id} is no longer with {op.from_unit}")
        await _event(
            conn,
            op.ticket_id,
            stamp,
            op.actor,
            "assigned",
            None,
            None,
            f"{op.from_unit} -> {op.to_unit}",
        )
    elif isinstance(op, Recategorise):
        await _recategorise(conn, op, stamp)
    elif isinstance(op, Relocate):
        await _relocate(conn, op, stamp)
    elif isinstance(op, TicketNote):
        if op.first_response:
            await conn.execute(
                "UPDATE tickets SET first_response_at = COALESCE(first_response_at, ?),"
                " updated_at = ? WHERE id = ?",
                (stamp, stamp, op.ticket_id),
            )
        await _event(conn, op.ticket_id, stamp, op.actor, op.kind, None, None, op.note)
    elif isinstance(op, SetPrompt):
        await conn.execute(
            "INSERT INTO reporter_prompts(channel, chat_id, kind, ticket_id, officer_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, chat_id, ticket_id)"
            " DO UPDATE SET kind = excluded.kind, officer_id = excluded.officer_id,"
            " created_at = excluded.created_at",
            (op.key.channel, op.key.chat_id, op.kind, op.ticket_id, op.officer_id, stamp),
        )
    elif isinstance(op, ClearPrompt):
        await conn.execute(
            "DELETE FROM reporter_prompts WHERE channel = ? AND chat_id = ?"
            " AND (? IS NULL OR ticket_id = ?)",
            (op.key.channel, op.key.chat_id, op.ticket_id, op.ticket_id),
        )
    elif isinstance(op, Strike):
        await conn.execute(
            "INSERT INTO strikes(reporter_id, ticket_id, at, actor) VALUES (?, ?, ?, ?)",
            (op.reporter_id, op.ticket_id, stamp, op.actor),
        )
        await _event(conn, op.ticket_id, stamp, op.actor, "strike", None, None, None)
    elif isinstance(op, BlockReporter):
        await block_reporter(conn, op, stamp)
    elif isinstance(op, EraseReporter):
        return await erase_reporter(conn, op.key, op.sender_id, stamp)
    elif isinstance(op, Resolved):
        await conn.execute(
            "UPDATE tickets SET resolved_ok = ? WHERE id = ?", (int(op.ok), op.ticket_id)
        )
        await _event(
            conn,
            op.ticket_id,
            stamp,
            "reporter",
            "reporter_satisfied" if op.ok else "reporter_unsatisfied",
            None,
            None,
            None,
        )
    return set()


async def _status_change(conn: aiosqlite.Connection, op: StatusChange, stamp: str) -> None:
    closing = not op.to_status.is_open
    reopening = not op.from_status.is_open and not closing
    cursor = await conn.execute(
        "UPDATE tickets SET status = ?, updated_at = ?,"
        " first_response_at = CASE WHEN ? LIKE 'officer:%' THEN COALESCE(first_response_at, ?)"
        " ELSE first_response_at END,"
        " closed_at = CASE WHEN ? THEN ? WHEN ? THEN NULL ELSE closed_at END"
        " WHERE id = ? AND status = ?",
        (
            op.to_status,
            stamp,
            op.actor,
            stamp,
            closing,
            stamp,
            reopening,
            op.ticket_id,
            op.from_status,
        ),
    )
    if cursor.rowcount != 1:
        raise StaleTicket(f"ticket {op.ticket_id} is no longer {op.from_status}")
    kind = "reopened" if reopening else "status"
    await _event(conn, op.ticket_id, stamp, op.actor, kind, op.from_status, op.to_status, op.note)


async def _recategorise(conn: aiosqlite.Connection, op: Recategorise, stamp: str) -> None:
    cursor = await conn.execute(
        "UPDATE tickets SET category = ?, updated_at = ? WHERE id = ? AND category = ?",
        (op.to_category, stamp, op.ticket_id, op.from_category),
    )
    if cursor.rowcount != 1:
        raise StaleTicket(f"ticket {op.ticket_id} is no longer of {op.from_category}")
    await conn.execute(
        "INSERT INTO category_corrections(ticket_id, from_category, to_category, actor, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (op.ticket_id, op.from_category, op.to_category, op.actor, stamp),
    )
    await _event(
        conn,
        op.ticket_id,
        stamp,
        op.actor,
        "category",
        None,
        None,
        f"{op.from_category} -> {op.to_category}",
    )


async def _relocate(conn: aiosqlite.Connection, op: Relocate, stamp: str) -> None:
    cursor = await conn.execute(
        "UPDATE tickets SET kecamatan_code = ?, desa_code = ?, polsek = ?, outside_garut = 0,"
        " updated_at = ? WHERE id = ? AND kecamatan_code IS ?",
        (op.to_kecamatan, op.to_desa, op.to_polsek, stamp, op.ticket_id, op.from_kecamatan),
    )
    if cursor.rowcount != 1:
        raise StaleTicket(f"ticket {op.ticket_id} is no longer in {op.from_kecamatan}")
    await conn.execute(
        "INSERT INTO place_corrections(ticket_id, from_kecamatan, to_kecamatan, to_desa, actor,"
        " at) VALUES (?, ?, ?, ?, ?, ?)",
        (op.ticket_id, op.from_kecamatan, op.to_kecamatan, op.to_desa, op.actor, stamp),
    )
    await _event(
        conn,
        op.ticket_id,
        stamp,
        op.actor,
        "place",
        None,
        None,
        f"{op.from_kecamatan or '-'} -> {op.to_desa or op.to_kecamatan}",
    )


async def _event(
    conn: aiosqlite.Connection,
    ticket_id: int,
    stamp: str,
    actor: str,
    kind: str,
    from_status: TicketStatus | None,
    to_status: TicketStatus | None,
    note: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO ticket_events(ticket_id, at, actor, kind, from_status, to_status, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ticket_id, stamp, actor, kind, from_status, to_status, note),
    )
