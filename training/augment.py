"""Augmentation that mimics digits drawn on a screen, numpy only and seeded.

People draw slanted, rotated, squashed or stretched digits with a pen of constant width
that may be thinner or thicker than MNIST's. Shifts and overall scale are not simulated:
the app re-fits and re-centres every drawing (``hwr_qt.preprocess``), so the model only
ever sees centred 20x20-fitted digits — and neither does training, which ends every
augmented image with that same function.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hwr_qt.preprocess import normalize_batch

PAD = 6  # room around the 28x28 digit so rotation/shear never clip it


def random_affine(images: np.ndarray, rng: np.random.Generator, *, max_rot_deg: float = 12,
                  max_shear: float = 0.3, aspect: tuple[float, float] = (0.75, 1.25)
                  ) -> np.ndarray:
    """Rotate, shear (slant) and change the aspect ratio of each image, bilinear.

    Returns [N, 28 + 2*PAD, 28 + 2*PAD] so nothing is clipped.
    """
    n, h, w = images.shape
    size = h + 2 * PAD
    theta = np.deg2rad(rng.uniform(-max_rot_deg, max_rot_deg, n))
    shear = rng.uniform(-max_shear, max_shear, n)
    sx = np.exp(rng.uniform(np.log(aspect[0]), np.log(aspect[1]), n))
    out = np.zeros((n, size, size), np.float32)
    src = np.zeros((size, size), np.float32)
    c = (size - 1) / 2.0
    centre = np.array([c, c])
    for i in range(n):
        cos, sin = np.cos(theta[i]), np.sin(theta[i])
        # Forward map in (x, y): R(theta) @ Shear @ diag(sx, 1); ndimage wants the inverse
        # in (row, col) order.
        fwd = np.array([[cos * sx[i], cos * shear[i] - sin], [sin * sx[i], sin * shear[i] + cos]])
        inv = np.linalg.inv(fwd)[::-1, ::-1]
        src[PAD:PAD + h, PAD:PAD + w] = images[i]
        ndimage.affine_transform(src, inv, offset=centre - inv @ centre, output=out[i],
                                 order=1, mode="constant", cval=0.0, prefilter=False)
    return out


def _shifted_max(x: np.ndarray) -> np.ndarray:
    """2x2 max filter (grey dilation by one pixel)."""
    out = x.copy()
    np.maximum(out[:, 1:, :], x[:, :-1, :], out=out[:, 1:, :])
    out2 = out.copy()
    np.maximum(out2[:, :, 1:], out[:, :, :-1], out=out2[:, :, 1:])
    return out2


def _shifted_min(x: np.ndarray) -> np.ndarray:
    return -_shifted_max(-x)


def random_thickness(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thinner (erosion) or thicker (dilation) strokes, blended by a random amount."""
    n = len(images)
    amount = rng.uniform(-1.0, 1.0, n).astype(np.float32)
    out = images.copy()
    pos, neg = amount > 0, amount < 0
    a = amount[pos][:, None, None]
    out[pos] += a * (_shifted_max(images[pos]) - images[pos])
    # Erosion is applied at most half-way: a full one wipes out thin MNIST strokes.
    a = -0.5 * amount[neg][:, None, None]
    out[neg] += a * (_shifted_min(images[neg]) - images[neg])
    return out


def pen_like(images: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Make some digits look rendered by a constant-width anti-aliased pen.

    MNIST strokes are soft with uneven intensity; screen ink is solid with a one-pixel
    anti-aliased edge. Threshold, then smooth with a small kernel.
    """
    n = len(images)
    pick = rng.random(n) < fraction
    if not pick.any():
        return images
    sel = images[pick]
    level = rng.uniform(0.3, 0.6, len(sel)).astype(np.float32)[:, None, None]
    binary = (sel > level).astype(np.float32)
    padded = np.pad(binary, ((0, 0), (1, 1), (1, 1)))
    k = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16.0
    smooth = sum(k[i, j] * padded[:, i:i + sel.shape[1], j:j + sel.shape[2]]
                 for i in range(3) for j in range(3))
    out = images.copy()
    out[pick] = np.maximum(smooth, 0.0)
    return out


def augment_batch(images: np.ndarray, rng: np.random.Generator, *, keep: float = 0.15,
                  pen_fraction: float = 0.3) -> np.ndarray:
    """uint8 (0..255) or float (0..1) [N,28,28] -> augmented, app-normalised float32.

    A ``keep`` fraction is only normalised, so the model never forgets clean digits.
    """
    x = images.astype(np.float32) / (255.0 if images.dtype == np.uint8 else 1.0)
    n = len(x)
    aug = rng.random(n) >= keep
    if aug.any():
        part = random_affine(x[aug], rng)
        part = random_thickness(part, rng)
        part = pen_like(part, rng, pen_fraction)
        out_big = np.zeros((n,) + part.shape[1:], np.float32)
        out_big[aug] = part
        out_big[~aug, PAD:PAD + 28, PAD:PAD + 28] = x[~aug]
        return normalize_batch(out_big)
    return normalize_batch(x)
