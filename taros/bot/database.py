"""The one SQLite connection of a process, its migrations, and its single writer.

aiosqlite serialises statements, not transactions: two coroutines sharing a connection can
interleave their BEGIN/COMMIT and commit each other's half-done work. So every use of the
connection goes through one task, :meth:`Database._serve`, which runs jobs one after another.
Consecutive write jobs are grouped into one transaction (one commit for many messages), each
inside its own SAVEPOINT so a failing job is rolled back alone and reports its own error.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[aiosqlite.Connection], Awaitable[T]]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)
MAX_BATCH = 256


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered ``NNNN_name.sql`` files shipped in ``taros/bot/migrations``, in order."""
    folder = resources.files("taros.bot") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number, _, rest = name.partition("_")
        found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (triggers included), using SQLite's own
    notion of completeness at every ``;``; comments alone are not statements."""
    statements: list[str] = []
    buffer = ""
    for char in script:
        buffer += char
        if char == ";" and sqlite3.complete_statement(buffer):
            if not _only_comments(buffer):
                statements.append(buffer.strip())
            buffer = ""
    if not _only_comments(buffer):
        raise ValueError(f"incomplete SQL statement at end of script: {buffer.strip()[:80]!r}")
    return statements


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def _only_comments(text: str) -> bool:
    return not _COMMENTS.sub("", text).strip().strip(";").strip()


def prepare_private_file(path: Path) -> None:
    """Create the database's folder (0700) and file (0600) before SQLite does, so the data is
    readable by the owner only; SQLite gives -wal/-shm the same mode as the database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, stat.S_IRWXU)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@dataclass(slots=True)
class _Request:
    job: Job[Any]
    write: bool
    future: asyncio.Future[Any] = field(repr=False)


class Database:
    """Owns the connection and the task that uses it. Use :meth:`read` and :meth:`write`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.write_jobs = 0

    @classmethod
    async def open(cls, path: Path, migrations: list[Migration] | None = None) -> Database:
        if str(path) != ":memory:":
            prepare_private_file(path)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            await migrate(conn, bundled_migrations() if migrations is None else migrations)
        except BaseException:
            await conn.close()
            raise
        db = cls(conn, path)
        db._task = asyncio.create_task(db._serve(), name="taros-db-writer")
        return db

    async def close(self) -> None:
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        await self._conn.close()

    async def read(self, job: Job[T]) -> T:
        """Run ``job`` on the connection, in turn with every other job. Reads see the writes
        of jobs queued before them."""
        return await self._submit(job, write=False)

    async def write(self, job: Job[T]) -> T:
        """Run ``job`` in a transaction; returns once its changes are committed. When it
        raises, nothing it did is kept and the exception reaches the caller."""
        return await self._submit(job, write=True)

    async def _submit(self, job: Job[T], *, write: bool) -> T:
        if self._task is None or self._task.done():
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(job, write, future))
        return await future

    async def _serve(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            await self._run_batch(batch)
            if stop:
                return

    async def _run_batch(self, batch: list[_Request]) -> None:
        in_transaction = False
        done: list[tuple[_Request, Any]] = []
        try:
            for request in batch:
                if request.future.cancelled() and not request.write:
                    continue  # nobody waits for this read; a write is done all the same
                if request.write and not in_transaction:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    in_transaction = True
                if not request.write:
                    await self._run_read(request)
                    continue
                await self._conn.execute("SAVEPOINT job")
                try:
                    result = await request.job(self._conn)
                except Exception as exc:  # the job's own failure: undo it alone
                    await self._conn.execute("ROLLBACK TO job")
                    await self._conn.execute("RELEASE job")
                    _settle_error(request.future, exc)
                    continue
                await self._conn.execute("RELEASE job")
                done.append((request, result))
            if in_transaction:
                await self._conn.execute("COMMIT")
                self.commits += 1
                self.write_jobs += len(done)
        except Exception as exc:  # the transaction itself failed: nobody's write is kept
            log.exception("database transaction failed", extra={"jobs": len(batch)})
            if in_transaction:
                await _rollback_quietly(self._conn)
            for request, _ in done:
                _settle_error(request.future, exc)
            for request in batch:
                _settle_error(request.future, exc)
            return
        for request, result in done:
            if not request.future.done():
                request.future.set_result(result)

    async def _run_read(self, request: _Request) -> None:
        try:
            result = await request.job(self._conn)
        except Exception as exc:
            _settle_error(request.future, exc)
        else:
            if not request.future.done():
                request.future.set_result(result)


def _settle_error(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


async def _rollback_quietly(conn: aiosqlite.Connection) -> None:
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.Error:
        log.exception("rollback after a failed transaction also failed")


async def migrate(conn: aiosqlite.Connection, migrations: list[Migration]) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; returns the
    versions applied. Safe when several processes start at once (BEGIN IMMEDIATE)."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied: list[int] = []
    for migration in migrations:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            async with conn.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ) as cursor:
                if await cursor.fetchone() is not None:
                    await conn.execute("ROLLBACK")
                    continue
            for statement in split_statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at)"
                " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (migration.version, migration.name),
            )
            await conn.execute("COMMIT")
        except BaseException:
            await _rollback_quietly(conn)
            raise
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration.version)
    return applied
