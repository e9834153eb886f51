"""Hand-made digit ink for tests: strokes in a 100-unit-high box, composable into numbers."""

from __future__ import annotations

import math

from hwr_qt.ink import Ink, Point, Stroke

Poly = list[tuple[float, float]]


def _line(x0: float, y0: float, x1: float, y1: float, n: int = 20) -> Poly:
    return [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> Poly:
    """Angles in degrees, 0 = up, clockwise (screen coordinates)."""
    return [(cx + rx * math.sin(math.radians(a0 + (a1 - a0) * i / n)),
             cy - ry * math.cos(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


DIGITS: dict[str, list[Poly]] = {
    "0": [_arc(30, 50, 28, 48, 0, 370)],
    "1": [_line(32, 0, 28, 100)],
    "2": [_arc(30, 28, 26, 26, -70, 120) + _line(52, 40, 4, 100)[1:] + _line(4, 100, 60, 100)],
    "4": [_line(40, 0, 2, 65) + _line(2, 65, 60, 65)[1:], _line(45, 20, 45, 100)],
    "7": [_line(0, 2, 58, 2) + _line(58, 2, 20, 100)[1:]],
}


def digit(label: str, x: float = 0.0, y: float = 0.0, scale: float = 1.0) -> list[Stroke]:
    return [Stroke(tuple(Point(x + px * scale, y + py * scale) for px, py in poly))
            for poly in DIGITS[label]]


def number(text: str, gap: float = 25.0, scale: float = 1.0) -> Ink:
    """Digits left to right, ``gap`` units apart (each digit ~60 wide, 100 high)."""
    strokes: list[Stroke] = []
    x = 0.0
    for ch in text:
        strokes += digit(ch, x, 0.0, scale)
        xs = [p.x for p in strokes[-1].points] + [p.x for s in digit(ch, x) for p in s.points]
        x = max(xs) + gap * scale
    return Ink(tuple(strokes))


def joined(text: str, gap: float = 15.0) -> Ink:
    """The number drawn without lifting the pen: all strokes joined into one."""
    points = [p for s in number(text, gap).strokes for p in s.points]
    return Ink((Stroke(tuple(points)),))
