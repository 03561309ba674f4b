"""Word lists that signal something beyond the category: greetings, danger, "happening now", the
past, habits, a missing person, landmark nouns (``conversations/understanding/data/signals.csv``).

Cues are written in any chat spelling and compared in canonical form (see
:mod:`conversations.understanding.slang`); a one-word cue of four letters or more also matches its
affixed forms (``pukul``: ``dipukuli``, ``memukul``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources

from conversations.understanding.category_scoring import MIN_STEM_ROOT, stems
from conversations.understanding.slang import Lexicon

__all__ = ["Signals"]

STEMMED_KINDS = frozenset({"danger", "missing"})


class Signals:
    """Phrases by kind, matched against a message's canonical words."""

    def __init__(self, rows: Iterable[tuple[str, str]], lexicon: Lexicon) -> None:
        kinds: dict[str, set[tuple[str, ...]]] = {}
        for kind, cue in rows:
            words = tuple(lexicon.canonical(cue).split())
            if words:
                kinds.setdefault(kind, set()).add(words)
        self._kinds = {kind: frozenset(phrases) for kind, phrases in kinds.items()}
        # per kind, the lengths of its phrases by their first word, longest first: most words
        # of a message begin no phrase and are passed over at one look-up
        self._sizes: dict[str, dict[str, tuple[int, ...]]] = {}
        for kind, phrases in kinds.items():
            sizes: dict[str, set[int]] = {}
            for phrase in phrases:
                sizes.setdefault(phrase[0], set()).add(len(phrase))
            self._sizes[kind] = {w: tuple(sorted(s, reverse=True)) for w, s in sizes.items()}

    @classmethod
    def load(cls) -> Signals:
        """The signals of the package data; loaded once."""
        return _load_default()

    def phrases(self, kind: str) -> frozenset[tuple[str, ...]]:
        return self._kinds.get(kind, frozenset())

    def words(self, kind: str) -> frozenset[str]:
        """The one-word cues of a kind."""
        return frozenset(p[0] for p in self.phrases(kind) if len(p) == 1)

    def find(self, texts: Sequence[str], kind: str) -> Iterator[tuple[int, int]]:
        """Spans ``(start, end)`` of the kind's phrases in ``texts``, longest first at each
        position, not overlapping."""
        phrases = self.phrases(kind)
        if not phrases:
            return
        starting = self._sizes[kind]
        stemmed = kind in STEMMED_KINDS
        index = 0
        while index < len(texts):
            for size in starting.get(texts[index], ()):
                if index + size <= len(texts) and tuple(texts[index : index + size]) in phrases:
                    yield index, index + size
                    index += size
                    break
            else:
                if stemmed and _stem_hit(texts[index], phrases):
                    yield index, index + 1
                index += 1

    def has(self, texts: Sequence[str], kind: str) -> bool:
        return next(self.find(texts, kind), None) is not None


def _stem_hit(word: str, phrases: frozenset[tuple[str, ...]]) -> bool:
    return any((root,) in phrases for root in stems(word) if len(root) >= MIN_STEM_ROOT)


@cache
def _load_default() -> Signals:
    source = resources.files("conversations.understanding") / "data" / "signals.csv"
    lines = [
        line
        for line in source.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    rows = [(row["kind"], row["cue"]) for row in csv.DictReader(lines)]
    return Signals(rows, Lexicon.load())
