"""Ink that is not a digit, for the model's "not a digit" class. Seeded, vector, rendered
through the app's own ``hwr_qt.raster.render_ink`` so it looks exactly like user ink.

Kinds: scribbles (random walks with sharp turns), loopy scrawls, filled blobs (hatching
or a spiral), long non-vertical lines and wavy lines, and hand-made stroke templates of
letters that do not resemble digits. Letters like O, I, l, S, Z, T, B, g, q are left out
on purpose: rejecting them would reject real digits too.
"""

from __future__ import annotations

import math

import numpy as np

from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.raster import render_ink

# Letters as polylines in a unit box (x right, y down).
LETTERS: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.25, 0.55), (0.75, 0.55)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.7, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.45), (0.7, 0.45)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(1, 0), (0, 0.55), (1, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "m": [[(0, 1), (0, 0.3), (0.1, 0.15), (0.3, 0.2), (0.45, 0.4), (0.45, 1)],
          [(0.45, 0.4), (0.6, 0.15), (0.8, 0.2), (0.9, 0.4), (0.9, 1)]],
    "w": [[(0, 0.2), (0.2, 1), (0.5, 0.45), (0.8, 1), (1, 0.2)]],
    "e": [[(0.1, 0.55), (0.9, 0.55), (0.85, 0.3), (0.5, 0.1), (0.15, 0.35), (0.1, 0.7),
           (0.4, 0.95), (0.9, 0.85)]],
}
KINDS = ("scribble", "loops", "blob", "line", "wave", "letter")


def _jitter(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    return points + rng.normal(0.0, amount, points.shape)


def _resample(poly: np.ndarray, step: float) -> np.ndarray:
    seg = np.hypot(*np.diff(poly, axis=0).T)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    if dist[-1] <= 0:
        return poly[:1]
    t = np.arange(0.0, dist[-1] + step / 2, step)
    return np.stack([np.interp(t, dist, poly[:, 0]), np.interp(t, dist, poly[:, 1])], 1)


def scribble(rng: np.random.Generator) -> list[np.ndarray]:
    n = rng.integers(8, 30)
    angle = rng.uniform(0, 2 * math.pi)
    pts = [np.zeros(2)]
    for _ in range(n):
        angle += rng.choice([-1, 1]) * rng.uniform(math.pi / 2, math.pi * 0.95)
        step = rng.uniform(20, 80)
        nxt = np.clip(pts[-1] + step * np.array([math.cos(angle), math.sin(angle)]), -60, 60)
        pts.append(nxt)
    return [np.array(pts)]


def loops(rng: np.random.Generator) -> list[np.ndarray]:
    # A cursive scrawl: many loops marching sideways ("llll"/"eeee"), too many for a digit.
    n = rng.integers(4, 8)
    t = np.linspace(0, 2 * math.pi * n, 40 * n)
    r = rng.uniform(15, 30)
    x = t / (2 * math.pi) * r * rng.uniform(1.1, 1.6) + r * 0.6 * np.sin(t)
    y = -r * rng.uniform(0.8, 2.0) * np.cos(t)
    return [np.stack([x, y], 1)]


def blob(rng: np.random.Generator) -> list[np.ndarray]:
    w, h = rng.uniform(40, 100), rng.uniform(40, 100)
    if rng.random() < 0.5:  # back-and-forth hatching across an ellipse
        rows = rng.integers(10, 22)
        pts = []
        for i in range(rows):
            y = -h / 2 + h * i / (rows - 1)
            half = w / 2 * math.sqrt(max(0.0, 1 - (2 * y / h) ** 2)) + 3
            xs = (-half, half) if i % 2 == 0 else (half, -half)
            pts += [(xs[0], y), (xs[1], y)]
        return [np.array(pts)]
    turns = rng.uniform(5, 9)  # a tight spiral filling a disc
    t = np.linspace(0, 2 * math.pi * turns, int(60 * turns))
    rad = t / t[-1]
    return [np.stack([w / 2 * rad * np.cos(t), h / 2 * rad * np.sin(t)], 1)]


def line(rng: np.random.Generator) -> list[np.ndarray]:
    # Not within 40 degrees of vertical, where a line would be a "1".
    angle = math.radians(rng.uniform(40, 140)) + (math.pi if rng.random() < 0.5 else 0)
    length = rng.uniform(60, 200)
    d = np.array([math.sin(angle), -math.cos(angle)]) * length / 2
    return [np.stack([-d, d])]


def wave(rng: np.random.Generator) -> list[np.ndarray]:
    x = np.linspace(0, rng.uniform(150, 300), 120)
    y = rng.uniform(8, 25) * np.sin(x / rng.uniform(10, 25) + rng.uniform(0, 6))
    return [np.stack([x, y], 1)]


def letter(rng: np.random.Generator) -> list[np.ndarray]:
    name = list(LETTERS)[rng.integers(len(LETTERS))]
    w, h = rng.uniform(50, 110), 100.0
    return [np.array(s, float) * [w, h] for s in LETTERS[name]]


GENERATORS = {"scribble": scribble, "loops": loops, "blob": blob, "line": line,
              "wave": wave, "letter": letter}


def random_negative(rng: np.random.Generator, kind: str | None = None) -> Ink:
    """One non-digit drawing, slanted/rotated and jittered like real handwriting."""
    kind = kind or KINDS[rng.integers(len(KINDS))]
    polys = GENERATORS[kind](rng)
    shear, rot = rng.uniform(-0.3, 0.3), math.radians(rng.uniform(-12, 12))
    m = np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]]) @ \
        np.array([[1.0, shear], [0.0, 1.0]])
    strokes = []
    for poly in polys:
        pts = _jitter(_resample(poly @ m.T, 3.0), rng, 0.6)
        strokes.append(Stroke(tuple(Point(float(x), float(y)) for x, y in pts)))
    return Ink(tuple(strokes))


def negative_images(n: int, seed: int, kinds: tuple[str, ...] = KINDS
                    ) -> tuple[np.ndarray, list[str]]:
    """n rendered negatives (float32 [n,28,28], app-normalised) and their kinds (a
    character model leaves out "letter": to it, letters are characters)."""
    rng = np.random.default_rng(seed)
    kinds = [kinds[i % len(kinds)] for i in range(n)]
    images = np.stack([render_ink(random_negative(rng, k)) for k in kinds])
    return images, list(kinds)
