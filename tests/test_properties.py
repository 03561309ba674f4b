"""Property-based tests: arbitrary input at every step of the intake never breaks the bot.

Each step is reached with a scripted prefix of valid answers, then one generated message is
sent (or, in the random walk, several). After every message the reply, the stored conversation,
the tickets table and the media folder are checked against the invariants below.

One App lives for a whole test function, in one event loop (an ``asyncio.Runner`` held by the
``bench`` fixture); every hypothesis example talks in a fresh chat, so examples do not interfere
and a failing one shrinks to a single message.

The regression tests at the end pin bugs these properties found: unicode digits as answers,
a cancel option offered twice, impossible location pins.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import Harness, running

from bot.config import Settings
from channels.recording import file_attachment
from conversations.categories import Categories
from conversations.commands import parse_command
from conversations.engine import Handled
from conversations.intake import prompts
from conversations.intake.dialogue import MAX_CHRONOLOGY
from conversations.intake.vocabulary import YES_WORDS
from conversations.messages import (
    Attachment,
    AttachmentKind,
    ChatKey,
    InboundKind,
    Location,
    Option,
    Outbound,
)
from conversations.state import Conversation, Step
from conversations.text import normalise
from conversations.understanding.places import Gazetteer

T = TypeVar("T")

CHANNEL = "test"  # what ``support.Harness.send`` uses
MAX_BYTES = 2048  # a small evidence limit, so "too large" is cheap to reach
MAX_ITEMS = 10
MAX_ADDRESS = 500
STORY = "Tadi pagi sekitar jam 9 ada orang membayar pakai uang palsu di warung saya di Cibatu."

CATEGORIES = Categories.load()
GAZETTEER = Gazetteer.load()
CATEGORY_CODES = {c.code for c in CATEGORIES.all}

# --- reaching every step ------------------------------------------------------------------

_TO_CHRONOLOGY = ("halo", "1", "cilawu")
_TO_SUMMARY = (*_TO_CHRONOLOGY, STORY, "selesai")


@dataclass(frozen=True)
class Start:
    name: str
    step: Step
    prefix: tuple[str, ...]


STARTS = (
    Start("idle_new_chat", Step.IDLE, ()),
    Start("idle_after_cancel", Step.IDLE, (*_TO_SUMMARY, "/batal", "ya")),
    Start("category", Step.CATEGORY, ("halo",)),
    Start("category_more", Step.CATEGORY_MORE, ("halo", "9")),  # 9 = "Topik lainnya…"
    Start("location", Step.LOCATION, ("halo", "1")),
    Start("location_confirm", Step.LOCATION_CONFIRM, ("halo", "1", "sukamaju cilwu")),
    Start("location_choose", Step.LOCATION_CHOOSE, ("halo", "1", "mekarsari")),  # 8 kecamatan
    Start("chronology", Step.CHRONOLOGY, _TO_CHRONOLOGY),
    Start("evidence", Step.EVIDENCE, (*_TO_CHRONOLOGY, STORY)),
    Start("summary", Step.SUMMARY, _TO_SUMMARY),
    Start("edit", Step.EDIT, (*_TO_SUMMARY, "2")),
    Start("cancel_confirm", Step.CANCEL_CONFIRM, (*_TO_SUMMARY, "/batal")),
)
START_IDS = [s.name for s in STARTS]

# Every option id any keyboard of the intake offers: forged payloads come from these.
OPTION_IDS = sorted(
    {
        *CATEGORY_CODES,
        *(
            getattr(prompts, name)
            for name in ("MORE", "BACK", "YES", "NO", "DONE", "NONE", "SKIP", "CANCEL")
        ),
        prompts.SUBMIT,
        prompts.EDIT,
        *(prompts.FIELD_PREFIX + f for f in prompts.FIELDS),
        *(d.code for d in GAZETTEER.match("mekarsari").ambiguous),  # type: ignore[union-attr]
        "32.05.19.2014",  # Desa Sukamaju, Cilawu
    }
)

# --- generated input ------------------------------------------------------------------------

TRICKY = [
    "\x00",
    "\x00\x00ya",
    "\u200b",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202e1",
    "\u2066ya\u2069",
    "\ufeff",
    "\ufffd",
    "\u2028",
    "\u0085",
    "\x7f",
    "\x1b[31m",
    "\r\n",
    "\t",
    "🚓",
    "👨‍👩‍👧‍👦",
    "🇮🇩",
    "١",  # an Arabic-Indic one: a decimal digit
    "１",  # a full-width one
    "𝟙",
    "Ⅻ",
    "İ",
    "ß",
    "ﬃ",
    "e\u0301",
    "Z̷̢͈a̶l̷g̵o",
    "יא",
]
# Digits beyond ASCII: decimal ones ("١", "५", "𝟗") and digit-like ones ("²", "⑨", "₃").
DIGITS = ["١", "٣", "५", "１", "𝟗", "²", "1²", "⑨", "₃", "¹)"]
FORMATS = [
    "%s%n{0}%(x)s",
    "%(number)s",
    "%(n)d",
    "%",
    "%%",
    "%c%c%c",
    "{}",
    "{0.__class__.__mro__}",
    "{number}",
    "${HOME}",
    "$(reboot)",
    "`rm -rf /`",
    "<script>alert(1)</script>",
    "*tebal* _miring_ ~coret~ ```kode```",
    "\\N{BULLET}\\x00\\u202e",
]
SQL = [
    "'); DROP TABLE tickets;--",
    '"; DROP TABLE conversations; --',
    "' OR '1'='1",
    "1; DELETE FROM outbox",
    "x'); UPDATE tickets SET status='selesai';--",
    "%' OR 1=1 --",
    "'; PRAGMA writable_schema=1;--",
]
NUMBERS = [
    "0",
    "-1",
    "1",
    "2",
    "3",
    "4",
    "5",
    "8",
    "9",
    "10",
    "11",
    "12",
    "99999999999999999999",
    "9" * 199,
    "9" * 5000,  # beyond int()'s 4300-digit limit
    "1e309",
    "-0",
    "+1",
    "01",
    "1.",
    "1)",
    " 1 ",
    "1.5",
    "0x1",
    "NaN",
    "inf",
    "½",
]
VALID = [
    "halo",
    "P",
    "punten",
    "ya",
    "YA",
    "ok",
    "tidak",
    "ga",
    "selesai",
    "tidak ada",
    "lewati",
    "kirim laporan",
    "ubah",
    "back",
    "more",
    "mekarsari",
    "cilawu",
    "sukamaju cilwu",
    "Tarogong Kidul",
    "Bandung",
    "Jakarta",
    "upal",
    "penipuan",
    "/mulai",
    "mulai",
    "/batal",
    "batal",
    "/bantuan",
    "/status",
    "/status GRT-2026-00001",
    "status grt 2026 1",
    "/bahasa en",
    "/bahasa su",
    "/bahasa id",
    "/bahasa xx",
    "/bahasa",
    "/start@TarosBot",
    "/hapusdata",
    STORY,
]
COMMAND_WORDS = ["/status", "/bahasa", "/mulai", "/batal", "/bantuan", "status", "bahasa"]

small_text = st.text(max_size=30)
fragment = st.one_of(
    st.text(max_size=12),
    st.sampled_from(TRICKY),
    st.sampled_from(VALID),
    st.sampled_from(NUMBERS + DIGITS),
    st.characters(max_codepoint=0x1F),
)
mixed_text = st.lists(fragment, max_size=6).map("".join)
command_text = st.builds(
    lambda word, sep, args: f"{word}{sep}{args}",
    st.sampled_from(COMMAND_WORDS),
    st.sampled_from([" ", "  ", "\n", "\t", "@Bot "]),
    st.one_of(small_text, st.sampled_from(SQL + FORMATS + NUMBERS)),
)


def _repeat(unit: str, length: int) -> str:
    """``length`` characters of ``unit`` over and over: a long text built cheaply."""
    return (unit * (length // len(unit) + 1))[:length]


long_text = st.builds(
    _repeat,
    st.one_of(
        st.text(min_size=1, max_size=12),
        st.sampled_from(["a", "1", "ya ", "cilawu ", "🚓", "\x00", "%s", "\u202e", STORY]),
    ),
    st.integers(201, 100_000),
)
TEXT = st.one_of(
    st.text(),  # any unicode but surrogates: control chars, NUL, RTL marks, emoji
    mixed_text,
    st.sampled_from(FORMATS + SQL + NUMBERS + DIGITS + VALID + TRICKY),
    command_text,
    long_text,
)
PAYLOAD = st.one_of(
    st.sampled_from(OPTION_IDS),
    st.sampled_from(["", " ", "1", "0", "-1", " submit", "SUBMIT", "field:", "field:../../x"]),
    small_text,
)
COORDINATE = st.one_of(
    st.floats(),  # includes nan, ±inf, ±0.0, subnormals, ±1.8e308
    st.sampled_from([90.0, -90.0, 180.0, -180.0, 91.0, 1e308, -1e308, 5e-324]),
)
GARUT_PIN = st.builds(
    Location,
    st.floats(-7.8, -6.9),
    st.floats(107.4, 108.2),
    st.none() | small_text,
    st.none() | small_text,
)
LOCATION = st.one_of(
    st.builds(
        Location,
        COORDINATE,
        COORDINATE,
        st.none() | small_text | long_text,
        st.none() | small_text | long_text,
    ),
    GARUT_PIN,
)

MIMES = [
    "image/jpeg",
    "",
    " ",
    "IMAGE/JPEG ",
    "text/html; charset=utf-8",
    "application/x-msdownload",
    "../../etc/passwd",
    "image/jpeg\x00.exe",
    "/",
    "image/ jpeg",
    "a" * 500 + "/b",
    "%s/%n",
    "'); DROP TABLE evidence;--/x",
]
FILENAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32\\config",
    "../../../../taros-escape",  # from the media folder: just inside tmp_path
    "a/../../b",
    ".",
    "..",
    "",
    "CON",
    "nul.jpg",
    "foto.jpg\x00.exe",
    "\u202egpj.exe",
    "x" * 5000,
]


@dataclass(frozen=True)
class FileSpec:
    """How to build one attachment; kept as plain data so a shrunk example reads well."""

    data: bytes
    kind: AttachmentKind
    mime: str
    size: int | str | None  # "actual" = the real length
    filename: str | None
    fetch_fails: bool = False

    def stored_ok(self) -> bool:
        """Whether the bot should keep this file (room permitting)."""
        announced = len(self.data) if self.size == "actual" else self.size
        if isinstance(announced, int) and announced > MAX_BYTES:
            return False
        return not self.fetch_fails and len(self.data) <= MAX_BYTES

    def build(self) -> Attachment:
        size = len(self.data) if self.size == "actual" else self.size
        assert not isinstance(size, str)
        if self.fetch_fails:

            async def fetch() -> bytes:
                raise OSError("connection reset by platform")

            return Attachment(self.kind, self.mime, size, fetch, self.filename)
        return file_attachment(
            self.data, kind=self.kind, mime=self.mime, size=size, filename=self.filename
        )


FILE = st.builds(
    FileSpec,
    data=st.one_of(
        st.binary(max_size=64),
        st.integers(MAX_BYTES - 2, MAX_BYTES + 64).map(lambda n: b"\x89PNG" * (n // 4 + 1)),
    ),
    kind=st.sampled_from(AttachmentKind),
    mime=st.one_of(st.sampled_from(MIMES), small_text),
    size=st.one_of(
        st.just("actual"),
        st.sampled_from([None, 0, -5, MAX_BYTES + 1, 2**63, 10**30]),
        st.integers(),
    ),
    filename=st.one_of(st.none(), st.sampled_from(FILENAMES), small_text),
    fetch_fails=st.booleans(),
)


@dataclass(frozen=True)
class Msg:
    """One generated message; its fields are those of ``Inbound`` a user can influence."""

    text: str = ""
    chosen_option: str | None = None
    location: Location | None = None
    files: tuple[FileSpec, ...] = ()
    kind: InboundKind = InboundKind.MESSAGE
    sender_name: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "chosen_option": self.chosen_option,
            "location": self.location,
            "attachments": tuple(f.build() for f in self.files),
            "kind": self.kind,
            "sender_name": self.sender_name,
        }


MESSAGE = st.one_of(
    st.builds(Msg, text=TEXT),
    st.builds(Msg, text=st.just("") | TEXT, chosen_option=PAYLOAD),
    st.builds(Msg, text=st.just("") | TEXT, location=LOCATION),
    st.builds(
        Msg, text=st.just("") | TEXT, files=st.lists(FILE, min_size=1, max_size=4).map(tuple)
    ),
    st.builds(Msg, text=st.just("") | TEXT, kind=st.just(InboundKind.UNSUPPORTED)),
    st.builds(
        Msg,
        text=TEXT,
        chosen_option=st.none() | PAYLOAD,
        location=st.none() | LOCATION,
        files=st.lists(FILE, max_size=3).map(tuple),
        kind=st.sampled_from(InboundKind),
        sender_name=st.none() | small_text | long_text,
    ),
)


def _flatten_runs(runs: list[tuple[Msg, int]]) -> list[Msg]:
    return [msg for msg, times in runs for _ in range(times)]


# A walk: messages in a row, each possibly repeated (a user who keeps sending the same thing).
WALK = st.lists(st.tuples(MESSAGE, st.integers(1, 4)), min_size=1, max_size=6).map(_flatten_runs)


# --- the running bot ------------------------------------------------------------------------


@dataclass
class Bench:
    """One App for a whole test function, driven from sync (hypothesis) code."""

    runner: asyncio.Runner
    harness: Harness
    root: Path
    data_dir: Path
    chats: Iterator[int]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    def new_chat(self) -> str:
        return f"prop{next(self.chats)}"


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    # Deep enough that "../../x" from the media folder still lands inside tmp_path, where
    # ``_check_files`` would see it.
    data_dir = tmp_path / "a" / "b" / "data"
    config = Settings(
        data_dir=data_dir, max_evidence_bytes=MAX_BYTES, messages_per_minute=1_000_000
    )  # the rate limit is not what these properties are about
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        context = running(config)
        harness = runner.run(context.__aenter__())
        try:
            bench = Bench(runner, harness, tmp_path, data_dir, itertools.count(1))
            yield bench
            runner.run(_check_database(harness))
            _check_files(bench)
        finally:
            runner.run(context.__aexit__(None, None, None))


PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- invariants -----------------------------------------------------------------------------

KEYBOARD_STEPS = {
    Step.CATEGORY,
    Step.CATEGORY_MORE,
    Step.LOCATION_CONFIRM,
    Step.LOCATION_CHOOSE,
    Step.EVIDENCE,
    Step.SUMMARY,
    Step.EDIT,
    Step.CANCEL_CONFIRM,
}
_MEDIA_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")


async def _conversation(h: Harness, chat: str) -> Conversation | None:
    return await h.app.store.load_conversation(ChatKey(CHANNEL, chat))


async def _ticket_count(h: Harness, chat: str) -> int:
    rows = await h.query("SELECT COUNT(*) FROM tickets WHERE chat_id = ?", (chat,))
    return int(rows[0][0])  # type: ignore[call-overload]


def _check_options(options: list[Option] | tuple[Option, ...], where: str) -> None:
    for option in options:
        assert isinstance(option.label, str) and option.label.strip(), (where, option)
        assert isinstance(option.id, str) and option.id, (where, option)
    ids = [o.id for o in options]
    labels = [o.label for o in options]
    assert len(set(ids)) == len(ids), (where, "an option is offered twice", ids)
    assert len(set(labels)) == len(labels), (where, "two options read the same", labels)


def _check_replies(outcome: Handled, replies: list[Outbound]) -> None:
    assert outcome in (Handled.APPLIED, Handled.DUPLICATE), outcome
    assert replies, "no reply was sent"
    for reply in replies:
        assert isinstance(reply.text, str) and reply.text.strip(), reply
        _check_options(reply.options, "reply")


def _is_blank(msg: Msg) -> bool:
    """A message with nothing the dialogue can read (it only gets an "I cannot read that")."""
    if msg.kind == InboundKind.UNSUPPORTED:
        return True
    return not (msg.text.strip() or msg.files or msg.location or msg.chosen_option)


async def _check_state(bench: Bench, chat: str, *, may_be_absent: bool = False) -> Conversation:
    """The stored conversation is loadable and consistent. A blank message in a brand-new chat
    changes nothing, so no row is stored for it (``may_be_absent``)."""
    h = bench.harness
    rows = await h.query(
        "SELECT state, data FROM conversations WHERE channel = ? AND chat_id = ?",
        (CHANNEL, chat),
    )
    if not rows and may_be_absent:
        return Conversation(key=ChatKey(CHANNEL, chat))
    assert len(rows) == 1, rows
    state, data = rows[0]
    assert state in Step._value2member_map_, state
    assert isinstance(data, str)
    json.loads(data)
    conv = await _conversation(h, chat)
    assert conv is not None
    assert conv.step.value == state
    assert conv.invalid >= 0
    _check_options(conv.options, "state")
    if conv.step == Step.IDLE:
        assert conv.draft is None, conv
        return conv
    draft = conv.draft
    if conv.step == Step.ERASE_CONFIRM and draft is None:  # /hapusdata asked while idle
        assert [o.id for o in conv.options] == ["yes", "no"], conv.options
        return conv
    assert draft is not None, f"step {conv.step} without a draft"
    assert draft.category is None or draft.category in CATEGORY_CODES, draft.category
    assert draft.chronology is None or 0 < len(draft.chronology) <= MAX_CHRONOLOGY
    assert draft.address is None or len(draft.address) <= MAX_ADDRESS
    assert len(draft.evidence) <= MAX_ITEMS, len(draft.evidence)
    media = bench.data_dir / "media"
    for item in draft.evidence:
        assert _MEDIA_NAME.fullmatch(item.stored_path), item
        assert item.stored_path.endswith(item.sha256)
        assert (media / item.stored_path).is_file(), item
        assert 0 <= item.size <= MAX_BYTES
        assert item.kind in AttachmentKind._value2member_map_
        assert "/" in item.mime and len(item.mime) <= 100
        assert not any(ch.isspace() for ch in item.mime), item.mime
    if draft.kecamatan_code is not None:
        assert GAZETTEER.kecamatan_by_code(draft.kecamatan_code) is not None
    if draft.desa_code is not None:
        desa = GAZETTEER.desa_by_code(draft.desa_code)
        assert desa is not None and desa.kecamatan_code == draft.kecamatan_code
    if conv.step in KEYBOARD_STEPS:
        assert conv.options, f"step {conv.step} offers no option"
    if conv.step == Step.SUMMARY:
        assert draft.category and draft.location_done and draft.chronology
        assert draft.evidence_done
    if conv.step == Step.LOCATION_CHOOSE:
        choices = conv.pending.get("choices")
        assert choices and all(GAZETTEER.desa_by_code(c) for c in choices), conv.pending
    if conv.step == Step.LOCATION_CONFIRM:
        assert GAZETTEER.kecamatan_by_code(conv.pending.get("kecamatan", "")), conv.pending
    if conv.step == Step.CANCEL_CONFIRM:
        assert conv.resume not in (None, Step.IDLE, Step.CANCEL_CONFIRM), conv.resume
    return conv


def _picks_submit(msg: Msg, before: Conversation | None) -> bool:
    """Whether ``msg`` is a valid "send the report" answer to ``before`` (the oracle for
    ticket creation), written from the dialogue's contract rather than its code: the button,
    the number shown, the label, or a yes-word."""
    if before is None or before.step != Step.SUMMARY or before.draft is None:
        return False
    if _is_blank(msg):
        return False
    if msg.text and not msg.files and parse_command(msg.text) is not None:
        return False
    ids = [o.id for o in before.options]
    if msg.chosen_option is not None:
        return msg.chosen_option == prompts.SUBMIT
    text = msg.text.strip()
    chosen = None
    if text and len(text) <= 200:
        digits = text.rstrip(".) ")
        if digits.isdecimal():
            index = int(digits)
            chosen = ids[index - 1] if 1 <= index <= len(ids) else None
        else:
            wanted = normalise(text)
            chosen = next(
                (o.id for o in before.options if wanted in (normalise(o.label), normalise(o.id))),
                None,
            )
    if chosen is not None:
        return chosen == prompts.SUBMIT
    return normalise(msg.text, limit=100) in YES_WORDS


def _repeats_the_topic(msg: Msg, before: Conversation | None) -> bool:
    """A press of the topic the draft already holds, on an old menu: taken silently."""
    return (
        before is not None
        and before.draft is not None
        and msg.chosen_option is not None
        and msg.chosen_option == before.draft.category
        and msg.chosen_option not in [o.id for o in before.options]
        and not (msg.files or msg.location)  # a press is read as a press, whatever its text
    )


async def _send_checked(bench: Bench, chat: str, msg: Msg) -> Conversation:
    """Send ``msg`` to ``chat`` and check every invariant; return the new state."""
    h = bench.harness
    before = await _conversation(h, chat)
    tickets_before = await _ticket_count(h, chat)
    replies = await h.send(msg.text, chat=chat, **msg.fields())
    if not _repeats_the_topic(msg, before):  # a repeated press is acknowledged by the platform
        _check_replies(h.last_outcome, replies)
    conv = await _check_state(bench, chat, may_be_absent=before is None and _is_blank(msg))
    created = await _ticket_count(h, chat) - tickets_before
    expected = _picks_submit(msg, before)
    assert created == int(expected), (created, expected, before and before.step)
    if created:
        assert conv.step == Step.IDLE and conv.draft is None
        rows = await h.query(
            "SELECT t.number, length(t.chronology), COUNT(e.id) FROM tickets t"
            " LEFT JOIN evidence e ON e.ticket_id = t.id WHERE t.chat_id = ?"
            " GROUP BY t.id ORDER BY t.id DESC LIMIT 1",
            (chat,),
        )
        number, length, evidence = rows[0]
        assert 0 < length <= MAX_CHRONOLOGY and evidence <= MAX_ITEMS  # type: ignore[operator]
        assert any(str(number) in r.text for r in replies)
    if msg.files:
        _check_files(bench)
    return conv


async def _reach(bench: Bench, start: Start) -> str:
    """A new chat brought to ``start`` by its scripted prefix."""
    chat = bench.new_chat()
    h = bench.harness
    for text in start.prefix:
        replies = await h.send(text, chat=chat)
        _check_replies(h.last_outcome, replies)
    conv = await _conversation(h, chat)
    reached = conv.step if conv is not None else Step.IDLE
    assert reached == start.step, f"the prefix of {start.name} reached {reached}"
    return chat


async def _check_database(h: Harness) -> None:
    assert await h.query("PRAGMA integrity_check") == [("ok",)]
    assert await h.query("PRAGMA foreign_key_check") == []
    for table in ("tickets", "conversations", "outbox", "evidence", "inbound_messages"):
        await h.query(f"SELECT COUNT(*) FROM {table}")  # every table still exists


def _check_files(bench: Bench) -> None:
    """Nothing was written anywhere but the database, the data dir's writers lock and the
    media folder (by hash)."""
    db = bench.data_dir / "taros.db"
    allowed = {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))}
    allowed.add(bench.data_dir / "writers.lock")
    holders = bench.data_dir / "writers"  # each open database's own lock, named by its pid
    media = bench.data_dir / "media"
    for folder, _dirs, files in os.walk(bench.root):
        for name in files:
            path = Path(folder) / name
            if path in allowed or (path.parent == holders and path.suffix == ".lock"):
                continue
            relative = path.relative_to(media) if path.is_relative_to(media) else None
            assert relative is not None and _MEDIA_NAME.fullmatch(relative.as_posix()), path


# --- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("start", STARTS, ids=START_IDS)
@PROPERTY
@given(msg=MESSAGE)
def test_any_message_at_any_step_is_handled(bench: Bench, start: Start, msg: Msg) -> None:

    async def scenario() -> None:
        chat = await _reach(bench, start)
        await _send_checked(bench, chat, msg)

    bench.run(scenario())


@settings(PROPERTY, max_examples=150)
@given(start=st.sampled_from(STARTS), msgs=WALK)
def test_random_walk_keeps_state_sound(bench: Bench, start: Start, msgs: list[Msg]) -> None:
    """Several generated messages in a row: invariants hold after each, whatever the path."""

    async def scenario() -> None:
        chat = await _reach(bench, start)
        for msg in msgs:
            conv = await _send_checked(bench, chat, msg)
            event(f"reached {conv.step.value}")
            if conv.invalid >= 3:
                event(f"third wrong answer at {conv.step.value}")

    bench.run(scenario())


@settings(PROPERTY, max_examples=40)
@given(batches=st.lists(st.lists(FILE, min_size=1, max_size=6), min_size=1, max_size=5))
def test_evidence_is_capped_and_kept_exactly(bench: Bench, batches: list[list[FileSpec]]) -> None:
    """Files sent at the evidence step: every acceptable file is kept until the cap, none
    other, never more than the cap, and each lands in the media folder under its hash."""

    async def scenario() -> None:
        chat = await _reach(bench, STARTS[START_IDS.index("evidence")])
        for files in batches:
            conv = await _send_checked(bench, chat, Msg(files=tuple(files)))
            assert conv.step == Step.EVIDENCE
        assert conv.draft is not None
        good = sum(f.stored_ok() for files in batches for f in files)
        assert len(conv.draft.evidence) == min(MAX_ITEMS, good)

    bench.run(scenario())


def _long_messages(seed: int) -> list[Msg]:
    rng = random.Random(seed)
    size = 100_000

    def unicode_text() -> str:
        chars = []
        while len(chars) < size:
            code = rng.randrange(0x110000)
            if not 0xD800 <= code <= 0xDFFF:
                chars.append(chr(code))
        return "".join(chars)

    noise = unicode_text()
    return [
        Msg(text=noise),
        Msg(text=_repeat(STORY + " ", size)),
        Msg(text=_repeat("9", size)),
        Msg(text="ya" + " " * (size - 2)),
        Msg(text=_repeat("/status GRT-2026-00001 ", size)),
        Msg(text=_repeat("mekarsari cilawu ", size)),
        Msg(text=_repeat("\x00\u202e🚓%s'); DROP TABLE tickets;--", size)),
        Msg(
            text=noise,
            location=Location(-7.2, 107.9, noise, noise),
            files=(FileSpec(b"foto", AttachmentKind.PHOTO, noise, "actual", noise),),
            sender_name=noise,
        ),
    ]


@pytest.mark.parametrize("start", STARTS, ids=START_IDS)
def test_hundred_thousand_characters_at_every_step(bench: Bench, start: Start) -> None:
    messages = _long_messages(seed=20261127)
    assert all(len(m.text) == 100_000 for m in messages)

    async def scenario() -> None:
        for msg in messages:
            chat = await _reach(bench, start)
            began = time.perf_counter()
            await _send_checked(bench, chat, msg)
            assert time.perf_counter() - began < 5, "a long message stalled the chat"

    bench.run(scenario())


# --- known product bugs (minimal failing examples) ----------------------------------------


# Bug 1
@pytest.mark.parametrize("text", ["²", "⑨", "1²"])
async def test_superscript_digit_answer_is_handled(bot: Harness, text: str) -> None:
    await bot.send("halo")  # the category menu
    replies = await bot.send(text)
    assert bot.last_outcome == Handled.APPLIED
    assert replies


# Bug 2
async def test_summary_offers_cancel_once(bot: Harness) -> None:
    for text in _TO_SUMMARY:
        await bot.send(text)
    for _ in range(3):
        replies = await bot.send("0")  # hypothesis-shrunk: "0" three times at the summary
    ids = [o.id for o in replies[-1].options]
    assert len(ids) == len(set(ids)), ids


# Bug 3
@pytest.mark.parametrize(
    ("lat", "lon"), [(float("nan"), 107.9), (-7.2, float("inf")), (1000.0, 107.9)]
)
async def test_impossible_pin_is_rejected(bot: Harness, lat: float, lon: float) -> None:
    await bot.send("halo")
    await bot.send("1")  # the location question
    replies = await bot.send("", location=Location(lat, lon))
    assert replies and bot.last_outcome == Handled.APPLIED
    conv = await bot.app.store.load_conversation(ChatKey(CHANNEL, "warga"))
    assert conv is not None and conv.draft is not None
    assert conv.draft.lat is None and conv.draft.lon is None
    assert conv.step == Step.LOCATION  # asked again, nothing recorded
    [(data,)] = await bot.query("SELECT data FROM conversations WHERE chat_id = 'warga'")

    def reject(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    json.loads(str(data), parse_constant=reject)
