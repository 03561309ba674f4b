"""TAROS over WhatsApp, end to end: the product's WhatsApp channel supervises the product's
worker process, which holds neonize's client with only its network calls replaced
(``whatsapp_fakes.RecordingClient``); the events are real neonize protobufs; the engine, the
SQLite store and the outbox dispatcher are the real ones. Nothing contacts WhatsApp."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from whatsapp_fakes import (
    LID,
    PN,
    FakeWhatsApp,
    eventually,
    extended,
    image,
    link_session,
    live_pin,
    message_event,
    pin,
    text,
)

from bot.app import App
from bot.config import Settings
from bot.whatsapp_alerts import OutboxAlerts
from channels.pacing import Rate
from channels.recording import RecordingChannel, inbound
from channels.whatsapp.channel import WhatsAppChannel, WhatsAppOptions
from channels.whatsapp.identity import CONTACTS, Contacts, Person
from channels.whatsapp.session import WorkerConfig
from channels.whatsapp.supervisor import SupervisorOptions
from conversations.messages import ChatKey, Outbound
from conversations.state import Step

FAKE_WORKER = (sys.executable, str(Path(__file__).with_name("whatsapp_fake_worker.py")))
TICKET = re.compile(r"GRT-\d{4}-\d{5}")
PHONE = "6281234567890"
PHONE_JID = f"{PHONE}@s.whatsapp.net"
LID_USER = "201234567890123"
PIN = (-7.0853, 107.9983)  # Pasar Cibatu
STORY = "Tadi pagi jam 9 ada orang belanja di warung saya pakai uang palsu 100 ribu."

CATEGORY_Q = "Laporan Anda tentang apa"
LOCATION_Q = "Di mana kejadiannya"
STORY_Q = "Ceritakan apa yang terjadi"
EVIDENCE_Q = "Apakah ada bukti"
SUMMARY = "Ringkasan laporan Anda"
DOWNLOAD_FAILED = "gagal saya unduh"
SORRY = "Maaf, terjadi gangguan di sistem kami"

FAST = WhatsAppOptions(
    per_chat=Rate(0),
    overall=Rate(0),
    hold=0.3,
    send_timeout=10.0,
    stop_grace=5.0,
    worker=WorkerConfig(download_attempts=2, download_delay=0.01, connect_timeout=10.0),
    supervisor=SupervisorOptions(
        heartbeat=0.5,
        heartbeat_timeout=5.0,
        backoff_start=0.05,
        backoff_max=0.2,
        relink_poll=0.1,
        settle=0.1,
        stop_grace=5.0,
    ),
)


@dataclass
class Served:
    app: App
    channel: WhatsAppChannel
    fake: FakeWhatsApp
    alerts: list[str] = field(default_factory=list)

    async def say(self, content: Any, expect: str, **event: Any) -> str:
        """Send ``content`` as the citizen and return the reply containing ``expect``."""
        to = event.pop("to", PHONE_JID)
        seen = len(self.fake.texts(to))
        event.setdefault("chat", (PHONE, PN))
        self.fake.inject(message_event(content, **event))
        return await self.fake.reply(to, expect, after=seen)

    async def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        async def job(conn):  # type: ignore[no-untyped-def]
            async with conn.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        return await self.app.db.read(job)

    async def count(self, sql: str, params: tuple[object, ...] = ()) -> int:
        return int((await self.query(sql, params))[0][0])

    async def step(self, chat: str = PHONE) -> Step | None:
        conv = await self.app.store.load_conversation(ChatKey("whatsapp", chat))
        return conv.step if conv is not None else None


@asynccontextmanager
async def serving(
    settings: Settings,
    *,
    others: tuple[RecordingChannel, ...] = (),
    options: WhatsAppOptions = FAST,
    flags: tuple[str, ...] = (),
) -> AsyncIterator[Served]:
    link_session(settings.data_dir)
    fake = FakeWhatsApp(settings.data_dir)
    for flag in flags:
        fake.flag(flag)
    app = await App.open(settings, poll_interval=0.1)
    alerts: list[str] = []

    async def alert(message: str) -> None:
        alerts.append(message)

    channel = WhatsAppChannel(
        settings.data_dir, options=options, alerts=alert, worker_command=FAKE_WORKER
    )
    app.add_channel(channel)
    for other in others:
        app.add_channel(other)
    try:
        await app.start(timers=False)
        if not flags:
            await eventually(lambda: channel.connected, within=20, what="connected")
        yield Served(app, channel, fake, alerts)
    finally:
        await app.close()


@pytest.fixture
async def wa(settings: Settings) -> AsyncIterator[Served]:
    async with serving(settings) as served:
        yield served


# --- the whole intake -----------------------------------------------------------------------


async def test_a_full_intake_over_whatsapp_with_numbered_answers_and_a_photo(wa: Served) -> None:
    menu = await wa.say(text("halo"), CATEGORY_Q)
    # options are a numbered list in the text itself: no buttons on an unofficial client
    assert "1. Uang palsu (upal)" in menu
    assert "\n2. " in menu
    await wa.say(extended("1"), LOCATION_Q)
    located = await wa.say(pin(*PIN, name="Pasar Cibatu"), STORY_Q)
    assert LOCATION_Q not in located
    await wa.say(text(STORY), EVIDENCE_Q)
    photo = b"\xff\xd8\xff\xe0 a photo of the fake note"
    wa.fake.put_media("/v/t62.7118-24/upal.jpg", photo)
    ack = await wa.say(image("/v/t62.7118-24/upal.jpg", caption="ini uangnya"), "Bukti diterima")
    assert "1 file" in ack
    summary = await wa.say(text("selesai"), SUMMARY)
    assert "Bukti: 1 file" in summary
    assert "1. Kirim laporan" in summary
    done = await wa.say(text("1"), "GRT-")
    number = TICKET.search(done)
    assert number is not None

    evidence = await wa.query(
        "SELECT e.kind, e.mime, e.size, e.sha256 FROM evidence e"
        " JOIN tickets t ON t.id = e.ticket_id WHERE t.number = ?",
        (number.group(),),
    )
    assert evidence == [("photo", "image/jpeg", len(photo), hashlib.sha256(photo).hexdigest())]
    stored = wa.app.media.path_of(f"{evidence[0][3][:2]}/{evidence[0][3]}")
    assert stored.read_bytes() == photo
    assert stored.stat().st_mode & 0o777 == 0o600
    tickets = await wa.query("SELECT channel, chat_id, category, lat, lon FROM tickets")
    assert tickets == [("whatsapp", PHONE, "uang_palsu", *PIN)]
    # every message was marked read; every reply went to the citizen's phone number
    assert len(wa.fake.records("read")) == 7
    assert {r["to"] for r in wa.fake.sent()} == {PHONE_JID}
    # the inbox is emptied once a file is kept
    assert not list((wa.app.settings.data_dir / "whatsapp-inbox").iterdir())


async def test_a_live_location_answers_the_location_question(wa: Served) -> None:
    await wa.say(text("halo"), CATEGORY_Q)
    await wa.say(text("1"), LOCATION_Q)
    await wa.say(live_pin(*PIN, caption="saya di sini"), STORY_Q)
    rows = await wa.query("SELECT data FROM conversations WHERE chat_id = ?", (PHONE,))
    assert "107.9983" in rows[0][0]


# --- what is not for the engine --------------------------------------------------------------


async def test_groups_broadcasts_newsletters_and_own_messages_are_ignored(wa: Served) -> None:
    group = ("120363041234567890", "g.us")
    wa.fake.inject(message_event(text("halo semua"), chat=group, sender=(PHONE, PN), group=True))
    wa.fake.inject(
        message_event(text("status baru"), chat=("status", "broadcast"), sender=(PHONE, PN))
    )
    wa.fake.inject(message_event(text("berita"), chat=("120363999999999999", "newsletter")))
    wa.fake.inject(message_event(text("saya kapolres"), chat=(PHONE, PN), from_me=True))
    barrier = "6285700000001"
    await wa.say(text("halo"), CATEGORY_Q, chat=(barrier, PN), to=f"{barrier}@s.whatsapp.net")

    assert await wa.query("SELECT channel, chat_id FROM conversations") == [("whatsapp", barrier)]
    assert await wa.query("SELECT COUNT(*) FROM inbound_messages") == [(1,)]
    assert {r["to"] for r in wa.fake.sent()} == {f"{barrier}@s.whatsapp.net"}
    assert [r["chat"] for r in wa.fake.records("read")] == [f"{barrier}@s.whatsapp.net"]
    contacts = Contacts.open(wa.app.settings.data_dir / CONTACTS)
    try:
        assert not contacts.knows(PHONE)  # nothing of them was kept
    finally:
        contacts.close()


async def test_a_repeated_message_id_is_answered_once(wa: Served) -> None:
    first = message_event(text("halo"), chat=(PHONE, PN), msg_id="3EB0REPEATED0001")
    await wa.say(first.Message, CATEGORY_Q, msg_id="3EB0REPEATED0001")
    wa.fake.inject(first)  # WhatsApp delivers it again
    await wa.say(text("1"), LOCATION_Q)
    menus = [t for t in wa.fake.texts(PHONE_JID) if CATEGORY_Q in t]
    assert len(menus) == 1
    assert await wa.query("SELECT COUNT(*) FROM inbound_messages") == [(2,)]


# --- one person, two names -------------------------------------------------------------------


async def test_the_lid_and_the_phone_number_of_one_citizen_continue_one_dialogue(
    wa: Served,
) -> None:
    # first as a linked identity, with the phone number in SenderAlt
    await wa.say(text("halo"), CATEGORY_Q, chat=(LID_USER, LID), alt=(PHONE, PN))
    # then as the phone number, with the linked identity in SenderAlt
    await wa.say(text("1"), LOCATION_Q, chat=(PHONE, PN), alt=(LID_USER, LID))
    # then as the linked identity alone: the channel remembers whose it is
    await wa.say(text("Cibatu, dekat pasar"), STORY_Q, chat=(LID_USER, LID))

    assert await wa.query("SELECT chat_id FROM conversations") == [(PHONE,)]
    assert await wa.step() == Step.CHRONOLOGY
    assert {r["to"] for r in wa.fake.sent()} == {PHONE_JID}
    contacts = Contacts.open(wa.app.settings.data_dir / CONTACTS)
    try:
        resolved = contacts.resolve(Person(lid=f"{LID_USER}@lid"))
    finally:
        contacts.close()
    assert (resolved.key, resolved.aliases) == (PHONE, (f"{LID_USER}@lid",))


async def test_a_linked_identity_known_to_the_session_is_read_as_its_phone_number(
    wa: Served,
) -> None:
    wa.fake.know_lid(LID_USER, PHONE)  # whatsmeow's own LID map knows the number
    await wa.say(text("halo"), CATEGORY_Q, chat=(LID_USER, LID))
    assert await wa.query("SELECT chat_id FROM conversations") == [(PHONE,)]


# --- failures told to the citizen ------------------------------------------------------------


async def test_a_download_failure_is_told_to_the_citizen(wa: Served) -> None:
    await wa.say(text("halo"), CATEGORY_Q)
    await wa.say(text("1"), LOCATION_Q)
    await wa.say(text("Cibatu, dekat pasar"), STORY_Q)
    await wa.say(text(STORY), EVIDENCE_Q)
    # the media link expired: every attempt answers 403
    reply = await wa.say(image("/v/t62/expired.jpg", caption="fotonya"), DOWNLOAD_FAILED)
    assert "kirim ulang" in reply
    assert len(wa.fake.records("downloads")) == 2  # retried
    assert await wa.query("SELECT COUNT(*) FROM evidence") == [(0,)]


async def test_a_failing_handler_is_logged_and_the_citizen_asked_to_try_again(
    wa: Served, caplog: pytest.LogCaptureFixture
) -> None:
    apology = await wa.say(text("BOOM"), SORRY)
    assert "kirim ulang" in apology
    await eventually(
        lambda: any("the message handler failed" in r.getMessage() for r in caplog.records),
        what="the worker's error in this process's log",
    )
    # the citizen can go on
    await wa.say(text("halo"), CATEGORY_Q)


# --- connection trouble ----------------------------------------------------------------------


async def test_a_disconnect_holds_replies_and_delivers_them_in_order_after_reconnect(
    wa: Served,
) -> None:
    await wa.say(text("halo"), CATEGORY_Q)
    wa.fake.command("disconnect")
    await eventually(lambda: not wa.channel.connected, what="disconnected")
    now = datetime.now(UTC)
    notes = [Outbound("whatsapp", PHONE, f"Kabar {n} dari petugas") for n in (1, 2, 3)]
    await wa.app.outbox.enqueue(notes, now)
    wa.app.dispatcher.notify()
    await asyncio.sleep(1.0)
    assert not [t for t in wa.fake.texts(PHONE_JID) if t.startswith("Kabar")]
    pending = await wa.query("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
    assert pending == [(3,)]

    wa.fake.command("connect")
    await eventually(
        lambda: len([t for t in wa.fake.texts(PHONE_JID) if t.startswith("Kabar")]) == 3,
        what="the held replies",
    )
    held = [t for t in wa.fake.texts(PHONE_JID) if t.startswith("Kabar")]
    assert held == ["Kabar 1 dari petugas", "Kabar 2 dari petugas", "Kabar 3 dari petugas"]
    await eventually(_outbox_sent(wa), what="the outbox emptied")
    assert await wa.count("SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL") == 0


async def test_killing_the_worker_mid_dialogue_loses_nothing_and_telegram_keeps_serving(
    settings: Settings,
) -> None:
    telegram = RecordingChannel("telegram")
    async with serving(settings, others=(telegram,)) as wa:
        await wa.say(text("halo"), CATEGORY_Q)
        wa.fake.flag("stall")  # the next reply hangs inside the worker...
        seen = len(wa.fake.texts(PHONE_JID))
        wa.fake.inject(message_event(text("1"), chat=(PHONE, PN)))
        await eventually(
            lambda: _step_is(wa, Step.LOCATION), what="the answer committed by the engine"
        )
        first = wa.channel.worker_pid
        assert first is not None
        await asyncio.sleep(0.2)  # ...while it is on its way
        os.kill(first, signal.SIGKILL)  # a Go panic or the OOM killer, say
        wa.fake.flag("stall", None)

        # the engine and the other channel keep serving while WhatsApp is down
        await wa.app.engine.handle(inbound("halo", chat="777", channel="telegram"))
        await eventually(
            lambda: any(CATEGORY_Q in o.text for o in telegram.to("777")),
            what="the Telegram citizen's menu",
        )

        await eventually(lambda: wa.channel.worker_pid not in (None, first), what="a new worker")
        reply = await wa.fake.reply(PHONE_JID, LOCATION_Q, after=seen)
        assert reply
        await wa.say(text("Cibatu, dekat pasar"), STORY_Q)
        texts = wa.fake.texts(PHONE_JID)
        assert len([t for t in texts if LOCATION_Q in t]) == 1  # nothing lost, nothing twice
        assert texts.index(reply) < len(texts) - 1
        failed = await wa.query("SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL")
        assert failed == [(0,)]


async def _step_is(wa: Served, step: Step) -> bool:
    return await wa.step() == step


def _outbox_sent(wa: Served) -> Any:
    async def check() -> bool:
        return await wa.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0

    return check


@pytest.mark.parametrize("trouble", ["offline", "hang"])
async def test_a_failed_or_hanging_dial_is_retried_with_backoff(
    settings: Settings, trouble: str
) -> None:
    options = replace(FAST, worker=replace(FAST.worker, connect_timeout=0.3))
    async with serving(settings, options=options, flags=(trouble,)) as wa:
        await eventually(lambda: wa.channel._supervisor.starts >= 3, what="restarts")
        assert not wa.channel.connected
        wa.fake.flag(trouble, None)  # the network is back
        await eventually(lambda: wa.channel.connected, within=10, what="connected")
        await wa.say(text("halo"), CATEGORY_Q)


async def test_a_worker_that_stops_answering_is_replaced(settings: Settings) -> None:
    options = replace(FAST, supervisor=replace(FAST.supervisor, heartbeat_timeout=0.5))
    async with serving(settings, options=options) as wa:
        first = wa.channel.worker_pid
        wa.fake.command("freeze")
        await eventually(lambda: wa.channel.worker_pid not in (None, first), what="a new worker")
        await eventually(lambda: wa.channel.connected, within=10, what="connected")
        await wa.say(text("halo"), CATEGORY_Q)


async def test_a_logout_is_announced_and_waits_for_a_new_link(settings: Settings) -> None:
    options = replace(FAST, alert_every=3600.0)
    async with serving(settings, options=options) as wa:
        await wa.say(text("halo"), CATEGORY_Q)
        wa.fake.command("logged_out")
        await eventually(lambda: wa.alerts, what="an alert")
        assert "taros whatsapp link" in wa.alerts[0]
        await eventually(lambda: wa.channel.state == "not_linked", what="waiting for a link")
        assert len(wa.alerts) == 1  # "not linked" right after the logout is the same episode
        await wa.app.outbox.enqueue([Outbound("whatsapp", PHONE, "Kabar")], datetime.now(UTC))
        wa.app.dispatcher.notify()
        await asyncio.sleep(0.5)
        assert "Kabar" not in wa.fake.texts(PHONE_JID)  # held in the outbox

        link_session(settings.data_dir)  # `taros whatsapp link` again
        await eventually(lambda: "Kabar" in wa.fake.texts(PHONE_JID), what="the held reply")


async def test_an_alert_reaches_admins_and_the_kapolres_on_their_other_channels(
    settings: Settings,
) -> None:
    from bot.identity import ChannelId
    from bot.officers import add_officer

    app = await App.open(settings)
    try:
        now = datetime.now(UTC)
        for who, role in (
            (ChannelId("telegram", "1001"), "admin"),
            (ChannelId("telegram", "1002"), "kapolres"),
            (ChannelId("whatsapp", "6281300000003"), "admin"),
            (ChannelId("telegram", "1004"), "officer"),
        ):
            unit = "SATRESKRIM" if role == "officer" else None
            await add_officer(app.db, who, name=f"P {who.id}", role=role, unit=unit, now=now)
    finally:
        await app.close()
    queued = await OutboxAlerts(settings)("Nomor WhatsApp TAROS keluar.")
    assert queued == 2
    app = await App.open(settings)
    try:
        rows = await app.db.read(_outbox_rows)
    finally:
        await app.close()
    assert rows == [("telegram", "1001"), ("telegram", "1002")]


async def _outbox_rows(conn: Any) -> list[tuple[str, str]]:
    async with conn.execute("SELECT channel, chat_id FROM outbox ORDER BY chat_id") as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def test_the_bot_writes_only_to_people_who_wrote_first(wa: Served) -> None:
    stranger = "6289900000009"
    await wa.app.outbox.enqueue([Outbound("whatsapp", stranger, "Promo!")], datetime.now(UTC))
    wa.app.dispatcher.notify()
    given_up = (
        "SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL AND chat_id = ?"
        " AND last_error LIKE '%never wrote%'"
    )

    async def refused() -> bool:
        return await wa.count(given_up, (stranger,)) == 1

    await eventually(refused, what="the message given up")
    assert not wa.fake.sent(f"{stranger}@s.whatsapp.net")


async def test_the_digest_chart_goes_out_as_an_image_with_its_caption(
    wa: Served, tmp_path: Path
) -> None:
    from PIL import Image

    await wa.say(text("halo"), CATEGORY_Q)
    chart = wa.app.settings.data_dir / "charts" / "digest.png"
    chart.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), "navy").save(chart)
    from conversations.messages import Media

    media = Media(chart, "image/png", caption="Rekap harian")
    await wa.app.outbox.enqueue(
        [Outbound("whatsapp", PHONE, "Rekap harian\n12 laporan baru", media=media)],
        datetime.now(UTC),
    )
    wa.app.dispatcher.notify()
    await eventually(lambda: [r for r in wa.fake.sent(PHONE_JID) if "image" in r], what="image")
    image_sent = next(r for r in wa.fake.sent(PHONE_JID) if "image" in r)
    assert image_sent["image"] == hashlib.sha256(chart.read_bytes()).hexdigest()
    assert image_sent["text"] == "Rekap harian"
    await eventually(
        lambda: "Rekap harian\n12 laporan baru" in wa.fake.texts(PHONE_JID), what="the text"
    )
