"""Recognising chat commands: ``/status GRT-2026-00042`` on Telegram, and the same words with
or without ``/`` on WhatsApp and the console."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Command word -> canonical name. Indonesian first; English and Telegram's /start as aliases.
ALIASES: dict[str, str] = {
    "mulai": "mulai",
    "start": "mulai",
    "lapor": "mulai",
    "batal": "batal",
    "cancel": "batal",
    "bantuan": "bantuan",
    "help": "bantuan",
    "tolong": "bantuan",
    "status": "status",
    "bahasa": "bahasa",
    "language": "bahasa",
    "basa": "bahasa",
    "hapusdata": "hapusdata",
    "forgetme": "hapusdata",
}
# Words that are commands only with a slash: as bare words they are ordinary speech
# ("tolong" = "help me!", "lapor" = "I want to report ...").
SLASH_ONLY = {"tolong", "start", "lapor", "cancel", "help", "language", "basa", "forgetme"}

_COMMAND = re.compile(r"^\s*(/?)([A-Za-z]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_TICKET = re.compile(r"\b([A-Za-z]{2,6})\s*[-/ ]?\s*(\d{4})\s*[-/ ]?\s*(\d{1,5})\b")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str


def parse_command(text: str) -> Command | None:
    """A command when the message is one; bare words count only for short messages, so a
    chronology that happens to begin with "status" is not mistaken for a command."""
    if len(text) > 200:
        return None
    match = _COMMAND.match(text)
    if match is None:
        return None
    slash, word, args = match[1], match[2].lower(), (match[3] or "").strip()
    name = ALIASES.get(word)
    if name is None:
        return None
    if not slash:
        if word in SLASH_ONLY:
            return None
        if name in ("mulai", "batal", "bantuan", "hapusdata") and args:
            return None
        if name == "status" and args and parse_ticket_number(args) is None:
            return None
        if name == "bahasa" and len(args.split()) != 1:
            return None
    return Command(name, args)


def parse_ticket_number(text: str, prefix: str | None = None) -> str | None:
    """``grt 2026 42`` / ``GRT-2026-00042`` -> ``GRT-2026-00042``."""
    match = _TICKET.search(text)
    if match is None:
        return None
    letters = match[1].upper()
    if prefix is not None and letters != prefix:
        return None
    return f"{letters}-{match[2]}-{int(match[3]):05d}"
