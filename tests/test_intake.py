"""Whole conversations through the engine, as a citizen sees them."""

from __future__ import annotations

import re

import pytest
from support import Harness, texts

from channels.recording import file_attachment
from conversations.engine import Handled
from conversations.messages import AttachmentKind, InboundKind, Location
from conversations.state import Step

TICKET = re.compile(r"GRT-\d{4}-\d{5}")
STORY = "Tadi pagi jam 9 ada orang belanja di warung saya pakai uang palsu 100 ribu."


async def step_of(bot: Harness, chat: str = "warga") -> Step:
    conv = await bot.app.store.load_conversation(bot.channel.to(chat)[0].key)
    assert conv is not None
    return conv.step


async def ticket_rows(bot: Harness) -> list[tuple[object, ...]]:
    return await bot.query(
        "SELECT number, category, kecamatan_code, desa_code, address, chronology, status,"
        " lat, lon, outside_garut FROM tickets ORDER BY id"
    )


async def complete_report(bot: Harness, chat: str = "warga") -> str:
    await bot.send("halo", chat=chat)
    await bot.send("1", chat=chat)
    await bot.send("Cibatu", chat=chat)
    await bot.send(STORY, chat=chat)
    await bot.send("tidak ada", chat=chat)
    replies = await bot.send("1", chat=chat)
    found = TICKET.search(texts(replies))
    assert found, texts(replies)
    return found.group()


# --- the happy path ----------------------------------------------------------------------


async def test_a_full_report_from_greeting_to_ticket(bot: Harness) -> None:
    greeting = texts(await bot.send("P"))
    assert "Nomor Anda kami rahasiakan" in greeting
    assert "110" in greeting
    assert "jangan iseng" in greeting
    assert "1. Uang palsu (upal)" in greeting

    assert "Di mana kejadiannya?" in texts(await bot.send("1"))
    assert "Ceritakan apa yang terjadi" in texts(await bot.send("Cibatu, dekat pasar"))
    assert "Apakah ada bukti?" in texts(await bot.send(STORY))
    summary = texts(await bot.send("tidak ada"))
    assert "Topik: Uang palsu (upal)" in summary
    assert "Kec. Cibatu" in summary
    assert "Bukti: tidak ada" in summary

    done = texts(await bot.send("1"))
    number = TICKET.search(done)
    assert number is not None
    assert number.group() == "GRT-2026-00001"
    assert "24 jam" in done
    assert f"/status {number.group()}" in done
    assert "WIB" in done  # the due time, in Garut's zone

    rows = await ticket_rows(bot)
    assert rows == [
        (
            "GRT-2026-00001",
            "uang_palsu",
            "32.05.12",
            None,
            "Cibatu, dekat pasar",
            STORY,
            "baru",
            None,
            None,
            0,
        )
    ]
    unit = await bot.query("SELECT unit, due_at > created_at FROM tickets")
    assert unit == [("SATRESKRIM", 1)]
    events = await bot.query("SELECT kind, to_status FROM ticket_events")
    assert events == [("created", "baru")]
    assert await step_of(bot) == Step.IDLE


@pytest.mark.parametrize(
    ("answer", "category"),
    [
        ("1", "uang_palsu"),
        ("Penipuan (online / telepon / COD)", "penipuan"),
        ("curanmor", "pencurian"),
        ("penipuann", "penipuan"),  # a typo
        ("upal", "uang_palsu"),
        ("kdrt", "kekerasan"),  # a topic that is not in the short menu
    ],
)
async def test_the_category_is_chosen_by_number_label_or_word(
    bot: Harness, answer: str, category: str
) -> None:
    await bot.send("halo")
    assert "Di mana kejadiannya?" in texts(await bot.send(answer))
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.category == category


async def test_the_category_is_chosen_by_button_and_from_the_longer_list(bot: Harness) -> None:
    await bot.send("halo")
    more = texts(await bot.send("", chosen_option="more"))
    assert "Minuman keras (miras)" in more
    assert "Kembali ke topik utama" in more
    back = texts(await bot.send("Kembali ke topik utama"))
    assert "1. Uang palsu (upal)" in back
    await bot.send("9")
    assert "Di mana kejadiannya?" in texts(await bot.send("", chosen_option="miras"))


async def test_a_forged_or_stale_button_changes_nothing(bot: Harness) -> None:
    await bot.send("halo")
    replies = texts(await bot.send("", chosen_option="field:category"))
    assert "Tombol itu sudah tidak berlaku" in replies
    assert await step_of(bot) == Step.CATEGORY


async def test_an_unknown_topic_is_asked_again_then_skip_and_cancel_are_offered(
    bot: Harness,
) -> None:
    await bot.send("halo")
    first = texts(await bot.send("asdfgh"))
    assert "Topik itu belum saya kenali" in first
    assert "1. Uang palsu (upal)" in first
    assert "Lewati" not in first
    await bot.send("qwerty")
    third = await bot.send("zzzz")
    assert "Contoh: ketik 1 atau 'uang palsu'." in texts(third)
    labels = [o.label for o in third[-1].options]
    assert labels[-2:] == ["Lewati pertanyaan ini", "Batalkan laporan"]
    assert "Di mana kejadiannya?" in texts(await bot.send(str(len(labels) - 1)))
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.category == "lainnya"


async def test_cancel_offered_after_three_invalid_answers_cancels(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")
    await bot.send("Cibatu")
    for short in ("tadi", "ada", "itu"):
        last = await bot.send(short)
    assert "terlalu singkat" in texts(last)
    labels = [o.label for o in last[-1].options]
    assert labels == ["Batalkan laporan"]  # the story cannot be skipped
    assert "Batalkan laporan ini?" in texts(await bot.send("1"))
    assert "dibatalkan" in texts(await bot.send("ya"))
    assert await step_of(bot) == Step.IDLE
    assert await ticket_rows(bot) == []


# --- location --------------------------------------------------------------------------


async def reach_location(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")


async def draft_of(bot: Harness):  # type: ignore[no-untyped-def]
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    return conv.draft


async def test_a_shared_pin_is_mapped_to_its_kecamatan_and_desa(bot: Harness) -> None:
    await reach_location(bot)
    replies = texts(await bot.send(location=Location(-7.0853, 107.9983, "Pasar Cibatu")))
    assert "Lokasi diterima" in replies
    assert "Kec. Cibatu" in replies
    assert "Ceritakan apa yang terjadi" in replies
    draft = await draft_of(bot)
    assert draft.kecamatan_code == "32.05.12"
    assert draft.desa_code is not None and draft.desa_code.startswith("32.05.12.")
    assert (draft.lat, draft.lon) == (-7.0853, 107.9983)
    assert draft.address == "Pasar Cibatu"


async def test_a_pin_outside_garut_is_recorded_and_the_citizen_reassured(bot: Harness) -> None:
    await reach_location(bot)
    replies = texts(await bot.send(location=Location(-6.2, 106.8)))
    assert "di luar Kabupaten Garut" in replies
    assert "tetap akan dibaca" in replies
    draft = await draft_of(bot)
    assert draft.outside_garut and draft.kecamatan_code is None
    assert (draft.lat, draft.lon) == (-6.2, 106.8)


@pytest.mark.parametrize(
    ("typed", "kecamatan", "desa"),
    [
        ("Cibatu", "32.05.12", None),
        ("Balubur Limbangan", "32.05.38", None),
        ("Pamengpeuk, dekat alun-alun", "32.05.27", None),
        ("Ds. Sukamaju Kec. Cilawu", "32.05.19", "32.05.19."),
    ],
)
async def test_a_typed_place_is_matched_with_its_spelling_variants(
    bot: Harness, typed: str, kecamatan: str, desa: str | None
) -> None:
    await reach_location(bot)
    assert "Ceritakan apa yang terjadi" in texts(await bot.send(typed))
    draft = await draft_of(bot)
    assert draft.kecamatan_code == kecamatan
    if desa is None:
        assert draft.desa_code is None
    else:
        assert draft.desa_code is not None and draft.desa_code.startswith(desa)
    assert draft.address == typed


async def test_a_desa_in_several_kecamatan_makes_the_bot_ask_which(bot: Harness) -> None:
    await reach_location(bot)
    question = await bot.send("mekarsari")
    assert "Mekarsari ada di beberapa kecamatan" in texts(question)
    labels = [o.label for o in question[-1].options]
    assert len(labels) == 8
    assert all(label.startswith("Desa Mekarsari, Kec. ") for label in labels)
    pick = next(i for i, label in enumerate(labels, 1) if label.endswith("Cibatu"))
    assert "Ceritakan apa yang terjadi" in texts(await bot.send(str(pick)))
    draft = await draft_of(bot)
    assert draft.kecamatan_code == "32.05.12"
    assert draft.desa_code is not None and draft.desa_code.startswith("32.05.12.")


async def test_the_kecamatan_can_be_typed_to_resolve_an_ambiguous_desa(bot: Harness) -> None:
    await reach_location(bot)
    await bot.send("mekarsari")
    await bot.send("yang di cibatu")
    draft = await draft_of(bot)
    assert draft.kecamatan_code == "32.05.12"


async def test_an_unsure_place_is_confirmed_first(bot: Harness) -> None:
    await reach_location(bot)
    question = texts(await bot.send("cikajng"))  # a typo of Cikajang
    assert "Maksud Anda Kec. Cikajang?" in question
    assert await step_of(bot) == Step.LOCATION_CONFIRM
    assert "Ceritakan apa yang terjadi" in texts(await bot.send("ya"))
    assert (await draft_of(bot)).kecamatan_code == "32.05.22"


async def test_an_unsure_place_denied_is_asked_again(bot: Harness) -> None:
    await reach_location(bot)
    await bot.send("cikajng")
    assert "ketik lagi" in texts(await bot.send("bukan"))
    assert await step_of(bot) == Step.LOCATION
    await bot.send("Cisurupan")
    assert (await draft_of(bot)).kecamatan_code == "32.05.20"


async def test_a_place_outside_garut_is_recorded_as_written(bot: Harness) -> None:
    await reach_location(bot)
    replies = texts(await bot.send("di Bandung, jalan Asia Afrika"))
    assert "Bandung berada di luar Kabupaten Garut" in replies
    assert "Ceritakan apa yang terjadi" in replies
    draft = await draft_of(bot)
    assert draft.outside_garut
    assert draft.address == "di Bandung, jalan Asia Afrika"


async def test_an_unknown_place_is_never_invented(bot: Harness) -> None:
    await reach_location(bot)
    replies = texts(await bot.send("di rumah saya"))
    assert "tidak saya temukan di Kabupaten Garut" in replies
    assert await step_of(bot) == Step.LOCATION
    assert (await draft_of(bot)).kecamatan_code is None


# --- chronology ------------------------------------------------------------------------


async def reach_chronology(bot: Harness) -> None:
    await reach_location(bot)
    await bot.send("Cibatu")


async def test_a_story_too_short_to_act_on_is_asked_again_politely(bot: Harness) -> None:
    await reach_chronology(bot)
    replies = texts(await bot.send("upal pak"))
    assert "terlalu singkat" in replies
    assert await step_of(bot) == Step.CHRONOLOGY
    assert "Apakah ada bukti?" in texts(await bot.send(STORY))


async def test_a_very_long_story_is_kept_up_to_4000_characters_with_a_notice(
    bot: Harness,
) -> None:
    await reach_chronology(bot)
    replies = texts(await bot.send("a" * 2500 + " " + "b" * 3000))
    assert "4.000 karakter pertama" in replies
    assert len((await draft_of(bot)).chronology) == 4000


# --- evidence --------------------------------------------------------------------------


async def reach_evidence(bot: Harness) -> None:
    await reach_chronology(bot)
    await bot.send(STORY)


async def test_photos_documents_and_voice_notes_are_kept_by_their_hash(bot: Harness) -> None:
    await reach_evidence(bot)
    photo = b"\xff\xd8 a photo of the fake note"
    voice = b"OggS a voice note"
    first = texts(await bot.send("ini fotonya", attachments=(file_attachment(photo),)))
    assert "Bukti diterima (sejauh ini 1 file)" in first
    await bot.send(
        attachments=(file_attachment(voice, kind=AttachmentKind.VOICE, mime="audio/ogg"),)
    )
    await bot.send(
        attachments=(
            file_attachment(
                b"%PDF receipt",
                kind=AttachmentKind.DOCUMENT,
                mime="application/pdf",
                filename="../../etc/passwd",
            ),
        )
    )
    summary = texts(await bot.send("selesai"))
    assert "Bukti: 3 file" in summary
    number = TICKET.search(texts(await bot.send("1")))
    assert number is not None
    rows = await bot.query("SELECT kind, mime, size, sha256, stored_path FROM evidence ORDER BY id")
    assert [r[0] for r in rows] == ["photo", "voice", "document"]
    import hashlib

    assert rows[0][3] == hashlib.sha256(photo).hexdigest()
    stored = bot.app.media.path_of(str(rows[0][4]))
    assert stored.read_bytes() == photo
    assert stored.parent.parent == bot.app.settings.media_dir
    assert all(".." not in str(r[4]) for r in rows)


async def test_no_evidence_is_recorded_as_none(bot: Harness) -> None:
    await reach_evidence(bot)
    assert "Bukti: tidak ada" in texts(await bot.send("tidak ada"))


async def test_a_file_over_the_limit_is_refused_before_download(bot: Harness) -> None:
    await reach_evidence(bot)
    downloaded = False

    async def fetch() -> bytes:
        nonlocal downloaded
        downloaded = True
        return b""

    from conversations.messages import Attachment

    huge = Attachment(AttachmentKind.VIDEO, "video/mp4", 200 * 1024 * 1024, fetch)
    replies = texts(await bot.send(attachments=(huge,)))
    assert "terlalu besar (maksimal 20 MB)" in replies
    assert not downloaded
    assert (await draft_of(bot)).evidence == []


async def test_more_than_ten_files_are_refused_with_a_clear_message(bot: Harness) -> None:
    await reach_evidence(bot)
    for i in range(10):
        await bot.send(attachments=(file_attachment(f"photo {i}".encode()),))
    replies = texts(await bot.send(attachments=(file_attachment(b"photo 11"),)))
    assert "paling banyak 10 file" in replies
    assert len((await draft_of(bot)).evidence) == 10


async def test_a_failed_download_is_told_to_the_citizen(bot: Harness) -> None:
    await reach_evidence(bot)

    async def broken() -> bytes:
        raise ConnectionError("media link expired")

    from conversations.messages import Attachment

    replies = texts(
        await bot.send(attachments=(Attachment(AttachmentKind.PHOTO, "image/jpeg", 10, broken),))
    )
    assert "gagal saya unduh" in replies
    assert (await draft_of(bot)).evidence == []


async def test_a_photo_sent_early_is_kept_as_evidence(bot: Harness) -> None:
    replies = texts(await bot.send("tolong pak", attachments=(file_attachment(b"early"),)))
    assert "Bukti diterima" in replies
    assert "Laporan Anda tentang apa?" in replies
    assert len((await draft_of(bot)).evidence) == 1


# --- summary, edit, cancel -------------------------------------------------------------


async def reach_summary(bot: Harness) -> None:
    await reach_evidence(bot)
    await bot.send("tidak ada")


async def test_each_field_can_be_edited_from_the_summary(bot: Harness) -> None:
    await reach_summary(bot)
    assert "Bagian mana yang ingin diubah?" in texts(await bot.send("2"))
    assert "Laporan Anda tentang apa?" in texts(await bot.send("Topik"))
    summary = texts(await bot.send("penipuan"))
    assert "Topik: Penipuan" in summary  # straight back to the summary

    await bot.send("2")
    await bot.send("2")  # Lokasi
    assert "Lokasi: Kec. Leles" in texts(await bot.send("Leles"))

    await bot.send("ubah")
    await bot.send("3")  # Kronologi
    assert "Kronologi: Barang COD tidak pernah datang" in texts(
        await bot.send("Barang COD tidak pernah datang padahal sudah bayar")
    )

    await bot.send("2")
    await bot.send("4")  # Bukti
    await bot.send(attachments=(file_attachment(b"screenshot"),))
    assert "Bukti: 1 file" in texts(await bot.send("selesai"))

    await bot.send("ya")
    rows = await ticket_rows(bot)
    assert len(rows) == 1
    assert rows[0][1:3] == ("penipuan", "32.05.09")


async def test_cancel_asks_to_confirm_and_then_forgets_the_draft(bot: Harness) -> None:
    await reach_summary(bot)
    assert "Batalkan laporan ini?" in texts(await bot.send("/batal"))
    back = texts(await bot.send("tidak"))
    assert "Ringkasan laporan Anda" in back
    await bot.send("3")  # "Batalkan laporan" from the summary
    assert "dibatalkan" in texts(await bot.send("ya"))
    assert await step_of(bot) == Step.IDLE
    assert await ticket_rows(bot) == []
    again = texts(await bot.send("/mulai"))
    assert "Laporan Anda tentang apa?" in again
    assert (await draft_of(bot)).category is None


async def test_cancel_without_a_draft_says_so(bot: Harness) -> None:
    assert "Tidak ada laporan yang sedang dibuat" in texts(await bot.send("/batal"))


async def test_mulai_during_a_draft_continues_it(bot: Harness) -> None:
    await reach_chronology(bot)
    replies = texts(await bot.send("/mulai"))
    assert "mari kita lanjutkan" in replies
    assert "Ceritakan apa yang terjadi" in replies


async def test_help_then_the_same_question_again(bot: Harness) -> None:
    await reach_location(bot)
    replies = texts(await bot.send("/bantuan"))
    assert "/status NOMOR" in replies
    assert "Di mana kejadiannya?" in replies
    assert await step_of(bot) == Step.LOCATION


async def test_status_shows_only_the_reporters_own_tickets(bot: Harness) -> None:
    number = await complete_report(bot, chat="ani")
    own = texts(await bot.send(f"/status {number}", chat="ani"))
    assert f"Laporan {number}" in own
    assert "Status: baru" in own
    assert "Kec. Cibatu" in own
    other = texts(await bot.send(f"/status {number}", chat="budi"))
    assert "tidak ditemukan" in other
    assert "Cibatu" not in other
    assert "Anda belum pernah mengirim laporan" in texts(await bot.send("/status", chat="budi"))
    assert number in texts(await bot.send("status", chat="ani"))
    assert "Tulis nomor laporan" in texts(await bot.send("/status abc", chat="ani"))


async def test_the_language_is_chosen_per_user(bot: Harness) -> None:
    await reach_location(bot)
    english = texts(await bot.send("/bahasa en"))
    assert "From now on I will write in English." in english
    assert "Where did it happen?" in english
    # another citizen at the same time still reads Indonesian
    assert "Laporan Anda tentang apa?" in texts(await bot.send("halo", chat="budi"))
    assert "Please tell us what happened" in texts(await bot.send("Cibatu"))
    sunda = texts(await bot.send("/bahasa su"))
    assert "Basa Sunda" in sunda
    assert "Mangga caritakeun" in sunda
    assert "Pilih basa" in texts(await bot.send("/bahasa klingon"))  # in Sundanese now


async def test_unsupported_input_is_explained_and_nothing_stored(bot: Harness) -> None:
    replies = texts(await bot.send(kind=InboundKind.UNSUPPORTED))
    assert "Saya menerima teks, foto, video, dokumen, voice note, dan pin lokasi" in replies
    assert await bot.query("SELECT * FROM conversations") == []
    await reach_location(bot)
    replies = texts(await bot.send("   "))
    assert "Di mana kejadiannya?" in replies  # the question again
    assert await step_of(bot) == Step.LOCATION


# --- delivery and durability -------------------------------------------------------------


async def test_a_redelivered_message_is_ignored(bot: Harness) -> None:
    from channels.recording import inbound

    await reach_summary(bot)
    submit = inbound("1", message_id="tg-777", when=bot.clock.now())
    await bot.deliver(submit)
    assert bot.last_outcome == Handled.APPLIED
    assert await bot.deliver(submit) == []
    assert bot.last_outcome == Handled.DUPLICATE
    assert len(await ticket_rows(bot)) == 1
