"""Every statement a citizen's message costs stays O(log n) in the archive: none reads a
whole large table (bench/README.md, issue 18). The plans are SQLite's own (``EXPLAIN QUERY
PLAN``) for the statements the engine and the dispatcher really ran during whole intakes.
TAROS never runs ANALYZE, so SQLite chooses a plan from the schema and the statement alone:
the plan seen on this small database is the one a database of a million tickets gets."""

from __future__ import annotations

import sqlite3

from support import Harness, register, report

from bot.storage.tickets import CLOSED_SQL

# Tables that stay small: the officers, and the block list (whose read the engine caches).
SMALL = ("officers", "blocks")
CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA")


def full_reads(plan: list[str]) -> list[str]:
    """The steps of a plan that read a whole table or index, other than a small table's
    (``SCAN 2 CONSTANT ROWS`` reads the statement's own list of ``VALUES``)."""
    return [
        step
        for step in plan
        if step.startswith("SCAN ")
        and step.split()[1] not in SMALL
        and not step.endswith(" CONSTANT ROWS")
    ]


async def hot_statements(bot: Harness) -> list[str]:
    """The distinct statements run while two citizens report (one of them twice: the
    duplicate and the daily-limit checks) and their replies are delivered."""
    seen: dict[str, None] = {}
    await bot.app.db.trace(lambda sql: seen.setdefault(sql, None))
    try:
        await report(bot, "warga", evidence=(b"\xff\xd8\xff\xe0photo-1",))
        await report(
            bot,
            "tetangga",
            place="Ds. Sukamaju Kec. Cilawu",
            story="Ada yang bayar pakai uang palsu di pasar tadi pagi.",
        )
        await report(bot, "warga", place="desa sukamaju cilawu")
    finally:
        await bot.app.db.trace(None)
    return [sql for sql in seen if not sql.lstrip().upper().startswith(CONTROL)]


async def test_no_statement_of_an_intake_reads_a_whole_large_table(bot: Harness) -> None:
    await register(bot)
    statements = await hot_statements(bot)
    assert any("FROM tickets WHERE category" in sql for sql in statements)  # duplicates
    with sqlite3.connect(bot.app.settings.database_path) as db:
        plans = {
            sql: [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
            for sql in statements
        }
    bad = {sql: full_reads(plan) for sql, plan in plans.items() if full_reads(plan)}
    assert not bad, bad


async def test_open_tickets_alike_are_read_through_the_partial_index(bot: Harness) -> None:
    """The duplicate check's statement repeats the index's condition word for word."""
    with sqlite3.connect(bot.app.settings.database_path) as db:
        (index,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'tickets_open_category'"
        ).fetchone()
        plan = [
            row[3]
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE category = 'x'"
                f" AND status NOT IN {CLOSED_SQL} AND created_at >= '2026' ORDER BY id LIMIT 200"
            )
        ]
    assert f"status NOT IN {CLOSED_SQL}" in " ".join(index.split())
    assert any("USING INDEX tickets_open_category" in step for step in plan), plan
