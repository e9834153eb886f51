"""hwr_qt/preprocess.py (MNIST-style normalisation) and hwr_qt/raster.py (ink -> 28x28)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hwr_qt.ink import Ink, InkError, Point, Stroke
from hwr_qt.preprocess import (
    BOX,
    CENTRE,
    FIELD,
    EmptyInputError,
    centre_of_mass,
    ink_bbox,
    normalize_batch,
    normalize_image,
    place_centred,
    resize,
)
from hwr_qt.raster import render_ink, render_patch

GREY_LEVEL = 1 / 255  # Qt renders into 8-bit grey: one level is the honest rendering noise


def blob_digit(h: int = 40, w: int = 30, seed: int = 0) -> np.ndarray:
    """A synthetic 'digit': a thick ring plus a bar, somewhere in an h x w image."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    r = np.hypot((yy - h * 0.35) / (h * 0.25), (xx - w * 0.5) / (w * 0.3))
    img = np.clip(1.0 - np.abs(r - 1.0) * 4, 0, 1)
    img[int(h * 0.55):int(h * 0.9), int(w * 0.6):int(w * 0.7)] = 1.0
    rng = np.random.default_rng(seed)
    return (img * rng.uniform(0.7, 1.0, img.shape)).astype(np.float32)


def bbox_size(img: np.ndarray) -> tuple[int, int]:
    top, left, bottom, right = ink_bbox(img)
    return bottom - top, right - left


# --- normalize_image --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(40, 30), (28, 28), (300, 90), (12, 200), (5, 5)])
def test_normalize_image_contract(shape):
    img = blob_digit(*shape)
    out = normalize_image(img)
    assert out.shape == (FIELD, FIELD)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0
    assert out.max() == pytest.approx(1.0)  # contrast stretched to a full-intensity peak
    cy, cx = centre_of_mass(out)
    assert abs(cy - CENTRE) <= 0.5 + 1e-6 and abs(cx - CENTRE) <= 0.5 + 1e-6
    h, w = bbox_size(out)
    assert BOX - 2 <= max(h, w) <= BOX


def test_aspect_ratio_is_kept():
    img = np.zeros((100, 100), np.float32)
    img[10:90, 40:60] = 1.0  # a 80 x 20 bar: 4:1
    h, w = bbox_size(normalize_image(img))
    assert h == BOX
    assert w == pytest.approx(BOX / 4, abs=1)


def test_accepts_uint8_and_ignores_negative_values():
    img = blob_digit()
    a = normalize_image(img)
    np.testing.assert_allclose(normalize_image((img * 255).round().astype(np.uint8)), a,
                               atol=0.01)
    np.testing.assert_array_equal(normalize_image(np.where(img > 0, img, -5.0)), a)


def test_mnist_digits_are_already_normalised(mnist_test):
    """MNIST was made with this normalisation: re-normalising changes it very little."""
    x, _ = mnist_test
    x = x[:300].astype(np.float32) / 255
    out = normalize_batch(x)
    diffs = np.abs(out - x).mean(axis=(1, 2))
    assert diffs.mean() < 0.01
    # ...while two different digits differ far more (so the bound above means something).
    assert np.abs(x[1:] - x[:-1]).mean() > 10 * diffs.mean()
    for img in out:
        cy, cx = centre_of_mass(img)
        assert abs(cy - CENTRE) <= 0.5 + 1e-6 and abs(cx - CENTRE) <= 0.5 + 1e-6
        h, w = bbox_size(img)
        assert BOX - 2 <= max(h, w) <= BOX


def test_invariant_to_integer_upscaling_and_padding(mnist_test):
    x, _ = mnist_test
    for img in x[:100].astype(np.float32) / 255:
        big = np.pad(np.kron(img, np.ones((3, 3), np.float32)), ((10, 30), (50, 5)))
        assert np.abs(normalize_image(big) - normalize_image(img)).mean() < 0.01


def test_nearly_invariant_to_resampling_and_shifting(mnist_test):
    x, _ = mnist_test
    x = x[:100].astype(np.float32) / 255
    diffs = []
    for img in x:
        moved = np.pad(resize(img, 70, 70), ((3, 40), (17, 0)))  # 2.5x, bilinear, off-centre
        diffs.append(np.abs(normalize_image(moved) - normalize_image(img)).mean())
    assert max(diffs) < 0.1
    assert np.mean(diffs) < 0.05
    # Different digits are much further apart than a digit and its resampled copy.
    other = np.abs(normalize_batch(x[1:]) - normalize_batch(x[:-1])).mean()
    assert other > 3 * np.mean(diffs)


def test_normalisation_is_idempotent():
    out = normalize_image(blob_digit(60, 45))
    np.testing.assert_allclose(normalize_image(out), out, atol=1e-5)


@pytest.mark.parametrize("img", [np.zeros((28, 28)), np.zeros((3, 500)), -np.ones((10, 10)),
                                 np.zeros((0, 0))])
def test_blank_image(img):
    with pytest.raises(EmptyInputError):
        normalize_image(img)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_image(bad):
    img = blob_digit()
    img[3, 4] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        normalize_image(img)


@pytest.mark.parametrize("shape", [(28,), (2, 28, 28), ()])
def test_not_two_dimensional(shape):
    with pytest.raises(ValueError, match="2-D"):
        normalize_image(np.ones(shape, np.float32))


def test_single_pixel_becomes_a_centred_block():
    img = np.zeros((50, 50), np.float32)
    img[7, 41] = 0.3
    out = normalize_image(img)
    assert bbox_size(out) == (BOX, BOX)
    assert out.max() == pytest.approx(1.0)


def test_normalize_batch_keeps_blank_images_blank():
    stack = np.stack([blob_digit(28, 28), np.zeros((28, 28), np.float32)])
    out = normalize_batch(stack)
    assert out.shape == (2, FIELD, FIELD) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], normalize_image(stack[0]))
    assert not out[1].any()


# --- place_centred / centre_of_mass ------------------------------------------------------------


def test_centre_of_mass():
    img = np.zeros((5, 7))
    img[1, 2] = 1
    img[3, 6] = 3
    assert centre_of_mass(img) == pytest.approx((2.5, 5.0))
    with pytest.raises(EmptyInputError):
        centre_of_mass(np.zeros((4, 4)))


def test_place_centred_shifts_by_whole_pixels_without_changing_values():
    patch = np.zeros((20, 12), np.float32)
    patch[2:6, 1:4] = 0.5
    patch[15, 10] = 1.0
    out = place_centred(patch)
    assert out.sum() == pytest.approx(patch.sum())
    assert sorted(out[out > 0].tolist()) == sorted(patch[patch > 0].tolist())
    cy, cx = centre_of_mass(out)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


# --- resize --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(20, 15), (13, 7), (1, 1), (80, 60), (100, 33), (40, 30)])
def test_resize_keeps_a_constant_image(size):
    out = resize(np.full((40, 30), 0.7, np.float32), *size)
    assert out.shape == size and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.7, rtol=1e-5)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 60), st.integers(2, 60), st.integers(1, 60), st.integers(1, 60),
       st.integers(0, 2**32 - 1))
def test_resize_down_preserves_mass_per_area(h, w, oh, ow, seed):
    assume(oh <= h and ow <= w)
    img = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    out = resize(img, oh, ow)
    assert out.shape == (oh, ow)
    assert out.sum() == pytest.approx(img.sum() * (oh * ow) / (h * w), rel=1e-4)
    assert out.min() >= img.min() - 1e-6 and out.max() <= img.max() + 1e-6


@pytest.mark.parametrize("size", [(80, 60), (100, 33), (57, 91)])
def test_resize_up_roughly_preserves_mass_per_area(size):
    img = np.pad(np.random.default_rng(0).random((34, 24)), 3)  # blank border
    out = resize(img, *size)
    assert out.sum() == pytest.approx(img.sum() * size[0] * size[1] / img.size, rel=0.02)


# --- raster.render_ink ---------------------------------------------------------------------------


def check_model_input(arr: np.ndarray) -> None:
    assert arr.shape == (FIELD, FIELD)
    assert arr.dtype == np.float32
    assert np.isfinite(arr).all()
    assert arr.min() >= 0.0 and arr.max() <= 1.0
    assert arr.max() > 0.0


unit = st.floats(0.0, 1.0)
magnitude = st.sampled_from([1e-6, 1e-3, 0.5, 1.0, 30.0, 1e3, 1e6])
offset = st.one_of(st.just(0.0), st.floats(-1e6, 1e6))


@st.composite
def strokes(draw):
    """1..5 strokes of 1..30 points, at any offset and scale, with degenerate shapes."""
    scale = draw(magnitude)
    ox, oy = draw(offset), draw(offset)
    out = []
    for _ in range(draw(st.integers(1, 5))):
        n = draw(st.integers(1, 30))
        kind = draw(st.sampled_from(["free", "same", "line", "horizontal", "vertical"]))
        if kind == "free":
            uv = [(draw(unit), draw(unit)) for _ in range(n)]
        elif kind == "same":
            uv = [(draw(unit), draw(unit))] * n
        else:
            a, b, c = draw(unit), draw(unit), draw(unit)
            ts = [draw(unit) for _ in range(n)]
            uv = {"line": [(t, a + (b - a) * t) for t in ts],
                  "horizontal": [(t, c) for t in ts],
                  "vertical": [(c, t) for t in ts]}[kind]
        with_pressure = draw(st.booleans())
        pts = []
        for u, v in uv:
            p = [ox + u * scale, oy + v * scale]
            if with_pressure:
                p.append(draw(unit))
            pts.append(p)
        out.append(pts)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strokes())
def test_render_ink_any_strokes(points):
    check_model_input(render_ink(Ink.from_points(points)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(-1e7, 1e7), st.floats(-1e7, 1e7)),
                         min_size=1, max_size=30), min_size=1, max_size=5))
def test_render_ink_any_valid_coordinates(points):
    check_model_input(render_ink(Ink.from_points(points)))


@pytest.mark.parametrize("points", [
    [[[5, 5]]],
    [[[5, 5], [5, 5], [5, 5]]],
    [[[1e6, 1e6], [1e6 + 1e-6, 1e6]]],  # a tap: distinct points, no visible extent
    [[[0, 0, 0.3], [1e-10, 0, 0.8]]],
    [[[0, 0], [100, 0]]],
    [[[0, 0], [0, 100]]],
    [[[0, 0], [1, 1], [2, 2], [3, 3]]],
])
def test_render_degenerate_ink(points):
    check_model_input(render_ink(Ink.from_points(points)))


def test_render_empty_ink():
    with pytest.raises(EmptyInputError):
        render_ink(Ink())


def test_render_out_of_range_ink():
    # Not constructible from a file (the parser caps coordinates), but a direct caller can.
    ink = Ink((Stroke((Point(-1e308, 0.0), Point(1e308, 0.0))),))
    with pytest.raises(InkError):
        render_ink(ink)


def test_render_fits_the_box_and_centres():
    ink = Ink.from_points([[[0, 0], [30, 10], [60, 0], [50, 90], [10, 120]]])
    out = render_ink(ink)
    check_model_input(out)
    h, w = bbox_size(out)
    assert BOX - 1 <= max(h, w) <= BOX + 2  # the pen's anti-aliased edge may add a pixel
    assert h > w
    cy, cx = centre_of_mass(out)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_render_patch_is_not_clipped():
    ink = Ink.from_points([[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]])
    patch = render_patch(ink)
    assert patch.shape[0] <= FIELD and patch.shape[1] <= FIELD
    assert not patch[0].any() and not patch[-1].any()
    assert not patch[:, 0].any() and not patch[:, -1].any()


RNG_INKS = [
    [np.random.default_rng(seed).uniform(0, 50, (int(n), 2)).tolist()
     for n in np.random.default_rng(seed + 100).integers(2, 15, seed % 3 + 1)]
    for seed in range(8)
]


@pytest.mark.parametrize("points", RNG_INKS)
@pytest.mark.parametrize("scale, shift", [(10.0, 1000.0), (1e-3, -5.0), (2.0, 0.0),
                                          (7.3, -123456.0)])
def test_render_is_translation_and_scale_invariant(points, scale, shift):
    a = render_ink(Ink.from_points(points))
    moved = [[[x * scale + shift, y * scale + shift / 3] for x, y in s] for s in points]
    b = render_ink(Ink.from_points(moved))
    assert np.abs(a - b).max() <= GREY_LEVEL + 1e-6
    assert np.abs(a - b).mean() <= 1e-3


def test_render_full_pressure_equals_no_pressure():
    pts = [[0, 0], [10, 5], [20, 0], [25, 20], [5, 30]]
    plain = render_ink(Ink.from_points([pts, [[40, 40]]]))
    pressed = render_ink(Ink.from_points([[p + [1.0] for p in pts], [[40, 40, 1.0]]]))
    np.testing.assert_array_equal(plain, pressed)


def test_lower_pressure_draws_less_ink():
    pts = [[0, 0], [10, 5], [20, 0], [25, 20], [5, 30]]
    sums = [render_ink(Ink.from_points([[p + [pr] for p in pts]])).sum()
            for pr in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(a < b for a, b in zip(sums, sums[1:], strict=False))
    varying = [p + [pr] for p, pr in zip(pts, [0.0, 1.0, 0.0, 1.0, 0.0], strict=True)]
    total = render_ink(Ink.from_points([varying])).sum()
    assert sums[0] < total < sums[-1]


def test_lower_pressure_makes_smaller_dots():
    light = render_ink(Ink.from_points([[[3, 3, 0.0]]])).sum()
    heavy = render_ink(Ink.from_points([[[3, 3, 1.0]]])).sum()
    assert 0 < light < heavy


def test_pen_width_scales_ink():
    ink = Ink.from_points([[[0, 0], [10, 5], [20, 0], [25, 20], [5, 30]]])
    assert render_ink(ink, pen_width=1.5).sum() < render_ink(ink, pen_width=3.0).sum()
