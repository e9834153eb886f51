"""benchmarks/drawn_ink: stroke tracing, drawing conditions, negatives and numbers.

The benchmark's numbers are only as good as its generated ink, so this checks that the
ink is sane and reproducible; it does not assert any recognition accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.drawn_ink import negatives as neg
from benchmarks.drawn_ink.conditions import CANVAS, CONDITIONS, DEFAULT, draw, random_style
from benchmarks.drawn_ink.naive import naive_input, naive_number_inputs
from benchmarks.drawn_ink.numbers import compose, draw_number, number_style
from hwr_qt.ink import Point
from hwr_qt.raster import render_ink
from training.trace import arrays_to_ink, image_to_ink, ink_to_arrays, skeleton_strokes


def disc_image(draw_fn) -> np.ndarray:
    """A 28x28 uint8 image drawn by a function of pixel-centre coordinates (x, y)."""
    y, x = np.mgrid[0:28, 0:28].astype(np.float64)
    return np.clip(draw_fn(x, y), 0, 255).astype(np.uint8)


def ring(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = np.hypot(x - 13.5, y - 13.5)
    return 255 * np.clip(1.6 - np.abs(r - 7.0), 0, 1)  # ~3 px wide ring of radius 7


def tee(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    bar = (np.abs(y - 6) <= 1.2) & (np.abs(x - 14) <= 8)
    stem = (np.abs(x - 14) <= 1.2) & (y >= 6) & (y <= 23)
    return 255.0 * (bar | stem)


@pytest.fixture(scope="module")
def templates(mnist_test):
    images, labels = mnist_test
    return [skeleton_strokes(img) for img in images[:200]], labels[:200]


def test_ring_is_one_closed_stroke():
    strokes = skeleton_strokes(disc_image(ring))
    assert len(strokes) == 1
    s = strokes[0]
    assert np.hypot(*(s[0] - s[-1])) < 1.5  # closed (back where it started)
    r = np.hypot(s[:, 0] - 13.5, s[:, 1] - 13.5)
    assert abs(float(np.median(r)) - 7.0) < 0.7  # on the ring's centre line
    assert r.min() > 5.5 and r.max() < 8.5


def test_tee_has_bar_and_stem_without_spurs():
    strokes = skeleton_strokes(disc_image(tee))
    assert 1 <= len(strokes) <= 2
    pts = np.concatenate(strokes)
    for end in [(6.5, 6.0), (21.5, 6.0), (14.0, 22.5)]:  # both bar ends, the stem's foot
        assert np.hypot(*(pts - end).T).min() < 2.0, end
    assert len(skeleton_strokes(np.zeros((28, 28), np.uint8))) == 0


def test_blank_image_falls_back_to_a_dot():
    ink = image_to_ink(np.zeros((28, 28), np.uint8))
    assert ink.point_count == 1


def test_mnist_digits_trace_into_ink_that_looks_like_the_digit(mnist_test, templates):
    images, _ = mnist_test
    strokes, _ = templates
    sims = []
    for img, s in zip(images[:200], strokes, strict=True):
        assert s, "every one of the first 200 test digits has a skeleton"
        assert all(np.isfinite(a).all() for a in s)
        rendered = render_ink(image_to_ink(img)).ravel()
        a = img.astype(np.float32).ravel() / 255
        sims.append(float(a @ rendered / np.linalg.norm(a) / np.linalg.norm(rendered)))
    # Measured 0.84 mean, 0.55 min (thin re-drawn strokes vs thick MNIST ones, and a few
    # filled loops that thin to a line); a bound well under that still catches breakage.
    assert np.mean(sims) > 0.78
    assert np.min(sims) > 0.35
    # Mostly 1-3 strokes, as people write digits.
    counts = np.array([len(s) for s in strokes])
    assert np.mean(counts <= 3) > 0.95


def test_conditions_are_reproducible_and_stay_on_the_canvas(templates):
    tpl = templates[0][3]
    for cond in CONDITIONS:
        a = draw(tpl, cond.style, np.random.default_rng(7))
        b = draw(tpl, cond.style, np.random.default_rng(7))
        assert a == b, cond.name
        x0, y0, x1, y1 = a.bounds()
        assert min(x0, y0) >= 0 and max(x1, y1) <= CANVAS, cond.name
    c = draw(tpl, DEFAULT, np.random.default_rng(8))
    assert c != draw(tpl, DEFAULT, np.random.default_rng(7))
    x0, y0, x1, y1 = c.bounds()
    assert abs((y1 - y0) - DEFAULT.height) < 0.1 * DEFAULT.height
    styles = [random_style(np.random.default_rng(3)) for _ in range(2)]
    assert styles[0] == styles[1]


def test_sampling_and_pressure_conditions_change_the_points(templates):
    tpl = templates[0][0]
    by_name = {c.name: c for c in CONDITIONS}
    dense = draw(tpl, by_name["sample every 1px"].style, np.random.default_rng(0))
    sparse = draw(tpl, by_name["sample every 12px"].style, np.random.default_rng(0))
    assert dense.point_count > 5 * sparse.point_count
    tablet = draw(tpl, by_name["pressure tablet"].style, np.random.default_rng(0))
    p = np.concatenate([a[:, 2] for a in ink_to_arrays(tablet)])
    assert 0.2 <= p.min() < p.max() <= 0.9
    assert {q.pressure for s in dense.strokes for q in s.points} == {1.0}


def test_negatives_are_nonempty_finite_and_reproducible():
    a = neg.generate(4, seed=1)
    b = neg.generate(4, seed=1)
    kinds = {k for k, _, _ in a}
    assert {"scribble", "blob", "line"} <= kinds  # letters too, where a font exists
    rng = np.random.default_rng(0)
    for (kind, detail, tpl), (_, detail2, tpl2) in zip(a, b, strict=True):
        assert tpl and detail == detail2
        assert all(len(s) and np.isfinite(s).all() for s in tpl), kind
        assert all(np.array_equal(s, t) for s, t in zip(tpl, tpl2, strict=True))
        img = render_ink(draw(tpl, neg.negative_style(kind, rng), rng))
        assert np.isfinite(img).all() and img.max() > 0
    if kinds >= {"letter"}:
        assert all(d in neg.LETTERS for k, d, _ in a if k == "letter")


def test_number_composer_lays_digits_out_left_to_right(templates):
    strokes, labels = templates
    rng = np.random.default_rng(5)
    for _ in range(10):
        idx = rng.choice(len(strokes), 4, replace=False)
        number = compose([strokes[i] for i in idx], [int(labels[i]) for i in idx], rng)
        assert number.label == "".join(str(int(labels[i])) for i in idx)
        assert sorted(set(number.digit_of_stroke)) == [0, 1, 2, 3]
        assert number.digit_of_stroke == sorted(number.digit_of_stroke)  # digit order
        extents = []
        for d in range(4):
            pts = np.concatenate([s for s, o in zip(number.strokes, number.digit_of_stroke,
                                                    strict=True) if o == d])
            extents.append((pts[:, 0].min(), pts[:, 0].max()))
        for (_, right), (left, _) in zip(extents, extents[1:], strict=False):
            assert right < left  # a gap between neighbours
        ink = draw_number(number, number_style(rng), rng)
        assert len(ink.strokes) == len(number.strokes)
        x0, _, x1, _ = ink.bounds()
        assert x0 >= 0 and x1 <= CANVAS and x1 - x0 > 0.6 * CANVAS


def test_naive_baseline_shrinks_the_whole_canvas(templates):
    tpl = templates[0][0]
    big = draw(tpl, DEFAULT, np.random.default_rng(0))
    small = draw(tpl, CONDITIONS[1].style, np.random.default_rng(0))  # 40 px tall
    a, b = naive_input(big), naive_input(small)
    assert a.shape == b.shape == (28, 28) and a.dtype == np.float32
    assert b.min() >= 0 and a.max() <= 1
    assert (b > 0.1).sum() < (a > 0.1).sum() / 3  # no cropping: a small digit stays small
    assert naive_number_inputs(big).shape == (4, 28, 28)


def test_arrays_to_ink_round_trips_points_and_defaults_pressure():
    xy = np.array([[0.5, 1.25], [2.0, 3.0]])
    xyp = np.array([[0.5, 1.25, 0.3], [2.0, 3.0, 0.9]], np.float32)
    ink = arrays_to_ink([xy, np.zeros((0, 2)), xyp])
    assert len(ink.strokes) == 2  # the empty array is skipped
    assert ink.strokes[0].points == (Point(0.5, 1.25, 1.0, 0.0), Point(2.0, 3.0, 1.0, 0.0))
    assert [p.pressure for p in ink.strokes[1].points] == [float(np.float32(0.3)),
                                                          float(np.float32(0.9))]
    assert all(type(v) is float for p in ink.strokes[1].points for v in p)
    np.testing.assert_array_equal(ink_to_arrays(ink)[1], xyp.astype(np.float64))
