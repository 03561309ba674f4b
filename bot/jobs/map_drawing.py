"""The map of Garut: the 42 kecamatan shaded by their number of reports, the Polsek towns,
and the urgent and overdue reports marked at their desa.

Drawn from the boundary polygons of the gazetteer with matplotlib and shapely: no map tiles,
no network. A report is marked at its desa's representative point (a point inside the desa
that shapely chooses), or its kecamatan's when the desa is not known: never at the pin a
citizen shared. :func:`draw_map` draws into any axes (the PNG here, the recap's PDF page);
:func:`map_png` makes the PNG in the calling thread, :func:`render_map` in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import shapely

from bot.jobs.drawing import png_bytes, png_figure, save_file
from conversations.desk.routing import polsek_homes
from conversations.understanding.places import Gazetteer

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.path import Path as MplPath
    from shapely.geometry.base import BaseGeometry

COLOURS = "Blues"  # the sequential scale of the counts (a matplotlib colormap)
EMPTY_FILL = "#eeeeee"  # every kecamatan when the period has no report
EDGE = "#5a5a5a"
URGENT_COLOUR = "#d62728"
OVERDUE_COLOUR = "#ff9f1c"
MAX_NAMES = 8  # kecamatan named on the map: the busiest, then those with a mark
WIDTH, HEIGHT = 8.0, 8.0  # inches, at 100 dpi
MAP_RECT = (0.02, 0.03, 0.8, 0.88)  # figure fractions: left, bottom, width, height
SCALE_RECT = (0.85, 0.28, 0.03, 0.45)


class MarkKind(StrEnum):
    URGENT = "urgent"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Mark:
    """``count`` reports of one kind at one place (a desa code, or a kecamatan code)."""

    place: str
    kind: MarkKind
    count: int


@dataclass(frozen=True, slots=True)
class MapWords:
    """The map's words, already in the reader's language."""

    title: str
    reports: str  # the scale's label
    urgent: str
    overdue: str
    polsek: str
    empty: str  # shown across the map when the period has no report


@dataclass(frozen=True, slots=True)
class MapData:
    counts: tuple[tuple[str, int], ...]  # kecamatan code -> reports in the period
    marks: tuple[Mark, ...]
    words: MapWords

    @property
    def largest(self) -> int:
        return max((n for _code, n in self.counts), default=0)


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    path: MplPath
    anchor: tuple[float, float]  # lon, lat of the representative point


@dataclass(frozen=True, slots=True)
class Geography:
    """What the map needs of the gazetteer, built once: outlines, names, points."""

    areas: tuple[Area, ...]
    points: dict[str, tuple[float, float]]  # desa and kecamatan code -> representative point
    polsek: tuple[tuple[float, float], ...]  # the towns of the Polsek (their kecamatan centre)
    bounds: tuple[float, float, float, float]  # lon min, lat min, lon max, lat max

    @property
    def aspect(self) -> float:
        """Degrees of latitude per degree of longitude on the ground, at Garut's latitude."""
        middle = (self.bounds[1] + self.bounds[3]) / 2
        return 1 / math.cos(math.radians(middle))


@dataclass(frozen=True, slots=True)
class DrawnMap:
    """A drawn map, and what a test can check of it."""

    png: bytes
    size: tuple[int, int]  # pixels: width, height
    anchors: dict[str, tuple[int, int]]  # place code -> pixel of its point (x, y from top)
    scale_ticks: tuple[int, ...]  # the numbers on the scale (empty when nothing is shaded)


@cache
def geography(gazetteer: Gazetteer) -> Geography:
    areas: list[Area] = []
    points: dict[str, tuple[float, float]] = {}
    for kecamatan in gazetteer.kecamatan:
        shape = gazetteer.shape(kecamatan.code)
        if shape is None:
            continue
        anchor = _point(shape)
        areas.append(Area(kecamatan.code, kecamatan.name, _outline(shape), anchor))
        points[kecamatan.code] = anchor
        for desa in gazetteer.desa_of(kecamatan.code):
            desa_shape = gazetteer.shape(desa.code)
            if desa_shape is not None:
                points[desa.code] = _point(desa_shape)
    homes = polsek_homes()
    polsek = tuple((k.lon, k.lat) for k in gazetteer.kecamatan if k.code in homes)

    shapes = [s for s in (gazetteer.shape(a.code) for a in areas) if s is not None]
    lon0, lat0, lon1, lat1 = (float(v) for v in shapely.total_bounds(shapes))
    return Geography(tuple(areas), points, polsek, (lon0, lat0, lon1, lat1))


def _point(shape: BaseGeometry) -> tuple[float, float]:
    point = shape.representative_point()
    return (float(point.x), float(point.y))


def _outline(shape: BaseGeometry) -> MplPath:
    """A polygon or multipolygon, holes included, as one matplotlib path."""
    from matplotlib.path import Path as MplPath

    polygons = getattr(shape, "geoms", [shape])
    rings = [ring for polygon in polygons for ring in (polygon.exterior, *polygon.interiors)]
    return MplPath.make_compound_path(*(MplPath(list(ring.coords), closed=True) for ring in rings))


def scale_ticks(largest: int) -> tuple[int, ...]:
    """Whole numbers from 0 to ``largest`` for the scale, ``largest`` always among them."""
    if largest <= 0:
        return ()
    if largest <= 6:
        return tuple(range(largest + 1))
    from matplotlib.ticker import MaxNLocator

    steps = MaxNLocator(nbins=5, integer=True).tick_values(0, largest)
    ticks = [int(t) for t in steps if 0 <= t <= largest - 0.12 * largest]
    return (*ticks, largest)


def draw_map(
    axes: Axes, scale: Axes | None, data: MapData, geo: Geography, *, names_size: float = 8
) -> tuple[int, ...]:
    """Draw ``data`` into ``axes`` (and its colour scale into ``scale``), the kecamatan names
    in ``names_size`` points; returns the scale's ticks."""
    from matplotlib import colormaps
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import PathPatch

    counts = dict(data.counts)
    largest = data.largest
    patches = PatchCollection(
        [PathPatch(area.path) for area in geo.areas], edgecolor=EDGE, linewidth=0.6
    )
    ticks: tuple[int, ...] = ()
    if largest > 0:
        patches.set_array([counts.get(area.code, 0) for area in geo.areas])
        patches.set_cmap(colormaps[COLOURS])
        patches.set_norm(Normalize(0, largest))
        ticks = scale_ticks(largest)
    else:
        patches.set_facecolor(EMPTY_FILL)
    axes.add_collection(patches)
    lon0, lat0, lon1, lat1 = geo.bounds
    pad = 0.01
    axes.set_xlim(lon0 - pad, lon1 + pad)
    axes.set_ylim(lat0 - pad, lat1 + pad)
    axes.set_aspect(geo.aspect)
    axes.set_axis_off()
    _names(axes, data, geo, names_size)
    _symbols(axes, data, geo)
    if largest > 0 and scale is not None:
        bar = axes.figure.colorbar(patches, cax=scale, ticks=list(ticks))
        bar.set_label(data.words.reports, fontsize=9)
        bar.ax.tick_params(labelsize=8)
    elif scale is not None:
        scale.set_axis_off()
    if largest == 0:
        axes.text(
            0.5,
            0.5,
            data.words.empty,
            ha="center",
            va="center",
            fontsize=12,
            transform=axes.transAxes,
            bbox={"boxstyle": "round,pad=0.6", "facecolor": "white", "edgecolor": EDGE},
        )
    return ticks


def _names(axes: Axes, data: MapData, geo: Geography, size: float) -> None:
    """The names of the kecamatan that matter: the busiest, then those with a mark."""
    from matplotlib import patheffects

    counts = dict(data.counts)
    marked = {place[:8] for place in (m.place for m in data.marks)}
    busiest = sorted((c for c in counts if counts[c] > 0), key=lambda c: (-counts[c], c))
    chosen = list(dict.fromkeys([*busiest, *sorted(marked)]))[:MAX_NAMES]
    outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for area in geo.areas:
        if area.code in chosen:
            lon, lat = area.anchor
            axes.annotate(
                area.name,
                (lon, lat),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=size,
                fontweight="bold",
                color="#1a1a1a",
                path_effects=outline,
            )


@dataclass(frozen=True, slots=True)
class _Look:
    marker: str
    colour: str
    size: float
    shift: float  # degrees of longitude, so that two kinds at one desa both show


LOOKS = {
    MarkKind.URGENT: _Look("*", URGENT_COLOUR, 15, 0.0),
    MarkKind.OVERDUE: _Look("o", OVERDUE_COLOUR, 8, 0.012),
}
POLSEK_LOOK = _Look("s", "#222222", 4, 0.0)


def _symbols(axes: Axes, data: MapData, geo: Geography) -> None:
    """The Polsek towns, and the marks of urgent and overdue reports, with a legend."""
    from matplotlib.lines import Line2D

    lons, lats = zip(*geo.polsek, strict=True) if geo.polsek else ((), ())
    axes.plot(lons, lats, POLSEK_LOOK.marker, color=POLSEK_LOOK.colour, ms=POLSEK_LOOK.size)
    for mark in data.marks:
        where = geo.points.get(mark.place) or geo.points.get(mark.place[:8])
        if where is None:
            continue
        look = LOOKS[mark.kind]
        x, y = where[0] + look.shift, where[1]
        axes.plot([x], [y], look.marker, color=look.colour, ms=look.size, mec="black", mew=0.7)
        if mark.count > 1:
            axes.annotate(
                str(mark.count),
                (x, y),
                xytext=(5, -9),
                textcoords="offset points",
                fontsize=7,
                fontweight="bold",
            )
    words = data.words
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker=look.marker,
            color=look.colour,
            ms=look.size * 0.85,
            mec="black" if look is not POLSEK_LOOK else look.colour,
            label=label,
        )
        for look, label in (
            (POLSEK_LOOK, words.polsek),
            (LOOKS[MarkKind.URGENT], words.urgent),
            (LOOKS[MarkKind.OVERDUE], words.overdue),
        )
    ]
    axes.legend(handles=handles, loc="lower left", fontsize=8, frameon=True, framealpha=0.9)


def map_png(data: MapData, gazetteer: Gazetteer) -> DrawnMap:
    """The map as a PNG (800 x 800), drawn in the calling thread."""
    geo = geography(gazetteer)
    figure = png_figure(WIDTH, HEIGHT)
    axes = figure.add_axes(MAP_RECT)
    scale = figure.add_axes(SCALE_RECT)
    ticks = draw_map(axes, scale, data, geo)
    figure.suptitle(data.words.title, fontsize=12, y=0.975)
    png = png_bytes(figure)
    width, height = (int(v) for v in figure.canvas.get_width_height())
    codes = list(geo.points)
    pixels = axes.transData.transform([geo.points[code] for code in codes])
    anchors = {
        code: (round(float(x)), round(height - float(y)))
        for code, (x, y) in zip(codes, pixels, strict=True)
    }
    return DrawnMap(png, (width, height), anchors, ticks)


async def render_map(data: MapData, gazetteer: Gazetteer, folder: Path, stem: str) -> Path:
    """Draw ``data`` into ``folder/<stem>-<random>.png`` in a worker thread."""

    def work() -> Path:
        return save_file(map_png(data, gazetteer).png, folder, stem)

    return await asyncio.to_thread(work)


def stacked(images: Sequence[bytes]) -> bytes:
    """PNGs stacked top to bottom on a white page, centred: one image where a platform
    shows no album."""
    import io

    from PIL import Image

    opened = [Image.open(io.BytesIO(data)).convert("RGB") for data in images]
    width = max(image.width for image in opened)
    page = Image.new("RGB", (width, sum(image.height for image in opened)), "white")
    top = 0
    for image in opened:
        page.paste(image, ((width - image.width) // 2, top))
        top += image.height
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
