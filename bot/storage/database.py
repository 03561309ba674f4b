"""The one SQLite connection of a process, its migrations, and its single writer.

aiosqlite serialises statements, not transactions: two coroutines sharing a connection can
interleave their BEGIN/COMMIT and commit each other's half-done work. So every use of the
connection goes through one task, :meth:`Database._serve`, which runs jobs one after another.
Consecutive write jobs are grouped into one transaction (one commit for many messages), each
inside its own SAVEPOINT so a failing job is rolled back alone and reports its own error.

Every aiosqlite call is a round trip to its thread (a queue, a wake-up, a future: tens of
microseconds, more than most statements cost). A job submitted with ``inline=True`` promises
to await nothing but the connection and its cursors; consecutive inline jobs then run in the
database thread itself, one round trip for all of them (and for the BEGIN, the savepoints and
the COMMIT around them). They are written exactly like the others, against aiosqlite's API
(:class:`InlineConnection` mirrors the part of it they may use). While inline jobs keep
coming, the database thread takes batch after batch of them from the queue itself and hands
each batch's results to the event loop once committed, without waiting for the loop to start
the next one (:meth:`Database._drain_inline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import stat
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.storage.writer_lock import WriterLock, hold_as_writer

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[aiosqlite.Connection], Awaitable[T]]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    # what is deleted or overwritten (an erased reporter's story, a purged outbox row) is
    # zeroed in the file, not left in free space for a backup or a disk image to carry
    "PRAGMA secure_delete=ON",
)
MAX_BATCH = 256

CHECKPOINT_EVERY = 1.0
"""Seconds between two checkpoints of the WAL into the database file, run on a connection of
their own in another thread (:meth:`Database._checkpoints`), so that no message waits for one.
SQLite's own automatic checkpoint ran inside the COMMIT of whichever transaction took the WAL
past 1,000 pages: that commit, and every message of the batches queued behind it, waited
for the pages to be copied and synced (bench/README.md, issue 18)."""

WRITER_AUTOCHECKPOINT = 10_000
"""WAL pages past which the writer checkpoints itself after a commit, as SQLite does by
default at 1,000: only a safety net, for when the checkpoints of :data:`CHECKPOINT_EVERY`
cannot keep up (a long reader in another process); about 40 MB of WAL."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered ``NNNN_name.sql`` files shipped in ``bot/storage/migrations``, in order."""
    folder = resources.files("bot.storage") / "migrations"
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
    inline: bool = False


class NotInline(RuntimeError):
    """A job submitted with ``inline=True`` awaited something other than the database."""


class _Done:
    """An awaitable that is already complete (awaiting it never suspends)."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __await__(self) -> Any:
        return self._value
        yield  # a generator that returns at once


class InlineCursor:
    """aiosqlite's cursor API over a sqlite3 cursor, for jobs run in the database thread."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def close(self) -> None:
        self._cursor.close()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def description(self) -> Any:
        return self._cursor.description

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()


class _Statement:
    """What ``execute`` returns: awaitable (a cursor) and an async context manager (a cursor,
    closed at the end), like aiosqlite's."""

    __slots__ = ("_cursor", "_run")

    def __init__(self, run: Callable[[], sqlite3.Cursor]) -> None:
        self._run = run
        self._cursor: InlineCursor | None = None

    def __await__(self) -> Any:
        return _Done(InlineCursor(self._run())).__await__()

    async def __aenter__(self) -> InlineCursor:
        self._cursor = InlineCursor(self._run())
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class InlineConnection:
    """The part of aiosqlite's connection API an inline job may use, over the sqlite3
    connection, in the database thread."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = ()) -> _Statement:
        return _Statement(lambda: self._conn.execute(sql, parameters))

    def executemany(self, sql: str, parameters: Any) -> _Statement:
        return _Statement(lambda: self._conn.executemany(sql, parameters))

    async def execute_fetchall(self, sql: str, parameters: Any = ()) -> list[Any]:
        return self._conn.execute(sql, parameters).fetchall()

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


def _drive(job: Job[Any], conn: InlineConnection) -> Any:
    """Run an inline job to completion here and now (it never suspends)."""
    # InlineConnection mirrors the part of aiosqlite.Connection a job uses, without being one
    awaitable = job(conn)  # type: ignore[arg-type]
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as stop:
        return stop.value
    close = getattr(steps, "close", None)
    if close is not None:
        close()
    raise NotInline(f"{job!r} awaited something other than the database")


@dataclass(slots=True)
class _InlineRun:
    """What running a segment of inline jobs in the database thread gave."""

    outcomes: list[tuple[_Request, bool, Any]]
    in_transaction: bool
    committed: bool = False
    error: BaseException | None = None  # the transaction itself failed


class Database:
    """Owns the connection and the task that uses it. Use :meth:`read` and :meth:`write`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        # appended to by the event loop; taken from by _serve, and by the database thread
        # while it runs inline jobs (deque's append and popleft are atomic)
        self._pending: deque[_Request] = deque()
        self._work = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.write_jobs = 0
        self.checkpoints = 0  # run by _checkpoints (the writer's own are not counted)
        self.wal_pages_seen = 0  # the largest WAL a checkpoint found, in pages
        self._closing = asyncio.Event()
        self._checkpointer: asyncio.Task[None] | None = None
        # the thread-hopping primitive of aiosqlite (its own API for cursors and statements)
        self._can_inline = callable(getattr(connection, "_execute", None))
        self._lock: WriterLock | None = None  # the data dir, held as one of its writers

    @classmethod
    async def open(
        cls,
        path: Path,
        migrations: list[Migration] | None = None,
        *,
        checkpoint_every: float = CHECKPOINT_EVERY,
    ) -> Database:
        """Open (creating and migrating) the database at ``path``, holding its folder as one
        of its writers (:mod:`bot.storage.writer_lock`) until :meth:`close`."""
        lock = None
        if str(path) != ":memory:":
            prepare_private_file(path)
            lock = await asyncio.to_thread(hold_as_writer, path.parent)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            await migrate(conn, bundled_migrations() if migrations is None else migrations)
            if str(path) != ":memory:":
                await conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT}")
        except BaseException:
            await conn.close()
            if lock is not None:
                lock.release()
            raise
        db = cls(conn, path)
        db._lock = lock
        db._task = asyncio.create_task(db._serve(), name="taros-db-writer")
        if str(path) != ":memory:":
            db._checkpointer = asyncio.create_task(
                db._checkpoints(checkpoint_every), name="taros-db-checkpoints"
            )
        return db

    async def _checkpoints(self, every: float) -> None:
        """Every ``every`` seconds (:data:`CHECKPOINT_EVERY`) that saw a commit, copy the WAL's
        pages into the database file: a PASSIVE checkpoint, which waits for no reader and no
        writer (the writer goes on committing while it runs), on a connection of its own, in
        a thread of its own (sqlite3 lets go of the GIL while it works)."""
        conn = await asyncio.to_thread(
            sqlite3.connect, self.path, isolation_level=None, check_same_thread=False
        )
        try:
            await asyncio.to_thread(conn.execute, "PRAGMA busy_timeout=10000")
            checked_at = self.commits
            while not self._closing.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), every)
                if self.commits == checked_at:
                    continue
                checked_at = self.commits
                try:
                    row = await asyncio.to_thread(_checkpoint, conn)
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed; the writer's own remains")
                    continue
                self.checkpoints += 1
                self.wal_pages_seen = max(self.wal_pages_seen, row[1])
        finally:
            await asyncio.to_thread(conn.close)

    async def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            await self._checkpointer
            self._checkpointer = None
        if self._task is not None:
            self._stopping = True  # what is queued is still done
            self._work.set()
            await self._task
            self._task = None
        await self._conn.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    async def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback`` (in the database thread) with every statement SQLite runs on this
        connection, parameters written in; None stops. For counting statements and checking
        their plans (bench/README.md, tests/test_query_plans.py)."""
        await self._conn.set_trace_callback(callback)  # type: ignore[arg-type]

    async def read(self, job: Job[T], *, inline: bool = False) -> T:
        """Run ``job`` on the connection, in turn with every other job. Reads see the writes
        of jobs queued before them. ``inline``: see the module doc."""
        return await self._submit(job, write=False, inline=inline)

    async def write(self, job: Job[T], *, inline: bool = False) -> T:
        """Run ``job`` in a transaction; returns once its changes are committed. When it
        raises, nothing it did is kept and the exception reaches the caller. ``inline``: see
        the module doc."""
        return await self._submit(job, write=True, inline=inline)

    async def _submit(self, job: Job[T], *, write: bool, inline: bool) -> T:
        if self._task is None or self._task.done():
            raise RuntimeError("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(job, write, future, inline and self._can_inline))
        self._work.set()
        return await future

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        pending = self._pending
        while True:
            if not pending:
                if self._stopping:
                    return
                self._work.clear()
                await self._work.wait()
                continue
            if pending[0].inline:
                # the database thread runs batch after batch, as long as inline jobs keep
                # coming, without waiting for the event loop between them
                # (aiosqlite (0.22) leaves its thread hop, Connection._execute, unannotated)
                await self._conn._execute(  # type: ignore[no-untyped-call]
                    self._drain_inline, loop
                )
                continue
            batch = [pending.popleft() for _ in range(min(MAX_BATCH, len(pending)))]
            await self._run_batch(batch)

    def _drain_inline(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the database thread: run the inline jobs at the head of the queue, a batch (one
        transaction) at a time, until the queue is empty or its head is not inline. Each
        batch's results are handed to the event loop once it is committed; the next batch
        starts at once, with whatever was queued meanwhile."""
        pending = self._pending
        while pending and pending[0].inline:
            batch: list[_Request] = []
            while pending and len(batch) < MAX_BATCH and pending[0].inline:
                batch.append(pending.popleft())
            segment = [r for r in batch if r.write or not r.future.cancelled()]
            run = self._run_inline(segment, False, True)
            conn = self._conn._conn
            if run.error is not None and conn is not None and conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    log.exception("rollback after a failed transaction failed")
            loop.call_soon_threadsafe(self._settle_inline, batch, run)

    def _settle_inline(self, batch: list[_Request], run: _InlineRun) -> None:
        """In the event loop: hand a batch of inline jobs their results."""
        written = 0  # writes kept, whether or not their caller still waits
        for req, ok, value in run.outcomes:
            if not ok:
                _settle_error(req.future, value)
                continue
            if req.write:
                if run.error is not None:
                    continue  # its transaction failed: nothing it did was kept
                written += 1
            if not req.future.done():
                req.future.set_result(value)
        if run.error is not None:
            log.error(
                "database transaction failed",
                exc_info=run.error,
                extra={"jobs": len(batch)},
            )
            for req in batch:
                _settle_error(req.future, run.error)
            return
        if run.committed:
            self.commits += 1
            self.write_jobs += written

    async def _run_batch(self, batch: list[_Request]) -> None:
        in_transaction = False
        done: list[tuple[_Request, Any]] = []
        index = 0
        try:
            while index < len(batch):
                request = batch[index]
                if request.inline:
                    end = index + 1
                    while end < len(batch) and batch[end].inline:
                        end += 1
                    segment = [r for r in batch[index:end] if r.write or not r.future.cancelled()]
                    index = end
                    # aiosqlite (0.22) leaves its thread hop, Connection._execute, unannotated
                    run = await self._conn._execute(  # type: ignore[no-untyped-call]
                        self._run_inline, segment, in_transaction, end == len(batch)
                    )
                    in_transaction = run.in_transaction
                    for req, ok, value in run.outcomes:
                        if not ok:
                            _settle_error(req.future, value)
                        elif req.write:
                            done.append((req, value))
                        elif not req.future.done():
                            req.future.set_result(value)
                    if run.error is not None:
                        raise run.error
                    if run.committed:
                        in_transaction = False
                        self.commits += 1
                        self.write_jobs += len(done)
                    continue
                index += 1
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

    def _run_inline(
        self, segment: list[_Request], in_transaction: bool, commit: bool
    ) -> _InlineRun:
        """In the database thread: run ``segment`` (reads, and writes each in its savepoint),
        then COMMIT when ``commit`` and a transaction is open. Touches no future."""
        conn = self._conn._conn
        inline = InlineConnection(conn)
        run = _InlineRun([], in_transaction)
        try:
            for request in segment:
                if not request.write:
                    try:
                        run.outcomes.append((request, True, _drive(request.job, inline)))
                    except Exception as exc:
                        run.outcomes.append((request, False, exc))
                    continue
                if not run.in_transaction:
                    # the transaction's first write needs no savepoint: undoing it alone is
                    # undoing the transaction (two statements fewer per transaction)
                    conn.execute("BEGIN IMMEDIATE")
                    run.in_transaction = True
                    try:
                        result = _drive(request.job, inline)
                    except Exception as exc:  # the job's own failure: undo it alone
                        conn.execute("ROLLBACK")
                        run.in_transaction = False
                        run.outcomes.append((request, False, exc))
                        continue
                    run.outcomes.append((request, True, result))
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    result = _drive(request.job, inline)
                except Exception as exc:  # the job's own failure: undo it alone
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    run.outcomes.append((request, False, exc))
                    continue
                conn.execute("RELEASE job")
                run.outcomes.append((request, True, result))
            if commit and run.in_transaction:
                conn.execute("COMMIT")
                run.committed = True
        except Exception as exc:
            run.error = exc
        return run

    async def _run_read(self, request: _Request) -> None:
        try:
            result = await request.job(self._conn)
        except Exception as exc:
            _settle_error(request.future, exc)
        else:
            if not request.future.done():
                request.future.set_result(result)


def _checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """A PASSIVE checkpoint: (1 when it could not run at all, pages in the WAL, pages copied)."""
    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return (int(row[0]), int(row[1]), int(row[2]))


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
