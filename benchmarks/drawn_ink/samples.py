"""PNG contact sheets of generated ink, so a person can check it looks like handwriting.

Each cell: the screen canvas (ink in the on-screen pen, stroke starts marked), the app's
28x28 input (``render_ink``) and the naive baseline's 28x28 input, side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from benchmarks.drawn_ink.conditions import CANVAS
from hwr_qt.ink import Ink

THUMB = 112  # px per picture in a cell
LABEL_W = 190
STROKE_COLOURS = [QColor(20, 20, 20), QColor(200, 30, 30), QColor(20, 110, 200),
                  QColor(20, 140, 60), QColor(170, 90, 0)]


def _gray(arr: np.ndarray) -> QImage:
    a = np.ascontiguousarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
    img = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8)
    return img.copy().scaled(THUMB, THUMB, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.FastTransformation)


def _draw_canvas(p: QPainter, ink: Ink, x: float, y: float, pen_width: float) -> None:
    s = THUMB / CANVAS
    p.fillRect(QRectF(x, y, THUMB, THUMB), QColor(255, 255, 255))
    for i, stroke in enumerate(ink.strokes):
        colour = STROKE_COLOURS[i % len(STROKE_COLOURS)]
        pts = [QPointF(x + q.x * s, y + q.y * s) for q in stroke.points]
        p.setPen(QPen(colour, max(1.0, pen_width * s), Qt.PenStyle.SolidLine,
                      Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        for a, b in zip(pts, pts[1:], strict=False):
            p.drawLine(a, b)
        p.setPen(QPen(QColor(255, 160, 0), 1))
        for q in pts:  # the sampled points, to show sparse fast strokes
            p.drawPoint(q)
        p.setPen(QPen(colour, 5))
        p.drawPoint(pts[0])


def save_sheet(path: Path, rows: list[tuple[str, list[tuple[Ink, float, list[np.ndarray],
                                                              str]]]]) -> None:
    """rows: (row title, [(ink, pen width, [28x28 images...], caption)])."""
    cols = max((len(r[1]) for r in rows), default=0)
    per = max((1 + len(c[2]) for r in rows for c in r[1]), default=1)
    cell_w = per * THUMB + 10
    cell_h = THUMB + 18
    img = QImage(LABEL_W + cols * cell_w, max(1, len(rows)) * cell_h,
                 QImage.Format.Format_RGB32)
    img.fill(QColor(235, 235, 235))
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont()
        font.setPixelSize(12)
        p.setFont(font)
        for r, (title, cells) in enumerate(rows):
            y = r * cell_h
            p.setPen(QColor(0, 0, 0))
            p.drawText(QRectF(4, y, LABEL_W - 8, cell_h), Qt.AlignmentFlag.AlignVCenter
                       | Qt.TextFlag.TextWordWrap, title)
            for c, (ink, pen, pics, caption) in enumerate(cells):
                x = LABEL_W + c * cell_w
                _draw_canvas(p, ink, x, y, pen)
                for k, pic in enumerate(pics):
                    p.drawImage(int(x + (k + 1) * THUMB), int(y), _gray(pic))
                p.setPen(QColor(0, 0, 0))
                p.drawText(QRectF(x, y + THUMB, per * THUMB, 16),
                           Qt.AlignmentFlag.AlignLeft, caption)
    finally:
        p.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path)):
        raise OSError(f"cannot write {path}")
