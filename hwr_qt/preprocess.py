"""The one MNIST-style normalisation, numpy only.

MNIST digits were fitted into a 20x20 box (aspect ratio kept) and placed in a 28x28
field so that their centre of mass sits at the centre (pixel index 14, 14 — measured on
the MNIST test set: mean 13.99, 14.01). Everything that feeds the model goes through
``place_centred`` here: vector ink (``raster``), image files (``imagefile``), the
training pipeline and the export checks. Bumping ``PREPROCESSING_VERSION`` makes the app
refuse models trained with a different normalisation.
"""

from __future__ import annotations

import contextlib

import numpy as np

PREPROCESSING_VERSION = "1"
FIELD = 28  # model input side, pixels
BOX = 20  # the digit's longer side after fitting, pixels
CENTRE = 14.0  # where the centre of mass lands (row, column index)
PEN_WIDTH = 2.3  # stroke width at model scale; MNIST strokes are ~2-2.5 px wide
INK_THRESHOLD = 0.1  # fraction of the peak below which a pixel does not count for the bbox


class EmptyInputError(ValueError):
    """Nothing to recognise (no ink, or a blank image)."""


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """(row, column) centre of mass of a non-negative image."""
    total = float(img.sum())
    if total <= 0.0 or not np.isfinite(total):
        raise EmptyInputError("no ink to recognise")
    rows = np.arange(img.shape[0], dtype=np.float64)
    cols = np.arange(img.shape[1], dtype=np.float64)
    return (float(img.sum(axis=1) @ rows) / total, float(img.sum(axis=0) @ cols) / total)


def place_centred(patch: np.ndarray) -> np.ndarray:
    """Paste a fitted digit patch into a 28x28 field with its centre of mass at (14, 14).

    The shift is a whole number of pixels, as in MNIST, so no extra blur is added. Ink
    shifted beyond the field is cut off, which needs a centre of mass far from the box
    centre (rare, and the same in MNIST).
    """
    cy, cx = centre_of_mass(patch)
    oy, ox = int(round(CENTRE - cy)), int(round(CENTRE - cx))
    out = np.zeros((FIELD, FIELD), np.float32)
    h, w = patch.shape
    y0, x0 = max(oy, 0), max(ox, 0)
    y1, x1 = min(oy + h, FIELD), min(ox + w, FIELD)
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = patch[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return out


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights: area averaging when shrinking, linear when enlarging."""
    scale = n_out / n_in
    if scale <= 1.0:
        # Each output pixel averages the input interval it covers (exact box filter),
        # which is how a downscaled scan keeps thin strokes as grey rather than gaps.
        edges = np.arange(n_out + 1, dtype=np.float64) / scale
        lo, hi = edges[:-1, None], edges[1:, None]
        j = np.arange(n_in, dtype=np.float64)[None, :]
        w = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    else:
        centres = (np.arange(n_out, dtype=np.float64) + 0.5) / scale - 0.5
        centres = np.clip(centres, 0.0, n_in - 1)
        j = np.arange(n_in, dtype=np.float64)[None, :]
        w = np.clip(1.0 - np.abs(centres[:, None] - j), 0.0, None)
    out: np.ndarray = w / w.sum(axis=1, keepdims=True)
    return out


def resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Separable resize of a 2-D array (two small matrix products, no Qt, no scipy)."""
    ry = _resample_matrix(img.shape[0], out_h)
    rx = _resample_matrix(img.shape[1], out_w)
    out: np.ndarray = (ry @ img.astype(np.float64) @ rx.T).astype(np.float32)
    return out


def ink_bbox(img: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), end-exclusive, of pixels above threshold * peak."""
    peak = float(img.max()) if img.size else 0.0
    if not peak > 0.0:
        raise EmptyInputError("the image is blank: no ink to recognise")
    mask = img > threshold * peak
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def fit_box(h: float, w: float, box: float = BOX) -> tuple[float, int, int]:
    """Scale that makes the longer side ``box``, and the resulting integer size."""
    scale = box / max(h, w)
    return scale, max(1, round(h * scale)), max(1, round(w * scale))


def normalize_image(gray: np.ndarray) -> np.ndarray:
    """Any-size white-on-black image -> float32 [28, 28] in 0..1, MNIST-style.

    Crop to the ink, fit the longer side to 20 px keeping the aspect ratio, stretch the
    contrast so the darkest ink is 1.0 (MNIST's strokes peak at 255), centre by mass.
    """
    img = np.asarray(gray, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale array, got shape {img.shape}")
    if not np.isfinite(img).all():
        raise ValueError("the image contains NaN or infinite values")
    img = np.clip(img, 0.0, None)
    top, left, bottom, right = ink_bbox(img)
    crop = img[top:bottom, left:right]
    _, h, w = fit_box(*crop.shape)
    patch = resize(crop, h, w)
    peak = float(patch.max())
    if not peak > 0.0:
        raise EmptyInputError("the image is blank: no ink to recognise")
    patch = np.clip(patch / peak, 0.0, 1.0)
    return place_centred(patch)


def normalize_batch(images: np.ndarray) -> np.ndarray:
    """normalize_image over an [N, H, W] stack; blank images stay blank (training data)."""
    out = np.zeros((len(images), FIELD, FIELD), np.float32)
    for i, img in enumerate(images):
        with contextlib.suppress(EmptyInputError):  # blank stays blank
            out[i] = normalize_image(img)
    return out
