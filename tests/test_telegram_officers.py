"""Officers and the Kapolres on Telegram: a citizen's report reaches the unit's officer, who
works it through diproses to selesai; the citizen is told each time and answers the closing
question with a button; the Kapolres gets the digest text and chart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fake_bot_api import FakeBotApi
from test_telegram import (  # noqa: F401 - bot, fake: fixtures
    CATEGORY_Q,
    LOCATION_Q,
    Served,
    bot,
    fake,
    report,
    say,
)

from bot.identity import ChannelId
from bot.officers import add_officer

CITIZEN, OFFICER, KAPOLRES = 5001, 7001, 7009
ROOT = Path(__file__).resolve().parent.parent


async def add_kapolres(served: Served) -> None:
    await add_officer(
        served.app.db,
        ChannelId("telegram", str(KAPOLRES)),
        name="AKBP Kapolres",
        role="kapolres",
        unit=None,
        now=served.app.clock.now(),
    )


async def test_an_officer_works_a_report_to_the_end_on_telegram(
    bot: Served,  # noqa: F811 - the fixture imported above
    fake: FakeBotApi,  # noqa: F811
) -> None:
    now = bot.app.clock.now()
    await add_officer(
        bot.app.db,
        ChannelId("telegram", str(OFFICER)),
        name="Bripka Asep",
        role="officer",
        unit="SATRESKRIM",
        now=now,
    )
    await add_kapolres(bot)
    number = await report(fake, CITIZEN)
    notice = await fake.reply(OFFICER, f"Laporan baru {number}")
    assert "Kec. Cibatu" in notice and "Pelapor #" in notice
    assert str(CITIZEN) not in notice

    await say(fake, OFFICER, f"/status {number} proses tim menuju lokasi", "sekarang diproses")
    told = await fake.reply(CITIZEN, f"Perkembangan laporan {number}: diproses")
    assert "tim menuju lokasi" in told

    await say(fake, OFFICER, f"/status {number} selesai pelaku diamankan", "sekarang selesai")
    await fake.reply(CITIZEN, "Apakah masalah Anda sudah tertangani?")
    closing = fake.bot_messages(CITIZEN)[-1]
    labels = [b["text"] for row in closing["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Ya, sudah", "Belum"]
    seen = len(fake.bot_texts(CITIZEN))
    fake.press_option(CITIZEN, "closing:yes")
    await fake.reply(CITIZEN, "Terima kasih atas konfirmasinya", after=seen)
    rows = await bot.query("SELECT status, resolved_ok FROM tickets WHERE number = ?", (number,))
    assert rows == [("selesai", 1)]

    await say(fake, KAPOLRES, "/digest", "Ringkasan harian")
    await fake.wait_for(lambda: fake.calls_of("sendMediaGroup"), what="the chart and the map")
    album = fake.calls_of("sendMediaGroup")[-1]
    assert str(album.params.get("chat_id")) == str(KAPOLRES)
    photos = [m for m in fake.bot_messages(KAPOLRES) if m.get("media_group_id")]
    assert len(photos) == 2  # one album: the chart, then the map
    assert "Laporan per hari" in photos[0]["caption"] and "Peta laporan" in photos[1]["caption"]

    seen = len(fake.bot_messages(KAPOLRES))
    await say(fake, KAPOLRES, "/peta 30", "Peta laporan")
    assert "photo" in fake.bot_messages(KAPOLRES)[seen]


async def test_the_kapolres_gets_the_recap_as_two_documents_on_telegram(
    bot: Served,  # noqa: F811 - the fixture imported above
    fake: FakeBotApi,  # noqa: F811
) -> None:
    await add_kapolres(bot)
    assert await bot.app.recap_schedulers[1].send_due() is not None  # the monthly one
    await fake.reply(KAPOLRES, "Rekap bulanan — Polres Garut")
    await fake.wait_for(lambda: len(fake.calls_of("sendDocument")) == 2, what="both files")
    pdf, xlsx = fake.calls_of("sendDocument")
    assert {str(c.params.get("chat_id")) for c in (pdf, xlsx)} == {str(KAPOLRES)}
    assert pdf.params["document"].startswith(b"%PDF-")
    assert xlsx.params["document"].startswith(b"PK")  # a zip: the spreadsheet
    assert "rapat staf" in pdf.params["caption"]


async def test_an_officer_who_opens_the_bot_with_start_gets_the_officer_interface(
    bot: Served,  # noqa: F811 - the fixture imported above
    fake: FakeBotApi,  # noqa: F811
) -> None:
    """Telegram begins every new chat with /start: a registered officer gets their help, and
    their commands stay staff commands even while they write a report of their own."""
    await add_officer(
        bot.app.db,
        ChannelId("telegram", str(OFFICER)),
        name="Bripka Asep",
        role="officer",
        unit="SATRESKRIM",
        now=bot.app.clock.now(),
    )
    number = await report(fake, CITIZEN)
    await fake.reply(OFFICER, f"Laporan baru {number}")

    help_text = await say(fake, OFFICER, "/start", "Perintah petugas")
    assert "/status" in help_text and "/mulai" in help_text
    assert CATEGORY_Q not in "\n".join(fake.bot_texts(OFFICER))  # no citizen draft was opened

    details = await say(fake, OFFICER, f"/status {number}", f"Laporan {number}")
    assert "Status: baru" in details

    # The officer writes a report as a citizen, explicitly; staff commands still work.
    await say(fake, OFFICER, "/mulai", CATEGORY_Q)
    details = await say(fake, OFFICER, f"/status {number}", f"Laporan {number}")
    assert "tidak ditemukan" not in details
    await say(fake, OFFICER, f"/balas {number} Mohon kirim foto uangnya", "Terkirim ke")
    await fake.reply(CITIZEN, "Mohon kirim foto uangnya")
    await say(fake, OFFICER, "/bantuan", "Perintah petugas")
    # ... and the officer's own draft is kept where it was (its menu was put away when they
    # typed: they answer by typing).
    await say(fake, OFFICER, "uang palsu", LOCATION_Q)
    rows = await bot.query(
        "SELECT COUNT(*) FROM tickets t JOIN identities i ON i.reporter_id = t.reporter_id"
        " WHERE i.external_id = ?",
        (str(OFFICER),),
    )
    assert rows == [(0,)]


def test_taros_digest_send_delivers_over_telegram(tmp_path: Path) -> None:
    import asyncio

    async def scenario() -> None:
        async with FakeBotApi() as server:
            env = {
                **os.environ,
                "TAROS_DATA_DIR": str(tmp_path / "data"),
                "TAROS_TELEGRAM_TOKEN": server.token,
                "TAROS_TELEGRAM_API_URL": server.url,
            }

            def taros(*args: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [sys.executable, "-m", "bot.cli", *args],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    cwd=ROOT,
                )

            added = await asyncio.to_thread(
                taros,
                "officer",
                "add",
                f"telegram:{KAPOLRES}",
                "--name",
                "Kapolres",
                "--role",
                "kapolres",
            )
            assert added.returncode == 0, added.stderr
            sent = await asyncio.to_thread(taros, "digest", "--send")
            assert sent.returncode == 0, sent.stdout + sent.stderr
            text = await server.reply(KAPOLRES, "Ringkasan harian")
            assert re.search(r"\d{4}", text)
            await server.wait_for(lambda: server.calls_of("sendMediaGroup"), what="the album")
            assert server.token not in sent.stdout + sent.stderr

    asyncio.run(scenario())
