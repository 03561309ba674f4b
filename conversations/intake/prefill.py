"""The pre-fill hook: what the first free-text message already says, so it is not asked again.

The intake calls an :class:`Understander` on a citizen's first message. Whatever it returns is
taken as answered; everything else is asked. Without an understander nothing is pre-filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Prefill:
    category: str | None = None
    kecamatan_code: str | None = None
    desa_code: str | None = None
    address: str | None = None
    outside_garut: bool = False
    chronology: str | None = None
    incident_time: datetime | None = None
    incident_time_end: datetime | None = None  # set when only a span is known ("tadi pagi")
    urgent: bool = False
    language: str | None = None  # "id", "su" or "en" when the text shows it clearly

    @property
    def has_place(self) -> bool:
        return self.kecamatan_code is not None or self.outside_garut


class Understander(Protocol):
    def prefill(self, text: str, now: datetime) -> Prefill:
        """What ``text`` says about the report; must never raise and never invent a place."""
        ...
