"""The domain's words as types: a ticket's status, a staff member's role, what a reporter is
asked on behalf of a ticket, and the platforms TAROS speaks on.

Each is a :class:`~enum.StrEnum` whose values are the words stored in the database and used in
the contracts (the Indonesian status words, ``telegram:ID``), so a member compares equal to its
word and is written as it.
"""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    """``baru`` → ``diverifikasi`` → ``diproses`` → ``selesai``, or ``ditolak`` from any open
    state."""

    NEW = "baru"
    VERIFIED = "diverifikasi"
    IN_PROGRESS = "diproses"
    RESOLVED = "selesai"
    REJECTED = "ditolak"

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATUSES

    @property
    def step(self) -> int:
        """Place on the way to ``selesai`` (``ditolak`` stands beside the way, at -1)."""
        return _STEPS.get(self, -1)


CLOSED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.REJECTED})
_STEPS = {
    TicketStatus.NEW: 0,
    TicketStatus.VERIFIED: 1,
    TicketStatus.IN_PROGRESS: 2,
    TicketStatus.RESOLVED: 3,
}


class Role(StrEnum):
    OFFICER = "officer"
    KAPOLRES = "kapolres"
    ADMIN = "admin"

    @property
    def sees_every_unit(self) -> bool:
        """The Kapolres and admins work every unit's tickets."""
        return self in (Role.KAPOLRES, Role.ADMIN)


class PromptKind(StrEnum):
    """What a reporter's next message answers on behalf of a ticket."""

    RELAY = "relay"  # an officer's relayed question (/balas)
    CLOSING = "closing"  # "Apakah masalah Anda sudah tertangani?"


class ChannelName(StrEnum):
    """The platforms of ``CHANNEL:ID``; a chat key's channel is one of these."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
