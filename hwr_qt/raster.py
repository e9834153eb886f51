"""Vector ink -> the 28x28 model input, rendered directly at model scale with QPainter.

Rendering at 28x28 (not at screen size, then shrinking) keeps the stroke width the same
for every drawing: whatever the on-screen pen and drawing size, the digit's box becomes
20 px and its strokes ``PEN_WIDTH`` px, like MNIST. Centring is ``preprocess.place_centred``,
shared with image files and training. Needs QtGui but no QGuiApplication or screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen

from hwr_qt.ink import Ink, InkError, Stroke
from hwr_qt.preprocess import BOX, PEN_WIDTH, EmptyInputError, place_centred

MARGIN = 2  # pixels around the patch so anti-aliased edges are never clipped
WHITE = QColor(255, 255, 255)
MIN_PRESSURE_FACTOR = 0.75  # pressure 0 draws 75 % of the width, pressure 1 draws 100 %


def pressure_factors(pressure: np.ndarray) -> np.ndarray:
    """Width multipliers for pressures (out-of-range pressures are clipped to 0..1)."""
    out: np.ndarray = MIN_PRESSURE_FACTOR + (1.0 - MIN_PRESSURE_FACTOR) * np.clip(
        pressure, 0.0, 1.0)
    return out


def pressure_factor(pressure: float) -> float:
    return float(pressure_factors(np.float64(pressure)))


def qimage_to_array(image: QImage) -> np.ndarray:
    """A Grayscale8 QImage as float32 0..1 (copying, honouring the row stride)."""
    if image.format() != QImage.Format.Format_Grayscale8:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, :w].astype(np.float32) / 255.0


def render_patch(ink: Ink, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """The ink fitted into a BOX x BOX area (strokes included), float32, not yet centred."""
    if ink.is_empty:
        raise EmptyInputError("nothing drawn yet")
    x0, y0, x1, y1 = ink.bounds()
    extent = max(x1 - x0, y1 - y0)
    if not math.isfinite(extent):
        raise InkError("coordinates out of range")
    # Tiny extents (a tap, a dot) have no shape worth stretching: draw them as a dot.
    scale = (BOX - pen_width) / extent if extent > 1e-9 * max(1.0, abs(x0), abs(y0)) else 0.0
    pw, ph = (x1 - x0) * scale + pen_width, (y1 - y0) * scale + pen_width
    image = QImage(math.ceil(pw) + 2 * MARGIN, math.ceil(ph) + 2 * MARGIN,
                   QImage.Format.Format_Grayscale8)
    image.fill(0)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        off = MARGIN + pen_width / 2

        def to_px(x: float, y: float) -> QPointF:
            return QPointF((x - x0) * scale + off, (y - y0) * scale + off)

        for stroke in ink.strokes:
            paint_stroke(painter, stroke, to_px, pen_width, WHITE)
    finally:
        painter.end()
    return qimage_to_array(image)


def paint_stroke(painter: QPainter, stroke: Stroke, to_px: Callable[[float, float], QPointF],
                 pen_width: float, colour: QColor) -> None:
    """Draw one stroke, round-capped, its width following the pressure.

    Shared by the model-scale rendering here and the canvas on screen, so the user sees
    the same strokes the model gets. ``to_px(x, y)`` maps ink to painter coordinates.
    """
    pts = stroke.points
    q = [to_px(p.x, p.y) for p in pts]
    # Compare mapped points: a tiny drawing (scale 0) maps distinct points to one pixel.
    if all(v == q[0] for v in q):
        # A dot: a filled disc, since a zero-length line draws nothing on some engines.
        r = pen_width * pressure_factor(pts[0].pressure) / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(q[0], r, r)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return
    pen = QPen(colour, pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    if all(p.pressure == pts[0].pressure for p in pts):
        # Constant width: one path, so overlapping segments do not darken the joints.
        pen.setWidthF(pen_width * pressure_factor(pts[0].pressure))
        path = QPainterPath(q[0])
        for v in q[1:]:
            path.lineTo(v)
        painter.strokePath(path, pen)
        return
    # Each segment at its mean pressure (widths computed at once: training draws millions).
    p = np.fromiter((pt.pressure for pt in pts), np.float64, len(pts))
    widths = pen_width * pressure_factors((p[:-1] + p[1:]) / 2)
    for a, b, w in zip(q[:-1], q[1:], widths.tolist(), strict=True):
        pen.setWidthF(w)
        painter.setPen(pen)
        painter.drawLine(a, b)


def render_ink(ink: Ink, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Ink -> float32 [28, 28] in 0..1, white on black, centred by mass: the model input."""
    return place_centred(render_patch(ink, pen_width))
