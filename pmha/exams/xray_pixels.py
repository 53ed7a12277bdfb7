"""The full-resolution pixels of a chest X-ray for the browser viewer (zoom, pan, window/level).

The stored values are sent as they are (16-bit little-endian, signed or not as the file says),
gzip-compressed, with what the viewer needs to show them in headers: the size, the modality
rescale (PS3.3 C.11.1: value = stored x slope + intercept), the window the file suggests (PS3.3
C.11.2; else the 0.5th to 99.5th percentile, as the previews), and whether the minimum shows
white (MONOCHROME1). The window is applied in the browser (pmha/web/static/xray-viewer.js),
so moving it costs no round trip. Reading goes through the DICOM adapter (pmha.exams.dicom);
nothing here imports pydicom.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import numpy as np

from pmha.exams.dicom.errors import DicomRejected
from pmha.exams.dicom.validate import pixels, read_dataset

PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True, slots=True)
class FullImage:
    body: bytes  # gzip of the stored values, row by row, 16-bit little-endian
    rows: int
    columns: int
    signed: bool
    slope: float
    intercept: float
    center: float  # the default window, in modality values
    width: float
    invert: bool  # MONOCHROME1
    low: float  # the smallest and largest modality values
    high: float

    def headers(self) -> dict[str, str]:
        return {
            "X-Rows": str(self.rows),
            "X-Columns": str(self.columns),
            "X-Signed": "1" if self.signed else "0",
            "X-Slope": repr(self.slope),
            "X-Intercept": repr(self.intercept),
            "X-Window-Center": repr(self.center),
            "X-Window-Width": repr(self.width),
            "X-Invert": "1" if self.invert else "0",
            "X-Low": repr(self.low),
            "X-High": repr(self.high),
        }


def _first(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def full_image(data: bytes) -> FullImage:
    """The image's stored values and how to show them; DicomRejected for a colour image or
    one with more than 16 bits (the viewer then shows the 8-bit preview)."""
    ds = read_dataset(data)
    photometric = str(getattr(ds, "PhotometricInterpretation", "")).upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise DicomRejected("not_greyscale", "Only greyscale images open at full resolution.")
    arr = pixels(ds)
    if arr.ndim != 2 or arr.dtype.itemsize > 2 or arr.dtype.kind not in "iu":
        raise DicomRejected("not_16_bit", "Only single-frame images of up to 16 bits open here.")
    signed = arr.dtype.kind == "i"
    stored = arr.astype("<i2" if signed else "<u2", copy=False)
    slope = _first(getattr(ds, "RescaleSlope", None)) or 1.0
    intercept = _first(getattr(ds, "RescaleIntercept", None)) or 0.0
    low = float(stored.min()) * slope + intercept
    high = float(stored.max()) * slope + intercept
    low, high = min(low, high), max(low, high)
    center = _first(getattr(ds, "WindowCenter", None))
    width = _first(getattr(ds, "WindowWidth", None))
    if center is None or width is None or width < 1:
        step = max(1, stored.shape[0] // 512), max(1, stored.shape[1] // 512)
        sample = stored[:: step[0], :: step[1]].astype(np.float64) * slope + intercept
        p_low, p_high = (float(v) for v in np.percentile(sample, PERCENTILES))
        center, width = (p_low + p_high) / 2, max(p_high - p_low, 1.0)
    return FullImage(
        body=gzip.compress(stored.tobytes(), compresslevel=1),
        rows=int(stored.shape[0]),
        columns=int(stored.shape[1]),
        signed=signed,
        slope=slope,
        intercept=intercept,
        center=center,
        width=width,
        invert=photometric == "MONOCHROME1",
        low=low,
        high=high,
    )
