"""Engine throughput and latency: synthetic citizens run the whole intake through the real
engine, the real SQLite database (production PRAGMAs) and the real outbox dispatcher, with a
channel that answers instantly.

Every citizen does the full intake, seven messages: a greeting, a category button, a typed
place, the story, one photo, "selesai", "kirim". For each database size (tickets already
stored, pre-filled with ``executemany`` in a setup step, not through the engine) it measures:

- **throughput**: ``--concurrency`` citizens at once, each sending its next message as soon as
  the previous one is committed (closed loop), ``--conversations`` intakes in all: inbound
  messages/s;
- **latency** at ``--chats`` concurrent chats (1,000 by default), each answering after a
  human-like pause (exponential, mean ``--chats / --rate`` seconds, so ``--rate`` messages/s
  are offered in all): p50/p99 from accepting a message to its replies committed to the outbox.
  (A closed loop of 1,000 chats says nothing about latency: by Little's law it is 1,000 divided
  by the throughput.)
- **the limit**, in the same run: raw aiosqlite with the same PRAGMAs executing the same number
  of statements per message as the engine did (the real tables, a representative mix), once
  with one commit per message and once grouped like the single writer grouped them. The
  engine's rate is printed as a fraction of each.

    python -m bench.engine                                    # full size (by hand, minutes)
    python -m bench.engine --conversations 300 --concurrency 50 --chats 100 --rate 200 \\
        --sizes 1000,5000                                     # smoke size (CI, via pytest)

Prints a table and a final summary line; exits non-zero when a run fails a check (a message
not applied, a ticket missing). Every size's runs are repeated (``--repeat``, 3): each figure
is printed as the median and the spread (lowest-highest) of the repetitions, and the load
average of the machine before and after the whole run is printed with them. ``--targets``
also fails it when a target is missed, on the medians (issues 8 and 18: ≥ 2,000 messages/s;
p99 ≤ 25 ms at the smallest size; p99 at the largest size ≤ 1.5 x the smallest's; msg/s at
the largest size ≥ 90 % of the smallest's; peak RSS ≤ 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.ops.process import configure_process

CHANNEL = "bench"
CATEGORIES = (
    "uang_palsu",
    "penipuan",
    "narkoba",
    "premanisme",
    "pencurian",
    "kecelakaan",
    "layanan_sim",
    "antar_barang",
)
PLACES = (
    "Cibatu, dekat pasar",
    "Tarogong Kidul",
    "Kecamatan Leles, dekat alun-alun",
    "Garut Kota",
    "Karangpawitan",
    "Bayongbong",
    "Malangbong dekat terminal",
    "Cikajang",
)
STORIES = (
    "Tadi pagi ada kejadian di dekat rumah saya, pelakunya dua orang laki-laki naik motor.",
    "Kemarin sore saya lihat orang mencurigakan di warung, sudah beberapa kali datang kesini.",
    "Semalam sekitar jam sepuluh ada keributan di jalan depan rumah, warga sudah resah pak.",
    "Minggu lalu saya tertipu belanja online, barang tidak datang, penjual tidak bisa dihubungi.",
)
MESSAGES_PER_INTAKE = 7
TICKET_YEARS = 3  # pre-filled tickets are spread over this many years before now


# --- the citizens ---------------------------------------------------------------------------


def intake_steps(n: int) -> list[dict[str, Any]]:
    """The seven messages of citizen ``n``'s intake (the Inbound fields besides the ids)."""
    from channels.recording import file_attachment

    photo = b"\xff\xd8\xff\xe0bench-photo-" + n.to_bytes(8, "big") + bytes(range(256)) * 8
    return [
        {"text": "halo"},
        {"text": "", "chosen_option": CATEGORIES[n % len(CATEGORIES)]},
        {"text": PLACES[(n // 3) % len(PLACES)]},
        {"text": STORIES[n % len(STORIES)]},
        {"text": "", "attachments": (file_attachment(photo),)},
        {"text": "selesai"},
        {"text": "", "chosen_option": "submit"},
    ]


def inbound(prefix: str, n: int, step: int, fields: dict[str, Any]) -> Any:
    from conversations.messages import Inbound

    chat = f"{prefix}{n}"
    return Inbound(
        channel=CHANNEL,
        chat_id=chat,
        sender_id=chat,
        message_id=f"{chat}:{step}",
        timestamp=datetime.now(UTC),
        **fields,
    )


class InstantChannel:
    """Answers every send at once and keeps only a count (a recording channel that does not
    hold 100,000s of messages in memory)."""

    only_chat: str | None = None

    def __init__(self, name: str = CHANNEL) -> None:
        self.name = name
        self.sent = 0

    async def start(self, on_inbound: object) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, outbound: object) -> None:
        self.sent += 1


@dataclass
class Run:
    """What one driven phase measured."""

    messages: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    commits: int = 0
    write_jobs: int = 0
    statements: int = 0

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def per_commit(self) -> float:
        return self.write_jobs / self.commits if self.commits else 0.0


async def drive(
    engine: Any,
    prefix: str,
    first: int,
    count: int,
    concurrency: int,
    *,
    think: float = 0.0,
    seed: int = 1,
) -> Run:
    """``count`` intakes by ``concurrency`` citizens at once; with ``think``, each waits an
    exponential pause of that mean before each message (the first one spread over [0, think))."""
    rng = random.Random(seed)
    numbers: Iterator[int] = iter(range(first, first + count))
    run = Run()
    latencies = run.latencies
    outcomes = run.outcomes
    clock = time.perf_counter

    async def citizen(slot: int) -> None:
        if think:
            await asyncio.sleep(rng.uniform(0, think))
        for n in numbers:
            for step, fields in enumerate(intake_steps(n)):
                if think and step:
                    await asyncio.sleep(rng.expovariate(1 / think))
                started = clock()
                outcome = await engine.submit(inbound(prefix, n, step, fields))
                latencies.append(clock() - started)
                outcomes[outcome.value] += 1

    started = clock()
    await asyncio.gather(*(citizen(slot) for slot in range(concurrency)))
    run.seconds = clock() - started
    run.messages = len(latencies)
    return run


# --- pre-filling the database ----------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def prefill(db_path: Path, start: int, stop: int, *, history: float, now: datetime) -> float:
    """Add tickets ``start..stop-1`` (with their reporter, identity, events, evidence and idle
    conversation) straight into the database; the newest ``history`` share of them also gets
    its handled message ids and delivered replies (retention keeps those 30 days). Returns the
    seconds it took."""
    if stop <= start:
        return 0.0
    began = time.perf_counter()
    span = timedelta(days=365 * TICKET_YEARS)
    total = stop
    units = _routes()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # setup only; the measured runs use the real PRAGMAs
    db.execute("PRAGMA cache_size=-200000")
    # ids and sequence numbers above everything already there (earlier sizes, engine runs)
    id_base = max(
        db.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0],
        db.execute("SELECT COALESCE(MAX(id), 0) FROM reporters").fetchone()[0],
    )
    seq_base = db.execute("SELECT COALESCE(MAX(seq), 0) FROM tickets").fetchone()[0]
    taken = {row[0] for row in db.execute("SELECT pseudonym FROM reporters")}
    chunk = 50_000
    history_from = int(total * (1 - history))
    for low in range(start, stop, chunk):
        high = min(stop, low + chunk)
        tickets = []
        reporters = []
        identities = []
        events = []
        evidence = []
        conversations = []
        inbound_rows = []
        outbox_rows = []
        for i in range(low, high):
            rid = id_base + 1 + i - start
            seq = seq_base + 1 + i - start
            # ticket i of ``total``: older first, spread over TICKET_YEARS, the newest now
            created = now - span * (1 - (i + 1) / (total + 1))
            stamp = _stamp(created)
            chat = f"p{i}"
            # like the product: 4 hex digits while there is room, then 8
            pseudonym = f"{i:04X}" if i < 60_000 else f"{i * 2654435761 % 2**32:08X}"
            while pseudonym in taken:
                pseudonym = f"{random.getrandbits(32):08X}"
            taken.add(pseudonym)
            reporters.append((rid, pseudonym, stamp))
            identities.append((CHANNEL, chat, rid, stamp))
            age = now - created
            status = (
                "baru"
                if age < timedelta(days=2)
                else "diproses"
                if age < timedelta(days=14)
                else ("ditolak" if i % 23 == 0 else "selesai")
            )
            category = CATEGORIES[i % len(CATEGORIES)]
            unit, polsek, kecamatan = units[i % len(units)]
            year = created.year
            tickets.append(
                (
                    rid,
                    f"GRT-{year:04d}-{seq:05d}",
                    year,
                    seq,
                    rid,
                    CHANNEL,
                    chat,
                    category,
                    unit,
                    polsek,
                    status,
                    kecamatan,
                    f"Pre-filled report number {i}: something happened near the market.",
                    "id",
                    stamp,
                    stamp,
                    _stamp(created + timedelta(hours=24)),
                )
            )
            events.append((rid, stamp, "reporter", "created", None, "baru"))
            if status != "baru":
                events.append((rid, stamp, "officer:1", "status", "baru", status))
            evidence.append(
                (rid, "photo", f"{i:064x}", "image/jpeg", 20_000, f"00/{i:064x}", stamp)
            )
            conversations.append(
                (
                    CHANNEL,
                    chat,
                    "idle",
                    '{"draft":null,"options":[],"invalid":0,"editing":false,"resume":null,'
                    '"pending":{},"language_asked":false}',
                    "id",
                    stamp,
                )
            )
            if i >= history_from:
                for step in range(MESSAGES_PER_INTAKE):
                    inbound_rows.append((CHANNEL, f"{chat}:{step}", chat, stamp))
                for step in range(MESSAGES_PER_INTAKE + 1):
                    outbox_rows.append(
                        (
                            CHANNEL,
                            chat,
                            f'{{"text":"Pre-filled reply {step} of report {i}, as long as a'
                            ' question usually is, with its options.","locale":"id"}',
                            stamp,
                            stamp,
                        )
                    )
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO reporters(id, pseudonym, created_at) VALUES (?, ?, ?)", reporters
        )
        db.executemany(
            "INSERT INTO identities(channel, external_id, reporter_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            identities,
        )
        db.executemany(
            "INSERT INTO tickets(id, number, year, seq, reporter_id, channel, chat_id, category,"
            " unit, polsek, status, kecamatan_code, chronology, locale, created_at, updated_at,"
            " due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tickets,
        )
        db.executemany(
            "INSERT INTO ticket_events(ticket_id, at, actor, kind, from_status, to_status)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
        db.executemany(
            "INSERT INTO evidence(ticket_id, kind, sha256, mime, size, stored_path, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            evidence,
        )
        db.executemany(
            "INSERT INTO conversations(channel, chat_id, state, data, locale, version,"
            " updated_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
            conversations,
        )
        db.executemany(
            "INSERT INTO inbound_messages(channel, message_id, chat_id, received_at)"
            " VALUES (?, ?, ?, ?)",
            inbound_rows,
        )
        db.executemany(
            "INSERT INTO outbox(channel, chat_id, payload, created_at, attempts, sent_at)"
            " VALUES (?, ?, ?, ?, 1, ?)",
            outbox_rows,
        )
        db.execute("COMMIT")
    # new tickets must not collide with the pre-filled numbers of this year
    db.execute(
        "INSERT INTO ticket_sequences(year, last_value) SELECT year, MAX(seq) FROM tickets"
        " GROUP BY year ON CONFLICT(year) DO UPDATE SET"
        " last_value = MAX(last_value, excluded.last_value)"
    )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - began


def prefill_elsewhere(db_path: Path, start: int, stop: int, history: float, now: datetime) -> float:
    """:func:`prefill` in a child process, so that its memory is not the measured one's."""
    import subprocess

    began = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.engine",
            "--prefill-only",
            str(db_path),
            str(start),
            str(stop),
            str(history),
            now.isoformat(),
        ],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return time.perf_counter() - began


def _routes() -> list[tuple[str, str, str]]:
    """(unit, polsek, kecamatan code) of every kecamatan, for spreading pre-filled tickets."""
    from conversations.desk.routing import polsek_by_kecamatan

    return [("SATRESKRIM", polsek, code) for code, polsek in sorted(polsek_by_kecamatan().items())]


def add_officers(db_path: Path, now: datetime) -> None:
    """One officer per unit and Polsek and a Kapolres, as in production: every new ticket
    notifies its unit and Polsek (two more replies in the outbox)."""
    from conversations.desk.routing import all_units

    db = sqlite3.connect(db_path, isolation_level=None)
    rows = [
        (CHANNEL, f"officer-{unit}", f"Petugas {unit}", "officer", unit, _stamp(now))
        for unit in all_units()
    ]
    rows.append((CHANNEL, "kapolres", "Kapolres", "kapolres", None, _stamp(now)))
    db.executemany(
        "INSERT OR IGNORE INTO officers(channel, external_id, name, role, unit, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.close()


# --- the limit: raw aiosqlite ---------------------------------------------------------------

_PAYLOAD = (
    '{"text":"Di mana kejadiannya? Kirim pin lokasi, atau ketik kecamatan dan desa/kelurahan,'
    ' mis. Cibatu, dekat pasar.","locale":"id","options":[["a","Satu"],["b","Dua"]]}'
)


RAW = "raw"  # the channel of the limit's rows, deleted afterwards


def _raw_mix(chat: str, message: str, stamp: str) -> list[tuple[str, tuple[Any, ...], bool]]:
    """One message's statements on the real tables: (sql, params, is a read)."""
    return [
        (
            "SELECT state, data, locale, version FROM conversations"
            " WHERE channel = ? AND chat_id = ?",
            (RAW, chat),
            True,
        ),
        (
            "INSERT OR IGNORE INTO inbound_messages(channel, message_id, chat_id, received_at)"
            " VALUES (?, ?, ?, ?)",
            (RAW, message, chat, stamp),
            False,
        ),
        (
            "INSERT INTO conversations(channel, chat_id, state, data, locale, version,"
            " updated_at) VALUES (?, ?, 'location', ?, 'id', 1, ?) ON CONFLICT(channel, chat_id)"
            " DO UPDATE SET state = excluded.state, data = excluded.data,"
            " version = version + 1, updated_at = excluded.updated_at",
            (RAW, chat, _PAYLOAD, stamp),
            False,
        ),
        (
            "INSERT INTO outbox(channel, chat_id, payload, created_at, sent_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (RAW, chat, _PAYLOAD, stamp, stamp),
            False,
        ),
        (
            "INSERT INTO timers(channel, chat_id, kind, due_at) VALUES (?, ?, 'draft_reminder', ?)"
            " ON CONFLICT(channel, chat_id, kind) DO UPDATE SET due_at = excluded.due_at",
            (RAW, chat, stamp),
            False,
        ),
        (
            "SELECT reporter_id FROM identities WHERE channel = ? AND external_id = ?",
            (RAW, chat),
            True,
        ),
        (
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = (SELECT MAX(id) FROM outbox)",
            (),
            False,
        ),
    ]


def _raw_plan(messages: int, statements: float, group: int) -> Iterator[tuple[str, Any, bool]]:
    """The statements of ``messages`` messages, ``statements`` each (BEGIN and COMMIT of every
    ``group`` messages included): (sql, params, is a read)."""
    per_message = max(1, round(statements - 2 / group))
    stamp = _stamp(datetime.now(UTC))
    tag = f"{time.monotonic_ns()}-"
    for low in range(0, messages, group):
        yield "BEGIN IMMEDIATE", (), False
        for n in range(low, min(messages, low + group)):
            mix = _raw_mix(f"{tag}{n % 1000}", f"{tag}{n}", stamp)
            for k in range(per_message):
                yield mix[k % len(mix)]
        yield "COMMIT", (), False


async def raw_aiosqlite(db_path: Path, messages: int, statements: float, group: int) -> float:
    """Messages/s of raw aiosqlite (every statement a call, as aiosqlite is used) running the
    same number of statements per message, ``group`` messages per commit, same PRAGMAs."""
    import aiosqlite

    from bot.storage.database import PRAGMAS

    conn = await aiosqlite.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    began = time.perf_counter()
    for sql, params, read in _raw_plan(messages, statements, group):
        if read:
            async with conn.execute(sql, params) as cursor:
                await cursor.fetchone()
        else:
            await conn.execute(sql, params)
    seconds = time.perf_counter() - began
    await conn.close()
    return messages / seconds


def raw_sqlite(db_path: Path, messages: int, statements: float, group: int) -> float:
    """The same work on a plain sqlite3 connection in one thread: what SQLite itself allows."""
    from bot.storage.database import PRAGMAS

    conn = sqlite3.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    began = time.perf_counter()
    for sql, params, read in _raw_plan(messages, statements, group):
        cursor = conn.execute(sql, params)
        if read:
            cursor.fetchone()
    seconds = time.perf_counter() - began
    for table in ("outbox", "conversations", "timers", "inbound_messages"):
        conn.execute(f"DELETE FROM {table} WHERE channel = ?", (RAW,))
    conn.close()
    return messages / seconds


# --- one database size ------------------------------------------------------------------------


@dataclass
class Repetition:
    """One measurement of a size: the engine's two runs, then the limits."""

    throughput: Run
    latency: Run
    raw_single: float = 0.0
    raw_grouped: float = 0.0
    raw_sqlite: float = 0.0
    gc_pauses: list[float] = field(default_factory=list)  # seconds, during the latency run

    def figure(self, what: str) -> float:
        t, lat = self.throughput, self.latency
        if what == "rate":
            return t.rate
        if what in ("sat50", "sat99"):
            return t.pct(0.5 if what == "sat50" else 0.99)
        if what in ("p50", "p99"):
            return lat.pct(0.5 if what == "p50" else 0.99)
        if what == "per_commit":
            return t.per_commit
        if what == "gc_max":
            return max(self.gc_pauses, default=0.0) * 1000
        return float(getattr(self, what))  # raw_single, raw_grouped, raw_sqlite


@dataclass
class SizeResult:
    stored: int
    prefill_seconds: float
    repetitions: list[Repetition]
    statements: float
    tickets_made: int
    undelivered: int
    rss_mb: float
    peak_rss_mb: float
    checkpoints: int
    wal_pages: int

    def values(self, what: str) -> list[float]:
        """``what`` (see :meth:`Repetition.figure`) of every repetition."""
        return [rep.figure(what) for rep in self.repetitions]

    def median(self, what: str) -> float:
        return statistics.median(self.values(what))

    @property
    def ok(self) -> bool:
        expected = sum(r.throughput.messages + r.latency.messages for r in self.repetitions)
        applied = sum(
            r.throughput.outcomes["applied"] + r.latency.outcomes["applied"]
            for r in self.repetitions
        )
        return (
            applied == expected
            and self.undelivered == 0
            and self.tickets_made == expected // MESSAGES_PER_INTAKE
        )


def _rss(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class GcPauses:
    """The garbage collector's pauses while it is attached (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._began)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)


async def _settle(app: Any) -> None:
    await app.engine.idle()
    await app.dispatcher.flush(limit_seconds=300)


async def measure(
    data_dir: Path, stored: int, args: argparse.Namespace, prefill_seconds: float
) -> SizeResult:
    from bot.app import App
    from bot.config import Settings
    from bot.ops.process import settle_heap

    settings = Settings(data_dir=data_dir)  # production defaults, rate limits included
    app = await App.open(settings, poll_interval=1.0)
    channel = InstantChannel()
    app.add_channel(channel)
    if args.no_inline:  # the writer as it was: every statement its own aiosqlite call
        app.db._can_inline = False
    await app.start(timers=False)
    settle_heap()  # as `taros run` does once started
    tag = f"s{stored}-"
    repetitions: list[Repetition] = []
    try:
        # warm-up (not measured): caches, imports, the first pages; the statements are counted
        counted = [0]

        def count(_sql: str) -> None:
            counted[0] += 1

        await app.db.trace(count)
        warm = await drive(app.engine, tag + "w", 0, args.warmup, min(args.concurrency, 200))
        await _settle(app)
        await app.db.trace(None)
        statements = counted[0] / max(1, warm.messages)

        for n in range(args.repeat):
            commits0, jobs0 = app.db.commits, app.db.write_jobs
            throughput = await drive(
                app.engine, f"{tag}t{n}-", 0, args.conversations, args.concurrency, seed=n
            )
            throughput.commits = app.db.commits - commits0
            throughput.write_jobs = app.db.write_jobs - jobs0
            await _settle(app)

            commits0, jobs0 = app.db.commits, app.db.write_jobs
            with GcPauses() as pauses:
                latency = await drive(
                    app.engine,
                    f"{tag}l{n}-",
                    0,
                    args.chats,
                    args.chats,
                    think=args.chats / args.rate,
                    seed=7 + n,
                )
            latency.commits = app.db.commits - commits0
            latency.write_jobs = app.db.write_jobs - jobs0
            await _settle(app)
            repetitions.append(Repetition(throughput, latency, gc_pauses=pauses.pauses))

        async def checks(conn: Any) -> tuple[int, int]:
            async with conn.execute(
                "SELECT COUNT(*) FROM tickets WHERE channel = ? AND chat_id >= ?"
                " AND chat_id < ? AND chat_id NOT LIKE ?",
                (CHANNEL, tag, tag + "\uffff", tag + "w%"),
            ) as cursor:
                made = (await cursor.fetchone())[0]
            async with conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            ) as cursor:
                pending = (await cursor.fetchone())[0]
            return made, pending

        made, pending = await app.db.read(checks)
        rss = _rss("VmRSS")
    finally:
        await app.close()
    del warm
    for rep in repetitions:
        group = max(1, round(rep.throughput.per_commit))
        raw_messages = min(args.raw_messages, max(500, rep.throughput.messages))
        rep.raw_single = await raw_aiosqlite(settings.database_path, raw_messages, statements, 1)
        rep.raw_grouped = await raw_aiosqlite(
            settings.database_path, raw_messages, statements, group
        )
        rep.raw_sqlite = raw_sqlite(settings.database_path, raw_messages, statements, group)
    close_tickets(settings.database_path, tag)
    return SizeResult(
        stored=stored,
        prefill_seconds=prefill_seconds,
        repetitions=repetitions,
        statements=statements,
        tickets_made=made,
        undelivered=pending,
        rss_mb=rss,
        peak_rss_mb=_rss("VmHWM"),
        checkpoints=app.db.checkpoints,
        wal_pages=app.db.wal_pages_seen,
    )


def close_tickets(db_path: Path, tag: str) -> None:
    """Close the tickets a size's runs made, as officers would before the archive grows to the
    next size: in a real archive the open tickets are the newest, and the statements that look
    for open tickets must not find a shortcut in these (ids below every pre-filled ticket of
    the next size)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute(
        "UPDATE tickets SET status = 'selesai', closed_at = updated_at"
        " WHERE channel = ? AND chat_id >= ? AND chat_id < ?",
        (CHANNEL, tag, tag + "\uffff"),
    )
    db.close()


async def bench(args: argparse.Namespace, data_dir: Path) -> list[SizeResult]:
    from bot.storage.database import Database

    db = await Database.open(data_dir / "taros.db")  # create and migrate
    await db.close()
    now = datetime.now(UTC)
    add_officers(data_dir / "taros.db", now)
    results: list[SizeResult] = []
    filled = 0
    for size in args.sizes:
        seconds = prefill_elsewhere(data_dir / "taros.db", filled, size, args.history, now)
        filled = max(filled, size)
        result = await measure(data_dir, size, args, seconds)
        results.append(result)
        print(_row(result), flush=True)
    return results


# --- report -----------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    """``median (min-max)`` of repeated figures."""
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return (
        f"{statistics.median(values):,.{digits}f}"
        f" ({min(values):,.{digits}f}-{max(values):,.{digits}f})"
    )


HEADER = (
    f"{'stored':>9} {'prefill s':>9} {'msg/s':>19} {'sat p99':>7} {'p50 ms':>16}"
    f" {'p99 ms':>18} {'gc max':>6} {'stmt/msg':>8} {'msg/commit':>10} {'ckpt':>5}"
    f" {'aio 1/commit':>12} {'aio grouped':>11} {'sqlite3':>7} {'/aio':>5} {'/sqlite3':>8}"
    f" {'RSS MB':>6} {'peak MB':>7}"
)


def _row(r: SizeResult) -> str:
    rate = r.median("rate")
    return (
        f"{r.stored:>9,} {r.prefill_seconds:>9.1f} {spread(r.values('rate')):>19}"
        f" {r.median('sat99'):>7.1f} {spread(r.values('p50'), 1):>16}"
        f" {spread(r.values('p99'), 1):>18} {r.median('gc_max'):>6.1f}"
        f" {r.statements:>8.1f} {r.median('per_commit'):>10.1f} {r.checkpoints:>5}"
        f" {r.median('raw_single'):>12,.0f} {r.median('raw_grouped'):>11,.0f}"
        f" {r.median('raw_sqlite'):>7,.0f} {rate / r.median('raw_grouped'):>5.0%}"
        f" {rate / r.median('raw_sqlite'):>8.0%} {r.rss_mb:>6.0f} {r.peak_rss_mb:>7.0f}"
    )


LEGEND = """\
             every figure of a repetition: median (lowest-highest) of --repeat repetitions
msg/s        inbound messages/s, closed loop (every citizen sends its next message once the
             previous one is committed); sat p99: its latency (ms), saturated by design
p50/p99 ms   latency at the given chats, each pausing like a person (the offered rate below):
             from accepting a message to its replies committed to the outbox
gc max       the longest pause of the garbage collector during a latency run (ms)
stmt/msg     SQL statements per inbound message (engine and outbox dispatcher, BEGIN/SAVEPOINT/
             COMMIT included); msg/commit: messages per transaction of the single writer
ckpt         WAL checkpoints run beside the writer during the size's runs
aio ...      the limit: raw aiosqlite running that many statements per message on the same
             tables and PRAGMAs, one commit per message / grouped like the writer's
sqlite3      the same work on a plain sqlite3 connection, no thread hop: what SQLite allows
/aio, /sqlite3   the engine's msg/s as a share of the grouped aiosqlite and sqlite3 limits"""


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def report(
    results: list[SizeResult], args: argparse.Namespace, load_before: str, load_after: str
) -> tuple[str, bool]:
    first, last = results[0], results[-1]
    worst_rate = min(r.median("rate") for r in results)
    first_p99, last_p99 = first.median("p99"), last.median("p99")
    p99_growth = last_p99 / first_p99 if first_p99 else float("inf")
    scaling = last.median("rate") / first.median("rate")
    peak = max(r.peak_rss_mb for r in results)
    checks_ok = all(r.ok for r in results)
    targets = {
        "rate": worst_rate >= 2000,
        "p99": first_p99 <= 25.0,
        "p99 growth": p99_growth <= 1.5,
        "scaling": scaling >= 0.9,
        "memory": peak <= 150,
    }

    def verdict(name: str) -> str:
        return "met" if targets[name] else "MISSED"

    big, small = f"{last.stored:,}", f"{first.stored:,}"
    lines = [
        f"{args.conversations} intakes x {MESSAGES_PER_INTAKE} messages per size and"
        f" repetition, {args.concurrency} citizens at once; latency at {args.chats} chats"
        f" offering {args.rate:,.0f} msg/s; {args.repeat} repetitions; {os.cpu_count()} cores,"
        f" Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}",
        f"load average (1, 5, 15 min): {load_before} before, {load_after} after",
        HEADER,
        *(_row(r) for r in results),
        "",
        LEGEND,
        "",
        f"{'target (medians)':<52} {'measured':>14}  verdict",
        f"{'inbound messages/s per process >= 2,000':<52} {worst_rate:>14,.0f}  "
        + verdict("rate"),
        f"{f'p99 <= 25 ms at {args.chats} chats, {small} stored':<52} {first_p99:>11.1f} ms  "
        + verdict("p99"),
        f"{f'p99 at {big} stored <= 1.5 x p99 at {small}':<52} {p99_growth:>13.2f}x  "
        + verdict("p99 growth"),
        f"{f'msg/s at {big} stored >= 90% of msg/s at {small}':<52} {scaling:>14.0%}  "
        + verdict("scaling"),
        f"{'peak RSS <= 150 MB':<52} {peak:>11.0f} MB  " + verdict("memory"),
        f"{'checks (all applied, one ticket each, 0 undelivered)':<52} "
        f"{'ok' if checks_ok else 'FAILED':>14}",
    ]
    ok = checks_ok and (all(targets.values()) or not args.targets)
    summary = (
        f"engine {'PASS' if ok else 'FAIL'}: {first.median('rate'):,.0f} msg/s at {small}"
        f" stored, {last.median('rate'):,.0f} at {big} ({scaling:.0%}), p99 {first_p99:.1f} ms"
        f" at {small} and {last_p99:.1f} ms at {big} ({p99_growth:.2f}x) at {args.chats} chats,"
        f" medians of {args.repeat};"
        f" {first.median('rate') / first.median('raw_grouped'):.0%} of raw aiosqlite"
        f" ({first.median('raw_grouped'):,.0f} msg/s),"
        f" {first.median('rate') / first.median('raw_sqlite'):.0%}"
        f" of sqlite3 ({first.median('raw_sqlite'):,.0f} msg/s), peak RSS {peak:.0f} MB;"
        f" load {load_before} -> {load_after}"
    )
    return "\n".join(lines) + "\n" + summary, ok


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=3000, help="intakes per size")
    parser.add_argument("--concurrency", type=int, default=1000, help="citizens at once")
    parser.add_argument("--chats", type=int, default=1000, help="chats of the latency phase")
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="messages/s offered in the latency phase"
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted(int(x) for x in text.split(",")),
        default=[1000, 100_000, 1_000_000],
        help="stored tickets to measure at, comma-separated",
    )
    parser.add_argument(
        "--history",
        type=float,
        default=0.1,
        help="share of pre-filled tickets that also keep their message ids and replies",
    )
    parser.add_argument("--warmup", type=int, default=200, help="intakes before measuring")
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions of every size's runs (median, spread)"
    )
    parser.add_argument("--raw-messages", type=int, default=20_000)
    parser.add_argument("--targets", action="store_true", help="fail when a target is missed")
    parser.add_argument(
        "--no-inline",
        action="store_true",
        help="run every statement as its own aiosqlite call (the writer before inline jobs)",
    )
    parser.add_argument("--work", type=Path, help="folder to keep the database in")
    parser.add_argument("--prefill-only", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prefill_only:
        path, start, stop, history, now = args.prefill_only
        prefill(
            Path(path),
            int(start),
            int(stop),
            history=float(history),
            now=datetime.fromisoformat(now),
        )
        return 0
    os.environ.setdefault("TAROS_LOG_LEVEL", "ERROR")
    with tempfile.TemporaryDirectory(prefix="taros-bench-engine-") as tmp:
        work = args.work or Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        load_before = load_average()
        print(f"load average before: {load_before}", flush=True)
        print(HEADER, flush=True)
        results = asyncio.run(bench(args, data_dir))
    text, ok = report(results, args, load_before, load_average())
    print()
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
