"""The storage rules: private files, WAL, migrations that carry old data forward, one writer
whose transactions never interleave, and ticket numbers per year that are never reused."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from support import eventually

from bot.clock import to_db
from bot.evidence.store import MediaStore
from bot.storage.database import Database, bundled_migrations, migrate, split_statements
from bot.storage.outbox import OutboxScope, SqliteOutbox, outbound_to_json
from bot.storage.store import SqliteStore
from channels.recording import file_attachment
from conversations.messages import ChatKey, Outbound
from conversations.ports import Changes, NewTicket, TicketRef
from conversations.state import Draft, EvidenceItem

JAKARTA = ZoneInfo("Asia/Jakarta")
Job = Callable[[aiosqlite.Connection], Awaitable[object]]

# A photo whose sha256 starts with "ab": it must land at media/ab/<sha256>.
PHOTO = b"\xff\xd8\xff\xe0 foto bukti 122"
PHOTO_SHA256 = "abac46d57a619d285aa0f0d4bc3c15810638070cc83a7b705a27c6a81a475441"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


async def rows(db: Database, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    async def job(conn: aiosqlite.Connection) -> list[tuple[object, ...]]:
        async with conn.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    return await db.read(job)


async def columns(db: Database, table: str) -> set[str]:
    return {str(row[1]) for row in await rows(db, f"PRAGMA table_info({table})")}


async def tables(db: Database) -> set[str]:
    return {
        str(row[0]) for row in await rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }


def statements(*sql: tuple[str, tuple[object, ...]]) -> Job:
    """A write job running the given parameterised statements one after another."""

    async def job(conn: aiosqlite.Connection) -> None:
        for text, params in sql:
            await conn.execute(text, params)

    return job


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "taros.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def store(db: Database) -> SqliteStore:
    return SqliteStore(db, ticket_prefix="GRT", tz=JAKARTA)


def ticket_changes(chat: str, created_at: datetime) -> Changes:
    """What the intake hands the store when a citizen confirms a report."""
    draft = Draft(
        started_at=to_db(created_at - timedelta(minutes=5)),
        category="uang_palsu",
        location_done=True,
        kecamatan_code="32.05.01",
        desa_code="32.05.01.1001",
        address="dekat pasar",
        chronology="Ada yang belanja pakai uang palsu di warung saya",
        evidence=[
            EvidenceItem("photo", PHOTO_SHA256, "image/jpeg", len(PHOTO), f"ab/{PHOTO_SHA256}")
        ],
        evidence_done=True,
    )
    return Changes(
        key=ChatKey("test", chat),
        sender_id=chat,
        ticket=NewTicket(
            draft=draft,
            unit="SATRESKRIM",
            polsek="POLSEK-GARUT-KOTA",
            locale="id",
            created_at=created_at,
            due_at=created_at + timedelta(hours=24),
        ),
    )


async def create_ticket(store: SqliteStore, chat: str, created_at: datetime) -> TicketRef:
    result = await store.apply(ticket_changes(chat, created_at), created_at)
    assert result.ticket is not None
    return result.ticket


# --- files: WAL, foreign keys, owner-only permissions ----------------------------------------


async def test_a_fresh_database_uses_wal_and_enforces_foreign_keys(db: Database) -> None:
    assert await rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert await rows(db, "PRAGMA foreign_keys") == [(1,)]
    with pytest.raises(sqlite3.IntegrityError):
        await db.write(
            statements(
                (
                    "INSERT INTO identities(channel, external_id, reporter_id, created_at)"
                    " VALUES ('test', 'x', 999, '2026-01-01')",
                    (),
                )
            )
        )


async def test_the_data_folder_and_database_files_are_owner_only(
    db: Database, db_path: Path
) -> None:
    await db.write(
        statements(("INSERT INTO audit_log(at, actor, action) VALUES ('t', 'test', 'x')", ()))
    )
    wal = db_path.with_name("taros.db-wal")
    shm = db_path.with_name("taros.db-shm")
    assert wal.exists() and shm.exists()
    assert mode(db_path.parent) == 0o700
    assert {p.name: mode(p) for p in (db_path, wal, shm)} == {
        "taros.db": 0o600,
        "taros.db-wal": 0o600,
        "taros.db-shm": 0o600,
    }


async def test_evidence_is_stored_owner_only_under_its_sha256(tmp_path: Path) -> None:
    assert hashlib.sha256(PHOTO).hexdigest() == PHOTO_SHA256
    media = MediaStore(tmp_path / "data" / "media", max_bytes=1024)
    hostile = file_attachment(PHOTO, filename="../../etc/passwd")

    stored = await media.save(hostile)

    target = tmp_path / "data" / "media" / "ab" / PHOTO_SHA256
    assert (stored.sha256, stored.size, stored.relative_path) == (
        PHOTO_SHA256,
        len(PHOTO),
        f"ab/{PHOTO_SHA256}",
    )
    assert target.read_bytes() == PHOTO
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    assert mode(target.parent.parent) == 0o700
    # The user's file name steered nothing: the one file written is the hashed one.
    assert files_under(tmp_path) == [target]
    assert media.path_of(stored.relative_path) == target.resolve()

    again = await media.save(file_attachment(PHOTO, filename="other.jpg"))
    assert again == stored
    assert files_under(tmp_path) == [target]


@pytest.mark.parametrize("outside", ["../x", "../../etc/passwd", "/etc/passwd", "ab/../../x", ""])
def test_a_path_outside_the_media_store_is_refused(tmp_path: Path, outside: str) -> None:
    media = MediaStore(tmp_path / "media", max_bytes=1024)
    with pytest.raises(ValueError, match="outside the media store"):
        media.path_of(outside)


# --- migrations -----------------------------------------------------------------------------


async def test_every_migration_is_recorded_once(db_path: Path) -> None:
    shipped = bundled_migrations()
    first = await Database.open(db_path)
    recorded = await rows(first, "SELECT version, name, applied_at FROM schema_migrations")
    await first.close()
    assert [r[0] for r in recorded] == list(range(1, len(shipped) + 1))
    assert [r[1] for r in recorded] == [m.name for m in shipped]

    second = await Database.open(db_path)
    try:
        assert await rows(second, "SELECT version, name, applied_at FROM schema_migrations") == (
            recorded
        )
    finally:
        await second.close()

    async with aiosqlite.connect(db_path, isolation_level=None) as conn:
        assert await migrate(conn, shipped) == []


async def test_migrate_applies_only_what_is_missing(tmp_path: Path) -> None:
    shipped = bundled_migrations()
    async with aiosqlite.connect(tmp_path / "plain.db", isolation_level=None) as conn:
        assert await migrate(conn, shipped[:1]) == [1]
        assert await migrate(conn, shipped) == list(range(2, len(shipped) + 1))
        assert await migrate(conn, shipped) == []


SCHEMA_1_REPLY = Outbound("test", "62811", "Laporan Anda sudah kami terima.")


async def fill_schema_1(db: Database) -> None:
    """A reporter with an identity, a conversation, a ticket with an event and evidence, and a
    reply waiting in the outbox, written as release 1 wrote them."""
    created = "2026-03-02T03:04:05.000000+00:00"
    await db.write(
        statements(
            ("INSERT INTO reporters(id, pseudonym, created_at) VALUES (1, 'A1B2', ?)", (created,)),
            (
                "INSERT INTO identities(channel, external_id, reporter_id, display_name,"
                " created_at) VALUES ('test', '62811', 1, 'Budi', ?)",
                (created,),
            ),
            (
                "INSERT INTO conversations(channel, chat_id, state, data, locale, version,"
                " updated_at) VALUES ('test', '62811', 'idle', ?, 'id', 3, ?)",
                ('{"draft":null,"options":[],"invalid":0,"editing":false}', created),
            ),
            (
                "INSERT INTO inbound_messages(channel, message_id, chat_id, received_at)"
                " VALUES ('test', 'm-1', '62811', ?)",
                (created,),
            ),
            ("INSERT INTO ticket_sequences(year, last_value) VALUES (2026, 1)", ()),
            (
                "INSERT INTO tickets(id, number, year, seq, reporter_id, channel, chat_id,"
                " category, unit, status, kecamatan_code, address, chronology, locale,"
                " created_at, updated_at, due_at) VALUES (1, 'GRT-2026-00001', 2026, 1, 1,"
                " 'test', '62811', 'pencurian', 'SATRESKRIM', 'baru', '32.05.01',"
                " 'dekat alun-alun', 'Motor saya hilang di parkiran', 'id', ?, ?, ?)",
                (created, created, "2026-03-03T03:04:05.000000+00:00"),
            ),
            (
                "INSERT INTO ticket_events(ticket_id, at, actor, kind, to_status)"
                " VALUES (1, ?, 'reporter', 'created', 'baru')",
                (created,),
            ),
            (
                "INSERT INTO evidence(ticket_id, kind, sha256, mime, size, stored_path,"
                " created_at) VALUES (1, 'photo', ?, 'image/jpeg', ?, ?, ?)",
                (PHOTO_SHA256, len(PHOTO), f"ab/{PHOTO_SHA256}", created),
            ),
            (
                "INSERT INTO outbox(channel, chat_id, payload, created_at)"
                " VALUES ('test', '62811', ?, ?)",
                (outbound_to_json(SCHEMA_1_REPLY), created),
            ),
        )
    )


async def test_a_schema_1_database_migrates_forward_with_its_data(db_path: Path) -> None:
    old = await Database.open(db_path, migrations=bundled_migrations()[:1])
    try:
        assert "timers" not in await tables(old)
        assert "locale" not in await columns(old, "reporters")
        await fill_schema_1(old)
        # Every schema-1 table and column, and what they hold.
        old_tables = sorted(await tables(old) - {"schema_migrations"})
        old_columns = {t: await columns(old, t) for t in old_tables}
        before = {t: sorted(await rows(old, f"SELECT * FROM {t}"), key=repr) for t in old_tables}
        names = {
            t: [str(r[1]) for r in await rows(old, f"PRAGMA table_info({t})")] for t in old_tables
        }
    finally:
        await old.close()

    db = await Database.open(db_path)
    try:
        assert {"timers", "officers", "audit_log"} <= await tables(db)
        assert "locale" in await columns(db, "reporters")
        assert [r[0] for r in await rows(db, "SELECT version FROM schema_migrations")] == list(
            range(1, len(bundled_migrations()) + 1)
        )
        for table in old_tables:
            assert old_columns[table] <= await columns(db, table)
            kept = ", ".join(names[table])
            after = sorted(await rows(db, f"SELECT {kept} FROM {table}"), key=repr)
            assert after == before[table], table
        assert await rows(db, "SELECT locale FROM reporters") == [(None,)]

        store = SqliteStore(db, ticket_prefix="GRT", tz=JAKARTA)
        ticket = await create_ticket(store, "62811", datetime(2026, 11, 27, 2, tzinfo=UTC))
        assert ticket.number == "GRT-2026-00002"
        # The old identity is reused: both tickets belong to the same reporter.
        mine = await store.tickets_for_reporter("test", "62811", limit=10)
        assert [t.number for t in mine] == ["GRT-2026-00002", "GRT-2026-00001"]
        pending = await SqliteOutbox(db).pending_outbox(
            (OutboxScope("test"),), after_id=0, limit=10
        )
        assert [replace(row.outbound, outbox_id=None) for row in pending] == [SCHEMA_1_REPLY]
        assert pending[0].outbound.outbox_id == pending[0].id
        conversation = await store.load_conversation(ChatKey("test", "62811"))
        assert conversation is not None and conversation.version == 3
        assert await store.is_processed("test", "m-1")
    finally:
        await db.close()


# --- split_statements -----------------------------------------------------------------------


def test_split_statements_skips_comments_and_keeps_triggers_whole() -> None:
    script = """
-- The table of things; this comment has a semicolon.
CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT); -- trailing note
/* a block comment; with a semicolon */
INSERT INTO things(name) VALUES ('a;b');

CREATE TRIGGER things_log AFTER INSERT ON things
BEGIN
    INSERT INTO log(msg) VALUES ('inserted; ok');
    UPDATE things SET name = upper(name) WHERE id = new.id;
END;
-- nothing after this but comments
"""
    parts = split_statements(script)
    assert len(parts) == 3
    assert parts[0].startswith("-- The table of things")
    assert "CREATE TABLE things" in parts[0]
    assert "VALUES ('a;b')" in parts[1]
    assert parts[2].startswith("CREATE TRIGGER things_log")
    assert parts[2].endswith("END;")
    assert all(sqlite3.complete_statement(p) for p in parts)

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE log (msg TEXT)")
    for part in parts:
        conn.execute(part)
    conn.execute("INSERT INTO things(name) VALUES ('c')")
    assert conn.execute("SELECT name FROM things ORDER BY id").fetchall() == [("a;b",), ("C",)]
    assert conn.execute("SELECT msg FROM log").fetchall() == [("inserted; ok",)]
    conn.close()


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE a (x);\nCREATE TABLE b (y)\n",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  DELETE FROM b;\n",
        "INSERT INTO a VALUES ('unterminated;\n",
    ],
)
def test_split_statements_refuses_an_incomplete_last_statement(script: str) -> None:
    with pytest.raises(ValueError, match="incomplete SQL statement"):
        split_statements(script)


def test_every_bundled_migration_splits_into_complete_statements() -> None:
    for migration in bundled_migrations():
        parts = split_statements(migration.sql)
        assert parts, migration.name
        assert all(sqlite3.complete_statement(p) for p in parts)


def test_split_statements_accepts_a_trailing_block_comment() -> None:
    assert split_statements("CREATE TABLE a (x);\n/* end of migration */\n") == [
        "CREATE TABLE a (x);"
    ]


def test_split_statements_separates_two_statements_on_one_line() -> None:
    assert split_statements("CREATE TABLE a (x); CREATE TABLE b (y);\n") == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y);",
    ]


# --- the single writer ----------------------------------------------------------------------


class JobFailed(Exception):
    def __init__(self, job: int) -> None:
        super().__init__(f"job {job} failed midway")
        self.job = job


def two_step_job(number: int, *, fail: bool) -> Callable[[aiosqlite.Connection], Awaitable[int]]:
    """A job that writes, yields to the event loop, writes again, and may fail in between."""

    async def job(conn: aiosqlite.Connection) -> int:
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action) VALUES ('t', ?, 'first')", (f"job{number}",)
        )
        await asyncio.sleep(0)
        async with conn.execute("SELECT count(*) FROM audit_log") as cursor:
            await cursor.fetchone()
        await asyncio.sleep(0)
        if fail:
            raise JobFailed(number)
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action) VALUES ('t', ?, 'second')",
            (f"job{number}",),
        )
        return number

    return job


async def breaks_the_commit(conn: aiosqlite.Connection) -> None:
    """A deferred foreign-key violation: the statement passes, the COMMIT fails."""
    await conn.execute("PRAGMA defer_foreign_keys = ON")
    await conn.execute(
        "INSERT INTO identities(channel, external_id, reporter_id, created_at)"
        " VALUES ('test', 'ghost', 424242, 't')"
    )


async def test_concurrent_transactions_never_interleave(db: Database) -> None:
    failing = {n for n in range(80) if n % 3 == 1}
    results = await asyncio.gather(
        *(db.write(two_step_job(n, fail=n in failing)) for n in range(80)),
        return_exceptions=True,
    )

    for n, result in enumerate(results):
        if n in failing:
            assert isinstance(result, JobFailed) and result.job == n
        else:
            assert result == n
    written = await rows(db, "SELECT id, actor, action FROM audit_log ORDER BY id")
    by_job: dict[str, list[tuple[int, str]]] = {}
    for row_id, actor, action in written:
        by_job.setdefault(str(actor), []).append((int(str(row_id)), str(action)))
    assert set(by_job) == {f"job{n}" for n in range(80) if n not in failing}
    for steps in by_job.values():
        (first_id, first), (second_id, second) = steps
        # Both rows of a job, and nothing of any other job between them.
        assert (first, second) == ("first", "second")
        assert second_id == first_id + 1


async def test_a_read_submitted_after_a_write_sees_it(db: Database) -> None:
    insert = statements(("INSERT INTO audit_log(at, actor, action) VALUES ('t', 'w', 'x')", ()))
    count = "SELECT count(*) FROM audit_log WHERE actor = 'w'"
    write = asyncio.create_task(db.write(insert))
    read = asyncio.create_task(rows(db, count))
    await asyncio.gather(write, read)
    assert read.result() == [(1,)]
    assert await rows(db, count) == [(1,)]


async def test_a_failed_commit_keeps_nothing_and_tells_every_job(db: Database) -> None:
    results = await asyncio.gather(
        db.write(two_step_job(1, fail=False)),
        db.write(breaks_the_commit),
        db.write(two_step_job(2, fail=False)),
        return_exceptions=True,
    )

    assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
    assert await rows(db, "SELECT count(*) FROM audit_log") == [(0,)]
    assert await rows(db, "SELECT count(*) FROM identities") == [(0,)]
    assert await db.write(two_step_job(3, fail=False)) == 3  # the writer carries on


async def test_the_writer_groups_concurrent_writes_into_few_commits(db: Database) -> None:
    commits, jobs = db.commits, db.write_jobs

    def insert(n: int) -> Job:
        return statements(
            ("INSERT INTO audit_log(at, actor, action) VALUES ('t', ?, 'x')", (f"w{n}",))
        )

    await asyncio.gather(*(db.write(insert(n)) for n in range(500)))

    used = db.commits - commits
    print(f"500 concurrent writes -> {used} commits")
    assert db.write_jobs - jobs == 500
    assert used <= 25
    assert await rows(db, "SELECT count(*) FROM audit_log") == [(500,)]


def audit(actor: str) -> Job:
    return statements(("INSERT INTO audit_log(at, actor, action) VALUES ('t', ?, 'x')", (actor,)))


def fails_after_writing(actor: str) -> Job:
    async def job(conn: aiosqlite.Connection) -> None:
        await conn.execute(
            "INSERT INTO audit_log(at, actor, action) VALUES ('t', ?, 'x')", (actor,)
        )
        raise JobFailed(0)

    return job


async def actors(db: Database) -> list[str]:
    return [str(r[0]) for r in await rows(db, "SELECT actor FROM audit_log ORDER BY id")]


async def test_inline_jobs_keep_their_order_with_every_other_job(db: Database) -> None:
    """Inline jobs run batch after batch in the database thread; jobs that await anything
    else run through the event loop; whichever way, the order of submission is kept and a
    read sees every write queued before it."""
    count = "SELECT count(*) FROM audit_log"

    async def counted(conn: aiosqlite.Connection) -> int:
        async with conn.execute(count) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else -1

    writes: list[Awaitable[object]] = []
    reads: list[tuple[int, Awaitable[int]]] = []  # (rows written before it, the read)
    expected: list[str] = []
    for n in range(300):
        inline = n % 7 != 3  # every seventh awaits the event loop
        job = audit(f"a{n}") if inline else two_step_job(n, fail=False)
        writes.append(asyncio.ensure_future(db.write(job, inline=inline)))
        expected += [f"a{n}"] if inline else [f"job{n}", f"job{n}"]
        if n % 50 == 49:
            reads.append((len(expected), asyncio.ensure_future(db.read(counted, inline=True))))
    seen = await asyncio.gather(*writes, *(read for _, read in reads))

    assert await actors(db) == expected
    assert list(seen[len(writes) :]) == [before for before, _ in reads]


async def test_an_inline_job_that_fails_is_undone_alone(db: Database) -> None:
    results = await asyncio.gather(
        db.write(audit("before"), inline=True),
        db.write(fails_after_writing("broken"), inline=True),
        db.write(audit("after"), inline=True),
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], JobFailed) and results[2] is None
    assert await actors(db) == ["before", "after"]


async def test_a_failing_first_write_of_a_transaction_is_undone_alone(db: Database) -> None:
    """The first write of a transaction runs without a savepoint (undoing it is undoing
    the transaction); whichever jobs of a batch fail, each is undone alone and the others
    are committed in their order."""
    for round_, failing in enumerate(({0}, {0, 1}, {0, 2}, {1, 3}, {0, 1, 2, 3})):
        names = [f"r{round_}w{n}" for n in range(4)]
        results = await asyncio.gather(
            *(
                db.write(fails_after_writing(name) if n in failing else audit(name), inline=True)
                for n, name in enumerate(names)
            ),
            return_exceptions=True,
        )
        assert [isinstance(r, JobFailed) for r in results] == [n in failing for n in range(4)]
        kept = [a for a in await actors(db) if a.startswith(f"r{round_}w")]
        assert kept == [name for n, name in enumerate(names) if n not in failing]
    await db.write(audit("alone"), inline=True)  # a transaction of one write, after all that
    assert (await actors(db))[-1] == "alone"


async def test_a_failed_commit_of_inline_jobs_keeps_nothing_and_tells_every_job(
    db: Database,
) -> None:
    results = await asyncio.gather(
        db.write(audit("one"), inline=True),
        db.write(breaks_the_commit, inline=True),
        db.write(audit("two"), inline=True),
        return_exceptions=True,
    )

    assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
    assert await actors(db) == []
    assert await rows(db, "SELECT count(*) FROM identities") == [(0,)]
    await db.write(audit("three"), inline=True)  # the writer carries on
    assert await actors(db) == ["three"]


async def test_jobs_queued_when_the_database_closes_are_still_done(db_path: Path) -> None:
    db = await Database.open(db_path)
    writes = [asyncio.ensure_future(db.write(audit(f"w{n}"), inline=True)) for n in range(200)]
    await asyncio.sleep(0)  # queued, not yet done
    await db.close()
    assert all(w.done() and w.exception() is None for w in writes)
    db = await Database.open(db_path)
    try:
        assert len(await actors(db)) == 200
    finally:
        await db.close()


WAL_FRAME = 24 + 4096  # a frame header and a page


async def write_wal_pages(db: Database, pages: int) -> None:
    """Commit about ``pages`` pages of new rows, in transactions of about 100 pages."""
    payload = "x" * 3500  # about one page each

    async def hundred(conn: aiosqlite.Connection) -> None:
        await conn.executemany(
            "INSERT INTO audit_log(at, actor, action, detail) VALUES ('t', 'w', 'x', ?)",
            [(payload,)] * 100,
        )

    for _ in range(pages // 100):
        await db.write(hundred)


def file_size(path: Path) -> int:
    return path.stat().st_size


def wal_pages(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return (wal.stat().st_size - 32) // WAL_FRAME if wal.exists() else 0


async def test_no_commit_of_the_writer_copies_the_wal_into_the_database(db_path: Path) -> None:
    """SQLite's default (a checkpoint inside the commit that takes the WAL past 1,000 pages)
    made that commit, and every message queued behind it, wait (issue 18)."""
    db = await Database.open(db_path, checkpoint_every=3600)  # no background checkpoint now
    try:
        size = file_size(db_path)
        await write_wal_pages(db, 3000)
        assert wal_pages(db_path) >= 3000  # never reset: nothing was checkpointed
        assert file_size(db_path) == size  # the database file was left alone
        assert db.checkpoints == 0
    finally:
        await db.close()


async def test_the_wal_is_checkpointed_beside_the_writer(db_path: Path) -> None:
    db = await Database.open(db_path, checkpoint_every=0.01)
    try:
        size = file_size(db_path)
        await write_wal_pages(db, 3000)
        # the pages reach the database file
        await eventually(lambda: file_size(db_path) >= size + 3000 * 3500)
        assert db.checkpoints >= 1
        assert db.wal_pages_seen > 0
        written = await rows(db, "SELECT count(*) FROM audit_log")
    finally:
        await db.close()
    assert written == [(3000,)]
    with sqlite3.connect(db_path) as again:
        assert again.execute("SELECT count(*) FROM audit_log").fetchone() == (3000,)


async def test_a_closed_database_refuses_work(db_path: Path) -> None:
    db = await Database.open(db_path)
    await db.close()
    with pytest.raises(RuntimeError, match="closed"):
        await rows(db, "SELECT 1")


# --- ticket numbers -------------------------------------------------------------------------


async def test_ticket_numbers_follow_the_year_in_jakarta(store: SqliteStore) -> None:
    june = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    new_years_eve = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 in Jakarta
    new_year = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # already 01:00 on 1 Jan 2027

    numbers = [
        (await create_ticket(store, chat, when)).number
        for chat, when in [("a", june), ("b", new_years_eve), ("c", new_year)]
    ]

    assert numbers == ["GRT-2026-00001", "GRT-2026-00002", "GRT-2027-00001"]
    assert await rows(store.db, "SELECT year, last_value FROM ticket_sequences ORDER BY year") == [
        (2026, 2),
        (2027, 1),
    ]
    late_2026 = await create_ticket(store, "d", datetime(2026, 12, 1, tzinfo=UTC))
    assert late_2026.number == "GRT-2026-00003"


async def test_ticket_numbers_are_never_reused(store: SqliteStore) -> None:
    when = datetime(2026, 11, 27, 2, tzinfo=UTC)
    concurrent = await asyncio.gather(*(create_ticket(store, f"c{n}", when) for n in range(20)))
    assert sorted(t.number for t in concurrent) == [f"GRT-2026-{n:05d}" for n in range(1, 21)]

    # The newest ticket disappears (e.g. its reporter's data is erased) ...
    await store.db.write(statements(("DELETE FROM tickets WHERE number = ?", ("GRT-2026-00020",))))
    assert await rows(store.db, "SELECT count(*) FROM ticket_events") == [(19,)]
    # ... and its number is still never handed out again.
    assert (await create_ticket(store, "next", when)).number == "GRT-2026-00021"


async def test_a_new_reporter_costs_the_same_with_an_archive_of_millions(
    store: SqliteStore,
) -> None:
    """Short pseudonyms (4 hex digits) while at most half of them can be taken; past that,
    8 digits at once, in one insert, however full the short ones are."""
    when = datetime(2026, 11, 27, 2, tzinfo=UTC)
    await create_ticket(store, "first", when)
    [(short,)] = await rows(store.db, "SELECT pseudonym FROM reporters")
    assert len(str(short)) == 4

    # an archive that has made 40,000 reporters (the short space may well be full)
    await store.db.write(
        statements(
            (
                "INSERT INTO reporters(id, pseudonym, created_at) VALUES (40000, 'FFFFFFFF', ?)",
                (to_db(when),),
            )
        )
    )
    inserts: list[str] = []
    await store.db.trace(lambda sql: inserts.append(sql) if "INTO reporters" in sql else None)
    await create_ticket(store, "later", when)
    await store.db.trace(None)
    [(newest,)] = await rows(
        store.db, "SELECT pseudonym FROM reporters WHERE id > 40000 ORDER BY id DESC LIMIT 1"
    )
    assert len(str(newest)) == 8
    assert len(inserts) == 1


async def test_a_ticket_whose_transaction_fails_leaves_no_trace(store: SqliteStore) -> None:
    when = datetime(2026, 11, 27, 2, tzinfo=UTC)
    first = await create_ticket(store, "a", when)

    def explode(ticket: TicketRef) -> list[Outbound]:
        raise RuntimeError(f"could not word the reply for {ticket.number}")

    broken = ticket_changes("b", when)
    broken.replies_after_ticket = explode
    with pytest.raises(RuntimeError, match="could not word the reply"):
        await store.apply(broken, when)

    assert await rows(store.db, "SELECT number FROM tickets") == [(first.number,)]
    assert await rows(store.db, "SELECT count(*) FROM evidence") == [(1,)]
    assert await rows(store.db, "SELECT count(*) FROM identities") == [(1,)]
    later = await create_ticket(store, "c", when)
    assert later.number > first.number
