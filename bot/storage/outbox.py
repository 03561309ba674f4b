"""The outbox: replies waiting for delivery (the transactional outbox of the design).

A row is written inside the transaction of the change that causes it (:func:`enqueue_in`), or
on its own (:meth:`SqliteOutbox.enqueue`: notices, relayed messages, alerts); the dispatcher
reads the undelivered rows of the channels (or single chats) it serves in id order, so each
chat's replies keep their order, and marks each sent, to be retried, or failed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from bot.clock import from_db, to_db
from bot.storage.database import Database
from channels.base import DeliveryReport, DeliveryStatus
from conversations.messages import Media, Option, Outbound, Purpose, Template

ERROR_CHARS = 500  # what is kept of a delivery error


@dataclass(frozen=True, slots=True)
class OutboxScope:
    """What one process delivers: a whole channel, or one chat of it (a console session)."""

    channel: str
    chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An undelivered row: the message, and how far its delivery has got."""

    id: int
    outbound: Outbound
    attempts: int
    next_attempt_at: datetime | None


def outbound_to_json(outbound: Outbound) -> str:
    """The ``payload`` column of an outbox row (everything but the chat it goes to)."""
    payload: dict[str, Any] = {"text": outbound.text, "locale": outbound.locale}
    if outbound.options:
        payload["options"] = [[o.id, o.label] for o in outbound.options]
    if outbound.media is not None:
        payload["media"] = _media_json(outbound.media)
    if outbound.album:
        payload["album"] = [_media_json(m) for m in outbound.album]
    if outbound.template is not None:
        payload["template"] = {
            "purpose": outbound.template.purpose.value,
            "params": list(outbound.template.params),
            "ticket": outbound.template.ticket,
        }
    if outbound.on_failure is not None:
        notice = outbound.on_failure
        payload["on_failure"] = [notice.channel, notice.chat_id, notice.text, notice.locale]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _media_json(media: Media) -> dict[str, Any]:
    return {"path": str(media.path), "mime": media.mime, "caption": media.caption}


def _media(raw: dict[str, Any]) -> Media:
    return Media(Path(raw["path"]), raw["mime"], raw.get("caption"))


def outbound_from_json(
    channel: str, chat_id: str, payload: str, outbox_id: int | None = None
) -> Outbound:
    raw = json.loads(payload)
    media = raw.get("media")
    template = raw.get("template")
    return Outbound(
        channel=channel,
        chat_id=chat_id,
        text=raw["text"],
        options=tuple(Option(str(i), str(label)) for i, label in raw.get("options", [])),
        media=_media(media) if media else None,
        locale=raw.get("locale", "id"),
        outbox_id=outbox_id,
        album=tuple(_media(m) for m in raw.get("album", ())),
        template=_template(template) if template else None,
        on_failure=_failure_notice(raw.get("on_failure")),
    )


def _template(raw: dict[str, Any]) -> Template | None:
    """A stored template, or None when its purpose is not known to this version."""
    try:
        purpose = Purpose(raw["purpose"])
    except (KeyError, ValueError):
        return None
    ticket = raw.get("ticket")
    return Template(purpose, tuple(str(p) for p in raw.get("params", ())), ticket and str(ticket))


def _failure_notice(raw: object) -> Outbound | None:
    if not isinstance(raw, list) or len(raw) != 4:
        return None
    channel, chat_id, text, locale = (str(part) for part in raw)
    return Outbound(channel, chat_id, text, locale=locale)


async def enqueue_in(conn: aiosqlite.Connection, outbound: Outbound, stamp: str) -> int:
    """Put ``outbound`` in the outbox inside the caller's transaction; returns its row id."""
    cursor = await conn.execute(
        "INSERT INTO outbox(channel, chat_id, payload, created_at) VALUES (?, ?, ?, ?)",
        (outbound.channel, outbound.chat_id, outbound_to_json(outbound), stamp),
    )
    if cursor.lastrowid is None:
        raise RuntimeError("the outbox row got no id")
    return cursor.lastrowid


async def _tell_failure(conn: aiosqlite.Connection, outbox_id: int, stamp: str) -> None:
    """A row given up that names who to tell (an officer's relayed message) queues the
    notice to them."""
    async with conn.execute("SELECT payload FROM outbox WHERE id = ?", (outbox_id,)) as cursor:
        row = await cursor.fetchone()
    notice = None if row is None else _failure_notice(json.loads(row[0]).get("on_failure"))
    if notice is not None:
        await enqueue_in(conn, notice, stamp)


async def _forget_delivered(conn: aiosqlite.Connection, ids: list[int]) -> None:
    """Rows to a chat whose reporter asked to be forgotten go once delivered (or given up)."""
    await conn.executemany(
        "DELETE FROM outbox WHERE id = ? AND forget_when_sent = 1", [(i,) for i in ids]
    )


def _scope_filter(scopes: tuple[OutboxScope, ...]) -> tuple[str, list[object]]:
    """The SQL condition (and its parameters) matching the rows of ``scopes``."""
    clauses: list[str] = []
    params: list[object] = []
    for scope in scopes:
        if scope.chat_id is None:
            clauses.append("channel = ?")
            params.append(scope.channel)
        else:
            clauses.append("(channel = ? AND chat_id = ?)")
            params += [scope.channel, scope.chat_id]
    return " OR ".join(clauses), params


class SqliteOutbox:
    """The outbox table, for the dispatcher (reads and marks) and for whoever queues a
    message outside a change's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._sent_batch: tuple[list[tuple[str, int]], asyncio.Future[None]] | None = None

    async def enqueue(self, outbounds: list[Outbound], now: datetime) -> list[int]:
        """Put messages in the outbox on their own (notices, relayed messages)."""
        stamp = to_db(now)

        async def job(conn: aiosqlite.Connection) -> list[int]:
            return [await enqueue_in(conn, o, stamp) for o in outbounds]

        return await self.db.write(job, inline=True)

    async def pending_outbox(
        self, scopes: tuple[OutboxScope, ...], after_id: int, limit: int
    ) -> list[OutboxRow]:
        """Undelivered rows after ``after_id`` for the served channels (or single chats)."""
        if not scopes:
            return []
        where, params = _scope_filter(scopes)

        async def job(conn: aiosqlite.Connection) -> list[OutboxRow]:
            async with conn.execute(
                "SELECT id, channel, chat_id, payload, attempts, next_attempt_at FROM outbox"
                f" WHERE sent_at IS NULL AND failed_at IS NULL AND ({where})"
                " AND id > ? ORDER BY id LIMIT ?",
                (*params, after_id, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            return [
                OutboxRow(
                    id=int(row[0]),
                    outbound=outbound_from_json(row[1], row[2], row[3], int(row[0])),
                    attempts=int(row[4]),
                    next_attempt_at=from_db(row[5]) if row[5] else None,
                )
                for row in rows
            ]

        return await self.db.read(job, inline=True)

    async def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """Returns once the row is marked sent (committed). The marks asked for in the same
        moment (one turn of the event loop: many chats' deliveries end together) share one
        write job."""
        batch = self._sent_batch
        if batch is None:
            batch = self._sent_batch = ([], asyncio.ensure_future(self._mark_sent_together()))
        batch[0].append((to_db(now), outbox_id))
        await asyncio.shield(batch[1])

    async def _mark_sent_together(self) -> None:
        await asyncio.sleep(0)  # let this moment's other marks join
        batch, self._sent_batch = self._sent_batch, None
        if batch is None:
            raise RuntimeError("no sent marks to write")
        marks = batch[0]

        async def job(conn: aiosqlite.Connection) -> None:
            await conn.executemany(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?", marks
            )
            await _forget_delivered(conn, [outbox_id for _at, outbox_id in marks])

        await self.db.write(job, inline=True)

    async def still_pending(self, outbox_id: int) -> bool:
        """Whether the row is still to be delivered (not given up meanwhile: an officer
        removed, a chat erased)."""

        async def job(conn: aiosqlite.Connection) -> bool:
            async with conn.execute(
                "SELECT 1 FROM outbox WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL",
                (outbox_id,),
            ) as cursor:
                return await cursor.fetchone() is not None

        return await self.db.read(job, inline=True)

    async def mark_retry(self, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt; the row is tried again from ``next_attempt_at``."""
        await self._failed_attempt(outbox_id, "next_attempt_at", next_attempt_at, error)

    async def mark_failed(
        self, outbox_id: int, now: datetime, error: str, *, notify: bool = True
    ) -> None:
        """Give the row up: it is never tried again. ``notify``: queue the notice the row
        names (``on_failure``) in the same transaction."""
        await self._failed_attempt(outbox_id, "failed_at", now, error, notify=notify)

    async def _failed_attempt(
        self,
        outbox_id: int,
        column: Literal["next_attempt_at", "failed_at"],
        at: datetime,
        error: str,
        *,
        notify: bool = True,
    ) -> None:
        """Count an attempt that failed, setting ``column`` to ``at`` and keeping the error."""
        sql = (
            f"UPDATE outbox SET attempts = attempts + 1, {column} = ?, last_error = ? WHERE id = ?"
        )
        params = (to_db(at), error[:ERROR_CHARS], outbox_id)
        sql_stamp = to_db(at)

        async def job(conn: aiosqlite.Connection) -> None:
            async with conn.execute(sql, params):
                pass
            if column == "failed_at":
                if notify:
                    await _tell_failure(conn, outbox_id, sql_stamp)
                await _forget_delivered(conn, [outbox_id])

        await self.db.write(job, inline=True)


_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a delivery report changed: the row's message when the report is a new failure,
    and the id of the row that sends it again, when it was to be sent again."""

    failed: Outbound | None = None
    resent_id: int | None = None


async def record_delivery(
    conn: aiosqlite.Connection, report: DeliveryReport, now: datetime
) -> Recorded:
    """Keep the platform's word on an outbox row: a later word only (read after delivered,
    never the reverse; a failure is final). A new failure keeps its reason, and a row to be
    sent again is copied into a new row (the dispatcher reads new rows only)."""
    async with conn.execute(
        "SELECT channel, chat_id, payload, delivery_status FROM outbox WHERE id = ?",
        (report.outbox_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return Recorded()  # purged, or never ours
    channel, chat_id, payload, current = row[0], row[1], row[2], row[3]
    if _RANK.get(str(current), 0) >= _RANK[report.status.value]:
        return Recorded()
    await conn.execute(
        "UPDATE outbox SET delivery_status = ?, delivery_status_at = ?,"
        " last_error = COALESCE(?, last_error) WHERE id = ?",
        (report.status.value, to_db(report.at), report.error, report.outbox_id),
    )
    if report.status is not DeliveryStatus.FAILED:
        return Recorded()
    if report.resend:
        copy = outbound_from_json(channel, chat_id, payload)
        return Recorded(resent_id=await enqueue_in(conn, copy, to_db(now)))
    return Recorded(failed=outbound_from_json(channel, chat_id, payload, report.outbox_id))
