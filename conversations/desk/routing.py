"""Who handles a ticket: the unit of its category and the Polsek of its kecamatan.

Units are the Polres's satuan (``SATRESKRIM``, ``SATLANTAS``, ...) and the Polsek named
``POLSEK-<KECAMATAN>``. A kecamatan whose Polsek is not known routes to the Polres SPKT.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from conversations.categories import Categories

POLRES_UNITS = (
    "SPKT",
    "SATRESKRIM",
    "SATRESNARKOBA",
    "SATINTELKAM",
    "SATLANTAS",
    "SATSAMAPTA",
    "SATBINMAS",
    "SIPROPAM",
)
FALLBACK_UNIT = "SPKT"


@dataclass(frozen=True, slots=True)
class Route:
    unit: str  # the satuan of the category
    polsek: str | None  # the Polsek of the kecamatan, when known

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit to notify: the satuan, and the Polsek or else the SPKT."""
        extra = self.polsek or FALLBACK_UNIT
        return (self.unit,) if extra == self.unit else (self.unit, extra)


@cache
def polsek_by_kecamatan() -> dict[str, str]:
    source = resources.files("conversations.desk") / "data" / "polsek.csv"
    with source.open(encoding="utf-8") as handle:
        return {row["kecamatan_code"]: row["unit"] for row in csv.DictReader(handle)}


@cache
def polsek_homes() -> frozenset[str]:
    """The kecamatan where a Polsek has its own office (``home`` in ``polsek.csv``)."""
    source = resources.files("conversations.desk") / "data" / "polsek.csv"
    with source.open(encoding="utf-8") as handle:
        return frozenset(
            r["kecamatan_code"] for r in csv.DictReader(handle) if r["basis"] == "home"
        )


@cache
def all_units() -> tuple[str, ...]:
    return POLRES_UNITS + tuple(sorted(set(polsek_by_kecamatan().values())))


def normalise_unit(text: str) -> str | None:
    """``satreskrim`` / ``Polsek Cibatu`` / ``polsek-cibatu`` -> the unit code, or None."""
    code = "-".join(text.strip().upper().replace("_", " ").replace("-", " ").split())
    if code.startswith("POLSEK") and not code.startswith("POLSEK-"):
        code = "POLSEK-" + code.removeprefix("POLSEK").lstrip("-")
    return code if code in all_units() else None


def route(category_code: str, kecamatan_code: str | None) -> Route:
    category = Categories.load().get(category_code) or Categories.load()["lainnya"]
    polsek = polsek_by_kecamatan().get(kecamatan_code or "")
    return Route(category.unit, polsek)
