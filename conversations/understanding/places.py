"""Gazetteer of Kabupaten Garut: the 42 kecamatan and 442 desa/kelurahan.

Two jobs, no network and no platform code:

* ``Gazetteer.match(text)`` reads the citizen's typed answer to "where did it happen?" and
  returns the kecamatan/desa it names, the desa candidates when the name is ambiguous, or a
  known place outside Garut.  It never invents a place: when unsure it returns ``None`` or a
  low score.
* ``Gazetteer.locate(lat, lon)`` maps a shared location pin to a desa and kecamatan with
  point-in-polygon tests on simplified boundaries (edges are approximate).

The data is package data in ``conversations/understanding/data`` built by ``tools/build_data.py``
(see SOURCES.md)."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import shapely
from rapidfuzz import fuzz, process
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from conversations.text import normalise as chat_normalise
from conversations.understanding.known_places import KnownPlaces

__all__ = [
    "Desa",
    "Gazetteer",
    "Kecamatan",
    "PlaceMatch",
    "PointPlace",
    "normalise",
    "place_key",
]

MAX_MATCH_CHARS = 500
"""Only this many leading characters of a typed text are read by ``match``."""
MAX_NGRAM = 3
"""Place names are looked up in word n-grams of 1 to this many words."""
EXACT_SCORE = 100.0
FUZZY_CUTOFF = 88.0
"""Minimum rapidfuzz ``ratio`` for a fuzzy (typo) match."""
MIN_FUZZY_LEN = 5
"""Shorter keys must match exactly."""
ELSEWHERE_SCORE = 60.0
"""Cap for a desa named like a famous place elsewhere (Depok, Surabaya, ...) typed without a cue."""
VAGUE_SCORE = 70.0
"""Cap for vague readings: a name after a street/hamlet word, or a desa named like the first
word of a kecamatan (desa Tarogong vs. Kec. Tarogong Kidul/Kaler)."""
CONFLICT_FACTOR = 0.8
"""Score factor when the text names places that do not fit together."""
PAIR_NAME_FACTOR = 0.9
"""Score factor when a kecamatan name is read as a desa only because another kecamatan was named."""
OUTSIDE_KM = 3.0
"""A pin farther than this from every kecamatan polygon is outside Garut."""
KM_PER_DEGREE = 111.32

_DATA_FILES = (
    "kecamatan.csv",
    "desa.csv",
    "place_variants.csv",
    "outside_places.csv",
    "kecamatan.geojson",
    "desa.geojson",
)

# --------------------------------------------------------------------------- normalisation

_REPEATED = re.compile(r"(.)\1+")


def normalise(text: str) -> str:
    """Normalise free text for place matching.

    Rules: the chat normalisation of :func:`conversations.text.normalise` (lowercase,
    no accents, one space between ``a-z0-9`` words); then every repeated letter collapses
    (``Leuwigoong`` → ``leuwigong``) and Sundanese ``eu`` is written ``e`` (``Pameungpeuk`` and
    ``Pamengpeuk`` → ``pamengpek``).
    """
    collapsed = _REPEATED.sub(r"\1", chat_normalise(text)).replace("eu", "e")
    return _REPEATED.sub(r"\1", collapsed)


def place_key(name: str) -> str:
    """Index key of a place name: ``normalise`` without spaces ("Mekar Mukti" = "Mekarmukti")."""
    return normalise(name).replace(" ", "")


def _normalised_set(words: Iterable[str]) -> frozenset[str]:
    """Normalised tokens of hand-written words (or space-separated word lists)."""
    return frozenset(token for word in words for token in normalise(word).split())


# Cue words just before a name.  "desa"/"ds"/"kel" make a name a desa (even one that is also a
# kecamatan name); "kec"/"kecamatan" make it a kecamatan; a street or hamlet word makes the
# reading vague (Jl. Cimanuk, Kp. Cibatu name streets and hamlets, not the desa itself).
_DESA_CUES = _normalised_set(["desa", "ds", "des", "kelurahan", "kel", "kelurahannya", "desanya"])
_KEC_CUES = _normalised_set(["kecamatan", "kec", "kc", "kcmtn", "kecamatannya", "kecmatan"])
_STREET_CUES = _normalised_set(
    [
        "jl jln jalan gg gang kp kmp kampung lembur dusun dsn",
        "blok perum perumahan komplek kompleks komp",
    ]
)
_AWAY_CUES = _normalised_set(
    [
        "arah",
        "jurusan",
        "trayek",
        "menuju",
        "dari",
        "dr",
        "asal",
        "asalnya",
        "ti",
        "alamat",
        "alamatna",
        "alamatnya",
        "ktp",
    ]
)
"""In a free-text report, a name after these is not where it happened: a direction ("kabur ke
arah Cibatu"), a route ("elf jurusan Garut-Cikajang"), an origin ("dari Cisompet") or an
address on a card ("KTP alamat Leuwigoong")."""
_CUE_SKIP = _normalised_set(["raya"])
"""Words skipped when looking back for a cue ("Jl. Raya Samarang")."""

# Ordinary Indonesian and Sundanese words.  Such a word never starts a fuzzy match, a run of
# such words never joins into a single-word place name ("suka hati" is not desa Sukahati), and
# a desa whose whole name is made of such words (Cinta, Suci, Jati, Simpang, Paas, Baru Dua;
# but not "Kota Kulon", see _PLACE_WORDS) only counts after "desa"/"ds" or next to its own
# kecamatan.  Ordinary words that occur in no place name
# also split the text: n-grams never span them.
_ORDINARY_WORDS = _normalised_set(
    """
    di ke dari dan yang yg dgn dengan atau ini itu nya saya aku kami kita anda dia mereka ada
    tidak tdk gak ga nggak enggak engga bukan sudah udah sdh belum blm akan mau ingin bisa
    tolong pak bu bapak ibu mas mbak kang teh akang teteh om tante adik kakak
    jl jln jalan gg gang kp kmp kampung lembur dusun dsn desa ds des kelurahan kel kecamatan kec
    kc kabupaten kab provinsi prov kota dekat dkt deket depan belakang samping sebelah seberang
    pasar psr alun masjid mesjid sekolah sd smp sma smk terminal stasiun rumah rt rw no nomor
    blok raya gedung toko warung kantor polsek polres puskesmas sekitar arah menuju antara
    wilayah daerah lokasi tempat kejadian tkp perum perumahan komplek kompleks komp
    abdi simkuring kuring urang anjeun teu henteu tos atos parantos bade rek nuju keur ka ti
    jeung sareng nu anu eta ieu kitu kumaha naon saha iraha dimana mana pisan teuing punten
    hapunten mangga nuhun hatur wilujeng enjing sonten wengi dinten kamari ayeuna engke bumi
    imah caket payun pengker gigireun dieu ditu dinya palih lebah aya sanes muhun leres
    sakit rumah tahu tau ya iya oke ok baik terima kasih makasih selamat pagi siang sore malam
    hari kemarin besok sekarang tadi nanti minggu bulan tahun jam waktu lalu baru lama
    hilang dicuri curi maling pencuri motor mobil hp handphone dompet uang tas sepeda
    orang warga anak istri suami keluarga tetangga teman polisi petugas aparat pemuda
    lapor laporan melapor mengadu aduan pengaduan keluhan masalah kasus bantuan bantu
    kecelakaan tabrakan tawuran berkelahi pukul dipukul ribut keributan mabuk miras narkoba
    judi penipuan ditipu tipu online pinjol utang hutang bayar uang palsu preman pungli
    parkir liar balap knalpot bising berisik gelap terang lampu listrik air hujan banjir
    longsor jembatan sawah kebun gunung sungai kali situ pantai laut hutan lapang lapangan
    tengah barat timur utara selatan kidul kaler kulon wetan atas bawah dalam luar
    besar kecil tinggi rendah panjang pendek jauh banyak sedikit semua setiap beberapa
    cepat lambat segera mohon harap sangat sekali juga lagi masih pernah selalu sering
    kenapa mengapa bagaimana apa siapa kapan berapa kok sih dong deh lah kah pun
    sini situ sana disini disitu disana kesini kesana
    cinta suci jati simpang talaga telaga sagara dano pas paas sanding parakan godog regol
    sadang sedang tipar bojong keresek kresek campaka suka hati mekar sari maju jaya dua
    pada damai rasa karya asih wangi mulya mulia mukti rakyat manik nagara negara raja ratu
    tanjung muara tambak babakan lebak karang sinar harapan indah makmur sejahtera agung
    galih hurip luyu bakti senang sentosa rame ramai tani mulya jadi haji bakti
    satu tiga empat lima enam tujuh delapan sembilan sepuluh ratus ribu juta
    """.split()
)

_PLACE_WORDS = _normalised_set(
    "kota kaler kidul kulon wetan tengah barat timur muara tanjung tambak bojong mekar".split()
)
"""Ordinary words that, joined with another word, make a place name ("Suci Kaler")."""

# Garut desa named like a well-known place elsewhere; typed alone they are probably not meant
# as the Garut desa, so their score is capped at ELSEWHERE_SCORE unless a cue confirms them.
_ELSEWHERE_KEYS = frozenset(
    place_key(name)
    for name in "Surabaya Depok Cimahi Lembang Cikarang Maroko Cisarua Cibodas".split()
)


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True, slots=True)
class Kecamatan:
    """A kecamatan (district) of Kabupaten Garut; ``code`` is the Kemendagri code 32.05.NN."""

    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Desa:
    """A desa or kelurahan; ``kind`` is ``"desa"`` or ``"kelurahan"``."""

    code: str
    name: str
    kind: str
    kecamatan_code: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PointPlace:
    """Where a shared pin lies.

    ``inside_garut`` is False when the point is farther than ~3 km from every kecamatan
    polygon; then ``kecamatan`` and ``desa`` are None.
    """

    kecamatan: Kecamatan | None
    desa: Desa | None
    inside_garut: bool


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """What a typed text names.

    ``score`` (0..100) says how sure the reading is.  ``ambiguous`` holds the desa that share
    the typed name in several kecamatan when no kecamatan was given (then ``kecamatan`` and
    ``desa`` are None).  ``outside`` is the name of a known place outside Garut when that is the
    only place typed.  When ``desa`` is set, ``kecamatan`` is its kecamatan.
    """

    kecamatan: Kecamatan | None
    desa: Desa | None
    score: float
    ambiguous: tuple[Desa, ...] = ()
    outside: str | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    """Everything indexed under one place key."""

    kecamatan: tuple[Kecamatan, ...]
    desa: tuple[Desa, ...]
    outside: str | None
    spaced: frozenset[str]  # the normalised names, with their spaces, that give this key


@dataclass(frozen=True, slots=True)
class _Hit:
    """A place key found in the token span ``[start, end)`` of the typed text."""

    start: int
    end: int
    key: str
    score: float
    entry: _Entry
    cue: str | None  # "desa" | "kec" | "street" | None
    weak: bool  # an ordinary word as a desa name: needs a "desa" cue or its kecamatan

    @property
    def as_kecamatan(self) -> bool:
        """A kecamatan reading exists and no "desa" cue rules it out."""
        return bool(self.entry.kecamatan) and self.cue != "desa"

    @property
    def as_desa(self) -> bool:
        """A desa reading exists and no "kec" cue rules it out."""
        return bool(self.entry.desa) and self.cue != "kec"


@dataclass(frozen=True, slots=True)
class _Source:
    """Raw rows and geometries read from the data files."""

    kecamatan: tuple[Kecamatan, ...]
    desa: tuple[Desa, ...]
    variants: tuple[tuple[str, str], ...]  # (code, variant)
    outside: tuple[str, ...]
    kecamatan_shapes: dict[str, BaseGeometry]
    desa_shapes: dict[str, BaseGeometry]


# --------------------------------------------------------------------------- loading


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _read_shapes(text: str) -> dict[str, BaseGeometry]:
    """Polygons of a GeoJSON FeatureCollection keyed by the ``code`` property."""
    features = json.loads(text)["features"]
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features}


def _read_source(folder: Traversable) -> _Source:
    texts = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in _DATA_FILES}
    kecamatan = tuple(
        Kecamatan(r["code"], r["name"], float(r["lat"]), float(r["lon"]))
        for r in _read_csv(texts["kecamatan.csv"])
    )
    desa = tuple(
        Desa(
            r["desa_code"],
            r["name"],
            r["type"],
            r["kecamatan_code"],
            float(r["lat"]),
            float(r["lon"]),
        )
        for r in _read_csv(texts["desa.csv"])
    )
    return _Source(
        kecamatan=tuple(sorted(kecamatan, key=lambda k: k.code)),
        desa=tuple(sorted(desa, key=lambda d: d.code)),
        variants=tuple((r["code"], r["variant"]) for r in _read_csv(texts["place_variants.csv"])),
        outside=tuple(r["name"] for r in _read_csv(texts["outside_places.csv"])),
        kecamatan_shapes=_read_shapes(texts["kecamatan.geojson"]),
        desa_shapes=_read_shapes(texts["desa.geojson"]),
    )


@functools.cache
def _load_default() -> Gazetteer:
    return Gazetteer(_read_source(files("conversations.understanding").joinpath("data")))


# --------------------------------------------------------------------------- gazetteer


class Gazetteer:
    """Kecamatan and desa of Garut with text matching and pin location.  Immutable after init."""

    __slots__ = (
        "_area_words",
        "_breakers",
        "_by_first_letter",
        "_desa_by_code",
        "_desa_by_kecamatan",
        "_desa_codes",
        "_desa_tree",
        "_index",
        "_kec_by_code",
        "_kec_codes",
        "_kec_tree",
        "_shapes",
        "kecamatan",
    )

    def __init__(self, source: _Source) -> None:
        self.kecamatan: tuple[Kecamatan, ...] = source.kecamatan
        self._kec_by_code = {k.code: k for k in source.kecamatan}
        self._desa_by_code = {d.code: d for d in source.desa}
        grouped: dict[str, list[Desa]] = {k.code: [] for k in source.kecamatan}
        for desa in source.desa:
            grouped[desa.kecamatan_code].append(desa)
        self._desa_by_kecamatan = {code: tuple(items) for code, items in grouped.items()}
        self._index = _build_index(source, self._kec_by_code, self._desa_by_code)
        self._by_first_letter = _bucket_keys(self._index)
        name_tokens = {t for entry in self._index.values() for n in entry.spaced for t in n.split()}
        self._breakers = _ORDINARY_WORDS - name_tokens
        self._area_words = frozenset(
            place_key(k.name.split()[0]) for k in source.kecamatan if " " in k.name
        )
        self._kec_codes, self._kec_tree = _tree(source.kecamatan_shapes)
        self._desa_codes, self._desa_tree = _tree(source.desa_shapes)
        self._shapes = {**source.kecamatan_shapes, **source.desa_shapes}

    @classmethod
    def load(cls) -> Gazetteer:
        """The gazetteer built from the package data; loaded once, then cached."""
        return _load_default()

    # ----------------------------------------------------------------------- lookups

    def kecamatan_by_code(self, code: str) -> Kecamatan | None:
        """The kecamatan with Kemendagri code ``code`` (``32.05.NN``), or None."""
        return self._kec_by_code.get(code)

    def desa_by_code(self, code: str) -> Desa | None:
        """The desa/kelurahan with code ``code`` (``32.05.NN.NNNN``), or None."""
        return self._desa_by_code.get(code)

    def desa_of(self, kecamatan_code: str) -> tuple[Desa, ...]:
        """The desa/kelurahan of a kecamatan by code order; empty for an unknown code."""
        return self._desa_by_kecamatan.get(kecamatan_code, ())

    def shape(self, code: str) -> BaseGeometry | None:
        """The boundary polygon (lon/lat) of the kecamatan or desa with ``code``, or None."""
        return self._shapes.get(code)

    # ----------------------------------------------------------------------- pins

    def locate(self, lat: float, lon: float) -> PointPlace:
        """Map a pin to its desa and kecamatan.

        Rules: the desa whose polygon contains the point wins, and its kecamatan is the
        answer.  Otherwise the kecamatan polygon containing the point, or else the nearest one
        within ``OUTSIDE_KM``, gives the kecamatan, and its desa with the nearest centroid gives
        the desa.  Farther than that from every kecamatan polygon (or a non-finite coordinate):
        outside Garut.  Boundaries are simplified, so points near an edge are approximate.
        """
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return PointPlace(None, None, inside_garut=False)
        point = Point(lon, lat)
        desa = self._desa_containing(point)
        if desa is not None:
            return PointPlace(self._kec_by_code[desa.kecamatan_code], desa, inside_garut=True)
        kecamatan = self._kecamatan_near(point)
        if kecamatan is None:
            return PointPlace(None, None, inside_garut=False)
        return PointPlace(kecamatan, self._nearest_desa(kecamatan.code, lat, lon), True)

    def _desa_containing(self, point: Point) -> Desa | None:
        found = self._desa_tree.query(point, predicate="intersects")
        candidates = [self._desa_by_code[self._desa_codes[i]] for i in found]
        if not candidates:
            return None
        return min(candidates, key=lambda d: _squared_distance(d, point.y, point.x))

    def _kecamatan_near(self, point: Point) -> Kecamatan | None:
        found = self._kec_tree.query(point, predicate="intersects")
        if not len(found):
            found = self._kec_tree.query_nearest(point, max_distance=OUTSIDE_KM / KM_PER_DEGREE)
        if not len(found):
            return None
        return self._kec_by_code[self._kec_codes[int(found[0])]]

    def _nearest_desa(self, kecamatan_code: str, lat: float, lon: float) -> Desa | None:
        desa = self.desa_of(kecamatan_code)
        return min(desa, key=lambda d: _squared_distance(d, lat, lon)) if desa else None

    # ----------------------------------------------------------------------- typed text

    def match(self, text: str, *, free_text: bool = False) -> PlaceMatch | None:
        """Read the place a citizen typed; None when the text names no place.

        Rules, on ``normalise``-d text cut to its first ``MAX_MATCH_CHARS`` characters:

        * Names, variants and known outside places are looked up in word n-grams (1-3 words,
          joined without spaces).  Exact or variant match: score 100.  Otherwise a rapidfuzz
          ``ratio`` ≥ 88 against keys with the same first letter is accepted with its score;
          keys under 5 letters, ordinary words and runs of ordinary words never fuzzy-match.
          Longer names win over overlapping shorter ones.
        * A name that is both a kecamatan and a desa reads as the kecamatan unless
          "desa"/"ds"/"kel" precedes it; "kec"/"kecamatan" forces the kecamatan reading.
        * A desa named together with its own kecamatan ("mekarsari cibatu") is resolved.
        * A desa name alone: resolved if unique, else ``ambiguous`` lists every desa of that
          name and kecamatan/desa stay None.
        * Names after a street/hamlet word (jl, gg, kp, ...) only count when nothing else is
          named, with a score of at most 70.  Desa named like a place elsewhere (Depok,
          Surabaya, ...) score at most 60 unless confirmed; desa named like an ordinary word
          (Cinta, Suci, ...) need "desa" or their kecamatan.
        * A place in Garut wins over a place outside; an outside place alone gives ``outside``.
        * ``free_text`` (a whole report, not an answer to "where?"): a name after a word of
          direction, route, origin or address (``_AWAY_CUES``; "Garut-Cikajang" after one too)
          is not read.
        """
        tokens = tuple(normalise(text[:MAX_MATCH_CHARS]).split())
        hits = _non_overlapping(self._candidates(tokens, free_text))
        found = self._interpret(hits)
        if found is not None and found.kecamatan is not None and found.score >= EXACT_SCORE:
            return found
        return self._by_landmark(tokens, found)

    def _by_landmark(self, tokens: Sequence[str], found: PlaceMatch | None) -> PlaceMatch | None:
        """A landmark of Garut (:mod:`~conversations.understanding.known_places`) places a
        text that names no kecamatan or desa (or only a vague one: a typo, a street name), and
        settles a desa name shared by several kecamatan when it lies in one of them. A place
        outside Garut named as such stays."""
        if found is not None and found.outside is not None:
            return found
        hit = KnownPlaces.load(place_key).find(tokens)
        if hit is not None and hit.generic and found is not None:
            return found  # "alun-alun Tarogong": the town named is the place
        if hit is None or (
            found is not None and found.kecamatan is not None and found.score >= hit.score
        ):
            return found
        kecamatan = self._kec_by_code.get(hit.place.kecamatan_code)
        if kecamatan is None:
            return found
        if found is not None and found.ambiguous:
            same = [d for d in found.ambiguous if d.kecamatan_code == kecamatan.code]
            return PlaceMatch(kecamatan, same[0], hit.score) if len(same) == 1 else found
        desa = self._desa_by_code.get(hit.place.desa_code or "")
        return PlaceMatch(kecamatan, desa, hit.score)

    def _candidates(self, tokens: Sequence[str], free_text: bool = False) -> Iterator[_Hit]:
        for start in range(len(tokens)):
            if free_text and _away(tokens, start):
                continue
            for size in range(1, MAX_NGRAM + 1):
                span = tokens[start : start + size]
                if len(span) < size or not self._usable_token(span[-1]):
                    break
                hit = self._lookup(span, start, _cue_before(tokens, start))
                if hit is not None:
                    yield hit

    def _usable_token(self, token: str) -> bool:
        return token.isalpha() and token not in self._breakers

    def _lookup(self, span: Sequence[str], start: int, cue: str | None) -> _Hit | None:
        """Exact, then fuzzy lookup of one n-gram; None when nothing fits the rules."""
        key = "".join(span)
        all_ordinary = all(token in _ORDINARY_WORDS for token in span)
        entry = self._index.get(key)
        score = EXACT_SCORE
        if entry is None:
            if all_ordinary or len(key) < MIN_FUZZY_LEN:
                return None
            found = self._fuzzy(key)
            if found is None:
                return None
            key, score = found
            entry = self._index[key]
        elif len(span) > 1 and all_ordinary and " ".join(span) not in entry.spaced:
            if cue != "desa":
                return None  # "suka hati" is not desa Sukahati
        weak = _is_weak(entry, span) if score == EXACT_SCORE else False
        score = self._capped_score(key, entry, score, cue)
        return _Hit(start, start + len(span), key, score, entry, cue, weak)

    def _fuzzy(self, key: str) -> tuple[str, float] | None:
        bucket = self._by_first_letter.get(key[0], ())
        low, high = len(key) * 0.78, len(key) / 0.78
        choices = [k for k in bucket if low <= len(k) <= high]
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return None if best is None else (best[0], float(best[1]))

    def _capped_score(self, key: str, entry: _Entry, score: float, cue: str | None) -> float:
        if cue == "street":
            score = min(score, VAGUE_SCORE)
        if cue == "desa" or entry.kecamatan or not entry.desa:
            return score
        if key in _ELSEWHERE_KEYS:
            return min(score, ELSEWHERE_SCORE)
        if key in self._area_words:
            return min(score, VAGUE_SCORE)
        return score

    def _interpret(self, hits: Sequence[_Hit]) -> PlaceMatch | None:
        """Turn the chosen hits into one answer (see ``match`` for the rules)."""
        garut = [h for h in hits if h.entry.kecamatan or h.entry.desa]
        primary = [h for h in garut if h.cue != "street"] or garut
        paired = self._best_pair(primary)
        if paired is not None:
            return paired
        usable = [h for h in primary if not h.weak or h.cue == "desa"]
        kec_hits = [h for h in usable if h.as_kecamatan]
        desa_hits = [h for h in usable if h.as_desa and (h.cue == "desa" or not h.entry.kecamatan)]
        if kec_hits:
            return _from_kecamatan(kec_hits, desa_hits)
        if desa_hits:
            return self._from_desa(desa_hits)
        outside = [h for h in hits if h.entry.outside]
        if outside:
            best = max(outside, key=lambda h: (h.score, -h.start))
            return PlaceMatch(None, None, best.score, outside=best.entry.outside)
        return None

    def _best_pair(self, hits: Sequence[_Hit]) -> PlaceMatch | None:
        """A desa named together with its own kecamatan, best-cued and best-scored first."""
        best: tuple[tuple[int, float, int], PlaceMatch] | None = None
        for desa_hit in (h for h in hits if h.as_desa):
            for kec_hit in (h for h in hits if h.as_kecamatan and h is not desa_hit):
                for desa in desa_hit.entry.desa:
                    for kecamatan in kec_hit.entry.kecamatan:
                        if desa.kecamatan_code != kecamatan.code:
                            continue
                        score = min(desa_hit.score, kec_hit.score)
                        if desa_hit.entry.kecamatan and desa_hit.cue != "desa":
                            score *= PAIR_NAME_FACTOR
                        cues = (desa_hit.cue == "desa") + (kec_hit.cue == "kec")
                        rank = (cues, score, -desa_hit.start)
                        if best is None or rank > best[0]:
                            best = (rank, PlaceMatch(kecamatan, desa, score))
        return None if best is None else best[1]

    def _from_desa(self, hits: Sequence[_Hit]) -> PlaceMatch:
        """A desa-only reading: unique names resolve, shared names list the candidates."""
        best = max(hits, key=lambda h: (len(h.entry.desa) == 1, h.score, -h.start))
        if len(best.entry.desa) == 1:
            desa = best.entry.desa[0]
            return PlaceMatch(self._kec_by_code[desa.kecamatan_code], desa, best.score)
        return PlaceMatch(None, None, best.score, ambiguous=best.entry.desa)


# --------------------------------------------------------------------------- helpers


def _from_kecamatan(kec_hits: Sequence[_Hit], desa_hits: Sequence[_Hit]) -> PlaceMatch:
    """The best kecamatan reading; less sure when other, unfitting places are named too."""
    best = max(kec_hits, key=lambda h: (h.score, -h.start))
    kecamatan = best.entry.kecamatan[0]
    named = {k.code for h in kec_hits for k in h.entry.kecamatan}
    score = best.score
    if len(named) > 1 or desa_hits:
        score *= CONFLICT_FACTOR
    return PlaceMatch(kecamatan, None, score)


def _is_weak(entry: _Entry, span: Sequence[str]) -> bool:
    """A desa-only name typed as ordinary words: one ordinary word ("cinta", "pas"), or several
    with no place word among them ("baru dua"; but "kota kulon" and "suci kaler" are names)."""
    if entry.kecamatan or not entry.desa or not all(t in _ORDINARY_WORDS for t in span):
        return False
    return len(span) == 1 or not any(token in _PLACE_WORDS for token in span)


def _away(tokens: Sequence[str], start: int) -> bool:
    """Whether the name at ``start`` follows a direction, route, origin or address word
    (directly, or after "garut" as in "jurusan Garut-Cikajang")."""
    before = tokens[max(0, start - 2) : start]
    return bool(before) and (
        before[-1] in _AWAY_CUES
        or (before[-1] == "garut" and len(before) == 2 and before[0] in _AWAY_CUES)
    )


def _cue_before(tokens: Sequence[str], start: int) -> str | None:
    """The cue word right before ``tokens[start]``, skipping "raya"."""
    index = start - 1
    while index >= 0 and tokens[index] in _CUE_SKIP:
        index -= 1
    if index < 0:
        return None
    word = tokens[index]
    if word in _DESA_CUES:
        return "desa"
    if word in _KEC_CUES:
        return "kec"
    if word in _STREET_CUES:
        return "street"
    return None


def _non_overlapping(hits: Iterable[_Hit]) -> list[_Hit]:
    """Greedy choice: longer place keys first, then higher score, then earlier; in text order."""
    ordered = sorted(hits, key=lambda h: (-len(h.key), -h.score, h.start))
    taken: list[_Hit] = []
    used: set[int] = set()
    for hit in ordered:
        span = range(hit.start, hit.end)
        if used.isdisjoint(span):
            taken.append(hit)
            used.update(span)
    return sorted(taken, key=lambda h: h.start)


def _build_index(
    source: _Source, kec_by_code: dict[str, Kecamatan], desa_by_code: dict[str, Desa]
) -> dict[str, _Entry]:
    """Key → entry for every kecamatan, desa, variant and outside name."""
    kec: dict[str, list[Kecamatan]] = {}
    desa: dict[str, list[Desa]] = {}
    outside: dict[str, str] = {}
    spaced: dict[str, set[str]] = {}

    def add_name(name: str) -> str:
        key = place_key(name)
        spaced.setdefault(key, set()).add(normalise(name))
        return key

    for kecamatan in source.kecamatan:
        kec.setdefault(add_name(kecamatan.name), []).append(kecamatan)
    for item in source.desa:
        desa.setdefault(add_name(item.name), []).append(item)
    for code, variant in source.variants:
        key = add_name(variant)
        if code in kec_by_code and kec_by_code[code] not in kec.setdefault(key, []):
            kec[key].append(kec_by_code[code])
        elif code in desa_by_code and desa_by_code[code] not in desa.setdefault(key, []):
            desa[key].append(desa_by_code[code])
    for name in source.outside:
        outside.setdefault(add_name(name), name)
    return {
        key: _Entry(
            kecamatan=tuple(sorted(kec.get(key, ()), key=lambda k: k.code)),
            desa=tuple(sorted(desa.get(key, ()), key=lambda d: d.code)),
            outside=None if key in kec or key in desa else outside.get(key),
            spaced=frozenset(forms),
        )
        for key, forms in spaced.items()
        if key
    }


def _bucket_keys(index: dict[str, _Entry]) -> dict[str, tuple[str, ...]]:
    """Index keys grouped by first letter, for fuzzy lookups."""
    buckets: dict[str, list[str]] = {}
    for key in index:
        buckets.setdefault(key[0], []).append(key)
    return {letter: tuple(sorted(keys)) for letter, keys in buckets.items()}


def _tree(shapes: dict[str, BaseGeometry]) -> tuple[tuple[str, ...], STRtree]:
    """Codes and an STRtree over prepared polygons, in the same order."""
    codes = tuple(sorted(shapes))
    geometries = [shapes[code] for code in codes]
    shapely.prepare(geometries)
    return codes, STRtree(geometries)


def _squared_distance(place: Desa, lat: float, lon: float) -> float:
    """Squared planar distance in degrees, longitude scaled for Garut's latitude."""
    scale = math.cos(math.radians(place.lat))
    return (place.lat - lat) ** 2 + ((place.lon - lon) * scale) ** 2
