"""Reports of one incident: a new report with the same category, near an open one (within
500 m of its pin, or in the same desa) and within 48 hours, is linked to it. The officer sees
"kemungkinan sama dengan GRT-…"; the citizen is told their report was added to it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from conversations.state import Draft

NEAR_METRES = 500.0
WITHIN = timedelta(hours=48)
EARTH_RADIUS_METRES = 6_371_000.0


@dataclass(frozen=True, slots=True)
class OpenTicket:
    id: int
    number: str
    desa_code: str | None
    lat: float | None
    lon: float | None


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(min(1.0, a)))


def same_incident(draft: Draft, ticket: OpenTicket) -> bool:
    """Near enough to be the same incident: both pins within 500 m, or the same desa."""
    if None not in (draft.lat, draft.lon, ticket.lat, ticket.lon):
        assert draft.lat is not None and draft.lon is not None
        assert ticket.lat is not None and ticket.lon is not None
        return distance_metres(draft.lat, draft.lon, ticket.lat, ticket.lon) <= NEAR_METRES
    return draft.desa_code is not None and draft.desa_code == ticket.desa_code


def may_have_twin(draft: Draft) -> bool:
    """Whether any ticket could be the same incident as ``draft``: it needs a desa or a pin
    (a report placed only by its kecamatan is never linked)."""
    return draft.desa_code is not None or (draft.lat is not None and draft.lon is not None)


def find_similar(draft: Draft, candidates: list[OpenTicket]) -> OpenTicket | None:
    """The earliest open ticket of the same incident, if any (candidates are the open tickets
    of the same category from the last 48 hours, oldest first)."""
    return next((ticket for ticket in candidates if same_incident(draft, ticket)), None)
