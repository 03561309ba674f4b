"""Chat writing read as canonical Indonesian words.

Citizens write "tlg pak td pagi ada yg belanja pk upal", "bieu aya nu meuli roko", "anak2",
"tolongg", "seratus ribu", "jam 21.30", "3/11". :func:`read` turns such a text into
:class:`Word` s: each has the canonical Indonesian form (``tlg`` → ``tolong``, ``bieu`` →
``barusan``, ``kamari`` → ``kemarin``), the language its spelling shows (``id``, ``su``,
``en`` or neutral), and the character span it came from (so a landmark can be quoted as the
citizen typed it).

The vocabulary is data: ``conversations/understanding/data/slang.csv`` (variant → canonical form,
language). Building on :func:`conversations.text.normalise` for case, accents, punctuation and
elongations, this module adds: times and dates kept whole (``21.30``, ``3/11``), digits split from
letters (``100rb`` → ``100 ribu``), reduplication (``anak2`` → ``anak anak``), doubled letters
dropped when that gives a known word (``tolongg``), multi-word variants (``teu acan`` → ``belum``)
and numbers in words (``seratus ribu`` → ``100000``)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from conversations.text import MAX_ANALYSED_CHARS, normalise

__all__ = ["Lexicon", "Word", "read"]

MAX_VARIANT_WORDS = 5

_CHUNK = re.compile(r"\S+")
_EDGE_PUNCT = "\"'()[]{}<>,.;:!?*~`“”‘’"
_CLOCK = re.compile(r"^([01]?\d|2[0-4])[.:]([0-5]\d)$", re.ASCII)
_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2}|\d{4}))?$", re.ASCII)
_REDUPLICATION = re.compile(r"^([a-z]{2,})2([a-z]*)$")
_DIGITS_LETTERS = re.compile(r"^(\d+)([a-z]+)$")
_LETTERS_DIGITS = re.compile(r"^([a-z]+)(\d+)$")
_DOUBLED = re.compile(r"([a-z])\1+")
_BOUNDARY = re.compile(r"[,.;:!?]$")
_ABBREVIATION = re.compile(r"^[A-Za-z]{1,3}\.$")
"""A full stop that ends an abbreviation ("Jl.", "Kp.", "Kec."), not a clause."""

_UNITS = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_SE = {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000}
_SCALES = {"puluh": 10, "ratus": 100, "ribu": 1000, "juta": 1_000_000, "miliar": 10**9}


@dataclass(frozen=True, slots=True)
class Word:
    """One canonical word of a message.

    ``text`` is the canonical form (lower-case ASCII; a clock time is ``"21:30"``, a date
    ``"3/11"`` or ``"3/11/2026"``); ``surface`` the normalised spelling it came from; ``lang``
    the language that spelling shows (``"id"``, ``"su"``, ``"en"`` or ``""``); ``start`` and
    ``end`` the character span in the analysed text; ``pause`` is True when punctuation follows
    the typed word (a comma or full stop ends a landmark phrase); ``known`` is True when the
    spelling is in the vocabulary (not a name or a typo).
    """

    text: str
    surface: str
    lang: str
    start: int
    end: int
    pause: bool = False
    known: bool = True


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    start: int
    end: int
    pause: bool


class Lexicon:
    """The chat vocabulary: variants, their canonical forms and languages."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        variants: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {}
        for variant, canonical, lang in rows:
            key = tuple(normalise(variant).split())
            value = tuple(normalise(canonical).split())
            if key and value:
                variants[key] = (value, lang)
        self._variants = variants
        self._longest = max((len(k) for k in variants), default=1)
        known = {w for key in variants for w in key}
        known.update(w for value, _ in variants.values() for w in value)
        known.update(_UNITS, _SE, _SCALES)
        self.known: frozenset[str] = frozenset(known)

    @classmethod
    @cache
    def load(cls) -> Lexicon:
        """The lexicon of ``conversations/understanding/data/slang.csv``; loaded once."""
        source = resources.files("conversations.understanding") / "data" / "slang.csv"
        text = source.read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line and not line.startswith("#")]
        rows = [(r["variant"], r["canonical"], r["lang"] or "") for r in csv.DictReader(lines)]
        return cls(rows)

    def with_known(self, words: Iterable[str]) -> Lexicon:
        """A lexicon that also counts ``words`` as known (cue words of other data files)."""
        clone = Lexicon.__new__(Lexicon)
        clone._variants = self._variants
        clone._longest = self._longest
        clone.known = self.known | {w for phrase in words for w in normalise(phrase).split()}
        return clone

    def canonical(self, phrase: str) -> str:
        """The canonical form of a hand-written phrase (for data files): same rules as read."""
        return " ".join(w.text for w in self.read(phrase))

    # ----------------------------------------------------------------------- reading

    def read(self, text: str, limit: int = MAX_ANALYSED_CHARS) -> tuple[Word, ...]:
        """The canonical words of ``text`` (its first ``limit`` characters)."""
        pieces = list(_pieces(text[:limit]))
        pieces = list(self._respell(pieces))
        return tuple(_numbers(self._map(pieces)))

    def _respell(self, pieces: Sequence[_Piece]) -> Iterator[_Piece]:
        """Split digits from letters, expand reduplication, drop doubled letters."""
        for piece in pieces:
            word = piece.text
            if ":" in word or "/" in word:
                yield piece
                continue
            match = _REDUPLICATION.match(word)
            if match and match.group(1) not in _SCHOOLS:
                root, suffix = match.groups()
                yield _Piece(self._undouble(root), piece.start, piece.end, False)
                yield _Piece(self._undouble(root + suffix), piece.start, piece.end, piece.pause)
                continue
            match = _DIGITS_LETTERS.match(word) or _LETTERS_DIGITS.match(word)
            if match:
                first, second = match.groups()
                yield _Piece(first, piece.start, piece.end, False)
                yield _Piece(second, piece.start, piece.end, piece.pause)
                continue
            yield _Piece(self._undouble(word), piece.start, piece.end, piece.pause)

    def _undouble(self, word: str) -> str:
        if word in self.known or not word.isalpha():
            return word
        single = _DOUBLED.sub(r"\1", word)
        if single in self.known:
            return single
        trimmed = re.sub(r"([a-z])\1+$", r"\1", word)
        return trimmed if trimmed in self.known else word

    def _map(self, pieces: Sequence[_Piece]) -> Iterator[Word]:
        index = 0
        while index < len(pieces):
            for size in range(min(self._longest, len(pieces) - index), 0, -1):
                span = pieces[index : index + size]
                found = self._variants.get(tuple(p.text for p in span))
                if found is None:
                    continue
                value, lang = found
                surface = " ".join(p.text for p in span)
                start, end, pause = span[0].start, span[-1].end, span[-1].pause
                for position, text in enumerate(value):
                    last = position == len(value) - 1
                    yield Word(text, surface, lang, start, end, pause and last, True)
                index += size
                break
            else:
                piece = pieces[index]
                known = piece.text in self.known or not piece.text.isalpha()
                yield Word(piece.text, piece.text, "", piece.start, piece.end, piece.pause, known)
                index += 1


_SCHOOLS = frozenset({"sd", "sdn", "smp", "smpn", "sma", "sman", "smk", "smkn", "mts", "mtsn"})


def _pieces(text: str) -> Iterator[_Piece]:
    """Normalised words with their character spans; clock times and dates kept whole."""
    for chunk in _CHUNK.finditer(text):
        raw = chunk.group()
        stripped = raw.strip(_EDGE_PUNCT)
        pause = bool(_BOUNDARY.search(raw)) and not _ABBREVIATION.match(raw)
        start, end = chunk.start(), chunk.end()
        clock = _CLOCK.match(stripped)
        if clock:
            yield _Piece(f"{int(clock.group(1))}:{clock.group(2)}", start, end, pause)
            continue
        date = _DATE.match(stripped)
        if date:
            day, month, year = date.groups()
            text_date = f"{int(day)}/{int(month)}" + (f"/{year}" if year else "")
            yield _Piece(text_date, start, end, pause)
            continue
        words = normalise(raw).split()
        for position, word in enumerate(words):
            last = position == len(words) - 1
            inner_pause = pause if last else False
            yield _Piece(word, start, end, inner_pause)


def _numbers(words: Iterable[Word]) -> Iterator[Word]:
    """Numbers in words become digits: "dua" → "2", "seratus ribu" → "100000"."""
    run: list[Word] = []
    for word in words:
        if _is_number_word(word.text) and not (run and run[-1].pause):
            run.append(word)
            continue
        yield from _flush(run)
        run = []
        if _is_number_word(word.text):
            run.append(word)
        else:
            yield word
    yield from _flush(run)


def _is_number_word(text: str) -> bool:
    return text in _UNITS or text in _SE or text in _SCALES or text == "belas"


def _flush(run: list[Word]) -> Iterator[Word]:
    if not run:
        return
    value = _value([w.text for w in run])
    if value is None:
        yield from run
        return
    first, last = run[0], run[-1]
    surface = " ".join(w.surface for w in run)
    yield Word(str(value), surface, first.lang, first.start, last.end, last.pause, True)


def _value(tokens: Sequence[str]) -> int | None:
    """The value of Indonesian number words, or None when they are not one number."""
    if len(tokens) == 1 and tokens[0] in _SCALES:
        return None
    total = 0
    current = 0
    for token in tokens:
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _SE:
            current += _SE[token]
        elif token == "belas":
            current += 10
        elif token in ("puluh", "ratus"):
            current = max(current, 1) * _SCALES[token]
        else:  # ribu, juta, miliar
            total += max(current, 1) * _SCALES[token]
            current = 0
    return total + current


@cache
def _default() -> Lexicon:
    return Lexicon.load()


def read(text: str, limit: int = MAX_ANALYSED_CHARS) -> tuple[Word, ...]:
    """:meth:`Lexicon.read` with the default vocabulary."""
    return _default().read(text, limit)
