"""What every drawing of the digest and the recap shares: a figure without pyplot, its bytes,
and a private file for it under the data dir.

Figures are made with :class:`matplotlib.figure.Figure` on their own canvas (Agg for PNG,
the PDF backend for documents), never through pyplot, whose global state is not safe in
worker threads. Files are written whole, mode 0600, in a 0700 folder; files older than
``KEEP_SECONDS`` are removed when a new one is written.
"""

from __future__ import annotations

import io
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.files import private_dir, write_private

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KEEP_SECONDS = 14 * 24 * 3600
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_figure(width: float, height: float, dpi: int = 100) -> Figure:
    """A figure on an Agg canvas, ``width`` x ``height`` inches."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def save_file(data: bytes, folder: Path, stem: str, suffix: str = ".png") -> Path:
    """``data`` as ``folder/<stem>-<random><suffix>`` (folder 0700, file 0600)."""
    private_dir(folder)
    prune(folder)
    path = folder / f"{stem}-{secrets.token_hex(4)}{suffix}"
    write_private(path, data)
    return path


def save_named(files: dict[str, bytes], folder: Path, stem: str) -> list[Path]:
    """Files that keep their own names (a document a reader downloads), together in a new
    folder ``folder/<stem>-<random>/``."""
    private_dir(folder)
    prune(folder)
    home = private_dir(folder / f"{stem}-{secrets.token_hex(4)}")
    paths = []
    for name, data in files.items():
        path = home / name
        write_private(path, data)
        paths.append(path)
    return paths


def prune(folder: Path) -> None:
    """Remove what was written in ``folder`` more than ``KEEP_SECONDS`` ago."""
    horizon = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime >= horizon:
                continue
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
        except OSError:
            continue  # another process removed it first


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_MAGIC)
