"""The store keeps recently active conversations in memory (bench/README.md: a chat's next
message needs no read), and never acts on a stale one: a conversation written by another
process is noticed at the save, nothing is applied, and the step is redone on the row as it
now is."""

from __future__ import annotations

import sqlite3

from support import Harness, texts

from bot.storage.conversation_cache import CACHED_CONVERSATIONS
from conversations.engine import Handled
from conversations.messages import ChatKey
from conversations.state import Step

STORY = "Motor saya dicuri semalam di depan rumah, kuncinya masih di motor."
IDLE_DATA = (
    '{"draft":null,"options":[],"invalid":0,"editing":false,"resume":null,"pending":{},'
    '"language_asked":false}'
)


def other_process_cancels_the_draft(bot: Harness, chat: str) -> None:
    """What another process (a second engine, a tool) would do: its own connection."""
    with sqlite3.connect(bot.app.settings.database_path) as db:
        db.execute(
            "UPDATE conversations SET state = 'idle', data = ?, version = version + 1"
            " WHERE channel = 'test' AND chat_id = ?",
            (IDLE_DATA, chat),
        )


async def test_a_chat_s_next_message_needs_no_read(bot: Harness) -> None:
    await bot.send("halo")
    key = ChatKey("test", "warga")
    reads = 0
    real_read = bot.app.db.read

    async def counting(job, **kw):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await real_read(job, **kw)

    bot.app.db.read = counting  # type: ignore[method-assign]
    conv = await bot.app.store.load_conversation(key)
    assert conv is not None and conv.step == Step.CATEGORY
    assert reads == 0
    conv.step = Step.SUMMARY  # what a caller does to its copy changes nothing stored
    again = await bot.app.store.load_conversation(key)
    assert again is not None and again.step == Step.CATEGORY


async def test_a_conversation_written_elsewhere_is_read_again_not_overwritten(
    bot: Harness,
) -> None:
    await bot.send("halo")
    await bot.send("2")  # the chat now waits for the place (cached)
    other_process_cancels_the_draft(bot, "warga")

    replies = texts(await bot.send("Tarogong Kidul"))

    assert bot.last_outcome == Handled.APPLIED
    assert "Di mana kejadiannya" not in replies  # not answered as the place of the old draft
    rows = await bot.query("SELECT state, version FROM conversations WHERE chat_id = 'warga'")
    assert rows[0][0] != "chronology"
    conv = await bot.app.store.load_conversation(ChatKey("test", "warga"))
    assert conv is not None
    assert conv.draft is None or conv.draft.category != "pencurian"  # the old draft is gone


async def test_a_save_checks_the_version_it_read(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("2")
    other_process_cancels_the_draft(bot, "warga")
    before = await bot.query("SELECT version FROM conversations WHERE chat_id = 'warga'")

    await bot.send("Tarogong Kidul")

    after = await bot.query("SELECT state, version FROM conversations WHERE chat_id = 'warga'")
    # one save, on top of the other process's write (the stale attempt was rolled back)
    assert after[0][1] == before[0][0] + 1


async def test_the_cache_is_bounded(bot: Harness) -> None:
    store = bot.app.store
    for n in range(CACHED_CONVERSATIONS + 50):
        await store.load_conversation(ChatKey("test", f"c{n}"))
    assert len(store._conversations) == CACHED_CONVERSATIONS


async def test_the_cached_conversation_is_the_row_as_stored(bot: Harness) -> None:
    """After every step of an intake (the row a save returns is what is cached, no read
    back), the cached conversation is the stored row, field for field."""
    key = ChatKey("test", "warga")
    for text in ("halo", "2", "Tarogong Kidul", STORY, "selesai", "kirim"):
        await bot.send(text)
        cached = await bot.app.store.load_conversation(key)
        bot.app.store.forget_conversations()
        stored = await bot.app.store.load_conversation(key)
        assert cached == stored, text
