"""The usual way to build this bot, for comparison: a python-telegram-bot ``Application``
with a ``ConversationHandler`` for the intake, ``PicklePersistence`` for its state and
``AIORateLimiter`` for Telegram's limits, every setting at its default (so updates are handled
one at a time, and a 429 after the limiter's zero retries is the handler's error).

It asks the same questions as TAROS, with the same buttons, downloads the photo, and gives a
ticket number kept in ``bot_data`` (saved by the persistence). Every message a handler asks
PTB to send is first appended to ``intended.jsonl``, so the burst benchmark can tell what
was lost or duplicated.

    python -m bench.ptb_baseline --citizens 500   # the burst against the baseline only
    python -m bench.ptb_baseline --serve URL --token T --work DIR   # the bot itself

Needs the ``rate-limiter`` extra of python-telegram-bot (``pip install -e .[dev]`` has it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from bot.ops.process import configure_process

CATEGORY, LOCATION, STORY, EVIDENCE, SUMMARY = range(5)

CATEGORIES = (
    ("uang_palsu", "Uang palsu (upal)"),
    ("pencurian", "Pencurian / curanmor / begal"),
    ("penipuan", "Penipuan (online / telepon / COD)"),
    ("narkoba", "Narkoba / obat terlarang"),
    ("premanisme", "Premanisme / pungli / pemerasan"),
    ("kecelakaan", "Kecelakaan lalu lintas"),
    ("layanan_sim", "Layanan SIM / STNK / SKCK"),
    ("antar_barang", "Pengantaran barang / paket"),
    ("more", "Lainnya…"),
)
WELCOME = (
    "Selamat datang di TAROS, layanan pengaduan Kapolres Garut.\n"
    "Nomor Anda tidak akan disebarkan. Jika darurat, hubungi 110. Mohon jangan iseng."
)
CATEGORY_Q = "Laporan Anda tentang apa? Pilih nomor, atau ketik dengan kata-kata Anda sendiri."
LOCATION_Q = (
    "Di mana kejadiannya? Kirim pin lokasi, atau ketik kecamatan dan desa/kelurahan,"
    " mis. Cibatu, dekat pasar."
)
STORY_Q = (
    "Ceritakan apa yang terjadi: kapan, tepatnya di mana, siapa yang terlibat, dan apa yang"
    " Anda lihat."
)
EVIDENCE_Q = (
    "Apakah ada bukti? Kirim foto, video, dokumen, atau voice note. Ketik selesai jika sudah,"
    " atau tidak ada."
)
EVIDENCE_OPTIONS = (("done", "Selesai"), ("none", "Tidak ada"))
SUMMARY_OPTIONS = (("submit", "Kirim"), ("edit", "Ubah"), ("cancel", "Batal"))


def _intended(work: Path) -> Any:
    return (work / "intended.jsonl").open("a", buffering=1)


def build(url: str, token: str, work: Path) -> Any:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import (
        AIORateLimiter,
        ApplicationBuilder,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
        MessageHandler,
        PicklePersistence,
        filters,
    )
    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings("ignore", category=PTBUserWarning)  # per_message advice
    media = work / "media"
    media.mkdir(parents=True, exist_ok=True)
    log = _intended(work)

    def keyboard(options: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=f"o:{code}")] for code, label in options]
        )

    async def say(
        context: ContextTypes.DEFAULT_TYPE,
        chat: int,
        text: str,
        options: tuple[tuple[str, str], ...] = (),
    ) -> None:
        log.write(json.dumps({"chat": chat, "text": text}) + "\n")
        await context.bot.send_message(
            chat, text, reply_markup=keyboard(options) if options else None
        )

    async def pressed(update: Update, labels: tuple[tuple[str, str], ...]) -> str:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer()
        code = query.data.removeprefix("o:")
        label = dict(labels).get(code, code)
        message = query.message
        text = getattr(message, "text", None) or ""
        await query.edit_message_text(f"{text}\n\n» {label}")
        return code

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        context.user_data.clear()  # type: ignore[union-attr]
        await say(context, chat, WELCOME)
        await say(context, chat, CATEGORY_Q, CATEGORIES)
        return CATEGORY

    async def category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        context.user_data["category"] = await pressed(update, CATEGORIES)  # type: ignore[index]
        await say(context, chat, LOCATION_Q)
        return LOCATION

    async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        pin = update.effective_message.location  # type: ignore[union-attr]
        context.user_data["pin"] = (pin.latitude, pin.longitude)  # type: ignore[index,union-attr]
        await say(context, chat, "Lokasi diterima.")
        await say(context, chat, STORY_Q)
        return STORY

    async def story(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        context.user_data["story"] = update.effective_message.text  # type: ignore[index,union-attr]
        context.user_data["evidence"] = []  # type: ignore[index]
        await say(context, chat, EVIDENCE_Q, EVIDENCE_OPTIONS)
        return EVIDENCE

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        largest = update.effective_message.photo[-1]  # type: ignore[union-attr]
        file = await context.bot.get_file(largest.file_id)
        data = bytes(await file.download_as_bytearray())
        digest = hashlib.sha256(data).hexdigest()
        (media / digest).write_bytes(data)
        evidence = context.user_data.setdefault("evidence", [])  # type: ignore[union-attr]
        evidence.append(digest)
        await say(context, chat, f"Bukti diterima (sejauh ini {len(evidence)} file).")
        return EVIDENCE

    async def summary(context: ContextTypes.DEFAULT_TYPE, chat: int) -> int:
        data = context.user_data  # type: ignore[assignment]
        text = (
            "Ringkasan laporan Anda:\n"
            f"• Topik: {dict(CATEGORIES).get(data.get('category'), '-')}\n"  # type: ignore[union-attr]
            f"• Lokasi: {data.get('pin')}\n"  # type: ignore[union-attr]
            f"• Kejadian: {data.get('story')}\n"  # type: ignore[union-attr]
            f"• Bukti: {len(data.get('evidence', []))} file"  # type: ignore[union-attr]
        )
        await say(context, chat, text, SUMMARY_OPTIONS)
        return SUMMARY

    async def evidence_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        return await summary(context, update.effective_chat.id)  # type: ignore[union-attr]

    async def evidence_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await pressed(update, EVIDENCE_OPTIONS)
        return await summary(context, update.effective_chat.id)  # type: ignore[union-attr]

    async def submit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        code = await pressed(update, SUMMARY_OPTIONS)
        if code != "submit":
            await say(context, chat, "Laporan Anda dibatalkan.")
            return ConversationHandler.END
        seq = context.bot_data.get("seq", 0) + 1
        context.bot_data["seq"] = seq
        number = f"GRT-2026-{seq:05d}"
        context.bot_data.setdefault("tickets", {})[number] = dict(context.user_data or {})
        await say(
            context,
            chat,
            f"Terima kasih. Laporan Anda sudah kami terima dengan nomor {number}.\n"
            "Petugas akan menindaklanjuti dalam 24 jam.\n"
            f"Cek perkembangannya kapan saja: /status {number}",
        )
        return ConversationHandler.END

    async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await say(context, update.effective_chat.id, "Laporan Anda dibatalkan.")  # type: ignore[union-attr]
        return ConversationHandler.END

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .persistence(PicklePersistence(filepath=work / "baseline.pickle"))
        .rate_limiter(AIORateLimiter())
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler(["start", "mulai"], start)],
            states={
                CATEGORY: [CallbackQueryHandler(category, pattern=r"^o:")],
                LOCATION: [MessageHandler(filters.LOCATION, location)],
                STORY: [MessageHandler(filters.TEXT & ~filters.COMMAND, story)],
                EVIDENCE: [
                    MessageHandler(filters.PHOTO, photo),
                    MessageHandler(
                        filters.Regex(r"(?i)^\s*(selesai|tidak ada)\s*$"), evidence_done
                    ),
                    CallbackQueryHandler(evidence_button, pattern=r"^o:(done|none)$"),
                ],
                SUMMARY: [CallbackQueryHandler(submit, pattern=r"^o:")],
            },
            fallbacks=[CommandHandler("batal", cancel)],
            name="intake",
            persistent=True,
        )
    )
    return application


def serve(url: str, token: str, work: Path) -> None:
    logging.basicConfig(level=logging.WARNING)
    work.mkdir(parents=True, exist_ok=True)
    build(url, token, work).run_polling()  # stops on SIGTERM, saving the persistence


def main(argv: list[str] | None = None) -> int:
    configure_process()  # as the taros command does at start
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--serve", metavar="URL", help="run the bot against this Bot API")
    parser.add_argument("--token")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--targets", action="store_true")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.token, args.work)
        return 0
    from bench import telegram_burst

    extra = ["--targets"] if args.targets else []
    return telegram_burst.main(["--only", "baseline", "--citizens", str(args.citizens), *extra])


if __name__ == "__main__":
    raise SystemExit(main())
