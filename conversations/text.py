"""Normalisation of chat writing shared by every matcher: lower case, no accents, no
punctuation or emoji, collapsed elongations ("tolooong" -> "tolong")."""

from __future__ import annotations

import re
import unicodedata

MAX_ANALYSED_CHARS = 2000

_NON_WORD = re.compile(r"[^a-z0-9]+")
_ELONGATION = re.compile(r"([a-z])\1{2,}")


def normalise(text: str, limit: int = MAX_ANALYSED_CHARS) -> str:
    """Lower-case ASCII words separated by single spaces; at most ``limit`` input chars."""
    folded = unicodedata.normalize("NFKD", text[:limit].casefold())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = _NON_WORD.sub(" ", ascii_only)
    return _ELONGATION.sub(r"\1", words).strip()


def words(text: str, limit: int = MAX_ANALYSED_CHARS) -> list[str]:
    return normalise(text, limit).split()
