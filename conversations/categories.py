"""The 18 complaint categories and matching a citizen's typed answer to one of them."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from rapidfuzz import fuzz, process

from conversations.text import normalise

FUZZY_MIN_SCORE = 86
FUZZY_MIN_LENGTH = 5


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label_id: str
    label_en: str
    label_su: str
    unit: str
    urgent_possible: bool
    in_short_menu: bool
    keywords: tuple[str, ...]

    def label(self, locale: str) -> str:
        return {"en": self.label_en, "su": self.label_su}.get(locale, self.label_id)


@dataclass(frozen=True, slots=True)
class CategoryMatch:
    code: str
    score: float  # 0..100


class Categories:
    """The category list (``conversations/data/categories.csv``) and a matcher for typed answers."""

    def __init__(self, categories: tuple[Category, ...]) -> None:
        self.all = categories
        self._by_code = {c.code: c for c in categories}
        phrases: dict[str, str] = {}
        for category in categories:
            for raw in (*category.keywords, category.label_id, category.label_en, category.code):
                phrase = normalise(raw)
                if phrase and phrase not in phrases:
                    phrases[phrase] = category.code
        self._phrases = phrases
        self._fuzzy_words = sorted(
            p for p in phrases if " " not in p and len(p) >= FUZZY_MIN_LENGTH
        )

    @classmethod
    @cache
    def load(cls) -> Categories:
        source = resources.files("conversations") / "data" / "categories.csv"
        with source.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return cls(
            tuple(
                Category(
                    code=row["code"],
                    label_id=row["label_id"],
                    label_en=row["label_en"],
                    label_su=row["label_su"],
                    unit=row["unit"],
                    urgent_possible=row["urgent_possible"] == "yes",
                    in_short_menu=row["menu"] == "1",
                    keywords=tuple(k.strip() for k in row["keywords"].split(";") if k.strip()),
                )
                for row in rows
            )
        )

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def __getitem__(self, code: str) -> Category:
        return self._by_code[code]

    @property
    def short_menu(self) -> tuple[Category, ...]:
        return tuple(c for c in self.all if c.in_short_menu)

    @property
    def rest(self) -> tuple[Category, ...]:
        return tuple(c for c in self.all if not c.in_short_menu)

    def match_answer(self, text: str) -> CategoryMatch | None:
        """The category a short typed answer names ("upal", "penipuan", "kena tipu cod").

        The longest keyword phrase found wins; a single misspelt word (five letters or more)
        is matched fuzzily. Two categories equally named is not a match: asking beats guessing.
        """
        normal = normalise(text, limit=300)
        if not normal:
            return None
        tokens = normal.split()
        best: dict[str, float] = {}
        for size in range(min(4, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                gram = " ".join(tokens[start : start + size])
                code = self._phrases.get(gram)
                if code is not None:
                    best[code] = max(best.get(code, 0.0), 100.0 + size)
        if not best:
            for token in tokens:
                if len(token) < FUZZY_MIN_LENGTH:
                    continue
                found = process.extractOne(
                    token, self._fuzzy_words, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE
                )
                if found is not None:
                    code = self._phrases[found[0]]
                    best[code] = max(best.get(code, 0.0), float(found[1]))
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None
        code, score = ranked[0]
        return CategoryMatch(code, min(score, 100.0))
