"""The officer registry: who gets the officer interface, with which role and unit.
Every change is written to the audit log in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import to_db
from bot.identity import ChannelId
from bot.storage.blocks import upsert_block
from bot.storage.database import Database
from bot.storage.queries import officer_from_row
from conversations import identifiers
from conversations.desk.routing import all_units, normalise_unit
from conversations.domain import Role
from conversations.ports import Officer

ROLES = tuple(Role)


class RegistryError(ValueError):
    """A registry request an operator must correct; the message says how."""


async def audit(
    conn: aiosqlite.Connection, actor: str, action: str, detail: dict[str, object], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO audit_log(at, actor, action, detail) VALUES (?, ?, ?, ?)",
        (to_db(now), actor, action, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


def validate(role: str, unit: str | None) -> str | None:
    if role not in ROLES:
        raise RegistryError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if unit is None or not unit.strip():
        if role == Role.OFFICER:
            raise RegistryError("an officer needs --unit (e.g. SATRESKRIM or POLSEK-CIBATU)")
        return None
    code = normalise_unit(unit)
    if code is None:
        raise RegistryError(f"unknown unit {unit!r}; known units: {', '.join(all_units())}")
    return code


async def add_officer(
    db: Database,
    who: ChannelId,
    *,
    name: str,
    role: str,
    unit: str | None,
    now: datetime,
    actor: str = "cli",
) -> Officer:
    """Register (or update and re-activate) an officer."""
    if not name.strip():
        raise RegistryError("--name must not be empty")
    code = validate(role, unit)

    async def job(conn: aiosqlite.Connection) -> Officer:
        async with conn.execute(
            "INSERT INTO officers(channel, external_id, name, role, unit, active, created_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT(channel, external_id) DO UPDATE SET"
            " name = excluded.name, role = excluded.role, unit = excluded.unit, active = 1"
            " RETURNING id",
            (who.channel, who.id, name.strip(), role, code, to_db(now)),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await audit(
            conn,
            actor,
            "officer.add",
            {"officer": str(who), "name": name.strip(), "role": role, "unit": code},
            now,
        )
        return Officer(int(row[0]), who.channel, who.id, name.strip(), Role(role), code)

    return await db.write(job)


async def remove_officer(
    db: Database, who: ChannelId, *, now: datetime, actor: str = "cli"
) -> bool:
    async def job(conn: aiosqlite.Connection) -> bool:
        cursor = await conn.execute(
            "UPDATE officers SET active = 0 WHERE channel = ? AND external_id = ? AND active = 1",
            (who.channel, who.id),
        )
        if not cursor.rowcount:
            return False
        # what was queued for them (ticket alerts, replies) is not delivered any more
        purged = await conn.execute(
            "UPDATE outbox SET failed_at = ?, last_error = 'officer removed'"
            " WHERE channel = ? AND chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
            (to_db(now), who.channel, who.id),
        )
        detail = {"officer": str(who), "queued_purged": purged.rowcount}
        await audit(conn, actor, "officer.remove", detail, now)
        return True

    return await db.write(job)


async def list_officers(db: Database) -> list[Officer]:
    async def job(conn: aiosqlite.Connection) -> list[Officer]:
        async with conn.execute(
            "SELECT id, channel, external_id, name, role, unit FROM officers WHERE active = 1"
            " ORDER BY role, unit, name"
        ) as cursor:
            return [officer_from_row(row) for row in await cursor.fetchall()]

    return await db.read(job)


@dataclass(frozen=True, slots=True)
class Revealed:
    """What ``taros reporter`` shows an admin: the platform identities behind a ticket, and
    the numbers, e-mail addresses and NIK typed into its story and the reporter's replies
    (masked for officers everywhere else)."""

    identities: list[tuple[str, str, str | None]]
    typed: list[str]


async def reveal_reporter(
    db: Database, number: str, admin: ChannelId, *, now: datetime
) -> Revealed:
    """The identity behind a ticket, for a registered admin only. The look-up is audited in
    the same transaction, and so is a refused one (who asked, for which report)."""
    wanted = number.strip().upper()

    async def job(conn: aiosqlite.Connection) -> Revealed | str:
        async with conn.execute(
            "SELECT 1 FROM officers WHERE channel = ? AND external_id = ? AND role = 'admin'"
            " AND active = 1",
            (admin.channel, admin.id),
        ) as cursor:
            refused = None if await cursor.fetchone() else f"{admin} is not a registered admin"
        rows: list[tuple[str, str, str | None]] = []
        if refused is None:
            async with conn.execute(
                "SELECT i.channel, i.external_id, i.display_name FROM tickets t"
                " JOIN identities i ON i.reporter_id = t.reporter_id WHERE t.number = ?"
                " ORDER BY i.created_at",
                (wanted,),
            ) as cursor:
                rows = [(r[0], r[1], r[2]) for r in await cursor.fetchall()]
            refused = None if rows else f"no report {number!r}"
        if refused is not None:
            detail: dict[str, object] = {"ticket": wanted, "why": refused}
            await audit(conn, str(admin), "reporter.reveal.refused", detail, now)
            return refused
        await audit(conn, str(admin), "reporter.reveal", {"ticket": wanted}, now)
        async with conn.execute(
            "SELECT t.chronology FROM tickets t WHERE t.number = ? UNION ALL"
            " SELECT e.note FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
            " WHERE t.number = ? AND e.kind = 'relay_in' AND e.note IS NOT NULL",
            (wanted, wanted),
        ) as cursor:
            texts = [str(r[0]) for r in await cursor.fetchall()]
        typed = [f.text for text in texts for f in identifiers.find(text)]
        return Revealed(rows, list(dict.fromkeys(typed)))

    outcome = await db.write(job)
    if isinstance(outcome, str):
        raise RegistryError(outcome)
    return outcome


async def block_sender(
    db: Database, who: ChannelId, *, until: datetime, reason: str, now: datetime, actor: str
) -> None:
    """Put a sender on the block list (anti-prank), audited."""

    async def job(conn: aiosqlite.Connection) -> None:
        await upsert_block(
            conn,
            who.channel,
            who.id,
            until=to_db(until),
            reason=reason,
            stamp=to_db(now),
            actor=actor,
        )
        await audit(
            conn, actor, "block", {"sender": str(who), "until": to_db(until), "reason": reason}, now
        )

    await db.write(job)


async def unblock_sender(db: Database, who: ChannelId, *, now: datetime, actor: str) -> bool:
    async def job(conn: aiosqlite.Connection) -> bool:
        cursor = await conn.execute(
            "DELETE FROM blocks WHERE channel = ? AND external_id = ?", (who.channel, who.id)
        )
        if cursor.rowcount:
            await audit(conn, actor, "unblock", {"sender": str(who)}, now)
        return cursor.rowcount > 0

    return await db.write(job)
