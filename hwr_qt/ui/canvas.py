"""The drawing canvas: mouse and tablet input, smooth strokes, vector ink underneath.

Like Qt's Scribble/Tablet examples the widget owns a pixmap of finished strokes and its
pens; unlike them, the truth is the vector ``InkHistory``: the pixmap is only a cache,
re-rendered from vectors on resize, undo and redo, so nothing is lost to rasterisation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from hwr_qt.ink import Ink, InkHistory, Point, Stroke
from hwr_qt.raster import paint_stroke, pressure_factor

BOX_COLOUR = QColor(40, 120, 220)
MIN_POINT_DISTANCE = 0.75  # logical px; denser samples add nothing but cost
# Mouse positions come in whole pixels, so a slow stroke is a staircase. A light 1-2-1
# average (ends kept) removes the steps; no point moves by more than MAX_SHIFT, so the
# shape, a sharp corner, a quick zigzag, is kept and the model input barely changes
# (tests/test_desktop.py measures both).
SMOOTHING_PASSES = 2
MAX_SHIFT = 1.0  # logical px: a staircase step, not a feature of the writing


def smooth_points(points: list[Point], passes: int = SMOOTHING_PASSES) -> list[Point]:
    """Mouse stroke positions, lightly smoothed: first and last kept, no point moved by
    more than MAX_SHIFT from where the mouse reported it."""
    pts = points
    for _ in range(passes):
        if len(pts) < 3:
            return pts
        pts = [pts[0]] + [Point((a.x + 2 * b.x + c.x) / 4, (a.y + 2 * b.y + c.y) / 4,
                                b.pressure, b.t)
                          for a, b, c in zip(pts, pts[1:], pts[2:], strict=False)] + [pts[-1]]
    out = []
    for raw, new in zip(points, pts, strict=True):
        dx, dy = new.x - raw.x, new.y - raw.y
        d = math.hypot(dx, dy)
        f = 1.0 if d <= MAX_SHIFT else MAX_SHIFT / d
        out.append(Point(raw.x + dx * f, raw.y + dy * f, raw.pressure, raw.t))
    return out


class InkCanvas(QWidget):
    """Draw digits here. Emits ``strokeAdded`` on pen-up, ``strokeMoved`` while drawing."""

    inkChanged = Signal()  # any change of the finished ink (stroke, undo, redo, clear, load)
    strokeAdded = Signal()
    strokeMoved = Signal()  # the stroke in progress grew
    imageChanged = Signal()  # an image was shown or hidden

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = InkHistory()
        self._pen_width = 14.0
        self._current: list[Point] = []
        self._stroke_t0 = 0.0
        self._tablet_down = False
        self._pixmap = QPixmap()
        self._live_path = QPainterPath()
        self._boxes: list[tuple[QRectF, str]] = []  # overlay of per-digit boxes
        self._box_pad = 0.0
        self._image: QImage | None = None  # an opened image, shown instead of ink
        self._from_mouse = False
        self.hint = self.tr("Draw a digit")
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 220)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(self.tr("Drawing canvas"))

    # --- public API ---------------------------------------------------------------
    @property
    def ink(self) -> Ink:
        return self.history.current

    @property
    def pen_width(self) -> float:
        return self._pen_width

    def set_pen_width(self, width: float) -> None:
        self._pen_width = float(min(max(width, 2.0), 60.0))
        self._rerender()

    def undo(self) -> None:
        if self.history.undo():
            self._ink_changed()

    def redo(self) -> None:
        if self.history.redo():
            self._ink_changed()

    def clear(self) -> None:
        if self._image is not None:
            self.set_image(None)
        self.history.clear()
        self._ink_changed()

    def set_ink(self, ink: Ink) -> None:
        """Show a loaded drawing, scaled to fit; undoable like any edit."""
        if self._image is not None:
            self.set_image(None)
        self.history.replace(_fit_to(ink, self.width(), self.height(), 0.8))
        self._ink_changed()

    def set_boxes(self, boxes: list[tuple[QRectF, str]], *, image: bool = False) -> None:
        """Outline recognised characters with their labels: boxes in ink coordinates
        (widened by the pen), or in the shown image's pixels when ``image``."""
        if image:
            boxes = [(self._image_to_widget(r), label) for r, label in boxes]
        self._boxes = boxes
        self._box_pad = 0.0 if image else -1.0
        self.update()

    # --- an opened image ----------------------------------------------------------
    @property
    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        """Show an image (read-only) instead of ink; drawing a stroke hides it again."""
        self._image = image
        self._boxes = []
        self.imageChanged.emit()
        self.update()

    def _image_rect(self) -> QRectF:
        """Where the image is drawn: fitted into the canvas, centred, never enlarged
        beyond 4x (a tiny image stays legible without becoming a blur)."""
        if self._image is None or self._image.isNull():
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() * 0.95 / iw, self.height() * 0.95 / ih, 4.0)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _image_to_widget(self, r: QRectF) -> QRectF:
        target = self._image_rect()
        if self._image is None or target.isEmpty():
            return r
        s = target.width() / self._image.width()
        return QRectF(target.x() + r.x() * s, target.y() + r.y() * s, r.width() * s,
                      r.height() * s)

    # --- colours ------------------------------------------------------------------
    def paper_colour(self) -> QColor:
        """The canvas follows the palette: light paper in a light theme, dark in dark."""
        return self.palette().color(QPalette.ColorRole.Base)

    def ink_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._rerender()
        super().changeEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(420, 420)

    # --- input --------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet_down:
            self._from_mouse = True
            self._begin(event.position(), 1.0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton and self._current and \
                not self._tablet_down:
            self._extend(event.position(), 1.0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet_down:
            self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        # Accepting stops Qt from synthesising mouse events for the same motion.
        kind = event.type()
        pressure = float(event.pressure())
        if kind == QTabletEvent.Type.TabletPress:
            self._tablet_down = True
            self._from_mouse = False
            self._begin(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletMove and self._tablet_down:
            self._extend(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease and self._tablet_down:
            self._tablet_down = False
            self._end()
        event.accept()

    def _begin(self, pos: QPointF, pressure: float) -> None:
        if self._image is not None:
            self.set_image(None)
        self._stroke_t0 = time.monotonic()
        self._current = [Point(pos.x(), pos.y(), pressure, 0.0)]
        self._live_path = QPainterPath(pos)
        self.update(self._dirty_rect(pos, pos).toAlignedRect())

    def _extend(self, pos: QPointF, pressure: float) -> None:
        last = self._current[-1]
        if abs(pos.x() - last.x) + abs(pos.y() - last.y) < MIN_POINT_DISTANCE:
            return
        self._current.append(Point(pos.x(), pos.y(), pressure,
                                   time.monotonic() - self._stroke_t0))
        self._live_path.lineTo(pos)
        self.update(self._dirty_rect(QPointF(last.x, last.y), pos).toAlignedRect())
        self.strokeMoved.emit()

    def _end(self) -> None:
        if not self._current:
            return
        points = smooth_points(self._current) if self._from_mouse else self._current
        stroke = Stroke(tuple(points))
        self._current = []
        self._live_path = QPainterPath()
        self.history.add_stroke(stroke)
        self._paint_strokes(self._pixmap, [stroke])
        self.update()
        self.strokeAdded.emit()
        self.inkChanged.emit()

    def current_stroke_ink(self) -> Ink:
        """The finished ink plus the stroke being drawn (for live recognition)."""
        if len(self._current) < 2:
            return self.ink
        return self.ink.with_stroke(Stroke(tuple(self._current)))

    # --- painting -----------------------------------------------------------------
    def _dirty_rect(self, a: QPointF, b: QPointF) -> QRectF:
        r = self._pen_width + 2
        return QRectF(a, b).normalized().adjusted(-r, -r, r, r)

    def _pen(self, pressure: float) -> QPen:
        return QPen(self.ink_colour(), self._pen_width * pressure_factor(pressure),
                    Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)

    def _paint_strokes(self, pixmap: QPixmap, strokes: Iterable[Stroke]) -> None:
        if pixmap.isNull():
            return
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for stroke in strokes:
            paint_stroke(painter, stroke, QPointF, self._pen_width, self.ink_colour())
        painter.end()

    def _rerender(self) -> None:
        """Rebuild the stroke pixmap from the vectors, at the screen's pixel density."""
        dpr = self.devicePixelRatioF()
        size = self.size()
        pixmap = QPixmap(max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(self.paper_colour())
        self._pixmap = pixmap
        self._paint_strokes(pixmap, self.ink.strokes)
        self.update()

    def _ink_changed(self) -> None:
        self._boxes = []
        self._rerender()
        self.inkChanged.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._rerender()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self._image_rect(), self._image)
        if self._current:
            if len(self._current) == 1:
                painter.setPen(self._pen(self._current[0].pressure))
                painter.drawPoint(QPointF(self._current[0].x, self._current[0].y))
            else:
                painter.strokePath(self._live_path, self._pen(self._current[-1].pressure))
        if self.ink.is_empty and not self._current and self._image is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.hint)
        if self._boxes:
            box_pen = QPen(BOX_COLOUR, 1.5, Qt.PenStyle.DashLine)
            # Ink boxes hold centre lines, and the ink is wider; image boxes are exact.
            r = self._pen_width / 2 + 2 if self._box_pad < 0 else 2.0
            for rect, label in self._boxes:
                outer = rect.adjusted(-r, -r, r, r)
                painter.setPen(box_pen)
                painter.drawRect(outer)
                painter.drawText(outer.topLeft() + QPointF(3, -4), label)
        painter.end()


def _fit_to(ink: Ink, width: int, height: int, fill: float) -> Ink:
    """Scale and centre ink (arbitrary file units) into a width x height area."""
    if ink.is_empty or width <= 0 or height <= 0:
        return ink
    x0, y0, x1, y1 = ink.bounds()
    extent = max(x1 - x0, y1 - y0, 1e-9)
    scale = min(width, height) * fill / extent
    ox = width / 2 - (x0 + x1) / 2 * scale
    oy = height / 2 - (y0 + y1) / 2 * scale
    return Ink(tuple(Stroke(tuple(Point(p.x * scale + ox, p.y * scale + oy, p.pressure, p.t)
                                  for p in s.points)) for s in ink.strokes))
