"""Export the drawing as a picture: PNG (pixels) or SVG (vectors), dark ink on white.

Both are drawn from the vector ink, cropped to it with a margin, at the canvas pen width,
so the picture looks like the drawing on screen in a light theme.
"""

from __future__ import annotations

# html.escape, not xml.sax.saxutils: the latter imports urllib/http, which the bundle
# leaves out (build_installer.spec)
from html import escape
from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

from hwr_qt.ink import Ink
from hwr_qt.raster import paint_stroke, pressure_factor

INK = QColor(20, 20, 30)
PAPER = QColor(255, 255, 255)
MARGIN = 16.0  # px around the ink, beyond the pen's reach


def _frame(ink: Ink, pen_width: float) -> tuple[float, float, int, int]:
    """(x offset, y offset, width, height) of the picture around the ink."""
    x0, y0, x1, y1 = ink.bounds()
    pad = pen_width / 2 + MARGIN
    return x0 - pad, y0 - pad, max(1, round(x1 - x0 + 2 * pad)), max(1, round(y1 - y0 + 2 * pad))


def export_png(ink: Ink, path: str | Path, pen_width: float) -> None:
    """Raises OSError when the file cannot be written; ValueError for empty ink."""
    if ink.is_empty:
        raise ValueError("nothing drawn to export")
    ox, oy, w, h = _frame(ink, pen_width)
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(PAPER)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for stroke in ink.strokes:
        paint_stroke(painter, stroke, lambda x, y: QPointF(x - ox, y - oy), pen_width, INK)
    painter.end()
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]  # stubs want bytes
        raise OSError(f"cannot write {Path(path).name}")


def svg_text(ink: Ink, pen_width: float) -> str:
    """The drawing as SVG 1.1: one round-capped path per stroke (a dot is a circle)."""
    if ink.is_empty:
        raise ValueError("nothing drawn to export")
    ox, oy, w, h = _frame(ink, pen_width)
    colour = INK.name()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" '
             f'height="{h}" viewBox="0 0 {w} {h}">',
             f'<rect width="{w}" height="{h}" fill="{PAPER.name()}"/>']
    for stroke in ink.strokes:
        pts = stroke.points
        mean_p = sum(p.pressure for p in pts) / len(pts)
        width = pen_width * pressure_factor(mean_p)
        if all((p.x, p.y) == (pts[0].x, pts[0].y) for p in pts):
            parts.append(f'<circle cx="{pts[0].x - ox:.2f}" cy="{pts[0].y - oy:.2f}" '
                         f'r="{width / 2:.2f}" fill="{colour}"/>')
            continue
        d = "M" + " L".join(f"{p.x - ox:.2f},{p.y - oy:.2f}" for p in pts)
        parts.append(f'<path d="{escape(d, quote=True)}" fill="none" stroke="{colour}" '
                     f'stroke-width="{width:.2f}" stroke-linecap="round" '
                     f'stroke-linejoin="round"/>')
    parts.append("</svg>\n")
    return "\n".join(parts)


def export_svg(ink: Ink, path: str | Path, pen_width: float) -> None:
    Path(path).write_text(svg_text(ink, pen_width), encoding="utf-8")
