"""The WhatsApp Cloud API channel against the fake Graph API and Meta's signed webhooks.

Everything goes over real HTTP on 127.0.0.1: pywa talks to the fake Graph API
(``fake_graph_api.FakeGraphApi``) through ``TAROS_WHATSAPP_CLOUD_API_URL``, and Meta's side
(``fake_graph_api.Meta``) posts signed webhooks to ``/webhooks/whatsapp`` on the same HTTP
server that serves ``/healthz``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import httpx
import pytest
from aiohttp import web
from fake_graph_api import (
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraphApi,
    Meta,
    Sent,
)
from local_http import LocalServer
from support import START, running, texts, ticket_number

from bot.app import App
from bot.clock import ManualClock
from bot.config import ConfigError, Settings
from bot.identity import ChannelId
from bot.officers import add_officer
from bot.ops.health import HealthServer, channel_routes
from bot.ops.metrics import Metrics, observe
from bot.whatsapp_alerts import OutboxAlerts
from channels.pacing import Pacer, Rate, Window
from channels.recording import RecordingChannel, inbound
from channels.whatsapp_cloud.channel import (
    WEBHOOK_PATH,
    CloudCredentials,
    CloudOptions,
    WhatsAppCloudChannel,
)
from channels.whatsapp_cloud.graph import GraphTransport
from channels.whatsapp_cloud.outbound import Buttons, ListPart, TextPart, Waits, plan
from conversations.domain import TicketStatus
from conversations.i18n import use_locale
from conversations.intake.prompts import status_label
from conversations.messages import Inbound, Option, Outbound

CLOUD_FAST = CloudOptions(
    per_second=0,
    per_chat=Rate(0),
    waits=Waits(throughput=0.2, pair=0.2, throttled=0.2),
    token_wait=0.5,
    media_backoff=0.01,
    answer_within=10.0,
    stop_grace=5.0,
)
NUMBER = "6281234567890"
TEMPLATES = {
    "status": ("taros_status_update", "id"),
    "relay": ("taros_officer_message", "id"),
    "closing": ("taros_closing_question", "id"),
    "digest": ("taros_daily_digest", "id"),
}


def cloud_channel(
    fake: FakeGraphApi, data_dir: Path, options: CloudOptions = CLOUD_FAST, **kw: object
) -> WhatsAppCloudChannel:
    return WhatsAppCloudChannel(
        CloudCredentials(PHONE_ID, TOKEN, APP_SECRET, VERIFY_TOKEN),
        data_dir,
        options=replace(options, api_url=fake.url),
        **kw,  # type: ignore[arg-type]
    )


class WebhookServer(LocalServer):
    """The channel's HTTP routes on 127.0.0.1 (what ``TAROS_HTTP`` serves in production)."""

    def __init__(self, channel: WhatsAppCloudChannel) -> None:
        app = web.Application()
        for method, path, handler in channel.http_routes():
            app.router.add_route(method, path, handler)
        super().__init__(app)

    async def start(self) -> str:
        return await super().start() + WEBHOOK_PATH


class Alone:
    """The channel started, the fake Graph API and Meta, and what reached the handler."""

    def __init__(self, fake: FakeGraphApi, channel: WhatsAppCloudChannel, meta: Meta) -> None:
        self.fake = fake
        self.channel = channel
        self.meta = meta
        self.received: list[Inbound] = []

    async def on_inbound(self, message: Inbound) -> None:
        self.received.append(message)


@pytest.fixture
async def alone(tmp_path: Path) -> AsyncIterator[Alone]:
    async with FakeGraphApi() as fake:
        channel = cloud_channel(fake, tmp_path / "data")
        server = WebhookServer(channel)
        cloud = Alone(fake, channel, Meta(await server.start()))
        await channel.start(cloud.on_inbound)
        try:
            yield cloud
        finally:
            await channel.stop()
            await server.stop()


async def test_the_handshake_answers_the_challenge_only_for_the_verify_token(
    alone: Alone,
) -> None:
    url = alone.meta.webhook_url
    async with aiohttp.ClientSession() as http:
        good = {
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        }
        async with http.get(url, params=good) as response:
            assert (response.status, await response.text()) == (200, "1158201444")
        for bad in ({**good, "hub.verify_token": "tebakan"}, {**good, "hub.mode": "x"}):
            async with http.get(url, params=bad) as response:
                assert response.status == 403
                assert "1158201444" not in await response.text()


async def test_a_forged_or_missing_signature_is_refused_and_nothing_is_read(
    alone: Alone,
) -> None:
    meta = alone.meta
    payload = meta.text(NUMBER, "pesan palsu")
    assert await meta.post(payload, signature=None) == 401
    assert await meta.post(payload, signature="sha256=" + "0" * 64) == 401
    assert await meta.post(payload, signature="sha256=é") == 401
    forged = Meta(meta.webhook_url, secret="bukan-rahasia-aplikasi")
    assert await forged.post(payload) == 401
    assert alone.received == []
    assert await meta.post(payload) == 200
    assert [m.text for m in alone.received] == ["pesan palsu"]


async def test_a_long_menu_is_split_into_balanced_lists_with_every_id(alone: Alone) -> None:
    fake, meta = alone.fake, alone.meta
    assert await meta.post(meta.text(NUMBER, "halo")) == 200
    options = tuple(Option(f"kat{i}", f"Kategori pengaduan nomor {i}") for i in range(13))
    await alone.channel.send(Outbound("whatsapp", NUMBER, "Pilih topik:", options=options))
    first, second = fake.to(NUMBER)
    assert [first.text, second.text] == ["Pilih topik:", "Pilihan lain (2/2)"]
    assert first.option_ids + second.option_ids == [o.id for o in options]
    assert (len(first.labels), len(second.labels)) == (7, 6)
    assert all(len(label) <= 24 for label in first.labels + second.labels)
    rows = first.body["interactive"]["action"]["sections"][0]["rows"]
    assert rows[0]["description"] == "Kategori pengaduan nomor 0"


# --- the whole TAROS: the engine, the outbox, the HTTP server ----------------------------------


@dataclass
class Deployment:
    """TAROS serving the Cloud API channel (``whatsapp``) and a staff channel (``telegram``,
    a recording double), with ``/healthz`` and the webhook on one HTTP server."""

    app: App
    fake: FakeGraphApi
    cloud: WhatsAppCloudChannel
    staff: RecordingChannel
    meta: Meta
    http: HealthServer
    clock: ManualClock

    async def say(self, payload: dict[str, Any], number: str = NUMBER) -> list[Sent]:
        """Meta posts ``payload``; the replies it caused, once delivered."""
        before = len(self.fake.to(number))
        assert await self.meta.post(payload) == 200
        await self.settle()
        return self.fake.to(number)[before:]

    async def text(self, body: str, number: str = NUMBER) -> list[Sent]:
        return await self.say(self.meta.text(number, body), number)

    async def press(self, option_id: str, number: str = NUMBER) -> list[Sent]:
        shown = [s for s in self.fake.to(number) if s.interactive is not None][-1]
        return await self.say(self.meta.press(number, shown, option_id), number)

    async def settle(self) -> None:
        await self.app.engine.idle()
        await self.app.dispatcher.flush()

    async def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        async def job(conn: aiosqlite.Connection) -> list[tuple[Any, ...]]:
            async with conn.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        return await self.app.db.read(job)


@asynccontextmanager
async def deployed(
    settings: Settings, *, templates: dict[str, tuple[str, str]] | None = None
) -> AsyncIterator[Deployment]:
    clock = ManualClock(START)
    async with FakeGraphApi() as fake:
        app = await App.open(settings, clock=clock, poll_interval=0.05)
        options = replace(
            CLOUD_FAST,
            templates=templates if templates is not None else TEMPLATES,
            max_media_bytes=settings.max_evidence_bytes,
        )
        cloud = cloud_channel(
            fake, settings.data_dir, options, clock=clock.now, alerts=OutboxAlerts(settings)
        )
        staff = RecordingChannel("telegram")
        app.add_channel(cloud)
        app.add_channel(staff)
        metrics = Metrics()
        observe(app, metrics)
        http = HealthServer(app, metrics, outbox_limit=300, routes=channel_routes([cloud]))
        try:
            await app.start(timers=False)
            where = await http.start("127.0.0.1:0")
            meta = Meta(f"http://{where}{WEBHOOK_PATH}", clock=clock.now)
            yield Deployment(app, fake, cloud, staff, meta, http, clock)
        finally:
            await http.stop()
            await app.close()


STORY = "Tadi pagi ada yang belanja pakai uang palsu 100 ribu di warung saya."
PHOTO = b"\xff\xd8\xff\xe0 foto uang palsu 100 ribu"
TICKET = re.compile(r"GRT-\d{4}-\d{5}")


async def report(dep: Deployment, number: str = NUMBER, *, photo: bytes = PHOTO) -> str:
    """A whole intake through WhatsApp: the topic from the list, a pin, the story, a photo,
    'Selesai' and 'Kirim laporan' from the buttons; returns the ticket number."""
    meta = dep.meta
    [menu] = await dep.text("halo", number)
    assert menu.interactive is not None and menu.interactive["type"] == "list"
    assert "uang_palsu" in menu.option_ids
    [place] = await dep.press("uang_palsu", number)
    assert place.type == "text"
    await dep.say(meta.location(number, -7.2116, 107.9005, "Alun-alun Garut"), number)
    [evidence] = await dep.text(STORY, number)
    assert evidence.interactive is not None and evidence.interactive["type"] == "button"
    media_id = dep.fake.put_media(photo, "image/jpeg")
    [received] = await dep.say(meta.image(number, media_id, "ini fotonya"), number)
    assert received.option_ids == ["done"]
    [summary] = await dep.press("done", number)
    assert summary.labels == ["Kirim laporan", "Ubah sesuatu", "Batalkan laporan"]
    [confirmation] = await dep.press("submit", number)
    found = TICKET.search(confirmation.text)
    assert found, confirmation.text
    return found.group()


async def test_a_whole_report_with_a_list_buttons_a_pin_and_a_photo(settings: Settings) -> None:
    async with deployed(settings) as dep:
        number = await report(dep)
        [(category, lat, reporter)] = await dep.query(
            "SELECT category, lat, reporter_id FROM tickets WHERE number = ?", (number,)
        )
        assert (category, round(lat, 4)) == ("uang_palsu", -7.2116)
        [(sha256, mime)] = await dep.query("SELECT sha256, mime FROM evidence")
        assert (sha256, mime) == (hashlib.sha256(PHOTO).hexdigest(), "image/jpeg")
        identities = await dep.query(
            "SELECT channel, external_id FROM identities WHERE reporter_id = ?", (reporter,)
        )
        assert identities == [("whatsapp", NUMBER)]
        # every reply went as a free message (the citizen wrote just before each)
        assert {s.type for s in dep.fake.to(NUMBER)} == {"text", "interactive"}


async def test_a_redelivered_webhook_is_handled_once(settings: Settings) -> None:
    async with deployed(settings) as dep:
        payload = dep.meta.text(NUMBER, "halo")
        first, second = await asyncio.gather(dep.meta.post(payload), dep.meta.post(payload))
        assert (first, second) == (200, 200)
        assert await dep.meta.repost_last() == 200  # and once more, after it was handled
        await dep.settle()
        assert len(dep.fake.to(NUMBER)) == 1  # one welcome
        [(count,)] = await dep.query("SELECT count(*) FROM inbound_messages")
        assert count == 1


async def test_a_forged_webhook_is_refused_and_nothing_is_stored(settings: Settings) -> None:
    async with deployed(settings) as dep:
        payload = dep.meta.text(NUMBER, "halo")
        assert await dep.meta.post(payload, signature="sha256=" + "ab" * 32) == 401
        assert await dep.meta.post(payload, signature=None) == 401
        await dep.settle()
        assert await dep.query("SELECT count(*) FROM inbound_messages") == [(0,)]
        assert await dep.query("SELECT count(*) FROM outbox") == [(0,)]
        assert dep.fake.sent == []


# --- the 24-hour window: templates -----------------------------------------------------------

OFFICER = "777001"  # on the staff channel (telegram)
DAY_LATER = timedelta(hours=25)


async def officer_says(dep: Deployment, text: str, chat: str = OFFICER) -> list[Outbound]:
    """An officer writes on the staff channel; what the staff channel received since."""
    before = len(dep.staff.sent)
    await dep.app.engine.handle(inbound(text, chat=chat, channel="telegram", when=dep.clock.now()))
    await dep.settle()
    return dep.staff.sent[before:]


async def staffed(dep: Deployment, role: str = "officer") -> None:
    await add_officer(
        dep.app.db,
        ChannelId("telegram", OFFICER),
        name="Bripka Asep",
        role=role,
        unit="SATRESKRIM",
        now=dep.clock.now(),
    )


def label(status: TicketStatus) -> str:
    with use_locale("id"):
        return status_label(status)


async def test_after_24_hours_status_relay_and_closing_go_as_templates_with_their_params(
    settings: Settings,
) -> None:
    async with deployed(settings) as dep:
        number = await report(dep)
        await staffed(dep)
        dep.clock.advance(DAY_LATER)
        before = len(dep.fake.to(NUMBER))

        await officer_says(dep, f"/status {number} proses Sedang dicek\n  ke lokasi")
        await officer_says(dep, f"/balas {number} Mohon kirim   foto\nuangnya dari dekat")
        await officer_says(dep, f"/status {number} selesai Pelaku sudah diamankan")
        status, relay, closing = dep.fake.to(NUMBER)[before:]

        assert status.type == relay.type == closing.type == "template"
        template = status.body["template"]
        assert (template["name"], template["language"]) == ("taros_status_update", {"code": "id"})
        assert status.template_params == [
            number,
            label(TicketStatus.IN_PROGRESS),
            "Sedang dicek ke lokasi",
        ]
        assert relay.body["template"]["name"] == "taros_officer_message"
        assert relay.template_params == [number, "Mohon kirim foto uangnya dari dekat"]
        assert closing.body["template"]["name"] == "taros_closing_question"
        assert closing.template_params == [number, "Pelaku sudah diamankan"]
        buttons = [c for c in closing.body["template"]["components"] if c["type"] == "button"]
        assert [(b["index"], b["parameters"][0]["payload"]) for b in buttons] == [
            ("0", "closing:yes"),
            ("1", "closing:no"),
        ]
        # the citizen taps the template's "Ya" button: the window is open again
        [thanks] = await dep.say(dep.meta.quick_reply(NUMBER, closing, "closing:yes", "Ya"))
        assert thanks.type == "text"
        assert number in thanks.text
        assert await dep.query("SELECT resolved_ok FROM tickets") == [(1,)]


async def test_without_a_template_the_message_is_recorded_with_why_and_staff_are_told(
    settings: Settings,
) -> None:
    async with deployed(settings, templates={}) as dep:
        number = await report(dep)
        await staffed(dep)
        dep.clock.advance(DAY_LATER)
        before = len(dep.fake.to(NUMBER))
        told = await officer_says(dep, f"/balas {number} Mohon datang ke Polres besok")
        assert dep.fake.to(NUMBER)[before:] == []  # nothing went to the citizen
        [(error,)] = await dep.query(
            "SELECT last_error FROM outbox WHERE failed_at IS NOT NULL AND chat_id = ?", (NUMBER,)
        )
        assert "24-hour window" in error and "TAROS_WHATSAPP_CLOUD_TEMPLATE_RELAY" in error
        notices = [o.text for o in told if number in o.text and "tidak terkirim" in o.text]
        assert len(notices) == 1, [o.text for o in told]
        assert "TAROS_WHATSAPP_CLOUD_TEMPLATE_RELAY" in notices[0]


async def test_when_meta_says_the_window_closed_the_message_goes_as_its_template(
    settings: Settings,
) -> None:
    async with deployed(settings) as dep:
        number = await report(dep)
        await staffed(dep)
        before = len(dep.fake.to(NUMBER))
        dep.fake.fail_next(131047)  # at once, on the send
        await officer_says(dep, f"/balas {number} Apakah uangnya masih ada?")
        [relay] = dep.fake.to(NUMBER)[before:]
        assert relay.type == "template"
        assert relay.template_params == [number, "Apakah uangnya masih ada?"]

        # later, in a status callback: the free message failed after it was accepted
        await dep.text("masih, pak")
        await officer_says(dep, f"/balas {number} Baik, simpan uangnya")
        free = dep.fake.to(NUMBER)[-1]
        assert free.type == "text" and free.tracker is not None
        assert await dep.meta.post(dep.meta.status(free, "failed", error=131047)) == 200
        await dep.settle()
        again = dep.fake.to(NUMBER)[-1]
        assert again.type == "template" and again.template_params[1] == "Baik, simpan uangnya"
        outbox_id = int(free.tracker.removeprefix("outbox:"))
        [(status, error)] = await dep.query(
            "SELECT delivery_status, last_error FROM outbox WHERE id = ?", (outbox_id,)
        )
        assert status == "failed" and "131047" in error


async def test_status_callbacks_are_recorded_on_the_outbox_row(settings: Settings) -> None:
    async with deployed(settings) as dep:
        [welcome] = await dep.text("halo")
        assert welcome.tracker is not None
        outbox_id = int(welcome.tracker.removeprefix("outbox:"))
        for word in ("sent", "read", "delivered"):  # a late "delivered" does not undo "read"
            assert await dep.meta.post(dep.meta.status(welcome, word)) == 200
        [(status, at)] = await dep.query(
            "SELECT delivery_status, delivery_status_at FROM outbox WHERE id = ?", (outbox_id,)
        )
        assert status == "read" and at is not None
        assert await dep.meta.post(dep.meta.status(welcome, "failed", error=131026)) == 200
        [(status, error)] = await dep.query(
            "SELECT delivery_status, last_error FROM outbox WHERE id = ?", (outbox_id,)
        )
        assert status == "failed" and "131026" in error


async def test_the_digest_goes_as_text_and_chart_or_as_its_template_after_24_hours(
    settings: Settings,
) -> None:
    kapolres = "6281100000099"
    async with deployed(settings) as dep:
        await add_officer(
            dep.app.db,
            ChannelId("whatsapp", kapolres),
            name="AKBP Garut",
            role="kapolres",
            unit=None,
            now=dep.clock.now(),
        )
        await report(dep)
        text, chart = await dep.text("/digest", kapolres)
        assert text.type == "text" and chart.type == "image"
        assert "id" in chart.body["image"] and dep.fake.uploads  # uploaded, then sent by id

        dep.clock.advance(DAY_LATER)
        before = len(dep.fake.to(kapolres))
        composed = await dep.app.digest.compose(dep.clock.now(), "id")
        dep.app.dispatcher.notify(
            tuple(
                await dep.app.mailer.send(
                    composed, await dep.app.mailer.kapolres(), dep.clock.now()
                )
            )
        )
        await dep.settle()
        [digest] = dep.fake.to(kapolres)[before:]
        assert digest.body["template"]["name"] == "taros_daily_digest"
        day, new, still_open, overdue = digest.template_params
        assert (new, still_open, overdue) == ("0", "1", "1") and day.endswith("2026")
        [(error,)] = await dep.query(
            "SELECT last_error FROM outbox WHERE chat_id = ? AND failed_at IS NOT NULL",
            (kapolres,),
        )
        assert "24-hour window" in error  # the chart: no template carries it


# --- limits and errors -----------------------------------------------------------------------

OTHER = "6285700000001"


async def test_throughput_and_pair_rate_errors_make_that_chat_wait_and_keep_its_order(
    settings: Settings,
) -> None:
    async with deployed(settings) as dep:
        await dep.text("halo")
        await dep.text("halo", OTHER)
        dep.fake.fail_next(130429, 131056, to=NUMBER)  # throughput, then pair rate
        texts = [f"Pesan {n}" for n in range(1, 4)]
        ids = await dep.app.outbox.enqueue(
            [Outbound("whatsapp", NUMBER, t) for t in texts]
            + [Outbound("whatsapp", OTHER, "Untuk yang lain")],
            dep.clock.now(),
        )
        dep.app.dispatcher.notify(tuple(ids))
        await dep.settle()
        assert dep.fake.texts(NUMBER)[-3:] == texts
        tried = [a["text"]["body"] for a in dep.fake.attempts if a["type"] == "text"]
        tried = [t for t in tried if t.startswith("Pesan")]
        assert tried == ["Pesan 1", "Pesan 1", "Pesan 1", "Pesan 2", "Pesan 3"]
        # the other chat did not wait for this one's limits
        order = [s.text for s in dep.fake.sent if s.text in ("Pesan 1", "Untuk yang lain")]
        assert order == ["Untuk yang lain", "Pesan 1"]
        [(retries,)] = await dep.query("SELECT attempts FROM outbox WHERE id = ?", (ids[0],))
        assert retries == 3


async def test_an_expired_media_url_is_asked_for_again(settings: Settings) -> None:
    async with deployed(settings) as dep:
        original = dep.fake.put_media
        dep.fake.put_media = lambda data, mime, expired_urls=1: original(  # type: ignore[method-assign]
            data, mime, expired_urls=expired_urls
        )
        await report(dep)
        [media_id] = dep.fake.media
        assert dep.fake.url_requests == [media_id, media_id]  # the first URL had expired
        assert [key.split("/")[1] for key in dep.fake.downloads] == ["1", "2"]
        assert await dep.query("SELECT count(*) FROM evidence") == [(1,)]


async def test_a_file_that_cannot_be_downloaded_is_asked_again_and_a_large_one_never_fetched(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", max_evidence_bytes=1024)
    async with deployed(settings) as dep:
        await dep.text("halo")
        await dep.press("uang_palsu")
        await dep.text("Cibatu, dekat pasar")
        await dep.text(STORY)
        broken = dep.fake.put_media(PHOTO, "image/jpeg", expired_urls=10)
        [sorry] = await dep.say(dep.meta.image(NUMBER, broken))
        assert "gagal saya unduh" in sorry.text
        assert dep.fake.url_requests.count(broken) == CLOUD_FAST.media_attempts
        large = dep.fake.put_media(b"x" * 2048, "image/jpeg")
        [too_large] = await dep.say(dep.meta.image(NUMBER, large))
        assert "terlalu besar" in too_large.text
        assert not [d for d in dep.fake.downloads if d.startswith(large + "/")]
        assert await dep.query("SELECT count(*) FROM evidence") == [(0,)]


async def test_stickers_and_contact_cards_are_answered_as_unsupported(settings: Settings) -> None:
    async with deployed(settings) as dep:
        await dep.text("halo")
        for payload in (dep.meta.sticker(NUMBER), dep.meta.contacts(NUMBER)):
            [answer] = await dep.say(payload)
            assert answer.type in ("text", "interactive")
            assert "belum bisa saya baca" in answer.text
        reaction = dep.meta.message(
            NUMBER, "reaction", {"reaction": {"message_id": "wamid.X", "emoji": "👍"}}
        )
        assert await dep.say(reaction) == []  # a reaction is nothing to answer


async def test_a_refused_token_makes_the_channel_unhealthy_alerts_admins_and_keeps_replies(
    settings: Settings,
) -> None:
    async with deployed(settings) as dep:
        await staffed(dep, role="admin")
        dep.fake.expired_token = True
        assert await dep.meta.post(dep.meta.text(NUMBER, "halo")) == 200  # still received
        await dep.app.engine.idle()
        await _eventually(lambda: dep.cloud.state == "token_refused")
        await _eventually(
            lambda: any("TAROS_WHATSAPP_CLOUD_TOKEN" in o.text for o in dep.staff.sent)
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{dep.http.address}/healthz") as response:
                assert response.status == 503
                body = await response.json()
        assert any("access token" in reason for reason in body["reasons"]), body
        [(waiting,)] = await dep.query(
            "SELECT count(*) FROM outbox WHERE chat_id = ?"
            " AND sent_at IS NULL AND failed_at IS NULL",
            (NUMBER,),
        )
        assert waiting == 1  # the welcome waits for a new token
        assert dep.fake.sent == []


async def _eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.02)


# --- one citizen across the two WhatsApp routes ---------------------------------------------


async def test_a_citizen_known_from_the_linked_device_keeps_their_reports(
    settings: Settings,
) -> None:
    # The linked-device route keys a citizen by the same E.164 number on channel "whatsapp"
    # (channels.whatsapp.identity); its recording double stands in for it here.
    async with running(settings, channel=RecordingChannel("whatsapp")) as linked:
        for line in ("halo", "1", "Cibatu, dekat pasar", STORY, "tidak ada", "1"):
            message = inbound(line, chat=NUMBER, channel="whatsapp", when=linked.clock.now())
            replies = await linked.deliver(message)
        number = ticket_number(texts(replies))
    async with deployed(settings) as dep:
        [answer] = await dep.text(f"/status {number}")
        assert number in answer.text and label(TicketStatus.NEW) in answer.text
        [(reporters,)] = await dep.query("SELECT count(*) FROM reporters")
        assert reporters == 1
        await dep.text("/batal")  # nothing open: the dialogue carries on from where it was
        again = await report(dep)
        assert again != number
        owners = await dep.query("SELECT DISTINCT reporter_id FROM tickets")
        assert len(owners) == 1


# --- focused: the pieces -----------------------------------------------------------------------


def test_buttons_for_three_short_options_lists_otherwise_and_long_text_first() -> None:
    short = tuple(Option(str(i), f"Pilihan {i}") for i in range(3))
    [buttons] = plan(Outbound("whatsapp", NUMBER, "Kirim?", options=short))
    assert isinstance(buttons, Buttons) and buttons.options == short
    long_label = (*short[:2], Option("x", "Label yang lebih dari dua puluh huruf"))
    [menu] = plan(Outbound("whatsapp", NUMBER, "Kirim?", options=long_label))
    assert isinstance(menu, ListPart)
    eleven = tuple(Option(str(i), f"P{i}") for i in range(11))
    parts = plan(Outbound("whatsapp", NUMBER, "Topik?", options=eleven))
    assert [len(p.options) for p in parts if isinstance(p, ListPart)] == [6, 5]
    story = "x" * 1500
    first, second = plan(Outbound("whatsapp", NUMBER, story, options=short))
    assert isinstance(first, TextPart) and first.text == story
    assert isinstance(second, Buttons) and second.text == "Pilih salah satu:"
    pieces = plan(Outbound("whatsapp", NUMBER, ("baris\n" * 1000).strip()))
    assert len(pieces) == 2 and all(len(p.text) <= 4096 for p in pieces if isinstance(p, TextPart))


async def test_the_token_goes_only_to_the_api_root_and_meta_media_hosts() -> None:
    seen: list[str] = []

    class Recorder(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            return httpx.Response(200, json={})

    transport = GraphTransport("http://127.0.0.1:9/relay", Recorder())
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get("https://graph.facebook.com/v23.0/123/messages?x=1")
        await http.get("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
        await http.get("http://127.0.0.1:9/download/1")
        for foreign in ("https://evil.example/steal", "http://lookaside.fbsbx.com/plain"):
            with pytest.raises(httpx.UnsupportedProtocol):
                await http.get(foreign)
    assert seen == [
        "http://127.0.0.1:9/relay/v23.0/123/messages?x=1",
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
        "http://127.0.0.1:9/download/1",
    ]


async def test_one_post_with_several_messages_and_a_status_handles_each(alone: Alone) -> None:
    meta = alone.meta
    first = meta.text(NUMBER, "satu")
    second = meta.text("6285700000001", "dua")
    value = first["entry"][0]["changes"][0]["value"]
    other = second["entry"][0]["changes"][0]["value"]
    value["messages"] += other["messages"]
    value["contacts"] += other["contacts"]
    assert await meta.post(first) == 200
    assert sorted((m.chat_id, m.text) for m in alone.received) == [
        (NUMBER, "satu"),
        ("6285700000001", "dua"),
    ]


def test_cloud_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "TAROS_WHATSAPP_CLOUD_PHONE_ID": "106540352242922",
            "TAROS_WHATSAPP_CLOUD_TOKEN": "EAAx",
            "TAROS_WHATSAPP_CLOUD_APP_SECRET": "s",
            "TAROS_WHATSAPP_CLOUD_VERIFY_TOKEN": "v",
            "TAROS_WHATSAPP_CLOUD_API_URL": "http://127.0.0.1:8081/",
            "TAROS_WHATSAPP_CLOUD_TEMPLATE_LANGUAGE": "en_US",
            "TAROS_WHATSAPP_CLOUD_TEMPLATE_STATUS": "taros_status_laporan:id",
            "TAROS_WHATSAPP_CLOUD_TEMPLATE_RELAY": "taros_pesan_petugas",
        }
    )
    assert settings.whatsapp_cloud and settings.whatsapp_cloud_missing == ()
    assert settings.whatsapp_cloud_api_url == "http://127.0.0.1:8081"
    assert dict(settings.whatsapp_cloud_templates) == {
        "status": ("taros_status_laporan", "id"),
        "relay": ("taros_pesan_petugas", "en_US"),
    }
    for name, bad in (
        ("TAROS_WHATSAPP_CLOUD_API_URL", "graph.facebook.com"),
        ("TAROS_WHATSAPP_CLOUD_TEMPLATE_CLOSING", "Pertanyaan Penutup"),
        ("TAROS_WHATSAPP_CLOUD_TOKEN", '"EAAx"'),
        ("TAROS_WHATSAPP_CLOUD_PER_SECOND", "0"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: bad})


def test_messages_received_count_against_the_overall_limit() -> None:
    now = [0.0]
    pacer = Pacer(Rate(2.0, 2), Rate(0), clock=lambda: now[0])
    pacer.record()
    pacer.record()
    pacer.record()  # three received: the next send waits for the debt
    assert pacer.load() > 1.0
    window = Pacer(Window(2, 1.0), Rate(0), clock=lambda: now[0])
    window.record()
    window.record()
    assert window.load() == 1.0


async def test_the_window_file_names_no_number(settings: Settings) -> None:
    """When each person last wrote is kept under a keyed digest, never the number: a citizen
    who asks to be forgotten leaves nothing in the channel's own file."""
    async with deployed(settings) as dep:
        await report(dep)
    files = [p for p in settings.data_dir.glob("whatsapp-cloud.sqlite3*") if p.is_file()]
    assert files
    for path in files:
        raw = path.read_bytes()
        assert NUMBER.encode() not in raw and NUMBER[2:].encode() not in raw, path
