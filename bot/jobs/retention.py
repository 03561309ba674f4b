"""Data protection (UU 27/2022): a reporter's right to be forgotten, and a retention policy.

- ``/hapusdata``: the reporter's identity link is deleted at once, with the evidence of their
  closed reports; open reports keep their evidence (and the way to tell the reporter of
  progress) until they are closed, then the same is purged.
- Evidence of a report is purged ``evidence_days`` after it was closed (default 365).
- The identities of reporters inactive for ``identity_days`` (default 730) are deleted: their
  reports stay, under the pseudonym only.
- Delivered replies and handled message ids (which carry chat ids) are kept 30 days: long
  enough to recognise any platform redelivery.
- Files in the media store that no evidence and no open draft refers to any more are deleted
  (only once a day old: a file is saved just before the message that carries it commits).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.clock import Clock, to_db
from bot.jobs.background import Background
from bot.storage.database import Database

log = logging.getLogger(__name__)

CLOSED = "('selesai', 'ditolak')"
FILE_GRACE = timedelta(days=1)
TRANSIENT_FOR = timedelta(days=30)  # delivered replies and handled message ids


async def erase_reporter(
    conn: aiosqlite.Connection, channel: str, sender_id: str, stamp: str
) -> None:
    """Forget a reporter now, as far as the open reports allow (see the module doc)."""
    async with conn.execute(
        "SELECT reporter_id FROM identities WHERE channel = ? AND external_id = ?",
        (channel, sender_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        reporter_id = int(row[0])
        await conn.execute(
            "UPDATE reporters SET erase_requested_at = ? WHERE id = ?", (stamp, reporter_id)
        )
        await _forget_closed(conn, f"t.reporter_id = {reporter_id:d}")
        await conn.execute("DELETE FROM identities WHERE reporter_id = ?", (reporter_id,))
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action, detail) VALUES (?, 'reporter', "
            "'reporter.erase', ?)",
            (stamp, json.dumps({"reporter": reporter_id})),
        )
    for table in ("reporter_prompts", "timers", "inbound_messages"):
        await conn.execute(
            f"DELETE FROM {table} WHERE channel = ? AND chat_id = ?", (channel, sender_id)
        )
    await conn.execute(
        "DELETE FROM outbox WHERE channel = ? AND chat_id = ? AND sent_at IS NOT NULL",
        (channel, sender_id),
    )


async def _forget_closed(conn: aiosqlite.Connection, which: str) -> int:
    """Delete the evidence rows and the chat link of the closed tickets matching ``which``
    (an SQL condition on ``t``); returns how many tickets were touched."""
    await conn.execute(
        "DELETE FROM evidence WHERE ticket_id IN (SELECT t.id FROM tickets t"
        f" WHERE t.status IN {CLOSED} AND {which})"
    )
    cursor = await conn.execute(
        f"UPDATE tickets SET chat_id = '' WHERE id IN (SELECT t.id FROM tickets t"
        f" WHERE t.status IN {CLOSED} AND t.chat_id != '' AND {which})"
    )
    return cursor.rowcount


class Retention(Background):
    name = "retention"

    def __init__(
        self,
        db: Database,
        media_dir: Path,
        clock: Clock,
        *,
        evidence_days: int,
        identity_days: int,
        interval: float = 6 * 3600,
    ) -> None:
        super().__init__()
        self.db = db
        self.media_dir = media_dir
        self.clock = clock
        self.evidence_for = timedelta(days=evidence_days)
        self.identity_for = timedelta(days=identity_days)
        self.interval = interval

    async def purge(self) -> dict[str, int]:
        """Apply the policy once; returns what was done, by kind."""
        now = self.clock.now()
        evidence_cutoff = to_db(now - self.evidence_for)
        identity_cutoff = to_db(now - self.identity_for)

        async def job(conn: aiosqlite.Connection) -> dict[str, int]:
            done: dict[str, int] = {}
            cursor = await conn.execute(
                "DELETE FROM evidence WHERE ticket_id IN (SELECT id FROM tickets"
                f" WHERE status IN {CLOSED} AND closed_at IS NOT NULL AND closed_at < ?)",
                (evidence_cutoff,),
            )
            done["evidence_expired"] = cursor.rowcount
            done["erased_reports_closed"] = await _forget_closed(
                conn,
                "t.reporter_id IN (SELECT id FROM reporters WHERE erase_requested_at IS NOT NULL)",
            )
            cursor = await conn.execute(
                "DELETE FROM identities WHERE reporter_id IN (SELECT r.id FROM reporters r"
                " WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.reporter_id = r.id AND"
                f" (t.status NOT IN {CLOSED} OR t.updated_at >= ?)) AND r.created_at < ?)",
                (identity_cutoff, identity_cutoff),
            )
            done["identities_pseudonymised"] = cursor.rowcount
            transient_cutoff = to_db(now - TRANSIENT_FOR)
            cursor = await conn.execute(
                "DELETE FROM inbound_messages WHERE received_at < ?", (transient_cutoff,)
            )
            done["message_ids_expired"] = cursor.rowcount
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < ?)"
                " OR (failed_at IS NOT NULL AND failed_at < ?)",
                (transient_cutoff, transient_cutoff),
            )
            done["outbox_expired"] = cursor.rowcount
            return done

        done = await self.db.write(job)
        done["files_deleted"] = await self._collect_files(now)
        if any(done.values()):
            log.info("retention: %s", ", ".join(f"{k}={v}" for k, v in sorted(done.items())))
        return done

    async def _collect_files(self, now: datetime) -> int:
        async def referenced(conn: aiosqlite.Connection) -> set[str]:
            keep: set[str] = set()
            async with conn.execute("SELECT sha256 FROM evidence") as cursor:
                keep.update(row[0] for row in await cursor.fetchall())
            async with conn.execute(
                "SELECT data FROM conversations WHERE data LIKE '%\"sha256\"%'"
            ) as cursor:
                for (data,) in await cursor.fetchall():
                    draft = json.loads(data).get("draft") or {}
                    keep.update(item["sha256"] for item in draft.get("evidence", []))
            return keep

        keep = await self.db.read(referenced)
        horizon = (now - FILE_GRACE).timestamp()
        return await asyncio.to_thread(self._delete_unreferenced, keep, min(horizon, time.time()))

    def _delete_unreferenced(self, keep: set[str], older_than: float) -> int:
        deleted = 0
        if not self.media_dir.is_dir():
            return 0
        for path in self.media_dir.glob("??/*"):
            if path.name in keep or path.name.startswith(".") or not path.is_file():
                continue
            if path.stat().st_mtime >= older_than:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                deleted += 1
        return deleted

    async def tick(self) -> float:
        await self.purge()
        return self.interval
