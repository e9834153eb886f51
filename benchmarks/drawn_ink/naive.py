"""The naive baseline: what the seed app did with a drawing.

Draw the ink at screen size on the whole 400x400 canvas with the on-screen pen, then shrink
the canvas to 28x28 with ``QImage.scaled`` (smooth). No cropping, no centring, no fixed
stroke width: a small or off-centre drawing stays small or off-centre, and the stroke
width at model scale follows the pen width and the canvas, not the digit's size.
Pressure is ignored (the seed drew with a constant pen).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from benchmarks.drawn_ink.conditions import CANVAS
from hwr_qt.ink import Ink
from hwr_qt.preprocess import FIELD
from hwr_qt.raster import qimage_to_array


def render_canvas(ink: Ink, pen_width: float, size: int = int(CANVAS)) -> QImage:
    """The screen canvas as the seed app painted it: white ink on black, antialiased."""
    img = QImage(size, size, QImage.Format.Format_Grayscale8)
    img.fill(0)
    painter = QPainter(img)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        white = QColor(255, 255, 255)
        pen = QPen(white, pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        for stroke in ink.strokes:
            pts = [QPointF(p.x, p.y) for p in stroke.points]
            if len(pts) == 1:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QBrush(white))
                painter.drawEllipse(pts[0], pen_width / 2, pen_width / 2)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                continue
            painter.setPen(pen)
            # Segment by segment, as the seed's mouse-move handler drew them.
            for a, b in zip(pts, pts[1:], strict=False):
                painter.drawLine(a, b)
    finally:
        painter.end()
    return img


def _shrink(img: QImage) -> np.ndarray:
    small = img.scaled(FIELD, FIELD, Qt.AspectRatioMode.IgnoreAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    return qimage_to_array(small)


def naive_input(ink: Ink, pen_width: float = 14.0) -> np.ndarray:
    """Ink on the canvas -> float32 [28, 28] in 0..1, the seed's way."""
    return _shrink(render_canvas(ink, pen_width))


def naive_number_inputs(ink: Ink, pen_width: float = 14.0, n: int = 4) -> np.ndarray:
    """The seed had no segmentation; the most generous stand-in: cut the canvas into ``n``
    equal-width slices and shrink, from each, the square on the canvas's middle line
    (where ``numbers.compose`` writes), i.e. assume n equal-width digits across the canvas.
    Returns float32 [n, 28, 28]."""
    img = render_canvas(ink, pen_width)
    side = img.width() // n
    top = (img.height() - side) // 2
    return np.stack([_shrink(img.copy(QRect(i * side, top, side, side))) for i in range(n)])
