"""Reading the category of a report from free text.

Each category has weighted cues (``conversations/understanding/data/category_cues.csv``, plus the
keywords of ``conversations/data/categories.csv``): words and phrases in their canonical spelling
(see :mod:`conversations.understanding.slang`), some only counted when a context word is present
("pungli" with "polisi" is misconduct, otherwise thuggery). A message's words are matched longest
phrase first, each word used once; a one-word cue also matches its affixed forms (``curi``:
``dicuri``, ``kecurian``, ``pencurian``, ``nyuri``), and a long unknown word within one or two
typing errors of a cue counts at a discount. A category's score is its strongest cue plus a little
for each further one; the confidence grows with that score and shrinks when another category scores
close to it, so a message naming two things is asked about, not guessed."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

from conversations.categories import Categories
from conversations.understanding.slang import Lexicon, Word

__all__ = ["CategoryGuess", "CategoryScorer", "Cue", "stems"]

KEYWORD_WEIGHT = 1.2
"""Weight of a ``categories.csv`` keyword that has no row of its own in ``category_cues.csv``."""
FURTHER_CUE_FACTOR = 0.3
"""Each further cue of a category adds this share of its weight."""
MAX_FURTHER_CUES = 3
FUZZY_MIN_LENGTH = 6
FUZZY_CUTOFF = 85.0
FUZZY_SHORT_CUTOFF = 88.0
"""Words under ``FUZZY_LONG`` letters need this ratio: one typo in a short word is a lot."""
FUZZY_LONG = 8
FUZZY_FACTOR = 0.8
TYPO_CACHE_SIZE = 20_000
"""Fuzzy lookups are remembered (a bounded cache: a repeated typo costs nothing)."""
STEM_CACHE_SIZE = 50_000
MIN_STEM_ROOT = 4
"""One-word cues shorter than this match only as written (``sim``, ``ciu``)."""
STRENGTH_RATE = 1.2

_PREFIXES: tuple[tuple[str, str], ...] = (
    # (prefix, letter restored at the root's start when the prefix ate it)
    ("memper", ""),
    ("diper", ""),
    ("meng", "k"),
    ("meny", "s"),
    ("peng", "k"),
    ("peny", "s"),
    ("mem", "p"),
    ("men", "t"),
    ("pem", "p"),
    ("pen", "t"),
    ("per", ""),
    ("ber", ""),
    ("ter", ""),
    ("nge", ""),
    ("nga", ""),
    ("me", ""),
    ("pe", ""),
    ("di", ""),
    ("ke", ""),
    ("ka", ""),
    ("se", ""),
    ("be", ""),
    ("ti", ""),
    ("ng", "k"),
    ("ny", "c"),
    ("m", "p"),
    ("n", "t"),
)
_SUFFIXES = ("annya", "kannya", "nya", "kan", "an", "in", "i", "na", "keun", "eun", "lah", "kah")
_POSSESSIVE = ("nya", "na")

_Recorder = Callable[..., bool]


@dataclass(frozen=True, slots=True)
class Cue:
    code: str
    words: tuple[str, ...]
    weight: float
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CategoryGuess:
    """The best category (None when no cue matched), its confidence 0..1 and every score."""

    code: str | None
    confidence: float
    scores: tuple[tuple[str, float], ...] = ()


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stems(word: str) -> tuple[str, ...]:
    """Candidate roots of an affixed Indonesian/Sundanese word, most likely first.

    ``dicuri`` → ``curi``; ``penipuan`` → ``tipu``; ``nyulik`` → ``culik``; ``kemalingan`` →
    ``maling``. Only roots of at least three letters are given; the word itself is not.
    Results are cached (chat repeats its words).
    """
    seen: dict[str, None] = {}
    for prefix, restore in (("", ""), *_PREFIXES):
        if not word.startswith(prefix):
            continue
        rest = word[len(prefix) :]
        for suffix in ("", *_SUFFIXES):
            if suffix and not rest.endswith(suffix):
                continue
            root = rest[: len(rest) - len(suffix)] if suffix else rest
            if len(root) < 3:
                continue
            for candidate in _roots_after(prefix, restore, root):
                if candidate != word:
                    seen.setdefault(candidate, None)
    return tuple(seen)


def _roots_after(prefix: str, restore: str, root: str) -> tuple[str, ...]:
    """A bare nasal ("m", "n", "ny") replaced the root's first letter, so only the restored
    root is a candidate ("mukul" → "pukul", not "ukul"; "marak" is not "arak"); after "ng"
    the root may also start with a vowel ("ngambil" → "ambil")."""
    if not restore:
        return (root,)
    if prefix in ("m", "n", "ny"):
        return (restore + root, "s" + root) if prefix == "ny" else (restore + root,)
    return (root, restore + root)


class CategoryScorer:
    """Scores the 18 categories for a message's canonical words."""

    def __init__(self, cues: Iterable[Cue], known: Collection[str] = ()) -> None:
        phrases: dict[tuple[str, ...], list[Cue]] = {}
        for cue in cues:
            phrases.setdefault(cue.words, []).append(cue)
        self._phrases = phrases
        self._longest = max((len(k) for k in phrases), default=1)
        self._joined = {"".join(k): k for k in phrases if len(k) > 1}
        self._roots = {k[0]: k for k in phrases if len(k) == 1 and len(k[0]) >= MIN_STEM_ROOT}
        buckets: dict[str, list[str]] = {}
        for key in phrases:
            if len(key) == 1 and len(key[0]) >= FUZZY_MIN_LENGTH and key[0].isalpha():
                buckets.setdefault(key[0][0], []).append(key[0])
        self._fuzzy = {letter: tuple(sorted(words)) for letter, words in buckets.items()}
        self._fuzzy_roots = {
            word: frozenset(stems(word)) for words in buckets.values() for word in words
        }
        self._known = frozenset(known) | {w for key in phrases for w in key}
        self._typos: dict[str, tuple[str, float] | None] = {}

    @classmethod
    def load(cls) -> CategoryScorer:
        """The scorer built from the package data; loaded once."""
        return _load_default()

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every cue word (for telling known words from names and typos)."""
        return frozenset(w for key in self._phrases for w in key)

    # ----------------------------------------------------------------------- scoring

    def score(self, words: Sequence[Word], skip: Collection[int] = ()) -> CategoryGuess:
        """The category of a message; ``skip`` holds word indexes used by something else
        (a time expression's "pukul", say)."""
        return _guess(self.explain(words, skip))

    def explain(
        self, words: Sequence[Word], skip: Collection[int] = ()
    ) -> dict[str, dict[tuple[str, ...], float]]:
        """The cues found, by category: cue words → weight counted."""
        texts = [w.text for w in words]
        context = set(texts)
        for text in texts:
            context.update(stems(text))
        used = [i in skip for i in range(len(texts))]
        found: dict[str, dict[tuple[str, ...], float]] = {}

        def record(key: tuple[str, ...], factor: float = 1.0) -> bool:
            best: Cue | None = None
            for cue in self._phrases.get(key, ()):
                if cue.needs and not (cue.needs & context):
                    continue
                if best is None or cue.weight > best.weight:
                    best = cue
            if best is None:
                return False
            per_code = found.setdefault(best.code, {})
            per_code[key] = max(per_code.get(key, 0.0), best.weight * factor)
            return True

        for size in range(min(self._longest, len(texts)), 1, -1):
            for start in range(len(texts) - size + 1):
                if any(used[start : start + size]):
                    continue
                span = texts[start : start + size]
                if record(tuple(span)) or record(tuple(_base(t) for t in span)):
                    used[start : start + size] = [True] * size
        for index, text in enumerate(texts):
            if not used[index] and self._match_word(text, words[index].known, record):
                used[index] = True
        return found

    def _match_word(self, text: str, known: bool, record: _Recorder) -> bool:
        if record((text,)):
            return True
        joined = self._joined.get(text)
        if joined is not None and record(joined):
            return True
        if not text.isalpha():
            return False
        for root in stems(text):
            key = self._roots.get(root)
            if key is not None and record(key):
                return True
        if known or text in self._known or len(text) < FUZZY_MIN_LENGTH:
            return False
        best = self._typo_of(text)
        return best is not None and record((best[0],), FUZZY_FACTOR * best[1] / 100.0)

    def _typo_of(self, text: str) -> tuple[str, float] | None:
        """The one-word cue ``text`` is a misspelling of, with the rapidfuzz ratio; cached."""
        if text in self._typos:
            return self._typos[text]
        roots = set(stems(text))
        choices = [
            c
            for c in self._fuzzy.get(text[0], ())
            if abs(len(c) - len(text)) <= 2 and roots.isdisjoint(self._fuzzy_roots[c])
        ]
        cutoff = FUZZY_CUTOFF if len(text) >= FUZZY_LONG else FUZZY_SHORT_CUTOFF
        found = process.extractOne(text, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        best = None if found is None else (found[0], float(found[1]))
        if len(self._typos) >= TYPO_CACHE_SIZE:
            self._typos.clear()
        self._typos[text] = best
        return best


def _base(text: str) -> str:
    """A word without a possessive ending ("uangnya" → "uang")."""
    for suffix in _POSSESSIVE:
        if text.endswith(suffix) and len(text) - len(suffix) >= 3:
            return text[: -len(suffix)]
    return text


def _guess(found: dict[str, dict[tuple[str, ...], float]]) -> CategoryGuess:
    if not found:
        return CategoryGuess(None, 0.0)
    scores: dict[str, float] = {}
    for code, cues in found.items():
        weights = sorted(cues.values(), reverse=True)
        further = weights[1 : 1 + MAX_FURTHER_CUES]
        scores[code] = weights[0] + FURTHER_CUE_FACTOR * sum(further)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    code, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    strength = 1.0 - math.exp(-STRENGTH_RATE * top)
    margin = (top - second) / top
    confidence = round(strength * (0.5 + 0.5 * margin), 3)
    return CategoryGuess(code, confidence, tuple((c, round(s, 3)) for c, s in ranked))


def read_cues(lexicon: Lexicon, categories: Categories) -> list[Cue]:
    """The cues of ``category_cues.csv`` and the keywords of ``categories.csv``, canonical."""
    source = resources.files("conversations.understanding") / "data" / "category_cues.csv"
    lines = [
        line
        for line in source.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    cues: list[Cue] = []
    listed: set[tuple[str, tuple[str, ...]]] = set()
    for row in csv.DictReader(lines):
        words = tuple(lexicon.canonical(row["cue"]).split())
        if not words or categories.get(row["code"]) is None:
            continue
        needs = frozenset(
            lexicon.canonical(n) for n in (row.get("needs") or "").split("|") if n.strip()
        )
        cues.append(Cue(row["code"], words, float(row["weight"]), needs))
        listed.add((row["code"], words))
    for category in categories.all:
        for keyword in category.keywords:
            words = tuple(lexicon.canonical(keyword).split())
            if words and (category.code, words) not in listed:
                cues.append(Cue(category.code, words, KEYWORD_WEIGHT))
                listed.add((category.code, words))
    return cues


@cache
def _load_default() -> CategoryScorer:
    lexicon = Lexicon.load()
    return CategoryScorer(read_cues(lexicon, Categories.load()), lexicon.known)
