"""Drive the real canvas with synthesised mouse and tablet events."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication, QWidget

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton
NOMOD = Qt.KeyboardModifier.NoModifier


def _mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, button, buttons) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, NOMOD)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, points: list[tuple[float, float]]) -> None:
    """One stroke: press at the first point, move through the rest, release at the last."""
    pts = [QPointF(x, y) for x, y in points]
    _mouse(widget, QEvent.Type.MouseButtonPress, pts[0], LEFT, LEFT)
    for p in pts[1:]:
        _mouse(widget, QEvent.Type.MouseMove, p, NONE, LEFT)
    _mouse(widget, QEvent.Type.MouseButtonRelease, pts[-1], LEFT, NONE)


_STYLUS = None


def stylus() -> QPointingDevice:
    global _STYLUS
    if _STYLUS is None:
        caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
        _STYLUS = QPointingDevice("test stylus", 4242, QInputDevice.DeviceType.Stylus,
                                  QPointingDevice.PointerType.Pen, caps, 1, 3)
    return _STYLUS


def _tablet(widget, kind, pos: QPointF, pressure: float, button, buttons) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QTabletEvent(kind, stylus(), pos, global_pos, pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                         NOMOD, button, buttons)
    QApplication.sendEvent(widget, event)


def pen_drag(widget: QWidget, points: list[tuple[float, float, float]]) -> None:
    """A stylus stroke with per-point pressure."""
    pts = [(QPointF(x, y), p) for x, y, p in points]
    _tablet(widget, QEvent.Type.TabletPress, pts[0][0], pts[0][1], LEFT, LEFT)
    for pos, p in pts[1:]:
        _tablet(widget, QEvent.Type.TabletMove, pos, p, NONE, LEFT)
    _tablet(widget, QEvent.Type.TabletRelease, pts[-1][0], 0.0, LEFT, NONE)


def line(x0, y0, x1, y1, n: int = 30) -> list[tuple[float, float]]:
    return [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]


def ellipse(cx, cy, rx, ry, n: int = 60) -> list[tuple[float, float]]:
    # Start at the top and go round a bit more than once, as people close a "0".
    return [(cx + rx * math.sin(2 * math.pi * i / n * 1.05),
             cy - ry * math.cos(2 * math.pi * i / n * 1.05)) for i in range(n + 1)]
