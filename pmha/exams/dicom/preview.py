"""Windowed 8-bit PNG previews and thumbnails of a radiograph for the viewer page.

Stored values become display values through one lookup table per image (issue 20): the modality
LUT, the VOI (window or VOI LUT) and the polarity are worked out once for every value the stored
bit depth can hold, and the pixels are mapped with `numpy.take`; a float pass over 4 million
pixels cost 3-4 times as much. Downscaling reduces by a whole factor first (`Image.reduce`, a box
average) and resamples only the last step of less than 2x with LANCZOS.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut, convert_color_space

from pmha.exams.dicom.validate import check_chest_xray, pixels, read_dataset, total

PREVIEW_SIZE = 1024
THUMBNAIL_SIZE = 256
# Without a window in the file, show the 0.5th to 99.5th percentile: robust to collimator
# edges, burned-in markers and dead pixels that a plain min/max would stretch to.
PERCENTILES = (0.5, 99.5)
# The last resampling step is at most this ratio; what is above it is a whole-factor reduce.
REDUCING_GAP = 1.0

Array = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class Previews:
    """PNG bytes for the viewer (longest side PREVIEW_SIZE) and lists (THUMBNAIL_SIZE)."""

    preview: bytes
    thumbnail: bytes


def render_preview(data: bytes, max_size: int = PREVIEW_SIZE) -> bytes:
    """A windowed 8-bit grayscale PNG of the image, longest side at most max_size."""
    if max_size < 1:
        raise ValueError("max_size must be positive")
    with total("previewed"):
        return _png(_display_image(data), max_size)


def render_previews(
    data: bytes, preview_size: int = PREVIEW_SIZE, thumbnail_size: int = THUMBNAIL_SIZE
) -> Previews:
    """The preview and the thumbnail from one decode of the pixel data."""
    if min(preview_size, thumbnail_size) < 1:
        raise ValueError("preview sizes must be positive")
    with total("previewed"):
        image = _shrunk(_display_image(data), preview_size)
        return Previews(preview=_png(image, preview_size), thumbnail=_png(image, thumbnail_size))


def _display_image(data: bytes) -> Image.Image:
    ds = read_dataset(data)
    check_chest_xray(ds)
    arr = pixels(ds)
    photometric = str(ds.PhotometricInterpretation).upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        return _colour_image(ds, arr)
    return Image.fromarray(to_display(ds, arr))


def to_display(ds: Dataset, arr: Array) -> Array:
    """Stored values to 8-bit display values: modality LUT, VOI (window or LUT), polarity.

    8- and 16-bit integer pixels (every radiograph `inspect` accepts) go through a lookup table
    over every value of their type; anything else through the same arithmetic per pixel."""
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2:
        return to_display_per_pixel(ds, arr)
    unsigned = np.dtype(f"u{arr.dtype.itemsize}")
    # Every stored value, in the order of its bit pattern read as unsigned: the table's index.
    domain = np.arange(2 ** (8 * arr.dtype.itemsize), dtype=unsigned).view(arr.dtype)
    lut = to_display_per_pixel(ds, domain, sample=arr)
    out: Array = np.take(lut, arr.view(unsigned))
    return out


def to_display_per_pixel(ds: Dataset, arr: Array, sample: Array | None = None) -> Array:
    """The display mapping worked out value by value (the definition the table is built from).

    `sample`: the image the percentile window is taken from when arr is not the image itself."""
    modality = apply_modality_lut(arr, ds)
    values = modality.astype(np.float32, copy=False)
    if "VOILUTSequence" in ds:
        # A LUT is indexed by integer input values.
        indices = np.rint(modality).astype(np.int64) if modality.dtype.kind == "f" else modality
        shown = apply_voi_lut(indices, ds, index=0, prefer_lut=True).astype(np.float32)
        # The LUT's own output range (its entries, not its nominal bit depth, which many
        # devices overstate) maps to black..white.
        count, first = (int(v) for v in ds.VOILUTSequence[0].LUTDescriptor[:2])
        domain = np.arange(first, first + (count or 65536), dtype=np.int64)
        lut = apply_voi_lut(domain, ds, index=0, prefer_lut=True)
        scaled = _stretch(shown, float(lut.min()), float(lut.max()))
    elif _window(ds) is not None:
        center, width = _window(ds)  # type: ignore[misc]
        scaled = _apply_window(values, center, width, str(ds.get("VOILUTFunction", "LINEAR")))
    else:
        image = values if sample is None else sample
        step = max(1, image.shape[0] // 512), max(1, image.shape[1] // 512)
        picked = image[:: step[0], :: step[1]]
        if sample is not None:
            picked = apply_modality_lut(picked, ds).astype(np.float32, copy=False)
        low, high = np.percentile(picked, PERCENTILES)
        scaled = _stretch(values, float(low), float(high))
    # MONOCHROME1: the minimum value is shown white (a film's convention); invert after VOI.
    if str(ds.PhotometricInterpretation).upper() == "MONOCHROME1":
        scaled = 1.0 - scaled
    out: Array = np.rint(scaled * 255.0).astype(np.uint8)
    return out


def _window(ds: Dataset) -> tuple[float, float] | None:
    if "WindowCenter" not in ds or "WindowWidth" not in ds:
        return None
    center, width = ds.WindowCenter, ds.WindowWidth
    # Several windows may be given; the first is the one the modality suggests.
    center = center[0] if _is_multi(center) else center
    width = width[0] if _is_multi(width) else width
    try:
        c, w = float(center), float(width)
    except (TypeError, ValueError):
        return None
    return (c, w) if w >= 1.0 else None


def _is_multi(value: object) -> bool:
    return isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"


def _apply_window(values: Array, center: float, width: float, function: str) -> Array:
    """PS3.3 C.11.2.1.2: the window's output scaled to 0..1."""
    function = function.upper()
    if function == "SIGMOID":
        out: Array = 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
        return out
    if function == "LINEAR_EXACT":
        return np.clip((values - center) / width + 0.5, 0.0, 1.0)
    if width <= 1.0:
        return (values > center - 0.5).astype(np.float32)
    return np.clip((values - (center - 0.5)) / (width - 1.0) + 0.5, 0.0, 1.0)


def _stretch(values: Array, low: float, high: float) -> Array:
    if high <= low:
        high = low + 1.0
    return np.clip((values - low) / (high - low), 0.0, 1.0)


def _colour_image(ds: Dataset, arr: Array) -> Image.Image:

    if str(ds.PhotometricInterpretation).upper().startswith("YBR"):
        arr = convert_color_space(arr, str(ds.PhotometricInterpretation), "RGB")
    if arr.dtype != np.uint8:
        arr = np.rint(_stretch(arr.astype(np.float32), float(arr.min()), float(arr.max())) * 255)
    return Image.fromarray(arr.astype(np.uint8)).convert("L")


def _shrunk(image: Image.Image, max_size: int) -> Image.Image:
    """The image with its longest side at most max_size (never enlarged): a whole-factor
    `reduce`, then LANCZOS over the last step (Pillow's reducing_gap)."""
    if max(image.size) <= max_size:
        return image
    image = image.copy()
    image.thumbnail((max_size, max_size), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    return image


def _png(image: Image.Image, max_size: int) -> bytes:
    if max_size < 1:
        raise ValueError("max_size must be positive")
    image = _shrunk(image, max_size)
    buf = BytesIO()
    # zlib level 1: radiographs are noisy, so higher levels cost 2-3x the time for about 15%
    # smaller files (measured on the synthetic chest images). Lossless: the viewer falls back to
    # this image when the full resolution cannot be shown.
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
