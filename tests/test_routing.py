"""Every category goes to its unit; every kecamatan to its Polsek, or to the SPKT."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conversations.categories import Categories
from conversations.desk.routing import FALLBACK_UNIT, all_units, normalise_unit, route

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
EXPECTED_UNITS = {
    "uang_palsu": "SATRESKRIM",
    "pencurian": "SATRESKRIM",
    "penipuan": "SATRESKRIM",
    "narkoba": "SATRESNARKOBA",
    "miras": "SATSAMAPTA",
    "judi": "SATRESKRIM",
    "premanisme": "SATSAMAPTA",
    "balap_liar": "SATLANTAS",
    "tawuran": "SATSAMAPTA",
    "kecelakaan": "SATLANTAS",
    "layanan_sim": "SATLANTAS",
    "layanan_umum": "SPKT",
    "kekerasan": "SATRESKRIM",
    "orang_hilang": "SATRESKRIM",
    "antar_barang": "SPKT",
    "oknum": "SIPROPAM",
    "informasi": "SPKT",
    "lainnya": "SPKT",
}


@pytest.mark.parametrize(("category", "unit"), sorted(EXPECTED_UNITS.items()))
def test_every_category_goes_to_its_unit(category: str, unit: str) -> None:
    assert route(category, None).unit == unit
    assert Categories.load()[category].unit == unit


def test_the_categories_are_the_eighteen_of_the_reference() -> None:
    assert {c.code for c in Categories.load().all} == set(EXPECTED_UNITS)
    if (REFERENCE / "categories.csv").exists():
        with (REFERENCE / "categories.csv").open(encoding="utf-8") as handle:
            reference = {row["code"]: row["unit"] for row in csv.DictReader(handle)}
        assert reference == EXPECTED_UNITS


@pytest.mark.parametrize(
    ("kecamatan", "polsek", "notified"),
    [
        ("32.05.12", "POLSEK-CIBATU", ("SATRESKRIM", "POLSEK-CIBATU")),  # its own Polsek
        ("32.05.13", "POLSEK-CIBATU", ("SATRESKRIM", "POLSEK-CIBATU")),  # Kersamanah: Cibatu's
        ("32.05.39", "POLSEK-LIMBANGAN", ("SATRESKRIM", "POLSEK-LIMBANGAN")),  # Selaawi
        ("32.05.42", None, ("SATRESKRIM", FALLBACK_UNIT)),  # Sucinaraja: no Polsek of its own
        ("32.05.22", None, ("SATRESKRIM", FALLBACK_UNIT)),  # Cikajang: not confirmed
        (None, None, ("SATRESKRIM", FALLBACK_UNIT)),  # no place given
    ],
)
def test_a_kecamatan_goes_to_its_polsek_or_to_the_spkt(
    kecamatan: str | None, polsek: str | None, notified: tuple[str, ...]
) -> None:
    way = route("pencurian", kecamatan)
    assert way.polsek == polsek
    assert way.units == notified


def test_an_spkt_category_without_polsek_notifies_the_spkt_once() -> None:
    assert route("informasi", None).units == ("SPKT",)


@pytest.mark.parametrize(
    ("typed", "unit"),
    [
        ("satreskrim", "SATRESKRIM"),
        ("Polsek Cibatu", "POLSEK-CIBATU"),
        ("polsek-tarogong kidul", "POLSEK-TAROGONG-KIDUL"),
        ("SATPAM", None),
        ("", None),
    ],
)
def test_units_are_read_as_operators_write_them(typed: str, unit: str | None) -> None:
    assert normalise_unit(typed) == unit
    if unit:
        assert unit in all_units()
