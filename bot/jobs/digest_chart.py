"""The digest's chart: reports per day by category, stacked bars, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state shared
between threads), in a worker thread so the event loop never waits for it. The file is
written next to its final name and renamed into place, readable by the owner only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.jobs.drawing import PNG_MAGIC, is_png, png_bytes, png_figure, save_file

__all__ = ["PNG_MAGIC", "ChartData", "Series", "is_png", "render_chart"]


@dataclass(frozen=True, slots=True)
class Series:
    """One category: its label, its colour slot (stable across days and digests), its counts
    per day."""

    label: str
    colour: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    days: tuple[str, ...]  # one label per bar
    series: tuple[Series, ...]
    empty_note: str  # shown when there is nothing to stack


async def render_chart(data: ChartData, folder: Path, stem: str) -> Path:
    """Draw ``data`` into ``folder/<stem>-<random>.png`` (folder 0700, file 0600)."""
    return await asyncio.to_thread(_render, data, folder, stem)


def _render(data: ChartData, folder: Path, stem: str) -> Path:
    return save_file(_draw(data), folder, stem)


def _draw(data: ChartData) -> bytes:
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    figure = png_figure(8, 4.5)
    axes = figure.add_subplot()
    palette = colormaps["tab20"]
    positions = range(len(data.days))
    bottoms = [0] * len(data.days)
    for series in data.series:
        axes.bar(
            positions,
            series.counts,
            bottom=bottoms,
            label=series.label,
            color=palette(_spread(series.colour, palette.N)),
            width=0.7,
        )
        bottoms = [b + c for b, c in zip(bottoms, series.counts, strict=True)]
    for x, total in zip(positions, bottoms, strict=True):
        if total:
            axes.text(x, total, str(total), ha="center", va="bottom", fontsize=9)
    axes.set_xticks(list(positions), list(data.days), fontsize=9)
    axes.set_xlim(-0.6, len(data.days) - 0.4)
    axes.set_title(data.title, fontsize=11)
    axes.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    axes.set_ylim(0, max(max(bottoms, default=0), 1) * 1.15)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if data.series:
        handles, labels = axes.get_legend_handles_labels()  # top of the stack first
        axes.legend(
            handles[::-1],
            labels[::-1],
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
    else:
        axes.text(0.5, 0.5, data.empty_note, ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    return png_bytes(figure)


def _spread(slot: int, colours: int) -> int:
    """tab20 pairs a dark and a light shade: the dark ones first, so neighbours differ."""
    slot %= colours
    half = colours // 2
    return (slot * 2) % colours + (1 if slot >= half else 0)
