"""What a citizen typed reaches staff masked and inert: numbers, e-mail addresses and NIK
masked (``0813****2222``), nothing invisible, no formatting a platform would render; only
the audited admin command shows the numbers as typed."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from support import Harness, register, reported, texts

from bot.identity import ChannelId
from bot.officers import reveal_reporter
from conversations import identifiers
from conversations.privacy import for_staff, visible

STORY = (
    "Saya Dewi 081311112222, tadi pagi ada yang belanja pakai uang palsu di warung saya. "
    "Pelakunya kabur, nomornya +62 812-3456-7891, email pelaku.jahat@gmail.com, "
    "NIK saya 3205123456780001.\x00 \u202ekebalik\u202c zero\u200bwidth *tebal* _miring_ "
    "~coret~ `kode`"
)
FULL = ["081311112222", "81311112222", "81234567891", "pelaku.jahat@gmail.com", "3205123456780001"]
INVISIBLE = ["\x00", "\u202e", "\u202c", "\u200b"]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def assert_inert(text: str) -> None:
    for value in FULL:
        assert value not in text and value not in digits(text), (value, text)
    for ch in INVISIBLE:
        assert ch not in text
    for mark in ("*tebal*", "_miring_", "~coret~", "`kode`"):
        assert mark not in text


def test_identifiers_are_found_and_masked() -> None:
    assert for_staff("Saya Dewi 081311112222") == "Saya Dewi 0813****2222"
    assert for_staff("+62 812-3456-7891") == "0812****7891"
    assert for_staff("NIK 3205123456780001") == "NIK 3205********0001"
    assert for_staff("ke rina.m@gmail.com ya") == "ke r****@gmail.com ya"
    # sums of money, times and dates are no numbers of anyone
    plain = "uang 100000 dan Rp 50.000, jam 08.30 tanggal 12/11/2026, 2 orang"
    assert for_staff(plain) == plain
    assert [f.kind for f in identifiers.find(STORY)] == ["phone", "phone", "email", "nik"]


def test_invisible_and_formatting_characters_are_neutralised() -> None:
    shown = for_staff(STORY)
    assert_inert(shown)
    assert "kebalik" in shown and "zerowidth" in shown
    assert "∗tebal∗" in shown and "ˍmiringˍ" in shown
    assert for_staff("baris satu\nbaris dua\u2028tiga") == "baris satu\nbaris dua\ntiga"


def _visible_by_category(text: str) -> str:
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\t":
            kept.append(ch)
        elif category in ("Zl", "Zp"):
            kept.append("\n")
        elif category not in ("Cc", "Cf", "Cs", "Co"):
            kept.append(ch)
    return "".join(kept)


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_plain_ascii_loses_exactly_what_any_text_loses(text: str) -> None:
    # a story in plain ASCII takes a shorter way through; it must end where any text does
    assert visible(text) == _visible_by_category(text)


async def test_officers_read_stories_and_replies_masked(bot: Harness) -> None:
    await register(bot)
    await register(bot, "admin", "admin", None, "Operator")
    number = await reported(bot, story=STORY)
    notice = texts(bot.channel.to("reskrim"))
    assert "0813****2222" in notice and "0812****7891" in notice
    assert_inert(notice)
    detail = texts(await bot.send(f"/status {number}", chat="reskrim"))
    assert "3205********0001" in detail
    assert_inert(detail)

    await bot.send(f"/balas {number} Mohon kirim nomor saksi", chat="reskrim")
    await bot.send("Saksinya Pak Ujang 0813-1111-2222, *segera*\u202e")
    reply = texts(bot.channel.to("reskrim")[-1:])
    assert "0813****2222" in reply and "1111" not in reply
    assert "*segera*" not in reply and "\u202e" not in reply
    history = texts(await bot.send(f"/status {number}", chat="reskrim"))
    assert "0813****2222" in history and "081311112222" not in digits(history)

    # the numbers as typed: for a registered admin only, audited
    shown = await reveal_reporter(
        bot.app.db, number, ChannelId(bot.channel.name, "admin"), now=bot.clock.now()
    )
    assert "081311112222" in shown.typed and "0813-1111-2222" in shown.typed
    assert "3205123456780001" in shown.typed
    audited = await bot.query("SELECT action FROM audit_log WHERE action = 'reporter.reveal'")
    assert audited == [("reporter.reveal",)]
