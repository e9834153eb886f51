"""Photos and scans of paper -> clean ink intensity, numpy only.

A photo of a digit on paper is not a clean white page: the light falls off across it,
the paper is tinted, a hand or the phone casts a shadow at an edge, the sensor adds
grain and JPEG adds ringing. Thresholding against one paper level (the old way) turns a
shadow into ink and a faint stroke into paper. Here the paper's own brightness is
estimated everywhere (a coarse grid of bright percentiles, spread and smoothed, then
interpolated), the image is divided by it, so ink becomes *contrast against the local
paper*, and what is left below the grain's level is zeroed. The result feeds
``preprocess.normalize_image``, the one preprocessing, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hwr_qt.preprocess import BOX, ink_bbox, resize

GRID = 10  # background cells along the shorter side (each wider than a typical stroke)
PAPER_PERCENTILE = 90  # brightness of a cell's paper: ink covers well under 90 % of a cell
MIN_WINDOW = 0.1  # of the shorter side: the closing is at least this wide
MAX_SIDE = 1200  # px: bigger photos get their paper estimated on a shrunk copy
NOISE_SIGMAS = 5.0  # ink must stand this many grain deviations above the paper
NOISE_FLOOR = 0.15  # ... and this fraction of the ink's peak (JPEG ringing, paper texture)
MIN_CONTRAST = 0.08  # weaker "ink" than this (relative to the paper) is a blank page
# A character's strokes thinner than this (model pixels, as ``stroke_width`` measures
# them: it reads the canvas pen's own strokes as 1.9) are widened before the one
# preprocessing: a fine liner photographed is often 1 px there, and a thin hooked "1"
# then reads as "7" (val "1"s, pen 5 % of the height: 93-95 % -> 97.4 % at 1.9, 97.8 %
# at 2.3; all val digits unchanged or better).
MIN_PEN = 2.3
WIDEN_SIDE = 4 * BOX  # widening happens at four times the model's scale
SOLID = 0.5  # of the ink's peak: paler pixels are a stroke's halo, not the stroke


def ink_is_dark(gray: np.ndarray) -> bool:
    """Dark ink on light paper (or the reverse): ink is the minority, so the image's
    far tail lies on the ink's side of the median; the border breaks near-ties."""
    p1, p50, p99 = np.percentile(gray, [1, 50, 99])
    dark, light = p50 - p1, p99 - p50
    if abs(dark - light) > 0.05:
        return bool(dark > light)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return bool(np.median(border) > 0.5)


def _running_max(a: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Maximum over a centred window of ``size`` along ``axis`` (edges repeated), in
    O(1) per pixel whatever the size (van Herk / Gil-Werman: block prefix and suffix
    maxima)."""
    a = np.moveaxis(a, axis, -1)
    r = size // 2
    n = a.shape[-1]
    total = -(-(n + 2 * r) // size) * size  # padded length, a multiple of the block size
    padded = np.pad(a, [(0, 0)] * (a.ndim - 1) + [(r, total - n - r)], mode="edge")
    blocks = padded.reshape(*a.shape[:-1], total // size, size)
    prefix = np.maximum.accumulate(blocks, axis=-1).reshape(padded.shape)
    suffix = np.maximum.accumulate(blocks[..., ::-1], axis=-1)[..., ::-1].reshape(
        padded.shape)
    out = np.maximum(suffix[..., :n], prefix[..., size - 1:size - 1 + n])
    return np.moveaxis(out, -1, axis)


def _filter(img: np.ndarray, size: int, reduce: Callable[..., np.ndarray]) -> np.ndarray:
    """Separable ``size`` x ``size`` max (``np.max``) or min (``np.min``) filter."""
    sign = 1.0 if reduce is np.max else -1.0
    out = sign * img
    for axis in (0, 1):
        out = _running_max(out, size, axis)
    result: np.ndarray = sign * out
    return result


def _grid_paper(gray: np.ndarray) -> np.ndarray:
    """A first, coarse paper estimate: bright percentiles of a grid of cells, spread to
    neighbours (a cell covered by a thick stroke takes their paper) and interpolated."""
    h, w = gray.shape
    cell = max(4, min(h, w) // GRID)
    gh, gw = max(1, h // cell), max(1, w // cell)
    ys = np.linspace(0, h, gh + 1).astype(int)
    xs = np.linspace(0, w, gw + 1).astype(int)
    grid = np.empty((gh, gw), np.float32)
    for i in range(gh):
        for j in range(gw):
            grid[i, j] = np.percentile(gray[ys[i]:ys[i + 1], xs[j]:xs[j + 1]],
                                       PAPER_PERCENTILE)
    return resize(_filter(grid, 3, np.max), h, w)


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width of the ink in a mask: area over half the outline length."""
    area = int(mask.sum())
    outline = int((mask[:, 1:] != mask[:, :-1]).sum() + (mask[1:] != mask[:-1]).sum())
    return 2.0 * area / max(outline, 1)


def widen_thin_strokes(ink: np.ndarray, min_pen: float = MIN_PEN) -> np.ndarray:
    """One character's ink, cropped and scaled to ``WIDEN_SIDE``, with strokes thinner
    than ``min_pen`` model pixels grown to it (a grey dilation by a disc)."""
    top, left, bottom, right = ink_bbox(ink)
    crop = np.asarray(ink[top:bottom, left:right], np.float32)
    # At a fixed scale, fine enough for a disc of a pixel or two (shrinking averages
    # areas, so a thin stroke stays a grey line rather than gaps).
    s = WIDEN_SIDE / max(crop.shape)
    crop = resize(crop, max(1, round(crop.shape[0] * s)), max(1, round(crop.shape[1] * s)))
    side = max(crop.shape)
    width = stroke_width(crop >= SOLID * float(crop.max()))
    # The target scales with the fitted box, which the widening itself enlarges a little.
    radius = (min_pen * side / BOX - width) / 2
    if radius < 0.5:
        return crop
    r = int(np.ceil(radius))
    out: np.ndarray = np.pad(crop, r)
    h, w = crop.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if 0 < dy * dy + dx * dx <= radius * radius:
                np.maximum(out[r + dy:r + dy + h, r + dx:r + dx + w], crop,
                           out=out[r + dy:r + dy + h, r + dx:r + dx + w])
    return out


def paper_level(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness at every pixel of a dark-ink image, same shape.

    A grey-level closing (max then min filter) a little wider than the strokes: ink,
    being narrower, disappears; a shadow's edge, being a step, is kept where it is. The
    stroke width comes from a first coarse estimate; the closing runs on a shrunk copy
    so that its window is small whatever the resolution.
    """
    h, w = gray.shape
    paper = _grid_paper(gray)
    width = 0.0
    for _ in range(3):  # a stroke wider than a grid cell looks hollow at first: widen
        ink = np.clip(paper - gray, 0.0, None)
        peak = float(ink.max())
        if peak <= 0.0:
            break
        new_width = stroke_width(ink > 0.3 * peak)
        if new_width <= 1.2 * width:
            break
        width = new_width
        # Never narrower than a tenth of the picture: a first estimate taken from a
        # shadow's sharp edge would make the window thinner than the pen's strokes.
        paper = _closing(gray, max(2.5 * width + 3.0, MIN_WINDOW * min(h, w)))
    return paper


def _closing(gray: np.ndarray, window: float) -> np.ndarray:
    """Grey-level closing at full resolution (a big photo is first shrunk to MAX_SIDE:
    the paper varies slowly, and the closing then costs the same for any photo)."""
    h, w = gray.shape
    shrink = max(1.0, max(h, w) / MAX_SIDE)
    small = resize(gray, max(1, round(h / shrink)), max(1, round(w / shrink))) \
        if shrink > 1.0 else gray
    size = max(3, int(round(window / shrink)) | 1)
    closed = _filter(_filter(small, size, np.max), size, np.min)
    return resize(closed, h, w) if shrink > 1.0 else closed


def ink_from_gray(gray: np.ndarray) -> np.ndarray:
    """Grayscale 0..1 (any polarity) -> ink intensity 0..1, paper exactly 0."""
    g = np.asarray(gray, dtype=np.float32)
    if not ink_is_dark(g):
        g = 1.0 - g
    paper = np.maximum(paper_level(g), 0.05)
    below = paper - g  # how much darker than its paper each pixel is
    contrast = np.clip(below / paper, 0.0, 1.0)
    peak = float(np.percentile(contrast, 99.9)) if contrast.size > 1000 else float(
        contrast.max())
    if peak < MIN_CONTRAST:
        return np.zeros_like(contrast)
    # Grain: sensor noise is about the same in grey levels everywhere, so relative to
    # the paper it is stronger where the light is weak (in a shadow): the floor is
    # NOISE_SIGMAS deviations of the grey level, over the local paper brightness.
    med = float(np.median(below))
    sigma = 1.4826 * float(np.median(np.abs(below - med)))
    floor = np.maximum((med + NOISE_SIGMAS * sigma) / paper, NOISE_FLOOR * peak)
    out: np.ndarray = np.clip((contrast - floor) / np.maximum(peak - floor, 1e-6), 0.0,
                              1.0).astype(np.float32)
    return out
