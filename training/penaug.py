"""Pen-like augmentation of vector ink, and the writing styles the data has too few of.

``pen_restyle`` redraws a real pen character as another writer on another device might
have: slant, rotation and aspect; dense (a fast mouse or stylus), untouched, or sparse
(pendigits samples every 100 ms: polygons) points; hand tremor; the staircase of a
low-resolution digitiser; stroke order and direction (which move the pressure profile,
the only on-line trace a raster keeps); tablet pressure. Everything stays a vector and is
rendered by the app's own ``hwr_qt.raster`` afterwards, exactly as the canvas would.

``STYLES`` add what real European and programmer handwriting has and the sources barely
hold (slashed zeros, a 1 with a long up-stroke and a foot, crossed 7s, open 4s whose bar
stops short of the stem, 9s with a straight stem). They are drawn onto real training
samples or from small templates, then restyled like any other ink: augmentation, never
fitted to a test writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from hwr_qt.ink import Ink
from training.trace import arrays_to_ink, ink_to_arrays, resample_polyline

Strokes = list[np.ndarray]  # (n, 2) x, y arrays, y down


def _xy(ink: Ink) -> Strokes:
    return [a[:, :2].copy() for a in ink_to_arrays(ink)]


def _bbox(strokes: Strokes) -> tuple[float, float, float, float]:
    p = np.concatenate(strokes)
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


def _line(a: tuple[float, float], b: tuple[float, float], n: int = 12) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(a, float) * (1 - t) + np.asarray(b, float) * t


def pen_restyle(ink: Ink, rng: np.random.Generator, *, strength: float = 1.0) -> Ink:
    """The same character as another writer / device might have drawn it."""
    strokes = _xy(ink)
    x0, y0, x1, y1 = _bbox(strokes)
    size = max(x1 - x0, y1 - y0, 1e-6)
    # Shape: rotation, slant (shear) and aspect, about the box centre.
    rot = math.radians(rng.uniform(-10, 10) * strength)
    shear = rng.uniform(-0.3, 0.3) * strength
    sx = math.exp(rng.uniform(math.log(0.8), math.log(1.25)) * strength)
    m = (np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]])
         @ np.array([[1.0, -shear], [0.0, 1.0]]) @ np.diag([sx, 1.0]))
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    strokes = [(s - c) @ m.T for s in strokes]
    # Sampling: a device's rate and the writer's speed set how far apart points are.
    mode = rng.random()
    if mode < 0.3:
        step = size * rng.uniform(0.05, 0.14)  # sparse: polygonal, like pendigits
    elif mode < 0.7:
        step = size * rng.uniform(0.004, 0.02)  # dense: a fast mouse or a stylus
    else:
        step = 0.0  # as recorded
    if step > 0:
        strokes = [resample_polyline(s, step, phase=rng.uniform(0, step)) if len(s) > 1 else s
                   for s in strokes]
    strokes = [s + rng.normal(0.0, size * rng.uniform(0.0, 0.01), s.shape) for s in strokes]
    if rng.random() < 0.15:  # a low-resolution digitiser: coordinates on a coarse grid
        grid = size * rng.uniform(0.02, 0.05)
        strokes = [np.round(s / grid) * grid for s in strokes]
    # Order and direction: other writers start elsewhere.
    if len(strokes) > 1 and rng.random() < 0.3:
        strokes = [strokes[i] for i in rng.permutation(len(strokes))]
    strokes = [s[::-1] if rng.random() < 0.15 else s for s in strokes]
    out = []
    tablet = rng.random() < 0.4
    for s in strokes:
        if tablet:
            u = np.linspace(0, 1, len(s))
            p = np.clip(0.25 + 0.6 * np.sin(np.pi * u) + rng.normal(0, 0.05, len(u)), 0, 1)
        else:
            p = np.ones(len(s))
        out.append(np.column_stack([s, p]))
    return arrays_to_ink(out)


def touching_pair(a: Ink, b: Ink, rng: np.random.Generator) -> Ink:
    """Two digits side by side at one height, touching, overlapping or nearly so: what
    a number's segmentation offers as one character when a "1" is glued to its neighbour
    or two digits run together. A model that reads it as one digit lets that win."""
    def fitted(ink: Ink) -> Strokes:
        strokes = _xy(ink)
        x0, y0, _, y1 = _bbox(strokes)
        s = 100.0 / max(y1 - y0, 1e-6)
        return [(st - (x0, y0)) * s for st in strokes]

    left, right = fitted(a), fitted(b)
    width = _bbox(left)[2]
    gap = rng.uniform(-0.12, 0.1) * 100.0  # < 0: the boxes overlap
    dy = rng.normal(0.0, 5.0)
    right = [st + (width + gap, dy) for st in right]
    return arrays_to_ink(left + right)


# --- styles ----------------------------------------------------------------------------
def slashed_zero(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 0 with a diagonal through it (Ø: Scandinavia, Germany, programmers)."""
    x0, y0, x1, y1 = _bbox(strokes)
    w, h = x1 - x0, y1 - y0
    a, b = rng.uniform(-0.1, 0.12), rng.uniform(-0.05, 0.1)
    bar = _line((x0 - a * w, y1 + b * h), (x1 + a * w, y0 - b * h))
    return strokes + [bar] if rng.random() < 0.8 else [bar] + strokes


def european_one(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 1 with a long up-stroke into its stem, sometimes with a foot."""
    tallest = max(range(len(strokes)), key=lambda i: float(np.ptp(strokes[i][:, 1])))
    s = strokes[tallest]
    if s[0, 1] > s[-1, 1]:
        s = s[::-1]  # from the top down
    top, bottom = s[0], s[-1]
    h = max(float(bottom[1] - top[1]), 1e-6)
    flag_start = (top[0] - rng.uniform(0.2, 0.4) * h, top[1] + rng.uniform(0.1, 0.35) * h)
    out = [x for i, x in enumerate(strokes) if i != tallest]
    out.append(np.concatenate([_line(flag_start, (top[0], top[1]))[:-1], s]))
    if rng.random() < 0.5:
        half = rng.uniform(0.15, 0.3) * h
        out.append(_line((bottom[0] - half, bottom[1]), (bottom[0] + half, bottom[1])))
    return out


def crossed_seven(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 7 with a short bar across the middle of its stem."""
    x0, y0, x1, y1 = _bbox(strokes)
    h = y1 - y0
    ym = y0 + rng.uniform(0.45, 0.62) * h
    p = np.concatenate(strokes)
    near = p[np.abs(p[:, 1] - ym) < 0.12 * h]
    xc = float(np.median(near[:, 0])) if len(near) else (x0 + x1) / 2
    half, tilt = rng.uniform(0.15, 0.3) * h, rng.uniform(-0.05, 0.05) * h
    return strokes + [_line((xc - half, ym + tilt), (xc + half, ym - tilt))]


def _unit_template(strokes: Strokes, height: float = 100.0) -> Strokes:
    return [s * height for s in strokes]


def open_four(_: Strokes, rng: np.random.Generator) -> Strokes:
    """An open 4 in two strokes: an L whose bar stops short of (or just crosses) the stem."""
    stem_x = rng.uniform(0.5, 0.7)
    bar_y = rng.uniform(0.5, 0.7)
    gap = rng.uniform(-0.25, 0.15)  # > 0: the bar stops short; < 0: it crosses the stem
    ell = np.array([(rng.uniform(0.15, 0.4), rng.uniform(0.0, 0.1)),
                    (rng.uniform(0.0, 0.12), bar_y),
                    (stem_x - gap, bar_y + rng.uniform(-0.05, 0.05))])
    stem = np.array([(stem_x + rng.uniform(-0.05, 0.05), rng.uniform(0.0, 0.15)),
                     (stem_x, 1.0)])
    ell = resample_polyline(ell, 0.03)
    stem = resample_polyline(stem, 0.03)
    return _unit_template([ell, stem] if rng.random() < 0.75 else [stem, ell])


def straight_nine(_: Strokes, rng: np.random.Generator) -> Strokes:
    """A 9 as a loop and a straight stem down its right side (one or two strokes)."""
    rx, ry = rng.uniform(0.22, 0.32), rng.uniform(0.17, 0.25)
    cx, cy = 0.4, ry + 0.02
    t = np.linspace(0, 2 * math.pi, 40)
    # Anticlockwise on screen from the right, as a 9's loop is usually written.
    loop = np.column_stack([cx + rx * np.cos(t), cy - ry * np.sin(t)])
    stem = _line((cx + rx, cy), (cx + rx - rng.uniform(-0.05, 0.15), 1.0), 20)
    if rng.random() < 0.6:
        return _unit_template([np.concatenate([loop, stem])])
    return _unit_template([loop, _line((cx + rx, cy - ry * 0.8), tuple(stem[-1]), 20)])


# label -> [(style, needs a real sample of that label)]; templates ignore their input.
STYLES: dict[str, list[Callable[[Strokes, np.random.Generator], Strokes]]] = {
    "0": [slashed_zero],
    "1": [european_one],
    "7": [crossed_seven],
    "4": [open_four],
    "9": [straight_nine],
}


def styled(label: str, base: Ink, rng: np.random.Generator) -> Ink:
    """One of ``STYLES[label]`` applied to a real sample ``base`` of that label."""
    options = STYLES[label]
    style = options[int(rng.integers(len(options)))]
    return arrays_to_ink(style(_xy(base), rng))
