"""Where a photo was taken, from its EXIF GPS block (read only to propose the place to the
citizen; the copies officers receive are re-encoded without EXIF, see ``for_officers``)."""

from __future__ import annotations

import io
import logging
import math

from PIL import Image, UnidentifiedImageError

from conversations.messages import Location

__all__ = ["photo_position"]

log = logging.getLogger(__name__)

GPS_IFD = 0x8825
LATITUDE_REF, LATITUDE, LONGITUDE_REF, LONGITUDE = 1, 2, 3, 4


def photo_position(data: bytes) -> Location | None:
    """The GPS position in a photo's EXIF, or None (not an image, no GPS, a broken block).
    CPU work: call it in a thread."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            gps = image.getexif().get_ifd(GPS_IFD)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    try:
        lat = _degrees(gps[LATITUDE], gps.get(LATITUDE_REF, "N"), "S")
        lon = _degrees(gps[LONGITUDE], gps.get(LONGITUDE_REF, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # a camera without a fix writes zeros
        return None
    return Location(lat=lat, lon=lon)


def _degrees(value: object, ref: object, negative: str) -> float:
    """EXIF degrees/minutes/seconds (three rationals) as signed decimal degrees."""
    parts = [float(part) for part in value]  # type: ignore[attr-defined]
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    text = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -degrees if text.strip().upper().startswith(negative) else degrees
