"""The weekly and monthly recap for the staff meeting: one PDF page and the XLSX of the
period's reports (reporters masked, as ``taros export``), sent to every Kapolres on Monday and
on the 1st at the first ``TAROS_DIGEST_AT`` time, once per slot (:mod:`bot.jobs.slots`), and
made on demand by ``taros recap --week|--month [--send]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from babel.numbers import format_percent

from bot.clock import Clock
from bot.export import Recap, default_output, load_recap, xlsx_bytes
from bot.files import write_private
from bot.jobs.digest import duration
from bot.jobs.drawing import save_named
from bot.jobs.hotspots import hotspot_lines
from bot.jobs.map_drawing import MapData
from bot.jobs.map_numbers import map_words
from bot.jobs.recap_numbers import RecapKind, RecapStats, collect_recap
from bot.jobs.slots import Mailer, Reporting, SlotScheduler
from conversations.formatting import format_moment
from conversations.i18n import _, use_locale
from conversations.messages import ChatKey, Media, Outbound

if TYPE_CHECKING:
    from bot.jobs.recap_pdf import RecapPage

PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class ComposedRecap:
    stats: RecapStats
    text: str
    pdf: Path
    xlsx: Path
    locale: str

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.pdf, self.xlsx)

    def outbounds(self, to: ChatKey) -> list[Outbound]:
        """The summary, then the PDF and the XLSX as documents."""
        with use_locale(self.locale):
            documents = (
                (self.pdf, PDF_MIME, _("Recap for the staff meeting (PDF)")),
                (self.xlsx, XLSX_MIME, _("Every report of the period (XLSX, reporters masked)")),
            )
        return [
            Outbound(to.channel, to.chat_id, self.text, locale=self.locale),
            *(
                Outbound(
                    to.channel,
                    to.chat_id,
                    caption,
                    media=Media(path, mime, caption),
                    locale=self.locale,
                )
                for path, mime, caption in documents
            ),
        ]


def title(kind: RecapKind) -> str:
    if kind is RecapKind.WEEK:
        return _("Weekly recap — Polres Garut")
    return _("Monthly recap — Polres Garut")


def _change(now: int, before: int) -> str:
    return f"{now - before:+d}" if now != before else "0"


def headline(stats: RecapStats) -> str:
    return _("Reports: %(n)d (the period before: %(before)d, %(change)s)") % {
        "n": stats.total,
        "before": stats.previous_total,
        "change": _change(stats.total, stats.previous_total),
    }


def sla_line(stats: RecapStats, sla_hours: int, locale: str) -> str:
    share = stats.sla_share
    if share is None:
        return _("First response within %(hours)d hours: no report due yet") % {
            "hours": sla_hours
        }
    return _("First response within %(hours)d hours: %(share)s (%(met)d of %(judged)d)") % {
        "hours": sla_hours,
        "share": format_percent(share, locale=_number_locale(locale)),
        "met": stats.sla_met,
        "judged": stats.sla_judged,
    }


def _number_locale(locale: str) -> str:
    return "id" if locale == "su" else locale


def figures(stats: RecapStats, sla_hours: int, locale: str) -> tuple[str, ...]:
    def wait(value: timedelta | None) -> str:
        return duration(value, locale) if value is not None else "-"

    return (
        sla_line(stats, sla_hours, locale),
        _("Median time to first response: %(time)s") % {"time": wait(stats.median_response)},
        _("Median time to closing: %(time)s") % {"time": wait(stats.median_closing)},
        _('"Has your problem been handled?": yes %(yes)d · not yet %(no)d · no answer %(none)d')
        % {
            "yes": stats.handled_yes,
            "no": stats.handled_no,
            "none": stats.handled_unanswered,
        },
    )


@dataclass(kw_only=True)
class Recaps(Reporting):
    """Composes recaps: their numbers, their page, their spreadsheet, their summary."""

    sla_hours: int
    folder: Path  # where recaps to be sent are written, each in a folder of its own

    async def stats(self, kind: RecapKind, now: datetime) -> RecapStats:
        """The numbers of the last whole week or month before ``now``'s day."""
        period = kind.period_before(now.astimezone(self.tz).date(), self.tz)
        return await self.db.read(lambda conn: collect_recap(conn, kind, period, self.tz))

    async def compose(
        self, kind: RecapKind, now: datetime, locale: str, *, into: Path | None = None
    ) -> ComposedRecap:
        """The recap of the last whole week or month before ``now``'s day. Its files go to a
        new folder under the data dir (to be sent), or with their own names into ``into``."""
        stats = await self.stats(kind, now)
        period = stats.period
        rows = await load_recap(
            self.db,
            start=period.first,
            end=period.last,
            tz=self.tz,
            categories=self.categories,
            gazetteer=self.gazetteer,
            locale=locale,
            now=now,
        )
        pdf, xlsx = await asyncio.to_thread(self._write, stats, now, rows, locale, into)
        return ComposedRecap(stats, self.text(stats, locale), pdf, xlsx, locale)

    def _write(
        self, stats: RecapStats, now: datetime, rows: Recap, locale: str, into: Path | None
    ) -> tuple[Path, Path]:
        """Draw the page and write both files (in a worker thread)."""
        from bot.jobs.recap_pdf import recap_pdf  # loads matplotlib, in this thread

        first, last = stats.period.first, stats.period.last
        files = {
            default_output(first, last, "pdf").name: recap_pdf(
                self.page(stats, now, locale), self.gazetteer
            ),
            default_output(first, last, "xlsx").name: xlsx_bytes(rows, locale),
        }
        if into is None:
            pdf, xlsx = save_named(files, self.folder, f"{stats.kind}-{first.isoformat()}")
            return pdf, xlsx
        paths = [into / name for name in files]
        for path, data in zip(paths, files.values(), strict=True):
            write_private(path, data)
        return paths[0], paths[1]

    def page(self, stats: RecapStats, now: datetime, locale: str) -> RecapPage:
        """Everything on the PDF page, in ``locale`` (imports matplotlib: call it in a worker
        thread)."""
        from bot.jobs.recap_pdf import RecapPage

        with use_locale(locale):
            label = stats.period.label(locale)
            return RecapPage(
                title=title(stats.kind),
                period=label,
                made=_("Made %(when)s") % {"when": format_moment(now, self.tz, locale)},
                headline=headline(stats),
                table_header=(_("Category"), _("This period"), _("Before"), _("Change")),
                table=tuple(
                    (self._category(code, locale), str(n), str(before), _change(n, before))
                    for code, n, before in stats.by_category
                ),
                figures_title=_("Follow-up"),
                figures=figures(stats, self.sla_hours, locale),
                hotspots_title=_("Rising (hotspots):"),
                hotspots=tuple(
                    hotspot_lines(stats.hotspots, self.categories, self.gazetteer, locale)
                ),
                places_title=_("Top kecamatan:"),
                places=tuple(
                    f"{self._kecamatan(code)}: {n}" for code, n in stats.top_kecamatan
                ),
                map=MapData(stats.map.counts, stats.map.marks, map_words(stats.period, locale)),
            )

    def text(self, stats: RecapStats, locale: str) -> str:
        """The message that comes with the files."""
        with use_locale(locale):
            return "\n".join(
                [
                    f"{title(stats.kind)}: {stats.period.label(locale)}",
                    headline(stats),
                    sla_line(stats, self.sla_hours, locale),
                    _(
                        "The page for the staff meeting (PDF) and every report of the period "
                        "(XLSX) follow."
                    ),
                ]
            )

    def _category(self, code: str, locale: str) -> str:
        category = self.categories.get(code)
        return category.label(locale) if category else code

    def _kecamatan(self, code: str) -> str:
        place = self.gazetteer.kecamatan_by_code(code)
        return place.name if place else code


class RecapScheduler(SlotScheduler):
    """Sends the weekly recap on Mondays, or the monthly one on the 1st, at ``at`` (local)."""

    def __init__(
        self,
        recaps: Recaps,
        mailer: Mailer,
        clock: Clock,
        *,
        kind: RecapKind,
        at: time,
        locale: str,
        on_outbox: Callable[[tuple[int, ...]], None],
        max_sleep: float = 60.0,
    ) -> None:
        super().__init__(mailer, clock, on_outbox=on_outbox, max_sleep=max_sleep)
        self.name = f"{kind} recap scheduler"
        self.recaps = recaps
        self.kind = kind
        self.at = at
        self.locale = locale

    def _slot(self, now: datetime, back: int) -> datetime:
        """This period's slot (``back`` 0), or an earlier (1) or later (-1) one."""
        tz = self.recaps.tz
        today = now.astimezone(tz).date()
        if self.kind is RecapKind.WEEK:
            day = today - timedelta(days=today.weekday() + 7 * back)
        else:
            day = today.replace(day=1)
            for _step in range(abs(back)):
                day = (
                    (day - timedelta(days=1)).replace(day=1)
                    if back > 0
                    else (day + timedelta(days=32)).replace(day=1)
                )
        return datetime.combine(day, self.at, tzinfo=tz)

    def latest_slot(self, now: datetime) -> datetime | None:
        slot = self._slot(now, 0)
        return slot if slot <= now else self._slot(now, 1)

    def next_slot(self, now: datetime) -> datetime | None:
        slot = self._slot(now, 0)
        return slot if slot > now else self._slot(now, -1)

    def slot_key(self, slot: datetime) -> str:
        return f"{self.kind}:{slot.astimezone(self.recaps.tz).date().isoformat()}"

    async def compose(self, slot: datetime) -> ComposedRecap:
        return await self.recaps.compose(self.kind, slot, self.locale)
