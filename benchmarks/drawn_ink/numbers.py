"""Multi-digit numbers written left to right from drawn MNIST test digits.

Each digit keeps its own strokes (stroke order = digit order); digits get a common writing
height with +-15 % size variation, gaps of mostly 5-15 % of that height (sometimes wider),
and occasionally a slight step up or down, as when a number is written quickly by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from benchmarks.drawn_ink.conditions import CANVAS, MARGIN, DrawStyle, draw, random_style
from hwr_qt.ink import Ink

WRITING_HEIGHT = 20.0  # template units: an MNIST digit's box


@dataclass(frozen=True)
class ComposedNumber:
    strokes: list[np.ndarray]  # (n, 2) template-unit arrays, digit by digit
    label: str
    digit_of_stroke: list[int]  # which digit (0..n-1) each stroke belongs to


def compose(digits: list[list[np.ndarray]], labels: list[int] | list[str],
            rng: np.random.Generator) -> ComposedNumber:
    """Lay out digit templates (lists of (n, 2) arrays) left to right."""
    strokes: list[np.ndarray] = []
    owner: list[int] = []
    x = 0.0
    for i, digit in enumerate(digits):
        pts = np.concatenate([s[:, :2] for s in digit])
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        # Height sets the size (people write digits of one height); the floor keeps a flat
        # or tiny template from being blown up.
        scale = WRITING_HEIGHT * rng.uniform(0.85, 1.15) / max(y1 - y0, 0.5 * (x1 - x0), 5.0)
        if rng.random() < 0.3:
            dy = rng.uniform(-0.1, 0.1) * WRITING_HEIGHT
        else:
            dy = rng.normal(0.0, 0.02) * WRITING_HEIGHT
        if i > 0:
            gap = rng.uniform(0.05, 0.15) if rng.random() < 0.7 else rng.uniform(0.15, 0.5)
            x += gap * WRITING_HEIGHT
        for s in digit:
            strokes.append((s[:, :2] - (x0, (y0 + y1) / 2)) * scale + (x, dy))
            owner.append(i)
        x += (x1 - x0) * scale
    return ComposedNumber(strokes, "".join(str(v) for v in labels), owner)


def number_style(rng: np.random.Generator) -> DrawStyle:
    """The mixed style, but written along the canvas's middle line: less slant and
    rotation (a tilted 4-digit line leaves the line), size set by the width in ``draw_number``."""
    base = random_style(rng)
    return replace(base, centre=None, height=CANVAS, slant=float(rng.uniform(-0.2, 0.2)),
                   rotation_deg=float(rng.uniform(-3.0, 3.0)))


def draw_number(number: ComposedNumber, style: DrawStyle, rng: np.random.Generator) -> Ink:
    """Screen ink for a composed number, spanning most of the canvas width."""
    width = rng.uniform(0.7, 0.9) * (CANVAS - 2 * MARGIN)
    return draw(number.strokes, style, rng, max_width=width)
