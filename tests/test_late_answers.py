"""Answers that arrive early or late, as on a phone under load: a citizen who types the topic
before the menu arrives and then presses the menu's button, who sends a place name after a pin
already set the place, who sends the same story twice."""

from __future__ import annotations

from support import STORY, Harness, texts

from conversations.messages import Location

CIBATU_PIN = Location(-7.1056, 107.9861)  # the pin of a warung in Cibatu


async def test_a_topic_typed_early_then_its_button_pressed_is_taken_once_silently(
    bot: Harness,
) -> None:
    menu = await bot.send("halo")
    assert "Laporan Anda tentang apa" in texts(menu)
    asked = texts(await bot.send("uang palsu"))  # typed before the menu was seen
    assert "Di mana kejadiannya" in asked
    # ... then the button of that menu, pressed on the old message
    assert await bot.send(chosen_option="uang_palsu") == []
    # the place question is still the one being answered
    assert "Ceritakan apa yang terjadi" in texts(await bot.send("Cibatu"))


async def test_a_different_topic_pressed_late_changes_the_topic_with_a_notice(
    bot: Harness,
) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    replies = await bot.send(chosen_option="penipuan")
    assert len(replies) == 1
    assert "Topik diganti ke Penipuan" in replies[0].text
    assert "Di mana kejadiannya" in replies[0].text  # the question of the moment, again


async def test_a_place_name_sent_after_a_pin_is_not_read_as_the_story(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    asked = texts(await bot.send(location=CIBATU_PIN))
    assert "Ceritakan apa yang terjadi" in asked
    # the answer to the place question the citizen saw twice: one line, not "too short"
    [noted] = await bot.send("Cibatu")
    assert noted.text.startswith("Lokasi sudah tercatat:") and "Cibatu" in noted.text
    assert "\n" not in noted.text
    replies = await bot.send(STORY)
    assert "Apakah ada bukti" in texts(replies)
    assert "terlalu singkat" not in texts(replies)
    summary = texts(await bot.send("tidak ada"))
    assert summary.count(STORY) == 1 and "Cibatu" in summary


async def test_a_different_place_sent_late_changes_the_place_with_a_notice(
    bot: Harness,
) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    await bot.send(location=CIBATU_PIN)
    replies = await bot.send("Haurpanggung")
    assert len(replies) == 1
    text = replies[0].text
    assert "Lokasi diganti ke" in text and "Haurpanggung" in text
    assert "Ceritakan apa yang terjadi" in text


async def test_a_story_sent_twice_is_kept_once(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    await bot.send("Cibatu")
    await bot.send(STORY)
    more = "Pelakunya laki-laki memakai jaket hitam dan naik motor merah."
    await bot.send(more)  # at the evidence question: added to the story
    await bot.send(more)  # sent again: not added twice
    summary = texts(await bot.send("tidak ada"))
    assert summary.count(STORY) == 1 and summary.count(more) == 1


async def test_start_while_asked_whether_to_cancel_means_continue(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    assert "Batalkan" in texts(await bot.send("/batal"))
    [reply] = await bot.send("/mulai")
    assert "tetap disimpan" in reply.text and "Di mana kejadiannya" in reply.text
    assert "Batalkan" not in reply.text
    assert "Ceritakan apa yang terjadi" in texts(await bot.send("Cibatu"))


async def test_a_short_story_naming_a_place_or_a_topic_is_still_the_story(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("preman")
    await bot.send("Cibatu")
    asked = texts(await bot.send("Dijambret di Cibatu tadi"))  # a story, short but whole
    assert "Apakah ada bukti" in asked and "Lokasi" not in asked
    await bot.send("ada bukti transfer")  # at the evidence question: added to the story
    summary = texts(await bot.send("tidak ada"))
    assert "Dijambret di Cibatu tadi" in summary and "ada bukti transfer" in summary
    assert "Premanisme" in summary and "Penipuan" not in summary


async def test_a_landmark_at_the_place_question_is_a_place_not_a_topic(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("preman")
    replies = texts(await bot.send("kantor samsat"))
    assert "Topik diganti" not in replies


async def test_a_story_that_is_only_emoji_is_not_lost_as_a_repeat(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("uang palsu")
    await bot.send("Cibatu")
    await bot.send(STORY)
    await bot.send("😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡😡")  # 16 characters, no letters
    summary = texts(await bot.send("tidak ada"))
    assert "😡😡😡" in summary
