"""Ink that is not a digit, for measuring rejection: scribbles, filled blobs, long lines
that are not a "1", and (if a font is installed) letters that don't look like digits.

Templates are lists of (n, 2) arrays in MNIST-like units (a ~20-unit box, y down), so
``conditions.draw`` places them on the canvas exactly like drawn digits. The generator is
seeded through ``NEGATIVE_TAG`` so it never shares a stream with any training-side
negative generator that uses the same integer seed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from benchmarks.drawn_ink.conditions import DrawStyle, random_style
from hwr_qt.preprocess import resize
from training.trace import skeleton_strokes

NEGATIVE_TAG = 0x6E6567B7  # mixed into every negative seed; arbitrary, benchmark-only
KINDS = ("scribble", "blob", "line", "letter")
BOX = 20.0
# Letters with no digit look-alike (no O o I l S s Z z B b g q G D and the like).
LETTERS = "AEFHKMNRTVWXY" + "aehkmnruvwx"

Template = list[np.ndarray]


def negative_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([NEGATIVE_TAG, seed]))


# --- scribbles -----------------------------------------------------------------------

def _zigzag(rng: np.random.Generator) -> Template:
    """Fast back-and-forth strokes: 7-14 corners with sharp turns across the box."""
    n = int(rng.integers(7, 15))
    x = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 5, n), rng.uniform(15, 20, n))
    y = np.sort(rng.uniform(0, BOX, n)) if rng.random() < 0.5 else rng.uniform(0, BOX, n)
    p = np.column_stack([x, y])
    return [p[:, ::-1] if rng.random() < 0.5 else p]  # sometimes up and down instead


def _curls(rng: np.random.Generator) -> Template:
    """A run of 3-6 loops (a prolate cycloid) along a wavy line, like a spring or "eeee"
    scribbled over; spaced wide enough to stay loops, not a blob, at model scale."""
    loops = rng.uniform(3, 6)
    t = np.linspace(0, 2 * np.pi * loops, int(40 * loops))
    r = rng.uniform(2.5, 4.5)
    u = t / t[-1]
    x = u * 1.6 * BOX + r * np.cos(t + np.pi) + r
    y = r * np.sin(t) * rng.uniform(0.8, 1.4) + rng.uniform(3, 6) * np.sin(
        np.pi * u * rng.uniform(1, 3) + rng.uniform(0, np.pi))
    return [np.column_stack([x, y])]


def _random_walk(rng: np.random.Generator) -> Template:
    """A tangle: steps of 1.5-4 units, heading changing by up to ~150 deg, kept in the box."""
    n = int(rng.integers(25, 60))
    pts = [rng.uniform(0, BOX, 2)]
    heading = rng.uniform(0, 2 * np.pi)
    for _ in range(n):
        heading += rng.normal(0, 1.3)
        q = pts[-1] + rng.uniform(1.5, 4.0) * np.array([math.cos(heading), math.sin(heading)])
        if not (0 <= q[0] <= BOX and 0 <= q[1] <= BOX):
            heading += np.pi  # bounce off the box edge
            q = np.clip(q, 0, BOX)
        pts.append(q)
    return [np.asarray(pts)]


def scribble(rng: np.random.Generator) -> Template:
    kinds: list[Callable[[np.random.Generator], Template]] = [_zigzag, _curls, _random_walk]
    out = kinds[int(rng.integers(len(kinds)))](rng)
    if rng.random() < 0.3:  # a second scribble on top, as people cross things out
        out += kinds[int(rng.integers(len(kinds)))](rng)
    return out


# --- blobs ---------------------------------------------------------------------------

def _hatching(rng: np.random.Generator) -> Template:
    """One stroke going back and forth densely over a region, as when filling it in."""
    w, h = rng.uniform(0.5, 1.0) * BOX, rng.uniform(0.5, 1.0) * BOX
    gap = rng.uniform(0.8, 1.6)  # closer than the model-scale pen width: it fills
    rows = np.arange(0, h, gap)
    wobble = rng.uniform(-1, 1, len(rows))
    pts = []
    for i, y in enumerate(rows):
        xs = (0.0, w + wobble[i]) if i % 2 == 0 else (w + wobble[i], 0.0)
        pts += [(xs[0], y), (xs[1], y + gap / 2)]
    p = np.asarray(pts)
    if rng.random() < 0.5:  # vertical or slanted hatching instead of horizontal
        a = rng.uniform(-np.pi / 2, np.pi / 2)
        p = p @ np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]).T
    return [p]


def _spiral(rng: np.random.Generator) -> Template:
    """An Archimedean spiral whose turns lie closer than the pen: a filled disc or oval."""
    turns = rng.uniform(4, 8)
    t = np.linspace(0, 2 * np.pi * turns, int(60 * turns))
    r = t / t[-1] * BOX / 2
    return [np.column_stack([r * np.cos(t), r * np.sin(t) * rng.uniform(0.6, 1.0)])]


def blob(rng: np.random.Generator) -> Template:
    return _hatching(rng) if rng.random() < 0.5 else _spiral(rng)


# --- lines ---------------------------------------------------------------------------

def line(rng: np.random.Generator) -> Template:
    """One long, slightly bowed line: horizontal-ish, or diagonal at least 40 deg from
    vertical (a near-vertical line is a fair "1")."""
    from_vertical = rng.uniform(70, 90) if rng.random() < 0.5 else rng.uniform(45, 70)
    a = math.radians(from_vertical) * (1 if rng.random() < 0.5 else -1)
    t = np.linspace(0, 1, 30)
    bow = rng.uniform(-0.05, 0.05) * BOX * np.sin(np.pi * t)
    along = t * BOX * 1.2
    # Direction (sin a, -cos a): a from vertical, y down; the bow is perpendicular.
    d, nrm = np.array([math.sin(a), -math.cos(a)]), np.array([math.cos(a), math.sin(a)])
    return [along[:, None] * d + bow[:, None] * nrm]


# --- letters -------------------------------------------------------------------------

_APP: list[object] = []  # the GUI application, once made, kept alive for the process


def ensure_gui_app() -> None:
    """Fonts (letters, sheet captions) need a GUI application; make one if none exists.

    A QApplication, not a bare QGuiApplication: widget code (e.g. GUI tests in the same
    pytest process) reuses whatever instance exists and needs the widget kind.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    if QCoreApplication.instance() is None:
        _APP.append(QApplication([]))


def font_families() -> list[str]:
    """Installed font families usable for letters ([] if none: letters are skipped)."""
    from PySide6.QtGui import QFontDatabase

    ensure_gui_app()
    fams = QFontDatabase.families()
    preferred = [f for f in fams if f.startswith("DejaVu") and "Math" not in f]
    return preferred or [f for f in fams if "Math" not in f and "Symbol" not in f]


def letter_image(ch: str, family: str, bold: bool, italic: bool, size: int = 28) -> np.ndarray:
    """One glyph as an MNIST-like uint8 image: box ~20 px, strokes ~2-3 px, centred."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath

    from hwr_qt.raster import qimage_to_array

    scale = 4  # draw large, then shrink by area averaging: soft edges like MNIST
    font = QFont(family)
    font.setPixelSize(100)
    font.setBold(bold)
    font.setItalic(italic)
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, ch)
    r = path.boundingRect()
    big = size * scale
    fit = 20 * scale / max(r.width(), r.height(), 1e-6)
    img = QImage(big, big, QImage.Format.Format_Grayscale8)
    img.fill(0)
    painter = QPainter(img)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(big / 2, big / 2)
        painter.scale(fit, fit)
        painter.translate(-r.center())
        painter.fillPath(path, QColor(255, 255, 255))
    finally:
        painter.end()
    small = resize(qimage_to_array(img), size, size)
    return np.clip(small / max(float(small.max()), 1e-6) * 255, 0, 255).astype(np.uint8)


def letter(rng: np.random.Generator, families: list[str]) -> tuple[Template, str]:
    ch = LETTERS[int(rng.integers(len(LETTERS)))]
    fam = families[int(rng.integers(len(families)))]
    img = letter_image(ch, fam, bold=bool(rng.random() < 0.6), italic=bool(rng.random() < 0.3))
    return skeleton_strokes(img), ch


def negative_style(kind: str, rng: np.random.Generator) -> DrawStyle:
    """The mixed drawing style; lines keep their angle (a slant or turn could stand a
    diagonal up into a fair "1")."""
    style = random_style(rng)
    return replace(style, slant=0.0, rotation_deg=0.0) if kind == "line" else style


# --- all of them ---------------------------------------------------------------------

def generate(n_per_kind: int, seed: int,
             families: list[str] | None = None) -> list[tuple[str, str, Template]]:
    """[(kind, detail, template)], ``n_per_kind`` of each kind; letters only with fonts."""
    rng = negative_rng(seed)
    fams = font_families() if families is None else families
    out: list[tuple[str, str, Template]] = []
    makers: dict[str, Callable[[np.random.Generator], Template]] = {
        "scribble": scribble, "blob": blob, "line": line}
    for kind, make in makers.items():
        out += [(kind, kind, make(rng)) for _ in range(n_per_kind)]
    if fams:
        for _ in range(n_per_kind):
            tpl, ch = letter(rng, fams)
            if tpl:
                out.append(("letter", ch, tpl))
    return out
