"""Digits as a pen draws them: MNIST training digits traced into strokes, restyled and
rendered by the app's own ``hwr_qt.raster.render_ink``.

MNIST strokes are soft scans of ink of varying width; the app renders constant-width
anti-aliased vectors. Training on both closes that gap (measured with the drawn-ink
benchmark, whose test digits come from the MNIST *test* set, never from these).
"""

from __future__ import annotations

import math

import numpy as np

from hwr_qt.ink import Ink, Stroke
from hwr_qt.raster import render_ink
from training.trace import array_points, centroid_dot, resample_polyline, skeleton_strokes

Template = list[np.ndarray]


def trace_all(images_u8: np.ndarray) -> list[Template]:
    """Strokes of each digit image (a dot for the rare image with no skeleton)."""
    return [skeleton_strokes(img) or [centroid_dot(img)] for img in images_u8]


def restyle(template: Template, rng: np.random.Generator) -> Ink:
    """Slant, rotate, resample (fast or slow strokes), jitter, and maybe tablet pressure."""
    slant, rot = rng.uniform(-0.35, 0.35), math.radians(rng.uniform(-12, 12))
    m = np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]]) @ \
        np.array([[1.0, -slant], [0.0, 1.0]])
    step = float(np.exp(rng.uniform(math.log(0.3), math.log(3.0))))  # template px
    tablet = rng.random() < 0.4
    strokes = []
    for s in template:
        pts = s[:, :2] @ m.T
        if len(pts) > 1:
            pts = resample_polyline(pts, step)
        pts = pts + rng.uniform(-0.08, 0.08, pts.shape)
        if tablet:
            u = np.linspace(0, 1, len(pts))
            pressure = np.clip(0.25 + 0.6 * np.sin(np.pi * u) + rng.normal(0, 0.05, len(u)),
                               0, 1)
        else:
            pressure = np.ones(len(pts))
        strokes.append(Stroke(array_points(np.column_stack([pts, pressure]))))
    return Ink(tuple(strokes))


def drawn_batch(templates: list[Template], rng: np.random.Generator) -> np.ndarray:
    """Rendered model inputs, float32 [N, 28, 28]."""
    return np.stack([render_ink(restyle(t, rng)) for t in templates])
