"""The drawing canvas: mouse and tablet input, smooth strokes, vector ink underneath.

Like Qt's Scribble/Tablet examples the widget owns a pixmap of finished strokes and its
pens; unlike them, the truth is the vector ``InkHistory``: the pixmap is only a cache,
re-rendered from vectors on resize, undo and redo, so nothing is lost to rasterisation.

Drawing costs the same per move however long the stroke: each new segment is painted
into the pixmap (Scribble's way); at pen-up the stroke is painted once more as one path
over the pixmap saved at pen-down, so the cache matches a re-render exactly. A drawing
too big to re-render within a frame (e.g. a loaded 1M-point file) is re-rendered in the
background while the previous pixmap, scaled, stands in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from hwr_qt.ink import Ink, InkHistory, LoadCancelled, Point, Stroke
from hwr_qt.raster import paint_stroke, pressure_factor
from hwr_qt.ui.background import LatestOnly

# The canvas draws with its palette (Text on Base: dark ink on light paper in a light
# theme, the reverse in a dark one); these are the light theme's, for exports.
INK_COLOUR = QColor(20, 20, 30)
PAPER_COLOUR = QColor(255, 255, 255)
BOX_COLOUR = QColor(40, 120, 220)
MIN_POINT_DISTANCE = 0.75  # logical px; denser samples add nothing but cost
# Mouse positions come in whole pixels, so a slow stroke is a staircase. A light 1-2-1
# average (ends kept) removes the steps; no point moves by more than MAX_SHIFT, so the
# shape, a sharp corner, a quick zigzag, is kept and the model input barely changes
# (tests/test_desktop.py measures both).
SMOOTHING_PASSES = 2
MAX_SHIFT = 1.0  # logical px: a staircase step, not a feature of the writing
BACKGROUND_RENDER_POINTS = 50_000  # above this a re-render may take longer than a frame
RENDER_CHUNK = 20_000  # points per path when rendering big strokes (progress, cancel)
REPAINT_POINTS = 5_000  # longer strokes keep their live pixels at pen-up (no stall)


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
    """Draw characters here. Emits ``strokeAdded`` on pen-up, ``strokeMoved`` while drawing."""

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
        self._before_stroke = QPixmap()  # the pixmap at pen-down, to paint the stroke over
        self._renderer = LatestOnly("hwr-qt render", self)
        self._renderer.finished.connect(self._on_rendered)
        self._rendering: tuple[Stroke, ...] = ()  # what the background render is drawing
        self._boxes: list[tuple[QRectF, str]] = []  # overlay of per-digit boxes
        self._box_pad = -1.0  # < 0: ink boxes, widened by the pen; else image boxes
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
            self._hide_image()
            self._ink_changed()

    def redo(self) -> None:
        if self.history.redo():
            self._hide_image()
            self._ink_changed()

    def _hide_image(self) -> None:
        """Ink is back (undo of the clear that came with opening an image): show it."""
        if self._image is not None and not self.ink.is_empty:
            self.set_image(None)

    def clear(self) -> None:
        if self._image is not None:
            self.set_image(None)
        self.history.clear()
        self._ink_changed()

    def set_ink(self, ink: Ink, *, fitted: bool = False, image: QImage | None = None) -> None:
        """Show a loaded drawing, scaled to fit (unless ``fitted`` already, e.g. by
        ``fit_to_canvas`` in a background thread, which may also have rendered ``image``);
        undoable like any edit."""
        if self._image is not None:
            self.set_image(None)
        self.history.replace(ink if fitted else fit_to_canvas(ink, self.width(), self.height()))
        if image is not None and image.size() == self.pixel_size():
            self._boxes = []
            self._renderer.cancel()
            self._pixmap = QPixmap.fromImage(image)
            self._pixmap.setDevicePixelRatio(self.devicePixelRatioF())
            self.update()
            self.inkChanged.emit()
            return
        self._ink_changed()

    @property
    def rendering(self) -> bool:
        """A background re-render of a big drawing is under way."""
        return self._renderer.busy

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
        self._before_stroke = QPixmap(self._pixmap)  # shared until painted: one copy
        self._paint_strokes(self._pixmap, [Stroke((self._current[0],))])
        self.update(self._dirty_rect(pos, pos).toAlignedRect())

    def _extend(self, pos: QPointF, pressure: float) -> None:
        last = self._current[-1]
        if abs(pos.x() - last.x) + abs(pos.y() - last.y) < MIN_POINT_DISTANCE:
            return
        point = Point(pos.x(), pos.y(), pressure, time.monotonic() - self._stroke_t0)
        self._current.append(point)
        self._paint_segment(last, point)
        self.update(self._dirty_rect(QPointF(last.x, last.y), pos).toAlignedRect())
        self.strokeMoved.emit()

    def _paint_segment(self, a: Point, b: Point) -> None:
        """The newest piece of the live stroke, into the cache: O(1) per move."""
        if self._pixmap.isNull():
            return
        painter = QPainter(self._pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen((a.pressure + b.pressure) / 2))
        painter.drawLine(QPointF(a.x, a.y), QPointF(b.x, b.y))
        painter.end()

    def _end(self) -> None:
        if not self._current:
            return
        points = smooth_points(self._current) if self._from_mouse else self._current
        stroke = Stroke(tuple(points))
        self._current = []
        self.history.add_stroke(stroke)
        if not self._before_stroke.isNull() and len(stroke.points) <= REPAINT_POINTS:
            # Segment by segment, the joints of a live stroke are painted twice; paint it
            # again as one path over the pixmap from before, as a re-render would.
            self._pixmap = self._before_stroke
            self._paint_strokes(self._pixmap, [stroke])
        self._before_stroke = QPixmap()
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

    def pixel_size(self) -> QSize:
        dpr = self.devicePixelRatioF()
        return QSize(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))

    def _rerender(self) -> None:
        """Rebuild the stroke pixmap from the vectors, at the screen's pixel density."""
        dpr = self.devicePixelRatioF()
        size = self.pixel_size()
        pixmap = QPixmap(size)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(self.paper_colour())
        strokes = self.ink.strokes
        if sum(len(s.points) for s in strokes) > BACKGROUND_RENDER_POINTS:
            # Too slow for the GUI thread: the old pixmap, scaled, stands in meanwhile.
            if not self._pixmap.isNull():
                painter = QPainter(pixmap)
                painter.drawPixmap(QRectF(0, 0, self.width(), self.height()), self._pixmap,
                                   QRectF(self._pixmap.rect()))
                painter.end()
            self._rendering = strokes
            width, colour, paper = self._pen_width, self.ink_colour(), self.paper_colour()
            self._renderer.submit(lambda report: render_image(strokes, size, dpr, width,
                                                              colour, report, paper))
        else:
            self._renderer.cancel()
            self._paint_strokes(pixmap, strokes)
        self._pixmap = pixmap
        if self._current:  # a stroke in progress survives a resize, undo or clear
            self._before_stroke = QPixmap(self._pixmap)
            self._paint_strokes(self._pixmap, [Stroke(tuple(self._current))])
        self.update()

    def _on_rendered(self, token: int, image: object, error: object) -> None:
        if not self._renderer.is_current(token) or not isinstance(image, QImage):
            return
        done = self._rendering
        now = self.ink.strokes
        if image.size() != self.pixel_size() or now[:len(done)] != done:
            self._rerender()  # the drawing changed meanwhile beyond new strokes
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self._paint_strokes(pixmap, now[len(done):])  # drawn while it rendered
        self._pixmap = pixmap
        if self._current:
            self._before_stroke = QPixmap(pixmap)
            self._paint_strokes(self._pixmap, [Stroke(tuple(self._current))])
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
        # Only the exposed part: a move event repaints a few pixels, not the whole canvas.
        exposed = QRectF(event.rect())
        dpr = self._pixmap.devicePixelRatio()
        painter.drawPixmap(exposed, self._pixmap,
                           QRectF(exposed.x() * dpr, exposed.y() * dpr,
                                  exposed.width() * dpr, exposed.height() * dpr))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self._image_rect(), self._image)
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


def fit_to_canvas(ink: Ink, width: int, height: int, fill: float = 0.8,
                  report: Callable[[float], bool] | None = None) -> Ink:
    """Scale and centre ink (arbitrary file units) into a width x height area.
    ``report(fraction)`` returning False cancels (LoadCancelled)."""
    if ink.is_empty or width <= 0 or height <= 0:
        return ink
    x0, y0, x1, y1 = ink.bounds()
    extent = max(x1 - x0, y1 - y0, 1e-9)
    scale = min(width, height) * fill / extent
    ox = width / 2 - (x0 + x1) / 2 * scale
    oy = height / 2 - (y0 + y1) / 2 * scale
    total, done = max(ink.point_count, 1), 0
    strokes = []
    for s in ink.strokes:
        pts: list[Point] = []
        for i in range(0, len(s.points), RENDER_CHUNK):
            if report is not None and not report(done / total):
                raise LoadCancelled()
            pts += [Point(p.x * scale + ox, p.y * scale + oy, p.pressure, p.t)
                    for p in s.points[i:i + RENDER_CHUNK]]
            done += min(RENDER_CHUNK, len(s.points) - i)
        strokes.append(Stroke(tuple(pts)))
    return Ink(tuple(strokes))


def render_image(strokes: Sequence[Stroke], size: QSize, dpr: float, pen_width: float,
                 colour: QColor, report: Callable[[float], bool] | None = None,
                 paper: QColor = PAPER_COLOUR) -> QImage:
    """The canvas pixmap's content as a QImage, safe to make outside the GUI thread.

    Long strokes are painted in pieces of ``RENDER_CHUNK`` points so that ``report``
    can show progress and cancel (LoadCancelled) between pieces.
    """
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(paper)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        total, done = max(sum(len(s.points) for s in strokes), 1), 0
        for stroke in strokes:
            pts = stroke.points
            for i in range(0, max(len(pts) - 1, 1), RENDER_CHUNK):
                if report is not None and not report(done / total):
                    raise LoadCancelled()
                piece = Stroke(pts[i:i + RENDER_CHUNK + 1])  # overlapping by one point
                paint_stroke(painter, piece, QPointF, pen_width, colour)
                done += len(piece.points) - 1
    finally:
        painter.end()
    return image
