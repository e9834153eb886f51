"""How people draw on a screen: size, position, slant, rotation, sampling, pressure, pen.

A :class:`DrawStyle` turns template ink (any units, e.g. MNIST pixels from
``strokes.skeleton_strokes``) into screen ink on a ``CANVAS`` x ``CANVAS`` canvas. A
:class:`Condition` is a named style that changes one thing from ``DEFAULT``; ``random_style``
draws every parameter at once for the mixed run. All randomness comes from the
``numpy.random.Generator`` passed in, so a seed reproduces every point.

The pen width is not applied to the ink (the app renders at model scale, whatever the
on-screen pen); it travels with the style because the naive baseline draws with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from hwr_qt.ink import Ink
from training.trace import arrays_to_ink, ink_to_arrays, resample_polyline

CANVAS = 400.0  # the seed app's square drawing area, screen pixels
MARGIN = 4.0  # keep ink this far inside the canvas edge (a user cannot draw outside it)


@dataclass(frozen=True)
class DrawStyle:
    height: float = 200.0  # ink height on screen, px
    # Where the ink's box centre goes; None = canvas centre plus a small random offset,
    # "random" = anywhere the ink fits, or fixed (x, y).
    centre: tuple[float, float] | str | None = None
    slant: float = 0.0  # x shift per unit of height above the centre; + leans right
    rotation_deg: float = 0.0  # + turns clockwise on screen (y down)
    step: float = 3.0  # px of stroke between input events (fast strokes: sparse points)
    jitter: float = 0.5  # +-px uniform noise on every point (mouse/tablet quantisation)
    pressure: str = "constant"  # "constant" (1.0, a mouse) or "tablet" (0.2..0.9)
    pen_width: float = 14.0  # on-screen pen, px: only the naive baseline draws with it


@dataclass(frozen=True)
class Condition:
    name: str
    group: str
    style: DrawStyle


DEFAULT = DrawStyle()


def _c(name: str, group: str, **kw: object) -> Condition:
    return Condition(name, group, replace(DEFAULT, **kw))


# One parameter away from DEFAULT each, so a row shows that parameter's effect alone.
CONDITIONS: tuple[Condition, ...] = (
    _c("default (200px, centred)", "reference"),
    _c("size 40px", "size", height=40.0),
    _c("size 100px", "size", height=100.0),
    _c("size 300px", "size", height=300.0),
    _c("pos top-left (100px)", "position", height=100.0, centre=(70.0, 70.0)),
    _c("pos bottom-right (100px)", "position", height=100.0, centre=(320.0, 330.0)),
    _c("pos anywhere (100px)", "position", height=100.0, centre="random"),
    _c("slant -0.3", "slant", slant=-0.3),
    _c("slant +0.3", "slant", slant=0.3),
    _c("rotate -10deg", "rotation", rotation_deg=-10.0),
    _c("rotate +10deg", "rotation", rotation_deg=10.0),
    _c("sample every 1px", "sampling", step=1.0),
    _c("sample every 4px", "sampling", step=4.0),
    _c("sample every 12px", "sampling", step=12.0),
    _c("pressure tablet", "pressure", pressure="tablet"),
    _c("pen 8px", "pen", pen_width=8.0),
    _c("pen 24px", "pen", pen_width=24.0),
)


def random_style(rng: np.random.Generator) -> DrawStyle:
    """Every parameter at once, spread over the ranges the conditions probe."""
    return DrawStyle(
        height=float(np.exp(rng.uniform(math.log(40.0), math.log(300.0)))),
        centre="random",
        slant=float(rng.uniform(-0.3, 0.3)),
        rotation_deg=float(rng.uniform(-10.0, 10.0)),
        step=float(rng.choice([1.0, 2.0, 4.0, 8.0, 12.0])),
        jitter=0.5,
        pressure=str(rng.choice(["constant", "tablet"])),
        pen_width=float(rng.choice([8.0, 14.0, 24.0])),
    )


def _bounds(strokes: list[np.ndarray]) -> tuple[float, float, float, float]:
    allp = np.concatenate([s[:, :2] for s in strokes])
    return (float(allp[:, 0].min()), float(allp[:, 1].min()),
            float(allp[:, 0].max()), float(allp[:, 1].max()))


def transform(strokes: list[np.ndarray], style: DrawStyle, rng: np.random.Generator,
              *, max_width: float | None = None) -> list[np.ndarray]:
    """Slant, rotate, scale to ``style.height`` and place on the canvas; (n, 2) arrays.

    The scale is reduced if the ink would be wider than ``max_width`` (default: the canvas).
    """
    x0, y0, x1, y1 = _bounds(strokes)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a = math.radians(style.rotation_deg)
    # y is down: x' = x - slant * y leans the top to the right for slant > 0.
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ \
        np.array([[1.0, -style.slant], [0.0, 1.0]])
    out = [(s[:, :2] - (cx, cy)) @ m.T for s in strokes]
    x0, y0, x1, y1 = _bounds(out)
    h, w = max(y1 - y0, 1e-9), max(x1 - x0, 1e-9)
    room = CANVAS - 2 * MARGIN
    scale = min(style.height / h, (max_width or room) / w, room / h)
    out = [(s - ((x0 + x1) / 2, (y0 + y1) / 2)) * scale for s in out]
    hw, hh = w * scale / 2, h * scale / 2
    lo_x, hi_x = MARGIN + hw, CANVAS - MARGIN - hw
    lo_y, hi_y = MARGIN + hh, CANVAS - MARGIN - hh
    if style.centre == "random":
        px, py = rng.uniform(lo_x, max(lo_x, hi_x)), rng.uniform(lo_y, max(lo_y, hi_y))
    elif style.centre is None:
        px, py = CANVAS / 2 + rng.normal(0, 15), CANVAS / 2 + rng.normal(0, 15)
    else:
        px, py = style.centre  # type: ignore[misc]
    px, py = float(np.clip(px, lo_x, max(lo_x, hi_x))), float(np.clip(py, lo_y, max(lo_y, hi_y)))
    return [s + (px, py) for s in out]


def resample(points: np.ndarray, step: float, jitter: float,
             rng: np.random.Generator) -> np.ndarray:
    """Points every ``step`` px of arc (ends kept), each moved by up to +-``jitter`` px.

    Sparse points are what a fast stroke gives: the event rate is fixed, the pen is not.
    """
    p = points[:, :2]
    if len(p) > 1 and (p[1:] != p[:-1]).any():
        # The first event lands at a random phase of the step, as a real pen-down does.
        q = resample_polyline(p, step, phase=rng.uniform(0, step))
    else:
        q = p[:1].copy()
    if jitter > 0:
        q = q + rng.uniform(-jitter, jitter, q.shape)
    return np.clip(q, 0.0, CANVAS)


def pressure_profile(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Constant 1.0 (a mouse), or a tablet-like stroke: light touch-down, a firmer and
    wavering middle, a light lift-off, within 0.2..0.9."""
    if kind == "constant":
        return np.ones(n)
    if n <= 1:  # a tap
        return np.full(n, rng.uniform(0.4, 0.8))
    t = np.linspace(0.0, 1.0, n)
    peak = rng.uniform(0.55, 0.9)
    ramp = np.minimum(1.0, np.minimum(t / 0.15, (1.0 - t) / 0.2))
    wave = 0.08 * np.sin(2 * np.pi * (rng.uniform(0.5, 2.0) * t + rng.uniform()))
    return np.clip(0.2 + (peak - 0.2) * ramp + wave, 0.2, 0.9)


def draw(template: Ink | list[np.ndarray], style: DrawStyle, rng: np.random.Generator,
         *, max_width: float | None = None) -> Ink:
    """Template ink -> screen ink on the canvas, as a person would draw it in ``style``."""
    strokes = ink_to_arrays(template) if isinstance(template, Ink) else template
    strokes = [s for s in strokes if len(s)]
    placed = transform(strokes, style, rng, max_width=max_width)
    out = []
    for s in placed:
        q = resample(s, style.step, style.jitter, rng)
        out.append(np.column_stack([q, pressure_profile(len(q), style.pressure, rng)]))
    return arrays_to_ink(out)
