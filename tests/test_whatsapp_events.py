"""The WhatsApp adapter piece by piece, in this process: real neonize events through the
worker's real handlers (neonize's own dispatch, a recording client), the mapping to the
engine's Inbound, the two names of a person, and sending."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from whatsapp_fakes import (
    CODES,
    LID,
    PN,
    SDK,
    RecordingClient,
    document,
    extended,
    image,
    link_session,
    live_pin,
    message_event,
    pin,
    reaction,
    sticker,
    text,
    voice,
)
from whatsapp_fakes import FakeWhatsApp as Control

from channels.base import Permanent, RetryAfter, Transient
from channels.whatsapp import session as whatsapp_session
from channels.whatsapp.events import Ignore, Incoming, classify
from channels.whatsapp.files import SESSION
from channels.whatsapp.identity import Contacts, Person, jid_of, phone_key
from channels.whatsapp.inbound import DownloadFailed, to_inbound
from channels.whatsapp.outbound import delivery_error, plan
from channels.whatsapp.protocol import INBOX
from channels.whatsapp.session import Session, WorkerConfig
from conversations.messages import AttachmentKind, InboundKind, Media, Option, Outbound

PHONE = "6281234567890"
LID_USER = "201234567890123"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


Worker = tuple[Session, RecordingClient, list[dict[str, Any]]]


def event(content: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("chat", (PHONE, PN))
    return message_event(content, **kwargs)


# --- classification of real events ----------------------------------------------------------


def test_text_and_extended_text() -> None:
    plain = classify(event(text("halo pak")))
    assert isinstance(plain, Incoming) and plain.text == "halo pak"
    assert (plain.phone_user, plain.lid_user, plain.name) == (PHONE, None, "Warga")
    rich = classify(event(extended("ada upal di pasar")))
    assert isinstance(rich, Incoming) and rich.text == "ada upal di pasar"


def test_location_and_live_location() -> None:
    shared = classify(event(pin(-7.0853, 107.9983, "Pasar Cibatu", "Jl. Raya Cibatu")))
    assert isinstance(shared, Incoming)
    assert shared.location == {
        "lat": -7.0853,
        "lon": 107.9983,
        "name": "Pasar Cibatu",
        "address": "Jl. Raya Cibatu",
    }
    live = classify(event(live_pin(-7.2, 107.9, "di sini")))
    assert isinstance(live, Incoming) and live.location is not None
    assert (live.location["lat"], live.location["name"]) == (-7.2, "di sini")
    nowhere = classify(event(pin(200.0, 0.0)))
    assert isinstance(nowhere, Incoming) and nowhere.location is None and nowhere.unsupported


@pytest.mark.parametrize(
    ("content", "kind", "mime", "caption", "filename"),
    [
        (image("/i", caption="fotonya", size=1234), "photo", "image/jpeg", "fotonya", None),
        (
            document("/d", "laporan.pdf", caption="ini"),
            "document",
            "application/pdf",
            "ini",
            "laporan.pdf",
        ),
        (voice("/v"), "voice", "audio/ogg", "", None),
    ],
)
def test_media_with_captions(
    content: Any, kind: str, mime: str, caption: str, filename: str | None
) -> None:
    routed = classify(event(content))
    assert isinstance(routed, Incoming) and routed.media is not None
    assert (routed.media.kind, routed.media.mime, routed.text) == (kind, mime, caption)
    assert routed.media.filename == filename
    # the message to download holds exactly that media, unwrapped
    fields = [f.name for f, _value in routed.media.message.ListFields()]
    assert len(fields) == 1 and fields[0].endswith("Message")


def test_a_plain_audio_file_is_audio_and_a_video_is_video() -> None:
    audio = SDK.e2e.Message(audioMessage=SDK.e2e.AudioMessage(directPath="/a", PTT=False))
    routed = classify(event(audio))
    assert isinstance(routed, Incoming) and routed.media is not None
    assert routed.media.kind == "audio"
    video = SDK.e2e.Message(videoMessage=SDK.e2e.VideoMessage(directPath="/v", caption="lihat"))
    routed = classify(event(video))
    assert isinstance(routed, Incoming) and routed.media is not None
    assert (routed.media.kind, routed.text) == ("video", "lihat")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"chat": ("120363041234567890", "g.us"), "sender": (PHONE, PN), "group": True}, "group"),
        ({"chat": ("status", "broadcast"), "sender": (PHONE, PN)}, "status"),
        ({"chat": ("120363999999999999", "newsletter")}, "newsletter"),
        ({"chat": (PHONE, PN), "from_me": True}, "from this account"),
    ],
)
def test_groups_broadcasts_newsletters_and_own_messages_are_ignored(
    kwargs: dict[str, Any], reason: str
) -> None:
    routed = classify(message_event(text("halo"), **kwargs))
    assert isinstance(routed, Ignore) and reason in routed.reason


def test_reactions_are_not_messages_and_stickers_are_not_accepted() -> None:
    assert isinstance(classify(event(reaction("3EB0X"))), Ignore)
    routed = classify(event(sticker()))
    assert isinstance(routed, Incoming) and routed.unsupported


def test_a_linked_identity_with_its_phone_number_in_sender_alt() -> None:
    routed = classify(event(text("halo"), chat=(LID_USER, LID), alt=(PHONE, PN)))
    assert isinstance(routed, Incoming)
    assert (routed.phone_user, routed.lid_user) == (PHONE, LID_USER)
    reverse = classify(event(text("halo"), chat=(PHONE, PN), alt=(LID_USER, LID)))
    assert isinstance(reverse, Incoming)
    assert (reverse.phone_user, reverse.lid_user) == (PHONE, LID_USER)


# --- the worker's handlers, in this process -----------------------------------------------


@pytest.fixture
async def worker(
    tmp_path: Path,
) -> AsyncIterator[tuple[Session, RecordingClient, list[dict[str, Any]]]]:
    data_dir = tmp_path / "data"
    link_session(data_dir)
    (data_dir / INBOX).mkdir(mode=0o700)
    emitted: list[dict[str, Any]] = []
    client = SDK.new_client(str(data_dir / SESSION), RecordingClient)
    config = WorkerConfig(download_attempts=2, download_delay=0.01, max_bytes=1000)
    session = Session(SDK, client, emitted.append, data_dir=data_dir, config=config)
    session.attach()
    await session.connect()
    await asyncio.wait_for(session.connected.wait(), 5)
    try:
        yield session, client, emitted
    finally:
        await client.stop()


async def messages(emitted: list[dict[str, Any]], count: int = 1) -> list[dict[str, Any]]:
    for _ in range(500):
        found = [e for e in emitted if e["ev"] in ("message", "failed")]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} message events, got {emitted}")


async def test_a_photo_is_downloaded_into_the_inbox_at_once(worker: Any) -> None:
    session, client, emitted = worker
    control = Control(session.data_dir)
    control.put_media("/v/t62/upal.jpg", b"\xff\xd8 photo")
    client.deliver(CODES[SDK.events.MessageEv], event(image("/v/t62/upal.jpg", caption="upal")))
    [message] = await messages(emitted)
    attachment = message["data"]["attachment"]
    assert attachment["kind"] == "photo" and attachment["size"] == 8
    stored = session.data_dir / INBOX / attachment["file"]
    assert stored.read_bytes() == b"\xff\xd8 photo"
    assert stored.stat().st_mode & 0o777 == 0o600
    await asyncio.sleep(0.05)
    assert [r["id"] for r in control.records("read")] == [message["data"]["id"]]


async def test_a_failed_download_is_retried_then_described(worker: Any) -> None:
    session, client, emitted = worker
    client.deliver(CODES[SDK.events.MessageEv], event(voice("/v/expired")))
    [message] = await messages(emitted)
    assert "403" in message["data"]["attachment"]["error"]
    assert len(Control(session.data_dir).records("downloads")) == 2


async def test_a_file_announced_too_large_is_not_downloaded(worker: Any) -> None:
    session, client, emitted = worker
    client.deliver(CODES[SDK.events.MessageEv], event(image("/big", size=5000)))
    [message] = await messages(emitted)
    assert message["data"]["attachment"] == {
        "kind": "photo",
        "mime": "image/jpeg",
        "size": 5000,
        "filename": None,
        "error": "too large",
    }
    assert Control(session.data_dir).records("downloads") == []


async def test_a_linked_identity_is_looked_up_in_the_session_store(worker: Any) -> None:
    session, client, emitted = worker
    Control(session.data_dir).know_lid(LID_USER, PHONE)
    client.deliver(CODES[SDK.events.MessageEv], event(text("halo"), chat=(LID_USER, LID)))
    [message] = await messages(emitted)
    assert (message["data"]["phone_user"], message["data"]["lid_user"]) == (PHONE, LID_USER)


async def test_a_slow_download_keeps_the_messages_of_a_person_in_order(worker: Any) -> None:
    session, client, emitted = worker
    Control(session.data_dir).put_media("/slow", b"photo")
    real = client.download_any

    async def slow(message: Any, path: str | None = None) -> bytes:
        await asyncio.sleep(0.2)
        return await real(message)

    client.download_any = slow
    client.deliver(CODES[SDK.events.MessageEv], event(image("/slow")))
    client.deliver(CODES[SDK.events.MessageEv], event(text("selesai")))
    first, second = await messages(emitted, 2)
    assert first["data"]["attachment"] is not None
    assert second["data"]["text"] == "selesai"


async def test_ignored_events_emit_nothing_and_are_not_marked_read(worker: Any) -> None:
    session, client, emitted = worker
    group = ("120363041234567890", "g.us")
    client.deliver(17, message_event(text("x"), chat=group, sender=(PHONE, PN), group=True))
    client.deliver(17, message_event(text("x"), chat=("status", "broadcast"), sender=(PHONE, PN)))
    client.deliver(17, message_event(text("x"), chat=(PHONE, PN), from_me=True))
    await asyncio.sleep(0.2)
    assert [e for e in emitted if e["ev"] == "message"] == []
    assert Control(session.data_dir).records("read") == []


async def test_a_handler_that_raises_is_logged_and_reported(
    worker: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _session, client, emitted = worker

    def broken(_event: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(whatsapp_session, "classify", broken)
    with caplog.at_level(logging.ERROR):
        client.deliver(CODES[SDK.events.MessageEv], event(text("halo")))
        [failed] = await messages(emitted)
    assert failed == {"ev": "failed", "phone_user": PHONE, "lid_user": None}
    assert any("the message handler failed" in r.getMessage() for r in caplog.records)


async def test_sending_text_and_refusing_what_cannot_be_sent(worker: Any) -> None:
    session, client, emitted = worker
    await session.request({"op": "send", "id": 1, "to": PHONE, "text": "Halo"})
    await session.request({"op": "send", "id": 2, "to": "../etc", "text": "x"})
    media = {"path": "/etc/passwd", "mime": "text/plain"}
    await session.request({"op": "send", "id": 3, "to": PHONE, "text": "x", "media": media})
    for _ in range(200):
        if len([e for e in emitted if e["ev"] == "result"]) == 3:
            break
        await asyncio.sleep(0.01)
    results = {e["id"]: e for e in emitted if e["ev"] == "result"}
    assert results[1]["ok"] is True
    assert results[2]["permanent"] is True
    assert results[3]["permanent"] is True and "outside the data dir" in results[3]["error"]
    assert Control(session.data_dir).sent() == [{"to": f"{PHONE}@s.whatsapp.net", "text": "Halo"}]

    client._set_online(False)  # dispatches a real DisconnectedEv
    await asyncio.sleep(0.05)
    await session.request({"op": "send", "id": 4, "to": PHONE, "text": "Halo"})
    await session.request({"op": "ping", "id": 5})
    await asyncio.sleep(0.05)
    results = {e["id"]: e for e in emitted if e["ev"] in ("result", "pong")}
    assert results[4]["ok"] is False and "not connected" in results[4]["error"]
    assert results[5] == {"ev": "pong", "id": 5, "connected": False}


async def test_a_logout_or_an_outdated_client_ends_the_session_with_an_alert(worker: Any) -> None:
    session, client, emitted = worker
    client.deliver(CODES[SDK.events.ClientOutdatedEv], SDK.proto.ClientOutdated())
    assert await asyncio.wait_for(session.outcome, 2) == 5
    [alert] = [e for e in emitted if e["ev"] == "alert"]
    assert alert["kind"] == "outdated" and "405" in alert["detail"]


# --- from the worker's event to the engine's Inbound ----------------------------------------


def test_a_message_event_becomes_an_inbound_keyed_by_the_phone_number(tmp_path: Path) -> None:
    (tmp_path / INBOX).mkdir()
    (tmp_path / INBOX / ("a" * 32)).write_bytes(b"jpeg")
    contacts = Contacts.open(tmp_path / "contacts.sqlite3")
    who = contacts.resolve(Person.of(PHONE, LID_USER))  # type: ignore[arg-type]
    data = {
        "id": "3EB0ABC",
        "phone_user": PHONE,
        "lid_user": LID_USER,
        "name": "  Ujang  ",
        "timestamp": int(NOW.timestamp()),
        "text": "ini fotonya",
        "location": {"lat": -7.2, "lon": 107.9, "name": "Alun-alun", "address": None},
        "attachment": {"kind": "photo", "mime": "image/jpeg", "size": 4, "file": "a" * 32},
        "unsupported": False,
    }
    received = to_inbound(data, who, channel="whatsapp", data_dir=tmp_path, now=NOW)
    assert received is not None
    inbound = received.inbound
    assert (inbound.chat_id, inbound.sender_id, inbound.message_id) == (PHONE, PHONE, "3EB0ABC")
    assert inbound.sender_aliases == (f"{LID_USER}@lid",)
    assert inbound.sender_name == "Ujang" and inbound.timestamp == NOW
    assert inbound.location is not None and inbound.location.name == "Alun-alun"
    [attachment] = inbound.attachments
    assert attachment.kind == AttachmentKind.PHOTO and attachment.size == 4
    assert asyncio.run(attachment.fetch()) == b"jpeg"
    assert received.files == (tmp_path / INBOX / ("a" * 32),)
    contacts.close()


def test_what_the_worker_could_not_fetch_raises_when_fetched(tmp_path: Path) -> None:
    who = Contacts.open(tmp_path / "c.sqlite3").resolve(Person.of(PHONE, None))  # type: ignore[arg-type]
    for attachment in (
        {"kind": "voice", "mime": "audio/ogg", "error": "download failed: 410"},
        {"kind": "photo", "mime": "image/jpeg", "file": "../../taros.db"},  # not ours: refused
    ):
        data = {"id": "X1", "text": "", "attachment": attachment, "unsupported": False}
        received = to_inbound(data, who, channel="whatsapp", data_dir=tmp_path, now=NOW)
        assert received is not None and received.files == ()
        with pytest.raises(DownloadFailed):
            asyncio.run(received.inbound.attachments[0].fetch())
    sticker_only = {"id": "X2", "unsupported": True}
    received = to_inbound(sticker_only, who, channel="whatsapp", data_dir=tmp_path, now=NOW)
    assert received is not None and received.inbound.kind == InboundKind.UNSUPPORTED
    for bad in ({"id": 7}, {"id": "a b"}, {"id": "x" * 200}, {}):
        assert to_inbound(bad, who, channel="whatsapp", data_dir=tmp_path, now=NOW) is None


# --- one person, two names -------------------------------------------------------------------


def test_phone_numbers_are_e164_digits_and_keys_name_their_jid() -> None:
    assert phone_key("6281234567890") == PHONE
    assert phone_key("+6281234567890") == PHONE
    assert phone_key("12") is None and phone_key("62abc") is None and phone_key(None) is None
    assert jid_of(PHONE) == (PHONE, "s.whatsapp.net")
    assert jid_of(f"{LID_USER}@lid") == (LID_USER, "lid")
    for bad in ("", "abc", "62811@g.us", "status@broadcast", "1@lid@lid"):
        with pytest.raises(ValueError):
            jid_of(bad)


def test_a_person_keeps_the_key_of_their_first_message(tmp_path: Path) -> None:
    contacts = Contacts.open(tmp_path / "c.sqlite3")
    lid = f"{LID_USER}@lid"
    assert contacts.resolve(Person(lid=lid)).key == lid  # first seen without a number
    later = contacts.resolve(Person(PHONE, lid))  # the number becomes known
    assert (later.key, later.aliases) == (lid, (PHONE,))
    assert contacts.resolve(Person(phone=PHONE)).key == lid
    assert contacts.knows(lid) and contacts.knows(PHONE)  # either name may be written to
    assert not contacts.knows("6289900000009")
    contacts.close()
    again = Contacts.open(tmp_path / "c.sqlite3")  # it is remembered across restarts
    assert again.resolve(Person(phone=PHONE)).key == lid
    assert (tmp_path / "c.sqlite3").stat().st_mode & 0o777 == 0o600
    again.close()


def test_two_keys_of_one_person_are_merged_into_the_older(tmp_path: Path) -> None:
    contacts = Contacts.open(tmp_path / "c.sqlite3")
    lid = f"{LID_USER}@lid"
    contacts.resolve(Person(phone=PHONE))
    contacts.resolve(Person(lid=lid))
    merged = contacts.resolve(Person(PHONE, lid))
    assert (merged.key, merged.aliases) == (PHONE, (lid,))
    assert contacts.resolve(Person(lid=lid)).key == PHONE
    contacts.close()


async def test_the_store_records_aliases_as_identities_of_one_reporter(tmp_path: Path) -> None:
    from bot.app import App
    from bot.config import Settings
    from conversations.messages import ChatKey
    from conversations.ports import Changes

    app = await App.open(Settings(data_dir=tmp_path / "data"))
    try:
        lid = f"{LID_USER}@lid"
        first = Changes(
            key=ChatKey("whatsapp", PHONE), sender_id=PHONE, locale="su", sender_aliases=(lid,)
        )
        await app.store.apply(first, NOW)
        by_lid = Changes(key=ChatKey("whatsapp", lid), sender_id=lid, locale="en")
        await app.store.apply(by_lid, NOW)

        async def identities(conn: Any) -> list[tuple[str, int]]:
            async with conn.execute(
                "SELECT external_id, reporter_id FROM identities ORDER BY external_id"
            ) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        rows = await app.db.read(identities)
        assert [name for name, _ in rows] == [lid, PHONE]
        assert len({reporter for _, reporter in rows}) == 1  # one reporter, two names
        assert await app.store.reporter_locale("whatsapp", PHONE) == "en"
    finally:
        await app.close()


# --- sending ------------------------------------------------------------------------------


def test_options_become_a_numbered_list_and_a_chart_goes_first(tmp_path: Path) -> None:
    question = Outbound(
        "whatsapp", PHONE, "Pilih:", options=(Option("a", "Satu"), Option("b", "Dua"))
    )
    assert plan(question) == [{"text": "Pilih:\n1. Satu\n2. Dua"}]
    chart = tmp_path / "chart.png"
    with_chart = Outbound(
        "whatsapp", PHONE, "Rekap\n12 laporan", media=Media(chart, "image/png", caption="Rekap")
    )
    assert plan(with_chart) == [
        {"text": "Rekap", "media": {"path": str(chart), "mime": "image/png"}},
        {"text": "Rekap\n12 laporan"},
    ]


def test_send_errors_become_what_the_dispatcher_does() -> None:
    assert isinstance(delivery_error({"error": "websocket not connected"}), Transient)
    assert not isinstance(delivery_error({"error": "websocket not connected"}), Permanent)
    limited = delivery_error({"error": "server returned error 429 rate-overlimit"})
    assert isinstance(limited, RetryAfter) and limited.seconds == 60
    assert isinstance(delivery_error({"error": "x", "permanent": True}), Permanent)
    assert isinstance(delivery_error({"error": "unknown server g.us"}), Permanent)


def test_loading_neonize_leaves_the_root_logger_alone() -> None:
    probe = (
        "import logging\n"
        "from channels.whatsapp.sdk import load\n"
        "before = (list(logging.getLogger().handlers), logging.getLogger().level)\n"
        "sdk = load()\n"
        "after = (list(logging.getLogger().handlers), logging.getLogger().level)\n"
        "print(before == after, sdk.version)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"
    assert result.stderr == ""
