"""Who wrote: WhatsApp's two names for one person, and the key TAROS gives them.

WhatsApp addresses a user by phone number (``6281234567890@s.whatsapp.net``) or by a hidden
"linked identity" (``123456789012345@lid``). A message names one of them, and the other in
``SenderAlt`` when WhatsApp shares it. TAROS keys a WhatsApp conversation (chat id and sender
id alike) by the phone number as E.164 digits (``6281234567890``) whenever it is known, else
by ``<lid>@lid``.

:class:`Contacts` remembers, in the channel's own file in the data dir, everyone who wrote,
with both names once seen. A person keeps the key of their first message for good, so the
two names never split one person into two dialogues, and the bot writes only to people who
wrote to it first.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers

from channels.whatsapp.files import private_sqlite

__all__ = [
    "CONTACTS",
    "LID_SERVER",
    "PHONE_SERVER",
    "Contacts",
    "Person",
    "Resolved",
    "jid_of",
    "lid_key",
    "phone_key",
]

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
CONTACTS = "whatsapp-contacts.sqlite3"
_LID = re.compile(r"[0-9]{1,32}")


def phone_key(user: object) -> str | None:
    """A phone number as E.164 digits without the ``+`` (``6281234567890``), or None when
    ``user`` is not a possible phone number."""
    if not isinstance(user, str):
        return None
    digits = user.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or not 7 <= len(digits) <= 15:
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def lid_key(user: object) -> str | None:
    """A linked identity as a key (``123…@lid``), or None when ``user`` is not one."""
    if not isinstance(user, str) or not _LID.fullmatch(user):
        return None
    return f"{user}@lid"


def jid_of(key: str) -> tuple[str, str]:
    """The (user, server) of the JID a key stands for."""
    if key.endswith("@" + LID_SERVER) and _LID.fullmatch(key[: -len(LID_SERVER) - 1]):
        return key[: -len(LID_SERVER) - 1], LID_SERVER
    if phone_key(key) == key:
        return key, PHONE_SERVER
    raise ValueError(f"not a WhatsApp chat id: {key!r}")


@dataclass(frozen=True, slots=True)
class Person:
    """What one message says about its sender: phone number, linked identity, or both."""

    phone: str | None = None  # E.164 digits
    lid: str | None = None  # the key form, "<digits>@lid"

    @classmethod
    def of(cls, phone_user: object, lid_user: object) -> Person | None:
        person = cls(phone_key(phone_user), lid_key(lid_user))
        return person if person.phone or person.lid else None

    @property
    def key(self) -> str:
        key = self.phone or self.lid
        assert key is not None
        return key


@dataclass(frozen=True, slots=True)
class Resolved:
    key: str  # the conversation key: chat id and sender id
    aliases: tuple[str, ...]  # the person's other names, as keys


class Contacts:
    """Everyone who wrote to the number, in ``whatsapp-contacts.sqlite3`` (``0600``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    def open(cls, path: Path) -> Contacts:
        conn = private_sqlite(path)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS contacts (key TEXT PRIMARY KEY, phone TEXT UNIQUE,"
            " lid TEXT UNIQUE, first_seen TEXT NOT NULL)"
        )
        return cls(conn)

    def close(self) -> None:
        self._conn.close()

    def knows(self, key: str) -> bool:
        """Whether ``key`` wrote to the number (the bot writes only to them)."""
        row = self._conn.execute(
            "SELECT 1 FROM contacts WHERE key = ? OR phone = ? OR lid = ?", (key, key, key)
        ).fetchone()
        return row is not None

    def resolve(self, person: Person) -> Resolved:
        """The key of ``person``, remembering any name of theirs not seen before."""
        by_phone = self._row("phone", person.phone)
        by_lid = self._row("lid", person.lid)
        row = by_phone or by_lid
        merged: list[str] = []
        if row is not None and (by_phone is None or by_lid is None or by_phone == by_lid):
            key, phone, lid = row[0], row[1] or person.phone, row[2] or person.lid
            if (phone, lid) != (row[1], row[2]):
                self._write(
                    ("UPDATE contacts SET phone = ?, lid = ? WHERE key = ?", (phone, lid, key))
                )
        elif row is not None:  # one person known under two keys: keep the older one
            assert by_phone is not None and by_lid is not None
            keep, drop = sorted((by_phone, by_lid), key=lambda known: known[3])
            key, phone, lid = keep[0], person.phone, person.lid
            merged.append(drop[0])
            self._write(
                ("DELETE FROM contacts WHERE key = ?", (drop[0],)),
                ("UPDATE contacts SET phone = ?, lid = ? WHERE key = ?", (phone, lid, key)),
            )
        else:
            key, phone, lid = person.key, person.phone, person.lid
            stamp = datetime.now(UTC).isoformat()
            self._write(
                (
                    "INSERT INTO contacts(key, phone, lid, first_seen) VALUES (?, ?, ?, ?)",
                    (key, phone, lid, stamp),
                )
            )
        names = [name for name in (phone, lid, *merged) if name and name != key]
        return Resolved(key, tuple(dict.fromkeys(names)))

    def _write(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                self._conn.execute(sql, params)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _row(self, column: str, value: str | None) -> _Row | None:
        if value is None:
            return None
        return self._conn.execute(_BY[column], (value,)).fetchone()


_Row = tuple[str, str | None, str | None, str]
_BY = {
    "phone": "SELECT key, phone, lid, first_seen FROM contacts WHERE phone = ?",
    "lid": "SELECT key, phone, lid, first_seen FROM contacts WHERE lid = ?",
}
