"""The Telegram channel's parts on their own: no server, no engine."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import BOT, FakeBotApi
from telegram import Update
from telegram import error as tg

from bot.config import ConfigError, Settings
from bot.ops.logs import Redact
from bot.platforms import telegram_channel
from channels.base import Permanent, RetryAfter, Transient
from channels.pacing import Pacer, Rate
from channels.telegram.albums import AlbumBuffer
from channels.telegram.inbound import FromGroup, Ignore, Press, Private, classify
from channels.telegram.keyboards import KeyboardLedger, OptionCodec, keyboard
from channels.telegram.outbound import delivery_error, plan, split_text
from channels.telegram.updates import UpdateTracker
from conversations.messages import (
    AttachmentKind,
    Inbound,
    InboundKind,
    Media,
    Option,
    Outbound,
)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- outbound ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "pendek",
        "a" * 4096,
        "\n\n".join("Paragraf " + "x" * 1500 for _ in range(6)),
        "😀" * 3000,  # two UTF-16 units each
        "y" * 10_000,  # no place to cut: cut hard
    ],
)
def test_text_is_split_within_telegrams_limit_without_losing_anything(text: str) -> None:
    pieces = split_text(text)
    assert all(0 < _units(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    if _units(text) <= 4096:
        assert pieces == [text]


def test_the_keyboard_goes_under_the_last_piece_and_a_chart_is_a_captioned_photo() -> None:
    options = (Option("yes", "Ya"), Option("no", "Tidak"))
    parts = plan(Outbound("telegram", "1", "z" * 5000, options=options))
    assert [p.keyboard for p in parts] == [False, True]
    chart = Media(Path("digest.png"), "image/png")
    [photo] = plan(Outbound("telegram", "1", "Rekap harian", media=chart))
    assert photo.as_photo and photo.text == "Rekap harian"
    long_caption = plan(Outbound("telegram", "1", "k" * 2000, media=chart, options=options))
    assert [(p.media is not None, p.text[:1], p.keyboard) for p in long_caption] == [
        (True, "", False),
        (False, "k", True),
    ]
    sheet = Media(Path("rekap.xlsx"), "application/vnd.ms-excel", caption="Rekap")
    [document, text] = plan(Outbound("telegram", "1", "Terlampir", media=sheet))
    assert not document.as_photo and document.text == "Rekap" and text.text == "Terlampir"


def test_an_album_is_one_part_and_its_captions_are_not_repeated() -> None:
    chart = Media(Path("chart.png"), "image/png", "Grafik")
    drawn = Media(Path("map.png"), "image/png", "Peta")
    combined = Media(Path("both.png"), "image/png", "Grafik\nPeta")
    digest = Outbound("telegram", "1", "Grafik\nPeta", media=combined, album=(chart, drawn))
    [album] = plan(digest)
    assert album.album == (chart, drawn) and album.media is None and not album.keyboard
    options = (Option("yes", "Ya"),)
    asked = plan(Outbound("telegram", "1", "Lihat", album=(chart, drawn), options=options))
    assert [(bool(p.album), p.text, p.keyboard) for p in asked] == [
        (True, "", False),
        (False, "Lihat", True),  # an album cannot carry buttons
    ]
    long = Media(Path("map.png"), "image/png", "x" * 2000)
    [shortened] = plan(Outbound("telegram", "1", "Grafik", album=(chart, long)))
    assert [m.caption for m in shortened.album] == ["Grafik", None]


def test_an_album_survives_the_outbox() -> None:
    from bot.storage.outbox import outbound_from_json, outbound_to_json

    album = (Media(Path("a.png"), "image/png", "A"), Media(Path("b.png"), "image/png", None))
    sent = Outbound("telegram", "1", "A", media=album[0], album=album)
    assert outbound_from_json("telegram", "1", outbound_to_json(sent)) == sent
    plain = Outbound("telegram", "1", "teks")
    assert outbound_from_json("telegram", "1", outbound_to_json(plain)) == plain


@pytest.mark.parametrize(
    ("error", "expected", "seconds"),
    [
        (tg.RetryAfter(timedelta(seconds=7)), RetryAfter, 7.0),
        (tg.Forbidden("Forbidden: bot was blocked by the user"), Permanent, None),
        (tg.BadRequest("Bad Request: chat not found"), Permanent, None),
        (tg.BadRequest("Bad Request: message is too long"), Permanent, None),
        (tg.TimedOut(), Transient, None),
        (tg.NetworkError("Bad Gateway"), Transient, None),
        (tg.InvalidToken("Unauthorized"), Transient, None),
        (tg.Conflict("terminated by other getUpdates request"), Transient, None),
    ],
)
def test_telegram_errors_become_what_the_dispatcher_understands(
    error: tg.TelegramError, expected: type[Exception], seconds: float | None
) -> None:
    translated = delivery_error(error)
    assert type(translated) is expected
    if seconds is not None:
        assert isinstance(translated, RetryAfter) and translated.seconds == seconds


# --- keyboards --------------------------------------------------------------------------------


def test_callback_data_is_short_and_anything_else_is_refused() -> None:
    codec = OptionCodec()
    for option in ("uang_palsu", "field:location", "32.05.12.2001", "more"):
        data = codec.encode(option)
        assert data == f"o:{option}" and codec.decode(data) == option
    long_id = "desa:" + "sukamaju-" * 10
    data = codec.encode(long_id)
    assert len(data.encode()) <= 64 and codec.decode(data) == long_id
    assert OptionCodec().decode(data) is None  # a hash we did not hand out
    for forged in (None, 42, "", "o:", "x:more", "o:" + "a" * 70, "o:bad\x00id", "h:deadbeef"):
        assert codec.decode(forged) is None
    markup = keyboard(
        (Option("uang_palsu", "Uang palsu (upal)"), Option("more", "Lainnya…")), codec
    )
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["Uang palsu (upal)"],
        ["Lainnya…"],
    ]


def test_a_keyboard_is_pressed_once_and_retired_by_the_next_question() -> None:
    ledger = KeyboardLedger()
    assert ledger.shown("c", 10, "en") is None
    first = ledger.press("c", 10)
    assert not first.stale and first.locale == "en"
    second = ledger.press("c", 10)
    assert second.stale and second.locale == "en"
    ledger.shown("c", 11, "id")
    previous = ledger.shown("c", 12, "id")
    assert previous is not None and previous.message_id == 11
    assert ledger.press("c", 11).stale
    assert not ledger.press("c", 12).stale
    unknown = ledger.press("c", 3)  # shown before a restart: the engine decides
    assert not unknown.stale and unknown.locale is None
    ledger.shown("c", 13, "id")
    taken = ledger.take_live("c")
    assert taken is not None and taken.message_id == 13 and ledger.press("c", 13).stale


# --- inbound ----------------------------------------------------------------------------------


def _classify(update: dict[str, Any]) -> Any:
    fetched: list[str] = []

    def fetch_for(file_id: str) -> Any:
        async def fetch() -> bytes:
            fetched.append(file_id)
            return b""

        return fetch

    routed = classify(
        Update.de_json(update, None), channel="telegram", codec=OptionCodec(), fetch_for=fetch_for
    )
    return routed


def test_private_messages_become_inbounds_with_stable_ids() -> None:
    fake = FakeBotApi()
    text = _classify(fake.text(42, "/start"))
    assert isinstance(text, Private) and text.typed
    msg = text.inbound
    assert (msg.channel, msg.chat_id, msg.sender_id, msg.text) == ("telegram", "42", "42", "/start")
    assert msg.message_id == "42:1" and msg.timestamp.tzinfo is not None
    assert msg.sender_name is None  # the display name is not needed (privacy)

    photo = _classify(fake.photo(42, b"the largest", caption="ini fotonya"))
    assert isinstance(photo, Private) and not photo.typed and photo.album is None
    [attachment] = photo.inbound.attachments
    assert (attachment.kind, attachment.mime, attachment.size) == (
        AttachmentKind.PHOTO,
        "image/jpeg",
        len(b"the largest"),
    )
    assert photo.inbound.text == "ini fotonya"

    document = _classify(fake.document(42, None, size=123, mime_type="application/pdf"))
    [doc] = document.inbound.attachments
    assert (doc.kind, doc.mime, doc.size, doc.filename) == (
        AttachmentKind.DOCUMENT,
        "application/pdf",
        123,
        "bukti.pdf",
    )
    voice = fake.user_message(
        42, voice={"file_id": "V1", "file_unique_id": "V1", "duration": 3, "file_size": 9}
    )
    [note] = _classify(voice).inbound.attachments
    assert (note.kind, note.mime) == (AttachmentKind.VOICE, "audio/ogg")

    venue = _classify(fake.venue(42, -7.2, 107.9, "Alun-alun", "Jl. Ahmad Yani")).inbound
    assert venue.location is not None
    assert (venue.location.name, venue.location.address) == ("Alun-alun", "Jl. Ahmad Yani")
    album = _classify(fake.photo(42, b"part", media_group_id="g1"))
    assert isinstance(album, Private) and album.album == "g1"


def test_what_is_not_a_private_answer() -> None:
    fake = FakeBotApi()
    sticker = _classify(fake.sticker(42))
    assert isinstance(sticker, Private) and sticker.inbound.kind == InboundKind.UNSUPPORTED
    assert isinstance(_classify(fake.group_text(-5, 42, "halo")), FromGroup)
    assert isinstance(_classify(fake.group_text(-1005, 42, "x", kind="supergroup")), FromGroup)
    assert isinstance(_classify(fake.edit(42, 1, "diubah")), Ignore)
    pinned = fake.user_message(
        42,
        pinned_message={"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}},
    )
    assert isinstance(_classify(pinned), Ignore)
    from_bot = fake.text(42, "halo")
    from_bot["message"]["from"]["is_bot"] = True
    assert isinstance(_classify(from_bot), Ignore)


def test_a_button_press_carries_the_option_and_a_stable_id() -> None:
    fake = FakeBotApi()
    fake.chats[42] = [
        {
            "message_id": 7,
            "date": 0,
            "chat": {"id": 42, "type": "private"},
            "from": BOT,
            "text": "Pilih",
            "reply_markup": {
                "inline_keyboard": [[{"text": "Uang palsu", "callback_data": "o:uang_palsu"}]]
            },
        }
    ]
    press = _classify(fake.press(42, 7, "o:uang_palsu"))
    assert isinstance(press, Press) and press.inbound is not None
    assert press.inbound.chosen_option == "uang_palsu"
    assert press.inbound.message_id == "42:7:o:uang_palsu"
    assert (press.label, press.text) == ("Uang palsu", "Pilih")
    forged = _classify(fake.press(42, 7, "o:" + "z" * 80))
    assert isinstance(forged, Press) and forged.inbound is None and forged.chat_id == "42"


# --- albums, updates, pacing -----------------------------------------------------------------


async def test_an_album_is_one_inbound_and_a_later_message_waits_for_it() -> None:
    emitted: list[Inbound] = []

    def emit(inbound: Inbound) -> asyncio.Future[object]:
        emitted.append(inbound)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    fake = FakeBotApi()
    buffer = AlbumBuffer(10.0, emit)
    parts = [_classify(u) for u in fake.album(42, [b"one", b"two", b"three"], caption="foto")]
    futures = [buffer.add(p.inbound, "album-1") for p in reversed(parts)]
    assert emitted == [] and len(buffer) == 1
    buffer.flush_chat("42")  # e.g. "selesai" typed right after the album
    [album] = emitted
    assert album.message_id == parts[0].inbound.message_id
    assert len(album.attachments) == 3 and album.text == "foto"
    await asyncio.gather(*futures)

    quick = AlbumBuffer(0.05, emit)
    await quick.add(_classify(fake.photo(42, b"x", media_group_id="g2")).inbound, "g2")
    assert len(emitted) == 2 and len(quick) == 0


async def test_an_update_is_confirmed_only_when_it_and_all_before_it_are_done() -> None:
    loop = asyncio.get_running_loop()
    tracker = UpdateTracker()
    fake = FakeBotApi()
    batch = [Update.de_json(fake.text(1, str(i)), None) for i in range(3)]
    tracker.batch(batch)
    futures = [loop.create_future() for _ in batch]
    for update, future in zip(batch, futures, strict=True):
        assert tracker.begin(update.update_id)
        tracker.follow(update.update_id, future)
    assert not tracker.begin(batch[0].update_id)  # fetched again while busy: not twice
    first, _second, third = (u.update_id for u in batch)
    futures[1].set_result(None)
    await asyncio.sleep(0)
    assert tracker.offset == first
    futures[0].set_result(None)
    await asyncio.sleep(0)
    assert tracker.offset == third
    futures[2].cancel()  # stopped before it was handled: stays unconfirmed
    await asyncio.sleep(0)
    assert tracker.offset == third and tracker.busy


async def test_a_fast_chat_waits_alone() -> None:
    pacer = Pacer(Rate(0), Rate(20.0, 1))
    start = time.monotonic()
    await pacer.wait("a")
    await pacer.wait("a")
    other = time.monotonic()
    await pacer.wait("b")
    assert time.monotonic() - other < 0.03  # chat b did not wait for chat a
    await pacer.wait("a")
    assert time.monotonic() - start >= 0.09  # a: three messages at 20 per second


async def test_the_global_limit_spaces_every_chat() -> None:
    pacer = Pacer(Rate(50.0, 2), Rate(0))
    start = time.monotonic()
    await asyncio.gather(*(pacer.wait(str(chat)) for chat in range(7)))
    assert time.monotonic() - start >= 0.09  # 2 at once, then 5 at 50 per second


# --- configuration and logs ------------------------------------------------------------------


def test_webhook_settings_are_validated(tmp_path: Path) -> None:
    env = {
        "TAROS_DATA_DIR": str(tmp_path),
        "TAROS_TELEGRAM_TOKEN": "1:abc",
        "TAROS_TELEGRAM_WEBHOOK_URL": "https://bot.example.id/tg",
        "TAROS_TELEGRAM_LISTEN": "0.0.0.0:9000",
        "TAROS_TELEGRAM_SECRET": "rahasia_123",
    }
    settings = Settings.from_env(env)
    channel = telegram_channel(settings)
    assert channel.webhook is not None
    assert (channel.webhook.host, channel.webhook.port, channel.webhook.secret) == (
        "0.0.0.0",
        9000,
        "rahasia_123",
    )
    polling = telegram_channel(Settings.from_env({"TAROS_TELEGRAM_TOKEN": "1:a"}))
    assert polling.webhook is None
    for key, bad in (
        ("TAROS_TELEGRAM_WEBHOOK_URL", "bot.example.id/tg"),
        ("TAROS_TELEGRAM_LISTEN", "8443"),
        ("TAROS_TELEGRAM_SECRET", "no spaces please"),
    ):
        with pytest.raises(ConfigError):
            Settings.from_env({**env, key: bad})


def test_the_redaction_filter_hides_the_token_in_messages_and_tracebacks() -> None:
    token = "999:SECRET-token"
    redact = Redact([token])  # what the logging setup installs
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "POST %s", (f"/bot{token}/x",), None)
    assert redact.filter(record) and record.getMessage() == "POST /bot<token>/x"
    try:
        raise ValueError(f"cannot reach /bot{token}/getMe")
    except ValueError as exc:
        failure = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), (type(exc), exc, exc.__traceback__)
        )
    redact.filter(failure)
    assert failure.exc_text is not None and token not in failure.exc_text


def test_a_double_tap_is_told_apart_from_another_button_of_an_old_keyboard() -> None:
    ledger = KeyboardLedger()
    ledger.shown("c", 20, "id")
    assert not ledger.press("c", 20, "uang_palsu").stale
    again = ledger.press("c", 20, "uang_palsu")
    assert again.stale and again.repeat  # taken silently
    other = ledger.press("c", 20, "penipuan")
    assert other.stale and not other.repeat  # "no longer active"
