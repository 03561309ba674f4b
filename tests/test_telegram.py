"""TAROS over Telegram, end to end: the product's python-telegram-bot ``Application`` talks
HTTP to a fake Bot API server (``fake_bot_api``) on 127.0.0.1; the engine, the SQLite store
and the outbox dispatcher are the real ones."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from fake_bot_api import FakeBotApi

from bot.app import App
from bot.config import Settings
from channels.pacing import Rate
from channels.telegram.channel import TelegramChannel, TelegramOptions, Webhook
from conversations.messages import ChatKey
from conversations.state import Step

TICKET = re.compile(r"GRT-\d{4}-\d{5}")
STORY = "Tadi pagi jam 9 ada orang belanja di warung saya pakai uang palsu 100 ribu."
PIN = (-7.0853, 107.9983)  # Pasar Cibatu
FAST = TelegramOptions(
    overall=Rate(0),
    per_chat=Rate(0),
    album_wait=0.3,
    poll_timeout=2,
    busy_interval=0.02,
    stop_grace=10,
)
# Telegram's real limits (30/s overall, ~1/s per chat) scaled up so a hundred reports fit in
# seconds while the pacing is still exercised.
PACED = replace(FAST, overall=Rate(400.0, 100), per_chat=Rate(20.0, 3))

CATEGORY_Q = "Laporan Anda tentang apa"
LOCATION_Q = "Di mana kejadiannya"
STORY_Q = "Ceritakan apa yang terjadi"
EVIDENCE_Q = "Apakah ada bukti"
SUMMARY = "Ringkasan laporan Anda"
STALE = "Tombol itu sudah tidak berlaku."


@dataclass
class Served:
    app: App
    channel: TelegramChannel
    fake: FakeBotApi

    async def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        async def job(conn):  # type: ignore[no-untyped-def]
            async with conn.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        return await self.app.db.read(job)

    async def step(self, chat: int) -> Step | None:
        conv = await self.app.store.load_conversation(ChatKey("telegram", str(chat)))
        return conv.step if conv is not None else None


@asynccontextmanager
async def serving(
    settings: Settings,
    fake: FakeBotApi,
    options: TelegramOptions = FAST,
    webhook: Webhook | None = None,
) -> AsyncIterator[Served]:
    app = await App.open(settings, poll_interval=0.2)
    channel = TelegramChannel(fake.token, api_url=fake.url, options=options, webhook=webhook)
    app.add_channel(channel)
    try:
        await app.start(timers=False)
        yield Served(app, channel, fake)
    finally:
        await app.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(settings: Settings, fake: FakeBotApi) -> AsyncIterator[Served]:
    async with serving(settings, fake) as served:
        yield served


async def say(fake: FakeBotApi, chat: int, text: str, expect: str) -> str:
    seen = len(fake.bot_texts(chat))
    fake.text(chat, text)
    return await fake.reply(chat, expect, after=seen)


async def press(fake: FakeBotApi, chat: int, option: str, expect: str) -> int:
    seen = len(fake.bot_texts(chat))
    _update, message_id = fake.press_option(chat, option)
    await fake.reply(chat, expect, after=seen)
    return message_id


async def report(fake: FakeBotApi, chat: int, *, within: float = 30.0) -> str:
    """A whole intake by one citizen, answering only when the question came."""

    async def step(action: Any, expect: str) -> str:
        seen = len(fake.bot_texts(chat))
        action()
        return await fake.reply(chat, expect, after=seen, within=within)

    await step(lambda: fake.text(chat, "/start"), CATEGORY_Q)
    await step(lambda: fake.press_option(chat, "uang_palsu"), LOCATION_Q)
    await step(lambda: fake.location(chat, *PIN), STORY_Q)
    await step(lambda: fake.text(chat, STORY), EVIDENCE_Q)
    await step(lambda: fake.press_option(chat, "none"), SUMMARY)
    done = await step(lambda: fake.press_option(chat, "submit"), TICKET.pattern)
    found = TICKET.search(done)
    assert found is not None
    return found.group()


# --- the whole intake -----------------------------------------------------------------------


async def test_a_full_intake_over_telegram(bot: Served, fake: FakeBotApi) -> None:
    chat = 5001
    first = await say(fake, chat, "/start", CATEGORY_Q)
    assert "Laporan Anda tentang apa?" in first
    menu = fake.bot_messages(chat)[-1]
    rows = menu["reply_markup"]["inline_keyboard"]
    assert all(len(row) == 1 for row in rows)  # one button per row, labels readable
    assert rows[0][0] == {"text": "Uang palsu (upal)", "callback_data": "o:uang_palsu"}

    category_message = await press(fake, chat, "uang_palsu", LOCATION_Q)
    seen = len(fake.bot_texts(chat))
    fake.location(chat, *PIN)
    assert "Kec. Cibatu" in await fake.reply(chat, "Lokasi diterima", after=seen)
    await fake.reply(chat, STORY_Q, after=seen)
    await say(fake, chat, STORY, EVIDENCE_Q)

    photos = [b"\xff\xd8 first photo of the fake note", b"\xff\xd8 second photo, the back"]
    seen = len(fake.bot_texts(chat))
    fake.album(chat, photos, caption="ini fotonya")
    ack = await fake.reply(chat, "Bukti diterima", after=seen)
    assert "2 file" in ack

    evidence_message = await press(fake, chat, "done", SUMMARY)
    summary = fake.bot_texts(chat)[-1]
    assert "Bukti: 2 file" in summary
    assert "Kec. Cibatu" in summary

    seen = len(fake.bot_texts(chat))
    _update, summary_message = fake.press_option(chat, "submit")
    done = await fake.reply(chat, TICKET.pattern, after=seen)
    number = TICKET.search(done)
    assert number is not None
    await bot.app.engine.idle()

    # one acknowledgement for the album, and only the largest size of each photo downloaded
    acks = [t for t in fake.bot_texts(chat) if t.startswith("Bukti diterima")]
    assert len(acks) == 1
    assert len(fake.downloads) == 2
    rows = await bot.query(
        "SELECT e.kind, e.mime, e.size, e.sha256 FROM evidence e JOIN tickets t"
        " ON t.id = e.ticket_id WHERE t.number = ? ORDER BY e.id",
        (number.group(),),
    )
    assert rows == [("photo", "image/jpeg", len(p), hashlib.sha256(p).hexdigest()) for p in photos]
    tickets = await bot.query("SELECT category, kecamatan_code, lat, lon FROM tickets")
    assert tickets == [("uang_palsu", "32.05.12", *PIN)]

    # every pressed keyboard was edited away, showing the choice; no live keyboard is left
    await fake.wait_for(lambda: not fake.live_keyboards(chat), what="keyboards removed")
    texts = {m["message_id"]: m.get("text", "") for m in fake.bot_messages(chat)}
    assert texts[category_message].endswith("» Uang palsu (upal)")
    assert texts[evidence_message].endswith("» Selesai")
    assert texts[summary_message].endswith("» Kirim laporan")
    answered = fake.calls_of("answerCallbackQuery")
    assert len(answered) == 3 and all(not c.params.get("text") for c in answered)

    # the set-up calls: commands in Indonesian (default) and English, polling without webhook
    assert [c["command"] for c in fake.commands[""]] == [
        "mulai",
        "batal",
        "status",
        "bahasa",
        "bantuan",
    ]
    assert fake.commands["en"][0] == {"command": "mulai", "description": "Start a report"}
    assert fake.calls_of("deleteWebhook")
    updates = fake.calls_of("getUpdates")
    assert all(
        c.params.get("allowed_updates") in (None, ["message", "callback_query"]) for c in updates
    )


async def test_a_long_reply_is_split_and_media_is_sent_as_a_photo(
    bot: Served, fake: FakeBotApi, tmp_path: Any
) -> None:
    from conversations.messages import Media, Option, Outbound

    long = "\n".join(f"Baris {i}: " + "x" * 90 for i in range(120))  # about 12 000 characters
    await bot.channel.send(
        Outbound("telegram", "6001", long, options=(Option("yes", "Ya"), Option("no", "Tidak")))
    )
    messages = fake.bot_messages(6001)
    assert len(messages) == 3
    assert all(len(m["text"]) <= 4096 for m in messages)
    assert "\n".join(m["text"] for m in messages) == long
    assert [bool(m.get("reply_markup")) for m in messages] == [False, False, True]

    chart = tmp_path / "digest.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n a chart")
    await bot.channel.send(
        Outbound("telegram", "6001", "Rekap harian", media=Media(chart, "image/png"))
    )
    photo = fake.bot_messages(6001)[-1]
    assert photo["caption"] == "Rekap harian" and "photo" in photo
    assert fake.uploads == [chart.read_bytes()]
    # the new keyboard-less message does not retire the question's keyboard
    assert fake.live_keyboards(6001) == [messages[-1]["message_id"]]


async def test_a_send_interrupted_midway_is_resumed_not_repeated(
    bot: Served, fake: FakeBotApi
) -> None:
    from channels.base import Transient
    from conversations.messages import Outbound

    long = " ".join(["kata"] * 2400)  # three messages
    outbound = Outbound("telegram", "6002", long)
    fake.faults.scripted.clear()
    sent: list[str] = []
    original = fake._m_sendMessage

    def second_fails_once(params: dict[str, Any]) -> dict[str, Any]:
        sent.append(params["text"])
        if len(sent) == 2:
            from fake_bot_api import ApiError

            raise ApiError(502, "Bad Gateway")
        return original(params)

    fake._m_sendMessage = second_fails_once  # type: ignore[method-assign]
    with pytest.raises(Transient):
        await bot.channel.send(outbound)
    await bot.channel.send(outbound)  # the dispatcher's retry
    texts = fake.bot_texts(6002)
    assert len(texts) == 3
    assert " ".join(texts).split() == long.split()


# --- delivery under pressure -----------------------------------------------------------------


async def test_random_429_and_502_lose_nothing_and_keep_each_chats_order(
    bot: Served, fake: FakeBotApi
) -> None:
    fake.faults.flaky_rate = 0.10
    chats = list(range(7001, 7009))
    numbers = await asyncio.gather(*(report(fake, chat, within=60) for chat in chats))
    assert len(set(numbers)) == len(chats)
    await bot.app.engine.idle()
    await bot.app.dispatcher.flush(60)
    assert fake.faults.injected.get(429, 0) + fake.faults.injected.get(502, 0) >= 3

    for chat in chats:
        rows = await bot.query(
            "SELECT payload, sent_at IS NOT NULL, failed_at IS NULL FROM outbox"
            " WHERE channel = 'telegram' AND chat_id = ? ORDER BY id",
            (str(chat),),
        )
        assert rows and all(sent and not_failed for _payload, sent, not_failed in rows)
        expected = [json.loads(r[0])["text"] for r in rows]
        delivered = [
            c.params["text"]
            for c in fake.calls_of("sendMessage")
            if c.status == 200 and int(c.params["chat_id"]) == chat
        ]
        assert delivered == expected  # each exactly once, in order


async def test_a_chat_that_blocked_the_bot_does_not_stop_the_others(
    bot: Served, fake: FakeBotApi
) -> None:
    fake.faults.blocked = {8001}
    fake.text(8001, "/start")
    await say(fake, 8002, "/start", CATEGORY_Q)
    await say(fake, 8003, "/start", CATEGORY_Q)
    await press(fake, 8002, "uang_palsu", LOCATION_Q)
    await bot.app.dispatcher.flush()

    blocked = await bot.query(
        "SELECT sent_at, failed_at IS NOT NULL, last_error FROM outbox WHERE chat_id = '8001'"
    )
    assert blocked and all(sent is None and failed for sent, failed, _e in blocked)
    assert all("blocked" in error for _s, _f, error in blocked)
    attempts = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == "8001"]
    assert len(attempts) == len(blocked)  # given up at once, not retried
    assert fake.bot_texts(8001) == []
    assert await bot.step(8003) == Step.CATEGORY


async def test_a_hundred_citizens_report_at_the_same_time(
    settings: Settings, fake: FakeBotApi
) -> None:
    chats = list(range(10_001, 10_101))
    async with serving(settings, fake, PACED) as bot:
        numbers = await asyncio.gather(*(report(fake, chat, within=50) for chat in chats))
        assert len(set(numbers)) == 100
        tickets = await bot.query("SELECT COUNT(*), COUNT(DISTINCT chat_id) FROM tickets")
        assert tickets == [(100, 100)]


# --- what Telegram sends that must not count twice --------------------------------------------


async def test_a_message_redelivered_after_a_restart_is_not_handled_twice(
    settings: Settings, fake: FakeBotApi
) -> None:
    chat = 9001
    async with serving(settings, fake):
        await say(fake, chat, "/start", CATEGORY_Q)
        seen = len(fake.bot_texts(chat))
        answer = fake.text(chat, "upal")
        await fake.reply(chat, LOCATION_Q, after=seen)

    async with serving(settings, fake) as again:
        seen = len(fake.bot_texts(chat))
        repeat = fake.redeliver(answer)
        await fake.wait_confirmed(repeat)
        await again.app.engine.idle()
        await again.app.dispatcher.flush()
        assert fake.bot_texts(chat)[seen:] == []
        assert await again.step(chat) == Step.LOCATION
        handled = await again.query(
            "SELECT COUNT(*) FROM inbound_messages WHERE message_id = ?",
            (f"{chat}:{answer['message']['message_id']}",),
        )
        assert handled == [(1,)]
        await say(fake, chat, "Cibatu", STORY_Q)  # and the dialogue goes on


async def test_an_update_is_confirmed_only_once_it_is_committed(
    bot: Served, fake: FakeBotApi
) -> None:
    chat = 9101
    await say(fake, chat, "/start", CATEGORY_Q)
    fake.faults.file_latency = 0.8
    seen = len(fake.bot_texts(chat))
    update = fake.photo(chat, b"\xff\xd8 slow photo")
    await fake.wait_for(lambda: fake.downloads, what="the download to start")
    assert fake.confirmed <= update["update_id"]  # Telegram would send it again after a crash
    await fake.reply(chat, "Bukti diterima", after=seen)
    await fake.wait_confirmed(update)


async def test_a_stale_keyboard_press_is_answered_and_not_applied_twice(
    settings: Settings, fake: FakeBotApi
) -> None:
    chat = 9201
    async with serving(settings, fake) as bot:
        await say(fake, chat, "/start", CATEGORY_Q)
        menu = await press(fake, chat, "uang_palsu", LOCATION_Q)
        seen = len(fake.bot_texts(chat))
        twice = fake.press(chat, menu, "o:uang_palsu")  # a double tap
        other = fake.press(chat, menu, "o:penipuan")  # another button of the old menu
        forged = fake.press(chat, menu, "x:" + "9" * 70)  # data we never sent
        for update in (twice, other, forged):
            await fake.wait_confirmed(update)
        await bot.app.engine.idle()
        queries = [u["callback_query"]["id"] for u in (twice, other, forged)]

        def answers() -> dict[str, Any]:
            return {
                c.params["callback_query_id"]: c.params.get("text")
                for c in fake.calls_of("answerCallbackQuery")
            }

        await fake.wait_for(lambda: set(queries) <= answers().keys(), what="the answers")
        # a double tap is taken silently; another button of the old menu, or forged data, is
        # told the keyboard is no longer active
        assert [answers()[q] for q in queries] == [None, STALE, STALE]
        assert fake.bot_texts(chat)[seen:] == []
        assert await bot.step(chat) == Step.LOCATION

    # after a restart the channel has forgotten the old keyboard: the engine reads the press
    # for what it answers (the topic), and says so
    async with serving(settings, fake) as bot:
        seen = len(fake.bot_texts(chat))
        fake.press(chat, menu, "o:penipuan")
        changed = await fake.reply(chat, "Topik diganti ke Penipuan", after=seen)
        assert LOCATION_Q in changed  # the question of the moment, in the same message
        assert await bot.step(chat) == Step.LOCATION

    # ... and once more after another restart: the very answer the draft holds is taken silently
    async with serving(settings, fake) as bot:
        seen = len(fake.bot_texts(chat))
        repeat = fake.press(chat, menu, "o:penipuan")
        await fake.wait_confirmed(repeat)
        await bot.app.engine.idle()
        await bot.app.dispatcher.flush()
        assert fake.bot_texts(chat)[seen:] == []
        conv = await bot.app.store.load_conversation(ChatKey("telegram", str(chat)))
        assert conv is not None and conv.draft is not None
        assert conv.draft.category == "penipuan"
        assert await bot.step(chat) == Step.LOCATION


async def test_an_edited_message_is_not_a_new_answer(bot: Served, fake: FakeBotApi) -> None:
    chat = 9301
    await say(fake, chat, "/start", CATEGORY_Q)
    await press(fake, chat, "uang_palsu", LOCATION_Q)
    seen = len(fake.bot_texts(chat))
    answer = fake.text(chat, "Cibatu")
    await fake.reply(chat, STORY_Q, after=seen)
    seen = len(fake.bot_texts(chat))
    edit = fake.edit(chat, answer["message"]["message_id"], "Tarogong Kidul, dekat terminal")
    await fake.wait_confirmed(edit)
    await bot.app.engine.idle()
    await bot.app.dispatcher.flush()
    assert fake.bot_texts(chat)[seen:] == []
    conv = await bot.app.store.load_conversation(ChatKey("telegram", str(chat)))
    assert conv is not None and conv.draft is not None
    assert conv.step == Step.CHRONOLOGY
    assert conv.draft.kecamatan_code == "32.05.12"  # still Cibatu


async def test_a_group_gets_one_notice_and_nothing_is_stored(bot: Served, fake: FakeBotApi) -> None:
    group, supergroup = -4001, -1004002
    updates = [
        fake.group_text(group, 555, "/start"),
        fake.group_text(group, 556, "ada upal di pasar Cibatu, tolong pak"),
        fake.group_text(supergroup, 555, "/mulai@taros_garut_bot", kind="supergroup"),
    ]
    for update in updates:
        await fake.wait_confirmed(update)
    await bot.app.engine.idle()
    await fake.wait_for(lambda: fake.bot_texts(supergroup), what="the supergroup notice")
    for chat in (group, supergroup):
        texts = fake.bot_texts(chat)
        assert len(texts) == 1
        assert "chat pribadi" in texts[0]
        assert "https://t.me/taros_garut_bot?start=lapor" in texts[0]
    for table in ("conversations", "inbound_messages", "identities", "outbox"):
        assert await bot.query(f"SELECT COUNT(*) FROM {table}") == [(0,)]


async def test_a_200_mb_document_is_refused_without_download(bot: Served, fake: FakeBotApi) -> None:
    chat = 9401
    await say(fake, chat, "/start", CATEGORY_Q)
    seen = len(fake.bot_texts(chat))
    fake.document(chat, None, size=200 * 1024 * 1024, file_name="rekaman.mp4")
    refused = await fake.reply(chat, "terlalu besar", after=seen)
    assert "maksimal 20 MB" in refused
    assert fake.calls_of("getFile") == []
    assert fake.downloads == []


async def test_a_sticker_is_explained_and_a_venue_is_a_location(
    bot: Served, fake: FakeBotApi
) -> None:
    chat = 9501
    seen = len(fake.bot_texts(chat))
    fake.sticker(chat)
    await fake.reply(chat, "voice note, dan pin lokasi", after=seen)
    await say(fake, chat, "/start", CATEGORY_Q)
    await press(fake, chat, "uang_palsu", LOCATION_Q)
    seen = len(fake.bot_texts(chat))
    fake.venue(chat, *PIN, "Pasar Cibatu", "Jl. Raya Cibatu")
    await fake.reply(chat, STORY_Q, after=seen)
    conv = await bot.app.store.load_conversation(ChatKey("telegram", str(chat)))
    assert conv is not None and conv.draft is not None
    assert conv.draft.address is not None and "Pasar Cibatu" in conv.draft.address


# --- webhook --------------------------------------------------------------------------------


async def test_webhook_mode_checks_the_secret_and_answers_after_committing(
    settings: Settings, fake: FakeBotApi
) -> None:
    hook = Webhook(url="https://bot.polres-garut.example/tg/hook", port=0, secret="s3cret_ok")
    async with serving(settings, fake, webhook=hook) as bot:
        assert fake.webhook is not None
        assert fake.webhook["url"] == hook.url
        assert fake.webhook["secret_token"] == "s3cret_ok"
        assert fake.calls_of("getUpdates") == [] and fake.calls_of("deleteWebhook") == []
        endpoint = f"http://127.0.0.1:{bot.channel.webhook_port}/tg/hook"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": 9601, "type": "private", "first_name": "Warga"},
                "from": {"id": 9601, "is_bot": False, "first_name": "Warga"},
                "text": "/start",
            },
        }
        header = "X-Telegram-Bot-Api-Secret-Token"
        async with aiohttp.ClientSession() as http:
            async with http.post(endpoint, json=update, headers={header: "wrong"}) as resp:
                assert resp.status == 403
            async with http.post(endpoint + "x", json=update, headers={header: "s3cret_ok"}) as r:
                assert r.status == 404
            async with http.post(endpoint, json=update, headers={header: "s3cret_ok"}) as resp:
                assert resp.status == 200
            # answered only after the commit: the reply is already in the outbox
            rows = await bot.query("SELECT COUNT(*) FROM outbox WHERE chat_id = '9601'")
            assert rows[0][0] >= 1
            async with http.post(endpoint, json=update, headers={header: "s3cret_ok"}) as resp:
                assert resp.status == 200  # a repeat is accepted and ignored
        await fake.reply(9601, CATEGORY_Q)
        await bot.app.dispatcher.flush()
        assert len([t for t in fake.bot_texts(9601) if CATEGORY_Q in t]) == 1


async def test_the_token_never_reaches_the_logs(settings: Settings, fake: FakeBotApi) -> None:
    """The logging setup of the taros command, at DEBUG, while the bot talks to Telegram."""
    import io
    import logging

    from bot.ops.logs import setup_logging

    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("telegram").level)
    stream = io.StringIO()
    setup_logging("DEBUG", secrets=[fake.token], stream=stream)
    try:
        async with serving(settings, fake):
            await say(fake, 9701, "/start", CATEGORY_Q)
            logging.getLogger("probe").warning("url %s", f"{fake.url}/bot{fake.token}/getMe")
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])
        logging.getLogger("telegram").setLevel(before[2])
    written = stream.getvalue()
    assert written.count("\n") > 3
    assert fake.token not in written
    assert "<token>" in written
