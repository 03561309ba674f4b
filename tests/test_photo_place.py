"""A photo whose EXIF carries a GPS position in Garut proposes its desa while the place is
unknown; the citizen confirms or types another; officers' copies stay without EXIF."""

from __future__ import annotations

import io
from fractions import Fraction

from PIL import Image
from support import Harness, texts

from bot.evidence.position import photo_position
from channels.recording import file_attachment
from conversations.messages import Location


def _rational(value: float) -> tuple[Fraction, Fraction, Fraction]:
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = Fraction((minutes_float - minutes) * 60).limit_denominator(10_000)
    return Fraction(degrees), Fraction(minutes), seconds


def jpeg_taken_at(lat: float | None, lon: float | None) -> bytes:
    """A small JPEG with (or without) an EXIF GPS block, as a phone camera writes it."""
    image = Image.new("RGB", (32, 24), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # make: a field that is not the position
    if lat is not None and lon is not None:
        gps = exif.get_ifd(0x8825)
        gps[1] = "S" if lat < 0 else "N"
        gps[2] = _rational(abs(lat))
        gps[3] = "W" if lon < 0 else "E"
        gps[4] = _rational(abs(lon))
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


# Desa Pasawahan, Kec. Tarogong Kaler (inside its boundary)
TAROGONG_KALER = (-7.1650, 107.8790)


def test_the_position_is_read_from_exif() -> None:
    where = photo_position(jpeg_taken_at(*TAROGONG_KALER))
    assert where is not None
    assert abs(where.lat - TAROGONG_KALER[0]) < 1e-4
    assert abs(where.lon - TAROGONG_KALER[1]) < 1e-4
    assert photo_position(jpeg_taken_at(None, None)) is None
    assert photo_position(b"not an image") is None


async def test_a_photo_taken_in_garut_proposes_its_place_and_yes_takes_it(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")  # uang palsu: now the place is asked
    photo = jpeg_taken_at(*TAROGONG_KALER)
    replies = texts(await bot.send(attachments=(file_attachment(photo),)))
    assert "Bukti diterima" in replies
    assert "Foto Anda diambil di" in replies and "Tarogong Kaler" in replies
    after = texts(await bot.send("ya"))
    assert "Ceritakan apa yang terjadi" in after
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.kecamatan_code == "32.05.04"
    assert conv.draft.lat is None  # the desa, not the camera's exact position


async def test_no_means_the_place_is_asked_and_a_photo_outside_garut_proposes_nothing(
    bot: Harness,
) -> None:
    await bot.send("halo")
    await bot.send("1")
    await bot.send(attachments=(file_attachment(jpeg_taken_at(*TAROGONG_KALER)),))
    replies = texts(await bot.send("bukan"))
    assert "ketik" in replies.lower()
    await bot.send("Leles")
    conv = await bot.app.store.load_conversation(bot.channel.sent[0].key)
    assert conv is not None and conv.draft is not None
    assert conv.draft.kecamatan_code == "32.05.09"


async def test_a_photo_from_bandung_is_only_evidence(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")
    bandung = jpeg_taken_at(-6.9147, 107.6098)
    replies = texts(await bot.send(attachments=(file_attachment(bandung),)))
    assert "Foto Anda diambil" not in replies
    assert "Bukti diterima" in replies


async def test_once_the_place_is_known_a_photo_does_not_reopen_it(bot: Harness) -> None:
    await bot.send("halo")
    await bot.send("1")
    await bot.send("Leles")
    replies = texts(await bot.send(attachments=(file_attachment(jpeg_taken_at(*TAROGONG_KALER)),)))
    assert "Foto Anda diambil" not in replies


def test_a_location_type_is_what_the_store_returns() -> None:
    assert isinstance(photo_position(jpeg_taken_at(*TAROGONG_KALER)), Location)
