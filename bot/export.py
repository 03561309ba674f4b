"""The recap: one row per ticket, as CSV or XLSX, for the operator and the Kapolres' staff.

The reporter appears as a pseudonym and a masked number. The raw identity (channel and id)
is added only for a registered admin who asks for it; that look-up is written to the audit
log in the same transaction that reads it.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import from_db, to_db
from bot.files import write_private
from bot.identity import ChannelId
from bot.officers import audit
from bot.storage.database import Database
from conversations.categories import Categories
from conversations.i18n import N_, _, pgettext, use_locale
from conversations.intake import prompts
from conversations.privacy import masked_identity, reporter_label
from conversations.understanding.places import Gazetteer

FORMATS = ("csv", "xlsx")
COLUMNS = (
    N_("Number"),
    N_("Created"),
    N_("Category"),
    N_("Unit"),
    N_("Polsek"),
    N_("Kecamatan"),
    N_("Desa/kelurahan"),
    N_("Status"),
    N_("Urgent"),
    N_("First response"),
    N_("Closed"),
    N_("Resolved (reporter)"),
    N_("Reporter"),
)
IDENTITY_COLUMN = N_("Identity (channel:id)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_QUERY = (
    "SELECT t.number, t.created_at, t.category, t.unit, t.polsek, t.kecamatan_code,"
    " t.desa_code, t.status, t.urgent, t.first_response_at, t.closed_at, t.resolved_ok,"
    " r.pseudonym, t.channel,"
    " (SELECT i.external_id FROM identities i WHERE i.reporter_id = t.reporter_id"
    "  AND i.channel = t.channel ORDER BY i.created_at LIMIT 1)"
    " FROM tickets t JOIN reporters r ON r.id = t.reporter_id"
    " WHERE t.created_at >= ? AND t.created_at < ? ORDER BY t.created_at, t.id"
)


class ExportRefused(PermissionError):
    """The identity was asked for by someone who is not a registered admin."""


Cell = str | int | datetime | None


@dataclass(frozen=True, slots=True)
class RecapRow:
    number: str
    created: datetime
    category: str
    unit: str
    polsek: str | None
    kecamatan: str | None
    desa: str | None
    status: str
    urgent: bool
    first_response: datetime | None
    closed: datetime | None
    resolved_ok: bool | None
    reporter: str  # pseudonym and masked number
    identity: str | None  # channel:id, only in an admin's identity export


@dataclass(frozen=True, slots=True)
class Recap:
    start: date
    end: date  # inclusive
    rows: tuple[RecapRow, ...]
    with_identity: bool


def bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of ``[start 00:00, end + 1 day 00:00)`` in local time."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    return (
        datetime.combine(start, time(0), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
    )


async def load_recap(
    db: Database,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    categories: Categories,
    gazetteer: Gazetteer,
    locale: str,
    now: datetime,
    admin: ChannelId | None = None,
    output: str = "",
) -> Recap:
    """The tickets created from ``start`` to ``end`` (local days, inclusive). With ``admin``,
    the raw identity is included when ``admin`` is a registered, active admin, and the
    look-up is audited (``export.identity``); otherwise :class:`ExportRefused`."""
    first, last = bounds(start, end, tz)

    async def read(conn: aiosqlite.Connection) -> list[aiosqlite.Row]:
        async with conn.execute(_QUERY, (to_db(first), to_db(last))) as cursor:
            return list(await cursor.fetchall())

    async def read_audited(conn: aiosqlite.Connection) -> list[aiosqlite.Row] | None:
        assert admin is not None
        async with conn.execute(
            "SELECT id FROM officers WHERE channel = ? AND external_id = ? AND role = 'admin'"
            " AND active = 1",
            (admin.channel, admin.id),
        ) as cursor:
            officer = await cursor.fetchone()
        detail: dict[str, object] = {
            "admin": str(admin),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "output": output,
        }
        if officer is None:
            await audit(conn, "cli", "export.identity.refused", detail, now)
            return None
        rows = await read(conn)
        detail["tickets"] = len(rows)
        await audit(conn, f"officer:{officer[0]}", "export.identity", detail, now)
        return rows

    if admin is None:
        rows = await db.read(read)
    else:
        found = await db.write(read_audited)
        if found is None:
            raise ExportRefused(f"{admin} is not a registered admin")
        rows = found
    with use_locale(locale):
        recap = tuple(_row(r, tz, categories, gazetteer, locale, admin is not None) for r in rows)
    return Recap(start, end, recap, admin is not None)


def _row(
    row: aiosqlite.Row,
    tz: ZoneInfo,
    categories: Categories,
    gazetteer: Gazetteer,
    locale: str,
    with_identity: bool,
) -> RecapRow:
    channel, external = row[13], row[14] or ""
    category = categories.get(row[2])
    kecamatan = gazetteer.kecamatan_by_code(row[5]) if row[5] else None
    desa = gazetteer.desa_by_code(row[6]) if row[6] else None
    return RecapRow(
        number=row[0],
        created=_local(row[1], tz),
        category=category.label(locale) if category else row[2],
        unit=row[3],
        polsek=row[4],
        kecamatan=kecamatan.name if kecamatan else None,
        desa=desa.name if desa else None,
        status=prompts.status_label(row[7]),
        urgent=bool(row[8]),
        first_response=_local(row[9], tz) if row[9] else None,
        closed=_local(row[10], tz) if row[10] else None,
        resolved_ok=None if row[11] is None else bool(row[11]),
        reporter=reporter_label(row[12], masked_identity(channel, external)),
        identity=f"{channel}:{external}" if with_identity else None,
    )


def _local(stamp: str, tz: ZoneInfo) -> datetime:
    """A naive local time: what a spreadsheet shows and sorts."""
    return from_db(stamp).astimezone(tz).replace(tzinfo=None, microsecond=0)


# --- writing ---------------------------------------------------------------------------------


def header(recap: Recap, locale: str) -> list[str]:
    with use_locale(locale):
        names = [_(c) for c in COLUMNS]
        if recap.with_identity:
            names.append(_(IDENTITY_COLUMN))
        return names


def cells(row: RecapRow, locale: str) -> list[Cell]:
    with use_locale(locale):
        yes, no = pgettext("recap", "yes"), pgettext("recap", "no")
        values: list[Cell] = [
            row.number,
            row.created,
            row.category,
            row.unit,
            row.polsek,
            row.kecamatan,
            row.desa,
            row.status,
            yes if row.urgent else no,
            row.first_response,
            row.closed,
            None if row.resolved_ok is None else (yes if row.resolved_ok else no),
            row.reporter,
        ]
    if row.identity is not None:
        values.append(row.identity)
    return values


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(recap: Recap, locale: str) -> bytes:
    """UTF-8 with a byte order mark, so spreadsheet programs read the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header(recap, locale))
    for row in recap.rows:
        writer.writerow([_text(v) for v in cells(row, locale)])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(recap: Recap, locale: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with use_locale(locale):
        sheet.title = _("Recap")[:31]
    names = header(recap, locale)
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in recap.rows:
        values = [_safe(v) for v in cells(row, locale)]
        sheet.append(values)
        for index, value in enumerate(values, 1):
            if isinstance(value, datetime):
                sheet.cell(sheet.max_row, index).number_format = "yyyy-mm-dd hh:mm"
    widths = [len(n) for n in names]
    for row in sheet.iter_rows(min_row=2, values_only=True):
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(_text(value)))
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 50)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _safe(value: Cell) -> Cell:
    """Text that a spreadsheet would read as a formula is kept as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def write_recap(recap: Recap, path: Path, fmt: str, locale: str) -> Path:
    """Render and write ``recap`` as ``fmt`` (csv, xlsx) in a worker thread."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")

    def work() -> None:
        data = csv_bytes(recap, locale) if fmt == "csv" else xlsx_bytes(recap, locale)
        write_private(path, data)

    await asyncio.to_thread(work)
    return path


def default_output(start: date, end: date, fmt: str) -> Path:
    return Path(f"taros-rekap-{start.isoformat()}-{end.isoformat()}.{fmt}")
