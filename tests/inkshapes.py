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


def polyline(*corners: tuple[float, float], n: int = 20) -> Stroke:
    """One stroke through the corners, ``n`` points per straight segment."""
    points = [corners[0]]
    for a, b in zip(corners, corners[1:], strict=False):
        points += _line(*a, *b, n)[1:]
    return Stroke(tuple(Point(x, y) for x, y in points))


# An open "4" written in two strokes with a gap: the L stops short of the stem.
OPEN_FOUR = [polyline((14, 0), (4, 62), (40, 62)), polyline((50, 8), (50, 100))]
# A "4" in three strokes, none touching: down-stroke, crossbar, stem.
THREE_STROKE_FOUR = [polyline((6, 0), (4, 60)), polyline((14, 62), (46, 62)),
                     polyline((56, 5), (56, 100))]


def moved(strokes: list[Stroke], dx: float) -> list[Stroke]:
    return [Stroke(tuple(Point(p.x + dx, p.y, p.pressure) for p in s.points)) for s in strokes]
