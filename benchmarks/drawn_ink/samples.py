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
from benchmarks.drawn_ink.negatives import ensure_gui_app
from hwr_qt.ink import Ink

THUMB = 112  # px per picture in a cell
LABEL_W = 190
STROKE_COLOURS = [QColor(20, 20, 20), QColor(200, 30, 30), QColor(20, 110, 200),
                  QColor(20, 140, 60), QColor(170, 90, 0)]


def _gray(arr: np.ndarray, size: int) -> QImage:
    a = np.ascontiguousarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
    img = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8)
    return img.copy().scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.FastTransformation)


def _draw_canvas(p: QPainter, ink: Ink, x: float, y: float, pen_width: float,
                 size: int) -> None:
    s = size / CANVAS
    p.fillRect(QRectF(x, y, size, size), QColor(255, 255, 255))
    for i, stroke in enumerate(ink.strokes):
        colour = STROKE_COLOURS[i % len(STROKE_COLOURS)]
        pts = [QPointF(x + q.x * s, y + q.y * s) for q in stroke.points]
        p.setPen(QPen(colour, max(1.0, pen_width * s), Qt.PenStyle.SolidLine,
                      Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        for a, b in zip(pts, pts[1:], strict=False):
            p.drawLine(a, b)
        p.setPen(QPen(QColor(255, 200, 0), 1.5))
        for q in pts:  # the sampled points, to show sparse fast strokes
            p.drawPoint(q)
        p.setPen(QPen(colour, 6))  # where the stroke starts
        p.drawPoint(pts[0])


Cell = tuple[Ink, float, list[np.ndarray], str]


def save_sheet(path: Path, rows: list[tuple[str, list[Cell]]], canvas_px: int = THUMB,
               pic_px: int = THUMB) -> None:
    """rows: (row title, [(ink, pen width, [28x28 images...], caption)])."""
    ensure_gui_app()
    cols = max((len(r[1]) for r in rows), default=0)
    pics = max((len(c[2]) for r in rows for c in r[1]), default=0)
    cell_w = canvas_px + pics * pic_px + 10
    cell_h = max(canvas_px, pic_px) + 18
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
            for c, (ink, pen, images, caption) in enumerate(cells):
                x = LABEL_W + c * cell_w
                _draw_canvas(p, ink, x, y, pen, canvas_px)
                for k, pic in enumerate(images):
                    p.drawImage(int(x + canvas_px + k * pic_px), int(y), _gray(pic, pic_px))
                p.setPen(QColor(0, 0, 0))
                p.drawText(QRectF(x, y + max(canvas_px, pic_px), cell_w - 10, 16),
                           Qt.AlignmentFlag.AlignLeft, caption)
    finally:
        p.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path)):
        raise OSError(f"cannot write {path}")
