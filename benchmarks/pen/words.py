"""Printed words written by one real writer: their own letters, at their own scale.

A word is 3-6 pen samples of ONE writer laid left to right, each kept as the pen wrote it
(points, stroke order, size), only moved: the writer's own x-height and cap height decide
what a letter's height says about its case, as in real writing. Gaps come from
``benchmarks.pen.numbers.draw_gap`` (touching, usual, wide); vertical placement follows
the letter's family, relative to a baseline with a little jitter:

- letters with a descender (g j p q y): the body sits on the baseline, the tail below;
- every other letter (capitals, ascenders, x-height letters): bottom on the baseline.

The writer's x-height is the median height of their x-height letters (a c e m n o r s u
v w x z); without any, their median letter height. Seeded by the generator passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.pen.numbers import BASELINE_JITTER, Digit, draw_gap
from hwr_qt.ink import Ink, Point, Stroke

DESCENDERS = frozenset("gjpqy")
X_HEIGHT_LETTERS = frozenset("acemnorsuvwxz")
MIN_LETTERS, MAX_LETTERS = 3, 6


@dataclass(frozen=True)
class ComposedWord:
    label: str
    writer: str
    ink: Ink
    gaps: tuple[float, ...]  # in units of the writer's x-height


def _height(ink: Ink) -> float:
    _, y0, _, y1 = ink.bounds()
    return y1 - y0


def x_height(letters: Sequence[Digit]) -> float:
    small = [_height(d.ink) for d in letters if d.label in X_HEIGHT_LETTERS]
    return float(np.median(small or [_height(d.ink) for d in letters]))


def compose_word(letters: Sequence[Digit], xh: float, rng: np.random.Generator) -> ComposedWord:
    if len({d.writer for d in letters}) != 1:
        raise ValueError("a word is written by one writer")
    strokes: list[Stroke] = []
    gaps: list[float] = []
    cursor = 0.0
    for i, d in enumerate(letters):
        x0, y0, x1, y1 = d.ink.bounds()
        if i > 0:
            gaps.append(draw_gap(rng))
            cursor += gaps[-1] * xh
        base = rng.normal(0.0, BASELINE_JITTER) * xh
        # A descender's body (its top x-height) sits on the baseline; the rest stand on it.
        dy = base - (y0 + xh) if d.label in DESCENDERS else base - y1
        strokes += [Stroke(tuple(Point(p.x + cursor - x0, p.y + dy, p.pressure, p.t)
                                 for p in s.points)) for s in d.ink.strokes]
        cursor += x1 - x0
    return ComposedWord("".join(d.label for d in letters), letters[0].writer,
                        Ink(tuple(strokes)), tuple(gaps))


def make_words(letters: Sequence[Digit], count: int,
               rng: np.random.Generator) -> list[ComposedWord]:
    """``count`` words of 3-6 letters, each from one writer with at least 6 letters;
    writers are drawn in proportion to how many letters they wrote."""
    by_writer: dict[str, list[Digit]] = {}
    for d in letters:
        by_writer.setdefault(d.writer, []).append(d)
    writers = sorted(w for w, ds in by_writer.items() if len(ds) >= MAX_LETTERS)
    if count and not writers:
        raise ValueError(f"no writer has {MAX_LETTERS} letters")
    weights = np.array([len(by_writer[w]) for w in writers], float)
    heights = {w: x_height(by_writer[w]) for w in writers}
    words = []
    for _ in range(count):
        w = writers[int(rng.choice(len(writers), p=weights / weights.sum()))]
        n = int(rng.integers(MIN_LETTERS, MAX_LETTERS + 1))
        pick = rng.choice(len(by_writer[w]), n, replace=False)
        words.append(compose_word([by_writer[w][int(i)] for i in pick], heights[w], rng))
    return words
