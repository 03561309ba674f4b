"""Identifiers a person may type into a story or a reply: phone numbers (found with the
phonenumbers library, Indonesian by default), e-mail addresses, the 16-digit NIK, and the
names a citizen gives as their own ("saya Rina", "nama saya Rina Marlina", "abdi Asep").

:func:`find` lists them with their spans; :func:`mask` hides them for staff
(``0813****2222``); the erasure of a reporter removes them (:func:`erase`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

__all__ = ["ERASED", "Found", "Kind", "erase", "find", "mask", "own_names"]

ERASED = "[dihapus]"
_STARS = "****"

_NIK = re.compile(r"(?<![\d\w])\d(?:[ .-]?\d){15}(?![\d\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# "nama saya Rina Marlina", "nami abdi Asep", "my name is Rina": the next words are the name,
# in whatever case; "saya Rina", "abdi Asep", "aku Dewi": a capitalised word only.
_NAMED = re.compile(
    r"\b(?:nama\s+(?:saya|aku|sy|gue|gw)|nami\s+(?:abdi|simkuring)|my\s+name\s+is)"
    r"\s*(?:adalah|:|ialah)?\s+((?:[^\W\d_]{2,}\s*){1,3})",
    re.IGNORECASE,
)
_SELF = re.compile(
    r"\b(?:[Ss]aya|[Ss]y|[Aa]ku|[Aa]bdi|[Gg]ue|[Gg]w|[Ii]\s+am|[Ii]'m|[Ii]ni)"
    r"\s+((?:[A-Z][^\W\d_]+\s*){1,3})"
)
# Words that follow "saya" capitalised without being a name (a sentence's next word).
_NOT_NAMES = frozenset(
    """
    mau ingin akan sudah sedang lagi tadi mohon minta melapor lapor melaporkan ingin tinggal
    warga dari di ke yang dan atau ini itu juga tidak belum bukan punya kehilangan melihat
    lihat kena jadi korban pak bu bapak ibu mas mbak kang teh adalah sebagai selaku orang
    butuh perlu bingung takut kaget rasa merasa pernah baru hanya cuma masih bisa harus
    the and from in at a an
    hoyong bade nuju tos parantos teu henteu ti ka
    """.split()
)
_STOP_AFTER_NAME = frozenset(
    """
    dari di ke yang dan tinggal warga umur usia alamat no nomor nomer hp wa asal rt rw
    kampung desa kec kecamatan mau ingin akan sudah ti ka ari
    from and in at
    """.split()
)


class Kind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    NIK = "nik"


@dataclass(frozen=True, slots=True)
class Found:
    kind: Kind
    start: int
    end: int
    text: str
    masked: str


def find(text: str) -> list[Found]:
    """Every phone number, e-mail address and NIK in ``text``, in order, not overlapping."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def add(kind: Kind, start: int, end: int, masked: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(Found(kind, start, end, text[start:end], masked))

    for match in _NIK.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        add(Kind.NIK, match.start(), match.end(), digits[:4] + _STARS * 2 + digits[-4:])
    for match in _EMAIL.finditer(text):
        local, _at, domain = match.group().partition("@")
        add(Kind.EMAIL, match.start(), match.end(), f"{local[:1]}{_STARS}@{domain}")
    if sum(map(str.isdigit, text)) >= 7:
        for number in phonenumbers.PhoneNumberMatcher(
            text, "ID", leniency=phonenumbers.Leniency.VALID
        ):
            add(Kind.PHONE, number.start, number.end, _masked_phone(number.number))
    return sorted(found, key=lambda f: f.start)


def _masked_phone(number: phonenumbers.PhoneNumber) -> str:
    national = phonenumbers.national_significant_number(number)
    local = "0" + national if number.country_code == 62 else f"+{number.country_code}{national}"
    return f"{local[:4]}{_STARS}{local[-4:]}"


def mask(text: str) -> str:
    """``text`` with every phone number, e-mail address and NIK masked (``0813****2222``)."""
    return _replace(text, find(text), lambda f: f.masked)


def own_names(text: str) -> set[str]:
    """The words a citizen gives as their own name in ``text`` ("saya Rina" -> {"Rina"})."""
    names: set[str] = set()
    for pattern, capitalised in ((_NAMED, False), (_SELF, True)):
        for match in pattern.finditer(text):
            for word in match.group(1).split():
                folded = word.casefold()
                if folded in _STOP_AFTER_NAME or (capitalised and not word[:1].isupper()):
                    break
                if folded in _NOT_NAMES:
                    if capitalised:
                        break
                    continue
                names.add(word)
    return names


def erase(text: str, extra: set[str] | frozenset[str] = frozenset()) -> str:
    """``text`` without its phone numbers, e-mail addresses, NIK, the names given as one's own
    and every word or string of ``extra`` (a reporter's ids and names): each is replaced by
    ``[dihapus]``."""
    cleaned = _replace(text, find(text), lambda _f: ERASED)
    needles = {n for n in (*own_names(text), *extra) if len(n.strip()) >= 2}
    for needle in sorted(needles, key=len, reverse=True):
        cleaned = re.sub(
            rf"(?<![\w]){re.escape(needle.strip())}(?![\w])", ERASED, cleaned, flags=re.IGNORECASE
        )
    return cleaned


def _replace(text: str, found: list[Found], how: Callable[[Found], str]) -> str:
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for item in found:
        parts += [text[at : item.start], how(item)]
        at = item.end
    parts.append(text[at:])
    return "".join(parts)
