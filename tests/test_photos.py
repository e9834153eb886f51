"""Photos of paper: the paper estimate, components, and what reaches the model."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from hwr_qt import imagetext, paper


@pytest.mark.parametrize("size", [3, 5, 9, 21])
@pytest.mark.parametrize("shape", [(7, 11), (40, 33), (64, 200)])
def test_running_filters_match_brute_force(size, shape):
    a = np.random.default_rng(size).random(shape)
    r = size // 2
    windows = sliding_window_view(np.pad(a, r, mode="edge"), (size, size))
    assert np.array_equal(paper._filter(a, size, np.max), windows.max(axis=(-1, -2)))
    assert np.array_equal(paper._filter(a, size, np.min), windows.min(axis=(-1, -2)))


def _bfs_components(mask: np.ndarray) -> list[set[tuple[int, int]]]:
    seen = np.zeros_like(mask, bool)
    out = []
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        comp, queue = set(), deque([(y, x)])
        seen[y, x] = True
        while queue:
            cy, cx = queue.popleft()
            comp.add((cy, cx))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and \
                            mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        out.append(comp)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_components_are_8_connected_regions(seed):
    mask = np.random.default_rng(seed).random((30, 45)) < 0.35
    labels, comps = imagetext.label_components(mask)
    expected = sorted(sorted(c) for c in _bfs_components(mask))
    got = sorted(sorted(zip(*np.nonzero(labels == c.label), strict=True)) for c in comps)
    assert got == expected
    for c in comps:
        ys, xs = np.nonzero(labels == c.label)
        assert (c.x0, c.y0, c.x1, c.y1, c.area) == (xs.min(), ys.min(), xs.max() + 1,
                                                    ys.max() + 1, len(xs))


def _lit_paper(h: int, w: int) -> np.ndarray:
    """Tinted paper, lit from the left, with a hard shadow along the bottom edge."""
    x = np.linspace(0.0, 1.0, w)[None, :]
    g = np.broadcast_to(0.85 - 0.35 * x, (h, w)).copy()
    g[int(h * 0.8):] *= 0.55
    return g + np.random.default_rng(0).normal(0, 0.01, (h, w))


def test_light_and_shadow_alone_are_no_ink():
    ink = paper.ink_from_gray(_lit_paper(120, 160))
    assert (ink > 0).mean() < 0.005  # grain at most, in the dark shadow
    assert imagetext.candidates(ink) == []  # and no character in it


def test_a_stroke_on_uneven_paper_is_all_that_remains():
    g = _lit_paper(120, 160)
    g[20:80, 70:78] *= 0.3  # a dark vertical stroke, in the light's gradient
    ink = paper.ink_from_gray(g)
    assert ink[30:70, 72:76].min() > 0.5
    outside = np.ones_like(ink, bool)
    outside[16:84, 66:82] = False
    assert (ink[outside] > 0).mean() < 0.005  # the gradient and the shadow's edge are paper
    groups = imagetext.candidates(ink)
    assert len(groups) == 1
    x0, y0, x1, y1 = groups[0][0].pieces[0].box
    assert 66 <= x0 <= 70 and 78 <= x1 <= 82 and 16 <= y0 <= 20 and 80 <= y1 <= 84


def test_light_ink_on_dark_paper_reads_the_same():
    g = _lit_paper(120, 160)
    g[20:80, 70:78] *= 0.3
    a = paper.ink_from_gray(g)
    b = paper.ink_from_gray(1.0 - g)
    assert (a > 0).sum() > 0 and (b[30:70, 72:76] > 0.5).all()


# Hand-drawn shapes on a clean page: strokes of discs along lines and ellipses.
def _disc(img: np.ndarray, cy: float, cx: float, r: float) -> None:
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
    img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1.0


def _line(img: np.ndarray, y0: float, x0: float, y1: float, x1: float, r: float = 4) -> None:
    for t in np.linspace(0.0, 1.0, 200):
        _disc(img, y0 + (y1 - y0) * t, x0 + (x1 - x0) * t, r)


def _ring(img: np.ndarray, cy: float, cx: float, ry: float, rx: float, r: float = 4) -> None:
    for a in np.linspace(0.0, 2 * np.pi, 300):
        _disc(img, cy + ry * np.sin(a), cx + rx * np.cos(a), r)


def _bridged_ten() -> np.ndarray:
    """A "1" joined to a "0" by a thin stroke at mid-height: one component, barely
    wider than tall once the pen's width is taken off."""
    img = np.zeros((140, 180), np.float32)
    _line(img, 20, 30, 120, 30)
    _line(img, 70, 30, 70, 44, 2)
    _ring(img, 70, 82, 50, 34)
    return img


def _open_four() -> np.ndarray:
    """An open "4": its L and its stem are two components, side by side."""
    img = np.zeros((140, 140), np.float32)
    _line(img, 20, 40, 80, 30)
    _line(img, 80, 30, 80, 80)
    _line(img, 30, 90, 125, 90)
    return img


def test_a_cut_counts_solid_strokes_not_halo_or_grain():
    ink = np.zeros((40, 3), np.float32)
    ink[10:16, 1] = 1.0  # a stroke 6 px thick
    ink[18:21, 1] = 0.2  # JPEG ringing beside it
    ink[30, 1] = 0.9  # one grain of noise
    assert imagetext.crossings(ink, 1, width=6.0) == 1
    ink[25:31, 1] = 1.0  # a second stroke
    assert imagetext.crossings(ink, 1, width=6.0) == 2


def test_touching_digits_come_apart_at_their_joint(recognizer):
    from hwr_qt.pipeline import read_image_ink

    img = _bridged_ten()
    (options,) = imagetext.candidates(img)  # one component, one group
    assert any(o.clean and len(o.pieces) == 2 for o in options)
    number = read_image_ink(recognizer, img)
    assert number.text == "10"
    one, zero = (c.box for c in number.chars)
    assert one.x1 <= 45 <= zero.x0 + 8  # cut at the joint, not through the "0"


def test_a_digit_in_two_components_is_read_whole(recognizer):
    from hwr_qt.pipeline import read_image_ink

    img = _open_four()
    lay = imagetext.layout(img)
    assert len(lay.groups) == 2 and [(m.start, m.end) for m in lay.merges] == [(0, 2)]
    number = read_image_ink(recognizer, img)
    assert number.text == "4"
    box = number.chars[0].box
    assert box.x0 <= 30 and box.x1 >= 90  # the L and the stem
    # Two whole digits side by side are never merged, however close.
    apart = np.zeros((140, 160), np.float32)
    _line(apart, 20, 30, 120, 30)
    _ring(apart, 70, 80, 50, 30)
    assert imagetext.layout(apart).merges == []
    assert read_image_ink(recognizer, apart).text == "10"


def _model_width(x: np.ndarray) -> float:
    """Stroke width of a model input, in model pixels (this estimator reads the canvas
    pen's strokes as about 1.9)."""
    return paper.stroke_width(x >= paper.SOLID * float(x.max()))


def _two_lines(height: int, r: float) -> np.ndarray:
    img = np.zeros((height + 20, height + 20), np.float32)
    _line(img, 10, 10 + height / 2, 10 + height, 10 + height / 3, r)
    _line(img, 10, 10 + height / 2, 10 + height / 3, 10 + height / 6, r)
    return img


@pytest.mark.parametrize("height", [30, 120, 400])
def test_a_fine_pen_reaches_the_model_as_wide_as_the_canvas_pen(height):
    from hwr_qt.preprocess import normalize_image

    img = _two_lines(height, max(0.5, 0.02 * height))  # a fine liner, ~1 model pixel
    plain = normalize_image(img)
    widened = normalize_image(paper.widen_thin_strokes(img))
    assert _model_width(plain) < 1.3
    assert 1.7 <= _model_width(widened) <= 2.6  # the canvas pen's strokes: ~1.9
    # The shape stays where it was: the widened ink covers the thin one.
    assert (widened[plain > 0.5] > 0.5).all()


def test_a_pen_as_wide_as_the_canvas_pen_is_left_alone():
    from hwr_qt.preprocess import normalize_image

    img = _two_lines(120, 9)  # 18 px in 138 px: 2.6 model pixels
    out = normalize_image(paper.widen_thin_strokes(img))
    assert np.abs(out - normalize_image(img)).max() < 0.15
