"""The printed-word composer of the letters benchmark (hand-made strokes, no data)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.pen.numbers import Digit
from benchmarks.pen.words import MAX_LETTERS, MIN_LETTERS, compose_word, make_words, x_height
from hwr_qt.ink import Ink, Point, Stroke


def box(label: str, writer: str, height: float, width: float = 10.0) -> Digit:
    """A letter as a rectangle outline of the given size, somewhere far away."""
    x, y = 500.0, -300.0
    pts = [(x, y), (x + width, y), (x + width, y + height), (x, y + height), (x, y)]
    return Digit(label, writer, Ink((Stroke(tuple(Point(a, b) for a, b in pts)),)))


def test_letters_stand_on_one_baseline_and_descenders_hang_below():
    letters = [box("a", "w", 10), box("h", "w", 18), box("g", "w", 17), box("B", "w", 19)]
    word = compose_word(letters, 10.0, np.random.default_rng(0))
    tops, bottoms = [], []
    for s in word.ink.strokes:
        ys = [p.y for p in s.points]
        tops.append(min(ys))
        bottoms.append(max(ys))
    jitter = 0.2 * 10  # five standard deviations of the baseline jitter
    base = bottoms[0]
    assert bottoms[1] == pytest.approx(base, abs=jitter)  # ascender h: on the line
    assert bottoms[3] == pytest.approx(base, abs=jitter)  # capital B: on the line
    assert tops[2] == pytest.approx(base - 10, abs=jitter)  # g: body on the line...
    assert bottoms[2] > base + 5  # ...its tail below it
    xs = [min(p.x for p in s.points) for s in word.ink.strokes]
    assert xs == sorted(xs) and word.label == "ahgB"


def test_words_are_one_writers_letters_of_three_to_six_seeded():
    letters = [box(c, "w1", 10 + i) for i, c in enumerate("abcdefgh")] + \
        [box(c, "w2", 40) for c in "XYZUVW"] + [box("q", "w3", 10)]  # w3: too few
    a = make_words(letters, 50, np.random.default_rng(3))
    b = make_words(letters, 50, np.random.default_rng(3))
    assert [w.ink for w in a] == [w.ink for w in b]
    assert {w.writer for w in a} == {"w1", "w2"}
    for w in a:
        assert MIN_LETTERS <= len(w.label) <= MAX_LETTERS
        assert set(w.label) <= set("abcdefgh" if w.writer == "w1" else "XYZUVW")
    assert x_height([d for d in letters if d.writer == "w1"]) == pytest.approx(12.0)
