"""Garut's landmarks and the kecamatan they lie in: "terminal guntur", "pantai santolo",
"kawah papandayan", "RSUD dr Slamet", "kampus UNIGA".

The data is ``conversations/understanding/data/landmarks.csv`` (name, variants, kind, kecamatan,
desa where sure, coordinates where known, and the source of each row). A landmark is found in a
text by its name or a variant, as consecutive words (spaces and hyphens do not matter); a long
name also within one typing error or two; the longest name found wins. A variant made only of
generic words ("alun-alun", "polres": in Garut they mean the town's) is a vague reading
(``GENERIC_SCORE``, confirmed with the citizen) used only when the text names no other place
("alun-alun Tarogong" is Tarogong's). Offices count only where something happened at them
("di polsek", not "website polres"). The gazetteer asks here when the text names no kecamatan
or desa itself, or only vaguely.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from rapidfuzz import fuzz, process

__all__ = ["KnownPlace", "KnownPlaces", "LandmarkHit"]

MAX_WORDS = 5
EXACT_SCORE = 96.0
"""A landmark's exact name is as sure as a typed kecamatan (the intake takes it without asking)."""
GENERIC_SCORE = 80.0
FUZZY_MIN_KEY = 9
"""Keys shorter than this must be typed exactly."""
FUZZY_CUTOFF = 90.0
FUZZY_CACHE_SIZE = 50_000
FUZZY_FACTOR = 0.9
"""A fuzzy reading is confirmed with the citizen (its score stays below the intake's 95)."""
GENERIC = frozenset(
    """pasar terminal alun alun2 jalan jl jln raya simpang bundaran pantai curug gunung kawah
    situ danau kampus rumah sakit rs rsud puskesmas kantor masjid mesjid stasiun mall kebun
    sekolah smp smpn sma sman smk smkn sd sdn mts ma polsek polres kecamatan desa kp kampung
    gang gg lapangan alun-alun taman wisata objek pemandian air panas kolam renang hotel
    perumahan perum komplek pabrik toko swalayan bank atm spbu pom bensin jembatan perempatan
    pertigaan lampu merah baru lama utama besar tengah selatan utara timur barat
    di ke dekat depan samping belakang""".split()
)


INSTITUTIONS = frozenset({"kantor"})
"""Kinds named as institutions as often as places ("website polres garut", "lapor ke polsek"):
they place a text only after a word that puts something there ("di polsek", "depan kantor
kecamatan")."""
AT = frozenset(
    """di d dpn depan didepan dekat deket dkt samping sebelah belakang seberang sekitar area
    kawasan halaman parkiran lingkungan hareupeun payun caket gigireun tukangeun sisi""".split()
)


@dataclass(frozen=True, slots=True)
class KnownPlace:
    name: str
    kind: str
    kecamatan_code: str
    desa_code: str | None


@dataclass(frozen=True, slots=True)
class LandmarkHit:
    """A landmark found in a text, where, and how sure (0..100)."""

    place: KnownPlace
    start: int
    size: int
    score: float
    generic: bool = False


class KnownPlaces:
    """The landmark index: normalised keys (words joined without spaces) → place."""

    def __init__(
        self, places: Sequence[tuple[KnownPlace, Sequence[str]]], keyed: Callable[[str], str]
    ) -> None:
        self._exact: dict[str, KnownPlace] = {}
        self._generic: dict[str, KnownPlace] = {}
        clashes: set[str] = set()
        for place, names in places:
            for name in names:
                words = name.replace("-", " ").split()
                key = keyed(name.replace("-", " "))
                if not words or not key:
                    continue
                generic = all(w.lower() in GENERIC for w in words)
                if generic and place.kind in INSTITUTIONS:
                    continue  # "polres", "kantor kecamatan": which one?
                into = self._generic if generic else self._exact
                known = into.get(key)
                if known is not None and known.kecamatan_code != place.kecamatan_code:
                    clashes.add(key)  # one name, two kecamatan: it tells nothing
                into.setdefault(key, place)
        for key in clashes:
            self._exact.pop(key, None)
            self._generic.pop(key, None)
        self._near: dict[str, tuple[str, float] | None] = {}  # fuzzy lookups remembered
        self._by_shape: dict[tuple[str, int], list[str]] = {}
        for key in self._exact:
            if len(key) >= FUZZY_MIN_KEY:
                self._by_shape.setdefault((key[0], len(key)), []).append(key)

    def __len__(self) -> int:
        return len(self._exact)

    @classmethod
    def load(cls, key: Callable[[str], str]) -> KnownPlaces:
        """The landmarks shipped with TAROS, keyed by ``key`` (the gazetteer's place_key)."""
        return _load_default(key)

    def find(self, tokens: Sequence[str]) -> LandmarkHit | None:
        """The longest (then surest, then first) landmark named in normalised ``tokens``."""
        best: LandmarkHit | None = None
        for start in range(len(tokens)):
            for size in range(min(MAX_WORDS, len(tokens) - start), 0, -1):
                span = tokens[start : start + size]
                if not all(t.isalnum() for t in span):
                    continue
                hit = self._lookup("".join(span), start, size)
                if (
                    hit is not None
                    and hit.place.kind in INSTITUTIONS
                    and not AT.intersection(tokens[max(0, start - 2) : start])
                ):
                    continue
                if hit is not None and (
                    best is None or (hit.size, hit.score) > (best.size, best.score)
                ):
                    best = hit
        return best

    def _lookup(self, key: str, start: int, size: int) -> LandmarkHit | None:
        place = self._exact.get(key)
        if place is not None:
            return LandmarkHit(place, start, size, EXACT_SCORE)
        place = self._generic.get(key)
        if place is not None:
            return LandmarkHit(place, start, size, GENERIC_SCORE, generic=True)
        if len(key) < FUZZY_MIN_KEY:
            return None
        if key in self._near:
            found = self._near[key]
        else:
            if len(self._near) >= FUZZY_CACHE_SIZE:
                self._near.clear()
            found = self._near[key] = self._nearest(key)
        if found is None:
            return None
        return LandmarkHit(self._exact[found[0]], start, size, found[1] * FUZZY_FACTOR)

    def _nearest(self, key: str) -> tuple[str, float] | None:
        """The landmark key within a typing error or two of ``key``, and its ratio."""
        best_key, best_ratio = None, 0.0
        for length in range(len(key) - 2, len(key) + 3):
            candidates = self._by_shape.get((key[0], length))
            if not candidates:
                continue
            # the first of the best in this bucket (rapidfuzz's loop, in C)
            found = process.extractOne(
                key, candidates, scorer=fuzz.ratio, score_cutoff=max(FUZZY_CUTOFF, best_ratio)
            )
            if found is not None and found[1] > best_ratio:
                best_key, best_ratio = found[0], found[1]
        if best_key is None or best_ratio < FUZZY_CUTOFF:
            return None
        return best_key, best_ratio


def parse(text: str) -> list[tuple[KnownPlace, list[str]]]:
    """Rows of ``landmarks.csv``: each place with its name and variants."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        if not row.get("name") or not row.get("kecamatan_code"):
            continue
        place = KnownPlace(
            name=row["name"].strip(),
            kind=(row.get("kind") or "other").strip(),
            kecamatan_code=row["kecamatan_code"].strip(),
            desa_code=(row.get("desa_code") or "").strip() or None,
        )
        variants = [v.strip() for v in (row.get("variants") or "").split("|") if v.strip()]
        rows.append((place, [place.name, *variants]))
    return rows


@cache
def _load_default(key: Callable[[str], str]) -> KnownPlaces:
    data = files("conversations.understanding").joinpath("data", "landmarks.csv")
    if not data.is_file():
        return KnownPlaces([], key)
    return KnownPlaces(parse(data.read_text(encoding="utf-8")), key)
