"""Multi-digit numbers written by one real writer: their own digits, at their own scale.

A number is ``digits`` pen samples of ONE writer laid left to right, each kept exactly as
the pen wrote it (points, stroke order, size in the source's units), only moved. Where
it goes is drawn relative to the writer's median digit height ``h``:

- gaps between neighbouring boxes: mostly a normal handwriting gap (3-35 % of ``h``),
  sometimes touching or overlapping a little (-8..3 %), sometimes wide (35-80 %);
- baseline: the bottoms of the digits share a line, each moved up or down by a normal
  jitter of 4 % of ``h`` (a hand writing along a line without a ruler).

Everything comes from the ``numpy`` generator passed in: the same seed gives the same
numbers. Nothing here needs the data files (tests build samples by hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hwr_qt.ink import Ink, Point, Stroke

# (share, low, high) of the gap ranges, in units of the writer's median digit height.
GAPS: tuple[tuple[float, float, float], ...] = (
    (0.15, -0.08, 0.03),  # touching: boxes meet or overlap a little (hurried writing)
    (0.70, 0.03, 0.35),  # usual
    (0.15, 0.35, 0.80),  # wide
)
BASELINE_JITTER = 0.04  # standard deviation of each digit's vertical offset, of h
DIGITS = 4


@dataclass(frozen=True)
class Digit:
    """One pen sample to compose: what it is and the ink as written."""

    label: str
    writer: str
    ink: Ink


@dataclass(frozen=True)
class ComposedNumber:
    label: str  # the digits, left to right
    writer: str
    ink: Ink  # the digits' strokes, digit by digit in writing order
    gaps: tuple[float, ...]  # between neighbouring boxes, in units of the writer's height
    height: float  # the writer's median digit height (source units)
    digit_of_stroke: tuple[int, ...]  # which digit (0..n-1) each stroke of ``ink`` draws


def median_height(inks: Sequence[Ink]) -> float:
    """The writer's typical digit height: median box height of their digits."""
    return float(np.median([ink.bounds()[3] - ink.bounds()[1] for ink in inks]))


def draw_gap(rng: np.random.Generator) -> float:
    """A gap between two digits, in units of the writer's median digit height."""
    shares = np.array([g[0] for g in GAPS])
    k = int(rng.choice(len(GAPS), p=shares / shares.sum()))
    return float(rng.uniform(GAPS[k][1], GAPS[k][2]))


def _moved(ink: Ink, dx: float, dy: float) -> list[Stroke]:
    return [Stroke(tuple(Point(p.x + dx, p.y + dy, p.pressure, p.t) for p in s.points))
            for s in ink.strokes]


def compose_number(digits: Sequence[Digit], height: float,
                   rng: np.random.Generator) -> ComposedNumber:
    """Lay one writer's digits out left to right (see the module docstring)."""
    writers = {d.writer for d in digits}
    if len(writers) != 1:
        raise ValueError(f"a number is written by one writer, got {sorted(writers)}")
    if height <= 0:
        raise ValueError(f"the writer's digit height must be positive, got {height}")
    strokes: list[Stroke] = []
    owner: list[int] = []
    gaps: list[float] = []
    cursor = 0.0
    for i, d in enumerate(digits):
        x0, _, x1, y1 = d.ink.bounds()
        if i > 0:
            gaps.append(draw_gap(rng))
            cursor += gaps[-1] * height
        baseline = rng.normal(0.0, BASELINE_JITTER) * height
        strokes += _moved(d.ink, cursor - x0, baseline - y1)  # bottom on the baseline
        owner += [i] * len(d.ink.strokes)
        cursor += x1 - x0
    return ComposedNumber("".join(d.label for d in digits), digits[0].writer,
                          Ink(tuple(strokes)), tuple(gaps), height, tuple(owner))


def make_numbers(digits: Sequence[Digit], count: int, rng: np.random.Generator,
                 length: int = DIGITS) -> list[ComposedNumber]:
    """``count`` numbers of ``length`` digits, each written by one writer.

    Every sample is used equally often: each pass shuffles every writer's digits and cuts
    them into numbers (a writer's last < ``length`` digits wait for the next pass), so
    the numbers rest on the same digits as the single-digit figures and no writer's odd
    sample is repeated in many numbers. Passes repeat until ``count`` numbers exist.
    """
    by_writer: dict[str, list[Digit]] = {}
    for d in digits:
        by_writer.setdefault(d.writer, []).append(d)
    writers = sorted(w for w, ds in by_writer.items() if len(ds) >= length)
    if count > 0 and not writers:
        raise ValueError(f"no writer has {length} digits")
    heights = {w: median_height([d.ink for d in by_writer[w]]) for w in writers}
    picks: list[tuple[str, np.ndarray]] = []
    while len(picks) < count:
        one_pass = []
        for w in writers:
            order = rng.permutation(len(by_writer[w]))
            one_pass += [(w, order[k:k + length])
                         for k in range(0, len(order) - length + 1, length)]
        picks += [one_pass[int(i)] for i in rng.permutation(len(one_pass))]
    return [compose_number([by_writer[w][int(i)] for i in idx], heights[w], rng)
            for w, idx in picks[:count]]
