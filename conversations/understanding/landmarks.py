"""The free-text place a citizen names: "Pasar Guntur", "Jl. Cimanuk", "dekat SMPN 1",
"warung sy".

A landmark phrase starts at a landmark noun (``signals.csv`` kind ``landmark``: pasar, jalan,
gang, kampung, masjid, terminal, SMPN, warung ...), optionally with a word placing it before
("dekat", "depan", "samping" ...), and goes on with the words that name it: names (words not
in the vocabulary), numbers, a possessive ("warung sy"), other landmark nouns ("parkiran pasar
Guntur") and a few describing words ("raya", "lama"). It stops at punctuation, at ordinary
words ("di", "yang", "tadi" ...) and after eight words. A landmark noun with nothing naming it
("di jalan") is not a landmark. The phrase is quoted as the citizen typed it: nothing is
invented.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.understanding.signals import Signals
from conversations.understanding.slang import Word

__all__ = ["find_landmark"]

MAX_WORDS = 8
DESCRIBING = frozenset(
    """raya utama lama baru besar agung induk kota kaler kidul wetan kulon barat timur utara
    selatan tengah lingkar kopi emas anyar no nomor umum""".split()
)
_TRAILING = " ,.;:!?)(\"'-"
_LEADING_PREPOSITION = re.compile(r"^(?:di|ka|ke)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int  # word index of the first word
    end: int  # word index after the last word
    named: int  # how many naming words (names, numbers) it has


def find_landmark(words: Sequence[Word], raw: str, signals: Signals) -> str | None:
    """The best landmark phrase in ``raw`` (whose canonical words are ``words``), or None."""
    texts = [w.text for w in words]
    heads = _starts(texts, signals.phrases("landmark"))
    vocabulary = _Vocabulary(
        near=signals.words("near"),
        stops=signals.words("stop"),
        possessive=signals.words("possessive"),
    )
    best: _Candidate | None = None
    taken_until = -1
    for start, head_end in heads.items():
        if start < taken_until:
            continue
        placed = start > 0 and texts[start - 1] in vocabulary.near and not words[start - 1].pause
        candidate = _extend(words, start, head_end, heads, vocabulary, placed)
        if candidate is None:
            continue
        taken_until = candidate.end
        if best is None or candidate.named > best.named:
            best = candidate
    if best is None:
        return None
    text = raw[words[best.start].start : words[best.end - 1].end].strip(_TRAILING)
    text = _LEADING_PREPOSITION.sub("", text)
    return text or None


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    near: frozenset[str]
    stops: frozenset[str]
    possessive: frozenset[str]


def _starts(texts: Sequence[str], phrases: frozenset[tuple[str, ...]]) -> dict[int, int]:
    """Word index → end index of each landmark noun (longest at each position)."""
    longest = max((len(p) for p in phrases), default=1)
    found: dict[int, int] = {}
    index = 0
    while index < len(texts):
        for size in range(min(longest, len(texts) - index), 0, -1):
            if tuple(texts[index : index + size]) in phrases:
                found[index] = index + size
                index += size
                break
        else:
            index += 1
    return found


def _extend(
    words: Sequence[Word],
    start: int,
    head_end: int,
    heads: dict[int, int],
    vocabulary: _Vocabulary,
    placed: bool,
) -> _Candidate | None:
    """The landmark phrase starting at the landmark noun ``words[start:head_end]``."""
    first = start - 1 if placed else start
    end = head_end
    named = 0
    owner = False
    while end < len(words) and end - first < MAX_WORDS and not words[end - 1].pause:
        word = words[end]
        text = word.text
        if end in heads:
            end = heads[end]
        elif text in vocabulary.possessive and end == head_end:
            owner = True
            end += 1
            break
        elif text in vocabulary.near and end + 1 in heads and not word.pause:
            end += 1
        elif text in vocabulary.stops:
            break
        elif not word.known or text.isdigit() or text in DESCRIBING:
            named += 0 if text in DESCRIBING else 1
            end += 1
        else:
            break
    if named == 0 and not owner and not placed:
        return None
    return _Candidate(first, end, named + (1 if owner else 0))
