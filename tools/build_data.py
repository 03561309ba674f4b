"""Build the understanding's package data (``conversations/understanding/data``) from the
shared Garut reference files.

Usage::

    .venv/bin/python tools/build_data.py [--reference ../shared/reference]

Reads ``<reference>/garut/{kecamatan,desa}.csv``, ``{kecamatan,desa}.geojson`` and
``LICENSE-wilayah_boundaries.txt`` and writes:

* ``kecamatan.csv`` (code,name,lat,lon) and ``desa.csv``
  (kecamatan_code,desa_code,name,type,lat,lon);
* ``place_variants.csv`` (code,variant): the old spellings of the reference plus the hand-checked
  local names below;
* ``kecamatan.geojson`` / ``desa.geojson``: the polygons with only their ``code``, coordinates
  on a 1e-5 degree grid (~1 m), one feature per line;
* ``outside_places.csv`` (name,kind): well-known places outside Kabupaten Garut, minus any
  name that is, or fuzzily resembles, a Garut kecamatan/desa name;
* ``LICENSE-wilayah_boundaries.txt`` (copied) and ``SOURCES.md``.

Running it twice gives identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from rapidfuzz import fuzz
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conversations.understanding.places import FUZZY_CUTOFF, place_key  # noqa: E402

DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
OUT = REPO / "conversations" / "understanding" / "data"
GRID = 1e-5
DECIMALS = 5
LICENSE_NAME = "LICENSE-wilayah_boundaries.txt"

# Local names a citizen may type, by code.  Only names seen in real use (see the reference
# notes): eu/e spellings are handled by normalisation in places.py, but the two well-known
# ones are listed anyway for readers of this file.
KNOWN_VARIANTS: tuple[tuple[str, str], ...] = (
    ("32.05.38", "Balubur Limbangan"),
    ("32.05.38", "Bl. Limbangan"),
    ("32.05.38", "Blubur Limbangan"),
    ("32.05.27", "Pamengpeuk"),
    ("32.05.26", "Pendeuy"),
    ("32.05.05", "Tarkid"),
    ("32.05.04", "Tarkal"),
)

# Well-known places outside Kabupaten Garut.  Deliberately left out: Garut itself; Cimahi,
# Depok, Surabaya, Lembang, Cikarang (desa in Garut); Malang, Padang, Serang (ordinary
# Indonesian/Sundanese words: unlucky, field/bright, attack).
OUTSIDE_PLACES: tuple[tuple[str, str], ...] = (
    # Jawa Barat: kabupaten and kota (and their short names)
    ("Bandung", "kabupaten/kota"),
    ("Bandung Barat", "kabupaten"),
    ("Bekasi", "kabupaten/kota"),
    ("Bogor", "kabupaten/kota"),
    ("Ciamis", "kabupaten"),
    ("Cianjur", "kabupaten"),
    ("Cirebon", "kabupaten/kota"),
    ("Indramayu", "kabupaten"),
    ("Karawang", "kabupaten"),
    ("Kuningan", "kabupaten"),
    ("Majalengka", "kabupaten"),
    ("Pangandaran", "kabupaten"),
    ("Purwakarta", "kabupaten"),
    ("Subang", "kabupaten"),
    ("Sukabumi", "kabupaten/kota"),
    ("Sumedang", "kabupaten"),
    ("Tasikmalaya", "kabupaten/kota"),
    ("Tasik", "kabupaten/kota"),
    ("Banjar", "kota"),
    # places near Garut's borders
    ("Singaparna", "kecamatan (Tasikmalaya)"),
    ("Cigalontang", "kecamatan (Tasikmalaya)"),
    ("Salawu", "kecamatan (Tasikmalaya)"),
    ("Pangalengan", "kecamatan (Bandung)"),
    ("Kertasari", "kecamatan (Bandung)"),
    ("Nagreg", "kecamatan (Bandung)"),
    ("Cicalengka", "kecamatan (Bandung)"),
    ("Majalaya", "kecamatan (Bandung)"),
    ("Rancaekek", "kecamatan (Bandung)"),
    ("Cileunyi", "kecamatan (Bandung)"),
    ("Soreang", "kecamatan (Bandung)"),
    ("Jatinangor", "kecamatan (Sumedang)"),
    # provinces and big cities
    ("Jakarta", "provinsi"),
    ("Banten", "provinsi"),
    ("Jawa Tengah", "provinsi"),
    ("Jawa Timur", "provinsi"),
    ("Bali", "provinsi"),
    ("Lampung", "provinsi"),
    ("Tangerang", "kabupaten/kota"),
    ("Cilegon", "kota"),
    ("Semarang", "kota"),
    ("Yogyakarta", "kota"),
    ("Jogja", "kota"),
    ("Jogjakarta", "kota"),
    ("Yogya", "kota"),
    ("Solo", "kota"),
    ("Surakarta", "kota"),
    ("Medan", "kota"),
    ("Makassar", "kota"),
    ("Palembang", "kota"),
    ("Denpasar", "kota"),
    ("Bandar Lampung", "kota"),
    ("Pekanbaru", "kota"),
    ("Batam", "kota"),
    ("Pontianak", "kota"),
    ("Balikpapan", "kota"),
    ("Samarinda", "kota"),
    ("Banjarmasin", "kota"),
    ("Manado", "kota"),
    ("Jayapura", "kota"),
    ("Kupang", "kota"),
    ("Ambon", "kota"),
    ("Mataram", "kota"),
)

SOURCES_MD = """\
# Sources of the data in this folder

Built by `tools/build_data.py` from the project's reference notes on Kabupaten Garut.
Do not edit by hand: change the script and run it again.

- `kecamatan.csv`: the 42 kecamatan (Kemendagri code, name, centroid lat/lon).
  Codes and names: `cahyadsn/wilayah`, `db/wilayah.sql` (Kepmendagri No 300.2.2-2138
  Tahun 2025). Centroids: `cahyadsn/wilayah_boundaries`,
  `db/kec/wilayah_boundaries_kec_32.sql`, commit 3c5a796 (MIT).
- `desa.csv`: the 442 desa/kelurahan (codes, name, type, centroid lat/lon).
  Codes and names: `cahyadsn/wilayah` as above. Centroids: `cahyadsn/wilayah_boundaries`,
  `db/kel/32/wilayah_boundaries_kel_32.05.sql`, commit 3c5a796 (MIT).
- `kecamatan.geojson`, `desa.geojson`: simplified boundary polygons (lon/lat order) from
  `cahyadsn/wilayah_boundaries`, commit 3c5a796, MIT licence (see
  `LICENSE-wilayah_boundaries.txt`). Only the `code` property is kept; coordinates are
  snapped to a 1e-5 degree grid; the nested shells of Kec. Cibalong (32.05.29) were merged
  into one valid polygon.
- `place_variants.csv`: other spellings: the 2023-archive spellings of 9 desa
  (`cahyadsn/wilayah`); "Balubur Limbangan", "Blubur Limbangan", "Bl. Limbangan"
  (ibnux/data-indonesia, the Desa Cigagade site, GeoJSON alias tables); "Pamengpeuk" and
  "Pendeuy" (Garut news); the local abbreviations "Tarkid" (Tarogong Kidul) and "Tarkal"
  (Tarogong Kaler).
- `outside_places.csv`: well-known places outside Kabupaten Garut (kabupaten/kota of
  Jawa Barat, neighbouring kecamatan of Bandung, Sumedang and Tasikmalaya, provinces, big
  cities), compiled for this project, without any name that is, or fuzzily resembles, a
  Garut kecamatan/desa name.
- `LICENSE-wilayah_boundaries.txt`: the MIT licence of `cahyadsn/wilayah_boundaries`,
  copied unchanged as its terms require.
"""


@dataclass(frozen=True, slots=True)
class Reference:
    """The rows of the reference CSV files."""

    kecamatan: list[dict[str, str]]
    desa: list[dict[str, str]]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def read_reference(garut: Path) -> Reference:
    kecamatan = read_csv(garut / "kecamatan.csv")
    desa = read_csv(garut / "desa.csv")
    if len(kecamatan) != 42 or len(desa) != 442:
        raise SystemExit(f"expected 42 kecamatan / 442 desa, got {len(kecamatan)}/{len(desa)}")
    return Reference(kecamatan, desa)


def write_tables(ref: Reference) -> None:
    write_csv(
        OUT / "kecamatan.csv",
        ("code", "name", "lat", "lon"),
        sorted((r["code"], r["name"], r["lat"], r["lon"]) for r in ref.kecamatan),
    )
    write_csv(
        OUT / "desa.csv",
        ("kecamatan_code", "desa_code", "name", "type", "lat", "lon"),
        sorted(
            (r["kecamatan_code"], r["desa_code"], r["desa_name"], r["type"], r["lat"], r["lon"])
            for r in ref.desa
        ),
    )


def variant_rows(ref: Reference) -> list[tuple[str, str]]:
    """Old spellings from the reference plus KNOWN_VARIANTS, checked against the codes."""
    codes = {r["code"] for r in ref.kecamatan} | {r["desa_code"] for r in ref.desa}
    rows = [(r["desa_code"], r["alt_spelling"]) for r in ref.desa if r["alt_spelling"].strip()]
    rows += KNOWN_VARIANTS
    unknown = [code for code, _ in rows if code not in codes]
    if unknown:
        raise SystemExit(f"variants for unknown codes: {unknown}")
    return sorted(set(rows))


def garut_keys(ref: Reference, variants: Iterable[tuple[str, str]]) -> set[str]:
    names = [r["name"] for r in ref.kecamatan] + [r["desa_name"] for r in ref.desa]
    names += [variant for _, variant in variants]
    return {place_key(name) for name in names}


def outside_rows(keys: set[str]) -> list[tuple[str, str]]:
    """OUTSIDE_PLACES without names equal or fuzzily close to a Garut name (reported)."""
    rows: list[tuple[str, str]] = []
    for name, kind in OUTSIDE_PLACES:
        key = place_key(name)
        clash = [k for k in keys if k == key or fuzz.ratio(k, key) >= FUZZY_CUTOFF]
        if clash:
            print(f"left out {name!r}: like Garut name(s) {sorted(clash)}", file=sys.stderr)
            continue
        rows.append((name, kind))
    return rows


def _rounded(coords: Any) -> Any:
    if isinstance(coords[0], float | int):
        return [round(float(c), DECIMALS) for c in coords]
    return [_rounded(c) for c in coords]


def clean_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """Valid polygonal geometry snapped to the grid (merges nested shells, drops slivers)."""
    if not geometry.is_valid:
        parts = getattr(geometry, "geoms", [geometry])
        geometry = unary_union([shapely.make_valid(part) for part in parts])
    snapped = shapely.set_precision(geometry, GRID)
    if snapped.is_empty or not snapped.is_valid:
        raise SystemExit(f"geometry broke when snapped: {shapely.is_valid_reason(snapped)}")
    return snapped


def write_geojson(source: Path, target: Path, codes: set[str]) -> None:
    """Copy polygons keeping only ``code``, one feature per line, sorted by code."""
    features = json.loads(source.read_text(encoding="utf-8"))["features"]
    found = {f["properties"]["code"] for f in features}
    if found != codes:
        raise SystemExit(f"{source.name}: codes differ from the CSV: {sorted(found ^ codes)}")
    lines = []
    for feature in sorted(features, key=lambda f: f["properties"]["code"]):
        geometry = mapping(clean_geometry(shape(feature["geometry"])))
        out = {
            "type": "Feature",
            "properties": {"code": feature["properties"]["code"]},
            "geometry": {
                "type": geometry["type"],
                "coordinates": _rounded(geometry["coordinates"]),
            },
        }
        lines.append(json.dumps(out, separators=(",", ":")))
    body = ",\n".join(lines)
    target.write_text(f'{{"type":"FeatureCollection","features":[\n{body}\n]}}\n', "utf-8")


def build(reference: Path) -> None:
    garut = reference / "garut"
    ref = read_reference(garut)
    OUT.mkdir(parents=True, exist_ok=True)
    write_tables(ref)
    variants = variant_rows(ref)
    write_csv(OUT / "place_variants.csv", ("code", "variant"), variants)
    write_csv(OUT / "outside_places.csv", ("name", "kind"), outside_rows(garut_keys(ref, variants)))
    write_geojson(
        garut / "kecamatan.geojson", OUT / "kecamatan.geojson", {r["code"] for r in ref.kecamatan}
    )
    write_geojson(garut / "desa.geojson", OUT / "desa.geojson", {r["desa_code"] for r in ref.desa})
    shutil.copyfile(garut / LICENSE_NAME, OUT / LICENSE_NAME)
    (OUT / "SOURCES.md").write_text(SOURCES_MD, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        type=Path,
        default=DEFAULT_REFERENCE,
        help="folder holding garut/ (default: ../shared/reference next to the repo)",
    )
    args = parser.parse_args(argv)
    build(args.reference.resolve())
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
