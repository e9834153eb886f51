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
