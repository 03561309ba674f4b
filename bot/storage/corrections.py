"""Officers' category corrections (``/kategori``), read back as labelled examples and counted.

A correction keeps no text of its own: the example is the corrected ticket's story, so it is
gone when the ticket is (retention, erasure) and never outlives what the citizen gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import to_db

__all__ = ["CorrectedExample", "CorrectionStats", "corrected_examples", "correction_stats"]


@dataclass(frozen=True, slots=True)
class CorrectedExample:
    """A ticket's story with the category officers settled on."""

    ticket_id: int
    text: str
    category: str


@dataclass(frozen=True, slots=True)
class CorrectionStats:
    """Over a period: tickets filed, corrections made, tickets whose first category stood."""

    tickets: int
    corrections: int
    corrected_tickets: int
    place_corrections: int = 0

    @property
    def first_guess_accuracy(self) -> float | None:
        """The share of the period's tickets whose category needed no correction."""
        if not self.tickets:
            return None
        return 1 - self.corrected_tickets / self.tickets


async def corrected_examples(conn: aiosqlite.Connection) -> list[CorrectedExample]:
    """Every corrected ticket still kept, with its current category, oldest first."""
    cursor = await conn.execute(
        "SELECT t.id, t.chronology, t.category FROM tickets t"
        " WHERE EXISTS (SELECT 1 FROM category_corrections c WHERE c.ticket_id = t.id)"
        " AND t.chronology <> '' ORDER BY t.id"
    )
    rows = await cursor.fetchall()
    return [CorrectedExample(int(r[0]), str(r[1]), str(r[2])) for r in rows]


async def correction_stats(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> CorrectionStats:
    """Corrections made in [start, end) (topic and place) and the tickets filed then whose
    category was corrected at any time."""
    lo, hi = to_db(start), to_db(end)
    cursor = await conn.execute(
        "SELECT (SELECT COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ?),"
        " (SELECT COUNT(*) FROM category_corrections WHERE at >= ? AND at < ?),"
        " (SELECT COUNT(*) FROM tickets t WHERE t.created_at >= ? AND t.created_at < ?"
        "  AND EXISTS (SELECT 1 FROM category_corrections c WHERE c.ticket_id = t.id)),"
        " (SELECT COUNT(*) FROM place_corrections WHERE at >= ? AND at < ?)",
        (lo, hi, lo, hi, lo, hi, lo, hi),
    )
    row = await cursor.fetchone()
    assert row is not None
    return CorrectionStats(int(row[0]), int(row[1]), int(row[2]), int(row[3]))
