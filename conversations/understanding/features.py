"""The features a statistical reading of a message is made of, shared by training and use.

A message becomes a sparse vector of hashed features in four groups, each scaled to unit length
so that a long message does not outweigh a short one:

* ``c`` — character 3- to 5-grams of each typed word, lower-cased, letters repeated for emphasis
  squashed ("tolooong" → "toloong"): they carry typos, affixes and Sundanese spellings;
* ``w`` — the canonical words (chat spellings mapped to Indonesian by
  :mod:`~conversations.understanding.slang`) and their roots ("dipukul" → "pukul");
* ``b`` — pairs of neighbouring canonical words ("minta uang", "belum pulang");
* ``r`` — the rules' score for each category (:mod:`~conversations.understanding.category_scoring`),
  so the model learns when the cue lists are right and when they are not.

A feature's index is the CRC-32 of its name (stable across processes and machines, unlike
``hash``) reduced to ``HASH_BITS`` bits; a trained model keeps weights only for the indexes it saw.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from conversations.understanding.category_scoring import stems

__all__ = ["HASH_BITS", "FeatureVector", "message_features", "with_named"]

HASH_BITS = 22
_MASK = (1 << HASH_BITS) - 1
CHAR_NGRAMS = (3, 4, 5)
GRAM_CACHE_SIZE = 50_000
RULE_WEIGHT = 0.25
"""Length of the rule group relative to the others (each text group has unit length): chosen on
writers the model was not trained on (0.25 read them best; 1.0 leaned on the cue lists too
much)."""
_SQUASH = re.compile(r"(.)\1{2,}")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class FeatureVector:
    """Sorted feature indexes and their values."""

    indexes: tuple[int, ...]
    values: tuple[float, ...]


def message_features(
    raw: str, canonical: Sequence[str], rule_scores: Mapping[str, float]
) -> FeatureVector:
    """The features of one message: its typed text, its canonical words, the rules' scores."""
    merged: dict[int, float] = {}
    typed = _SQUASH.sub(r"\1\1", raw.lower())
    grams: set[int] = set()
    for word in _WORD.findall(typed):
        grams.update(_word_grams(word))
    _add(merged, _unit_indexes(grams))
    words: list[str] = []
    for text in canonical:
        words.append("w:" + text)
        words.extend("w:" + root for root in stems(text)[:2])
    _add(merged, _unit(words))
    pairs = [f"b:{a} {b}" for a, b in itertools.pairwise(canonical)]
    _add(merged, _unit(pairs))
    rules = {"r:" + code: score for code, score in rule_scores.items() if score > 0}
    norm = math.sqrt(sum(v * v for v in rules.values()))
    if norm:
        _add(merged, {_index(name): RULE_WEIGHT * v / norm for name, v in rules.items()})
    else:
        _add(merged, {_index("r:none"): RULE_WEIGHT})
    ordered = sorted(merged)
    return FeatureVector(tuple(ordered), tuple(merged[i] for i in ordered))


def with_named(vector: FeatureVector, named: Mapping[str, float]) -> FeatureVector:
    """``vector`` with further named features added (the urgency cues)."""
    merged = dict(zip(vector.indexes, vector.values, strict=True))
    _add(merged, {_index(name): value for name, value in named.items()})
    ordered = sorted(merged)
    return FeatureVector(tuple(ordered), tuple(merged[i] for i in ordered))


@lru_cache(maxsize=GRAM_CACHE_SIZE)
def _word_grams(word: str) -> array[int]:
    """The hashed character n-grams of one typed word, each once (remembered: chat repeats its
    words; kept as 32-bit numbers, a tenth of the memory of a set of ints)."""
    padded = f" {word} "
    return array(
        "I",
        dict.fromkeys(
            _index("c:" + padded[i : i + size])
            for size in CHAR_NGRAMS
            for i in range(len(padded) - size + 1)
        ),
    )


def _unit(names: Sequence[str]) -> dict[int, float]:
    """Each distinct feature once (presence, not count), scaled to unit length."""
    return _unit_indexes({_index(name) for name in names})


def _unit_indexes(indexes: set[int]) -> dict[int, float]:
    if not indexes:
        return {}
    value = 1.0 / math.sqrt(len(indexes))
    return dict.fromkeys(indexes, value)


def _index(name: str) -> int:
    return zlib.crc32(name.encode()) & _MASK


def _add(into: dict[int, float], group: Mapping[int, float]) -> None:
    for index, value in group.items():
        into[index] = into.get(index, 0.0) + value
