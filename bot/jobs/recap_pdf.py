"""The recap as one A4 page (PDF) for the staff meeting: the headline, the categories against
the period before, the map, the key figures, the hotspots and the busiest kecamatan.

Drawn with matplotlib's PDF backend on its own figure (no pyplot), in the calling thread:
:class:`bot.jobs.recap.Recaps` runs it in a worker thread (and imports this module there, on
first use, so that ``taros`` commands that draw nothing never load matplotlib). Fonts are
embedded as TrueType (``pdf.fonttype`` 42, set once when this module is imported), so the
text can be searched and copied.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

import matplotlib
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure

from bot.jobs.map_drawing import MapData, draw_map, geography
from conversations.understanding.places import Gazetteer

matplotlib.rcParams["pdf.fonttype"] = 42  # a constant for the process: searchable text

A4 = (8.27, 11.69)  # inches, portrait
WRAP = 105  # characters per line of the lower blocks


@dataclass(frozen=True, slots=True)
class RecapPage:
    """Everything on the page, already in the reader's language."""

    title: str
    period: str  # ``23–29 Nov 2026``
    made: str  # when it was made
    headline: str  # the totals against the period before
    table_header: tuple[str, str, str, str]
    table: tuple[tuple[str, str, str, str], ...]  # category, now, before, change
    figures_title: str
    figures: tuple[str, ...]
    hotspots_title: str
    hotspots: tuple[str, ...]
    places_title: str
    places: tuple[str, ...]
    map: MapData


def recap_pdf(page: RecapPage, gazetteer: Gazetteer, *, png_dpi: int | None = None) -> bytes:
    """The page as PDF bytes (or, with ``png_dpi``, as a PNG picture of it)."""
    figure = Figure(figsize=A4)
    FigureCanvasPdf(figure)
    figure.text(0.06, 0.955, page.title, fontsize=16, fontweight="bold")
    figure.text(0.06, 0.932, page.period, fontsize=12)
    figure.text(0.94, 0.932, page.made, fontsize=8, ha="right", color="#555555")
    figure.text(0.06, 0.905, page.headline, fontsize=11)
    _table(figure, page)
    axes = figure.add_axes((0.57, 0.5, 0.34, 0.38))
    scale = figure.add_axes((0.93, 0.56, 0.012, 0.24))
    draw_map(axes, scale, page.map, geography(gazetteer), names_size=6)
    axes.set_title(page.map.words.title, fontsize=9)
    top = 0.47
    for title, lines in (
        (page.figures_title, page.figures),
        (page.hotspots_title, page.hotspots),
        (page.places_title, page.places),
    ):
        top = _block(figure, top, title, lines)
    buffer = io.BytesIO()
    if png_dpi is not None:
        figure.savefig(buffer, format="png", dpi=png_dpi, metadata={"Software": None})
    else:
        metadata = {"Creator": "TAROS", "Producer": None, "CreationDate": None}
        figure.savefig(buffer, format="pdf", metadata=metadata)
    return buffer.getvalue()


def _table(figure: Figure, page: RecapPage) -> None:
    axes = figure.add_axes((0.05, 0.5, 0.5, 0.38))
    axes.set_axis_off()
    rows = [list(row) for row in page.table] or [["-", "0", "0", "0"]]
    table = axes.table(
        cellText=rows,
        colLabels=list(page.table_header),
        colWidths=[0.5, 0.166, 0.166, 0.166],
        loc="upper center",
        cellLoc="right",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.3)
    for (row, column), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbbb")
        if column == 0:
            cell.set_text_props(ha="left")
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eef3f8")


def _block(figure: Figure, top: float, title: str, lines: tuple[str, ...]) -> float:
    """A titled list of lines from ``top`` down; returns where the next block starts."""
    figure.text(0.06, top, title, fontsize=11, fontweight="bold")
    top -= 0.022
    for line in lines or ("-",):
        for n, piece in enumerate(textwrap.wrap(line, WRAP) or [""]):
            figure.text(0.08 if n else 0.06, top, ("" if n else "• ") + piece, fontsize=8.5)
            top -= 0.017
    return top - 0.012
