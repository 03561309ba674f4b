"""``CHANNEL:ID`` as operators write it: ``telegram:<user id>``, ``whatsapp:<phone 62...>``,
``console:<name>``."""

from __future__ import annotations

import re
from dataclasses import dataclass

CHANNELS = ("console", "telegram", "whatsapp")


@dataclass(frozen=True, slots=True)
class ChannelId:
    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"


def parse_channel_id(text: str) -> ChannelId:
    channel, sep, ident = text.strip().partition(":")
    channel = channel.lower()
    if not sep or channel not in CHANNELS or not ident:
        raise ValueError(
            f"{text!r} is not CHANNEL:ID (telegram:<user id>, whatsapp:<62...>, console:<name>)"
        )
    if channel == "telegram" and not re.fullmatch(r"-?\d{1,20}", ident):
        raise ValueError(f"telegram id must be a number, not {ident!r}")
    if channel == "whatsapp":
        digits = re.sub(r"[\s\-+().]", "", ident)
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        if not re.fullmatch(r"62\d{8,13}", digits):
            raise ValueError(f"whatsapp id must be a phone number like 62811..., not {ident!r}")
        ident = digits
    if channel == "console" and not re.fullmatch(r"[\w.\-]{1,64}", ident):
        raise ValueError(f"console name may use letters, digits, '.', '-' and '_': {ident!r}")
    return ChannelId(channel, ident)
