"""A dialogue that holds up on a real phone, through the Telegram channel and the fake Bot API:
one message back for each message of the citizen; a topic typed before the menu arrived and
then pressed on the menu anyway; a place name sent after a pin had already set the place."""

from __future__ import annotations

from fake_bot_api import FakeBotApi
from test_telegram import (  # noqa: F401 - bot, fake: fixtures
    CATEGORY_Q,
    EVIDENCE_Q,
    LOCATION_Q,
    PIN,
    STORY,
    STORY_Q,
    SUMMARY,
    Served,
    bot,
    fake,
)

from conversations.messages import ChatKey
from conversations.state import Step

SENDS = ("sendMessage", "sendPhoto", "sendDocument")
PHOTO = b"\xff\xd8\xff\xe0turn-photo" + bytes(range(256)) * 4


async def settled(bot: Served) -> None:  # noqa: F811 - the fixture's name
    await bot.app.engine.idle()
    await bot.app.dispatcher.flush()


async def test_each_message_of_the_citizen_gets_one_message_back(
    bot: Served,  # noqa: F811
    fake: FakeBotApi,  # noqa: F811
) -> None:
    chat = 6101
    moves = [
        (lambda: fake.text(chat, "/start"), CATEGORY_Q),
        (lambda: fake.press_option(chat, "uang_palsu"), LOCATION_Q),
        (lambda: fake.location(chat, *PIN), STORY_Q),
        (lambda: fake.text(chat, STORY), EVIDENCE_Q),
        (lambda: fake.photo(chat, PHOTO), "Bukti diterima"),
        (lambda: fake.text(chat, "selesai"), SUMMARY),
        (lambda: fake.press_option(chat, "submit"), r"GRT-\d{4}-\d{5}"),
    ]
    for act, expect in moves:
        seen = len(fake.bot_texts(chat))
        act()
        await fake.reply(chat, expect, after=seen)
        await settled(bot)
        assert len(fake.bot_texts(chat)) == seen + 1, fake.bot_texts(chat)[seen:]
    welcome, located, acknowledged = (fake.bot_texts(chat)[i] for i in (0, 2, 4))
    assert "Selamat datang" in welcome and CATEGORY_Q in welcome  # one message, with the menu
    assert "Lokasi diterima" in located and STORY_Q in located
    assert "Bukti diterima" in acknowledged and "selesai" in acknowledged.lower()
    sends = [c for c in fake.calls_of(*SENDS) if str(c.params.get("chat_id")) == str(chat)]
    assert len(sends) == len(moves)


async def test_a_topic_typed_before_the_menu_then_pressed_on_it_is_taken_once(
    bot: Served,  # noqa: F811
    fake: FakeBotApi,  # noqa: F811
) -> None:
    chat = 6102
    fake.text(chat, "/start")
    fake.text(chat, "uang palsu")  # typed before the menu has arrived
    await fake.reply(chat, LOCATION_Q)
    await settled(bot)
    seen = len(fake.bot_texts(chat))
    update, _message = fake.press_option(chat, "uang_palsu")  # the menu's button, late
    await fake.wait_confirmed(update)
    await settled(bot)
    assert fake.bot_texts(chat)[seen:] == []  # nothing to say: it is what the draft holds
    assert await bot.step(chat) == Step.LOCATION
    seen = len(fake.bot_texts(chat))
    fake.text(chat, "Cibatu")
    await fake.reply(chat, STORY_Q, after=seen)


async def test_a_place_name_sent_after_a_pin_is_not_taken_for_the_story(
    bot: Served,  # noqa: F811
    fake: FakeBotApi,  # noqa: F811
) -> None:
    chat = 6103
    fake.text(chat, "/start")
    await fake.reply(chat, CATEGORY_Q)
    fake.press_option(chat, "uang_palsu")
    await fake.reply(chat, LOCATION_Q)
    seen = len(fake.bot_texts(chat))
    fake.location(chat, *PIN)
    fake.text(chat, "Cibatu")  # the answer to the place question, sent as the pin went
    await fake.reply(chat, "Lokasi sudah tercatat", after=seen)
    assert not any("terlalu singkat" in t for t in fake.bot_texts(chat)[seen:])
    seen = len(fake.bot_texts(chat))
    fake.text(chat, STORY)
    await fake.reply(chat, EVIDENCE_Q, after=seen)
    conv = await bot.app.store.load_conversation(ChatKey("telegram", str(chat)))
    assert conv is not None and conv.draft is not None
    assert conv.draft.chronology == STORY and conv.draft.kecamatan_code == "32.05.12"
