"""Data protection (UU 27/2022): the retention policy, applied periodically.

- ``/hapusdata`` (the reporter's right to be forgotten, :mod:`bot.storage.erasure`) is done at
  once; the evidence of their open reports is purged here once they are closed (the files at
  once, in the same pass).
- Evidence of a report is purged ``evidence_days`` after it was closed (default 365).
- The identities of reporters inactive for ``identity_days`` (default 730) are deleted: their
  reports stay, under the pseudonym only.
- Delivered replies and handled message ids (which carry chat ids) are kept 30 days: long
  enough to recognise any platform redelivery.
- Files in the media store that no evidence and no open draft refers to any more are deleted
  (only once a day old: a file is saved just before the message that carries it commits).
- The copies of the database a restore kept (``taros.db.pre-restore-<time>``) hold everything
  the database held then, erased reporters included: they are deleted after 30 days, like
  delivered replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import Clock, to_db
from bot.evidence.shredder import Shredder
from bot.jobs.background import Background
from bot.ops.backup import PRE_RESTORE
from bot.storage.database import Database
from bot.storage.erasure import forget_closed_of_erased
from bot.storage.tickets import CLOSED_SQL

log = logging.getLogger(__name__)

FILE_GRACE = timedelta(days=1)
TRANSIENT_FOR = timedelta(days=30)  # delivered replies and handled message ids


class Retention(Background):
    name = "retention"

    def __init__(
        self,
        db: Database,
        shredder: Shredder,
        clock: Clock,
        *,
        evidence_days: int,
        identity_days: int,
        interval: float = 6 * 3600,
    ) -> None:
        super().__init__()
        self.db = db
        self.shredder = shredder
        self.media_dir = shredder.media_dir
        self.clock = clock
        self.evidence_for = timedelta(days=evidence_days)
        self.identity_for = timedelta(days=identity_days)
        self.interval = interval

    async def purge(self) -> dict[str, int]:
        """Apply the policy once; returns what was done, by kind."""
        now = self.clock.now()
        evidence_cutoff = to_db(now - self.evidence_for)
        identity_cutoff = to_db(now - self.identity_for)

        async def job(conn: aiosqlite.Connection) -> tuple[dict[str, int], set[str]]:
            done: dict[str, int] = {}
            cursor = await conn.execute(
                "DELETE FROM evidence WHERE ticket_id IN (SELECT id FROM tickets"
                f" WHERE status IN {CLOSED_SQL} AND closed_at IS NOT NULL AND closed_at < ?)",
                (evidence_cutoff,),
            )
            done["evidence_expired"] = cursor.rowcount
            released = await forget_closed_of_erased(conn)
            done["erased_reports_evidence"] = len(released)
            cursor = await conn.execute(
                "DELETE FROM identities WHERE reporter_id IN (SELECT r.id FROM reporters r"
                " WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.reporter_id = r.id AND"
                f" (t.status NOT IN {CLOSED_SQL} OR t.updated_at >= ?)) AND r.created_at < ?)",
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
            return done, released

        done, released = await self.db.write(job)
        done["files_deleted"] = await self.shredder.delete(released)
        done["files_deleted"] += await self._collect_files(now)
        done["pre_restore_copies_deleted"] = await asyncio.to_thread(
            self._delete_pre_restore_copies, (now - TRANSIENT_FOR).timestamp()
        )
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

    def _delete_pre_restore_copies(self, older_than: float) -> int:
        deleted = 0
        for path in self.media_dir.parent.glob(f"{PRE_RESTORE}*"):
            if path.is_file() and path.stat().st_mtime < min(older_than, time.time()):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    deleted += 1
        return deleted

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
