"""Vector ink: strokes of points, undo/redo history and the JSON ink file format.

Pure Python (no Qt) so the model of a drawing can be tested and reused without a screen.
An ink file is ``{"strokes": [[[x, y] | [x, y, pressure], ...], ...]}``, y downward, any units.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Limits that keep a hostile or broken file from exhausting memory or time.
MAX_POINTS = 1_000_000
MAX_COORD = 1e7
MAX_FILE_BYTES = 32 * 1024 * 1024  # 1 M points take ~25 MB; JSON parsing needs ~100x


class InkError(ValueError):
    """Ink that cannot be used: the message is one line meant for the user."""


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    pressure: float = 1.0
    t: float = 0.0  # seconds since the stroke began; informational


@dataclass(frozen=True, slots=True)
class Stroke:
    points: tuple[Point, ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) of the stroke's points."""
        xs = [p.x for p in self.points]
        ys = [p.y for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True, slots=True)
class Ink:
    """An immutable drawing. Editing returns a new Ink, which makes undo trivial."""

    strokes: tuple[Stroke, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.strokes

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.strokes)

    def bounds(self) -> tuple[float, float, float, float]:
        if self.is_empty:
            raise InkError("the drawing is empty")
        b = [s.bounds() for s in self.strokes]
        return (min(v[0] for v in b), min(v[1] for v in b),
                max(v[2] for v in b), max(v[3] for v in b))

    def with_stroke(self, stroke: Stroke) -> Ink:
        return Ink(self.strokes + (stroke,))

    def subset(self, indices: Iterable[int]) -> Ink:
        return Ink(tuple(self.strokes[i] for i in indices))

    # --- serialisation -------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        # Unrounded: the format is "any units", and rounding to a fixed number of decimals
        # would collapse a drawing made in small units (e.g. 1e-4) onto a single point.
        def pt(p: Point) -> list[float]:
            return [p.x, p.y] + ([] if p.pressure == 1.0 else [p.pressure])
        return {"strokes": [[pt(p) for p in s.points] for s in self.strokes]}

    @classmethod
    def from_json(cls, data: object) -> Ink:
        """Validate and build an Ink from parsed JSON, raising InkError on anything odd."""
        if not isinstance(data, dict) or "strokes" not in data:
            raise InkError('not an ink file: expected a JSON object with a "strokes" list')
        raw = data["strokes"]
        if not isinstance(raw, list):
            raise InkError('"strokes" must be a list of strokes')
        strokes: list[Stroke] = []
        total = 0
        for si, s in enumerate(raw):
            if not isinstance(s, list):
                raise InkError(f"stroke {si} is not a list of points")
            total += len(s)
            if total > MAX_POINTS:
                raise InkError(f"too many points (more than {MAX_POINTS:,})")
            pts = [_parse_point(p, si, pi) for pi, p in enumerate(s)]
            if pts:
                strokes.append(Stroke(tuple(pts)))
        if not strokes:
            raise InkError("the ink file holds no points")
        return cls(tuple(strokes))

    @classmethod
    def from_points(cls, strokes: Sequence[Sequence[Sequence[float]]]) -> Ink:
        """Build from plain nested lists ``[[[x, y(, p)], ...], ...]`` (validated)."""
        return cls.from_json({"strokes": [[list(p) for p in s] for s in strokes]})


def _parse_point(p: object, si: int, pi: int) -> Point:
    where = f"stroke {si}, point {pi}"
    if not isinstance(p, list | tuple) or len(p) not in (2, 3):
        raise InkError(f"{where}: a point must be [x, y] or [x, y, pressure]")
    vals: list[float] = []
    for v in p:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InkError(f"{where}: coordinates must be numbers")
        try:
            f = float(v)
        except OverflowError:  # a JSON integer too big for a float, e.g. 400 digits
            raise InkError(f"{where}: coordinate beyond ±{MAX_COORD:g}") from None
        if not math.isfinite(f):
            raise InkError(f"{where}: coordinate is NaN or infinite")
        vals.append(f)
    x, y = vals[0], vals[1]
    if abs(x) > MAX_COORD or abs(y) > MAX_COORD:
        raise InkError(f"{where}: coordinate beyond ±{MAX_COORD:g}")
    pressure = vals[2] if len(vals) == 3 else 1.0
    if not 0.0 <= pressure <= 1.0:
        raise InkError(f"{where}: pressure must be between 0 and 1")
    return Point(x, y, pressure)


def load_ink(path: str | Path) -> Ink:
    """Read an ink file, raising InkError with a one-line reason on any problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InkError(f"cannot read {path.name}: {e.strerror or e}") from None
    if size > MAX_FILE_BYTES:
        raise InkError(f"file too large ({size / 2**20:.0f} MB; limit "
                       f"{MAX_FILE_BYTES // 2**20} MB)")
    if size == 0:
        raise InkError("the file is empty")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InkError(f"cannot read {path.name}: {e.strerror or e}") from None
    return parse_ink(raw)


def parse_ink(raw: bytes) -> Ink:
    """An ink document's bytes (a file's, or standard input's) -> Ink, or InkError."""
    if len(raw) > MAX_FILE_BYTES:
        raise InkError(f"too large (over {MAX_FILE_BYTES // 2**20} MB)")
    if not raw.strip():
        raise InkError("the ink document is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InkError("not an ink file: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InkError(f"not an ink file: invalid JSON ({e.msg}, line {e.lineno})") from None
    except RecursionError:  # e.g. "[[[[..." nested 100,000 deep
        raise InkError("not an ink file: JSON nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal over Python's 4300-digit limit
        raise InkError(f"not an ink file: invalid JSON ({str(e).split(':')[0]})") from None
    return Ink.from_json(data)


def save_ink(ink: Ink, path: str | Path) -> None:
    """Write atomically: a failed save never truncates an existing file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(ink.to_json(), separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)


@dataclass
class InkHistory:
    """The editable drawing: current Ink plus undo/redo stacks of whole states.

    States share their immutable strokes, so each step costs one small tuple.
    """

    current: Ink = field(default_factory=Ink)
    _undo: list[Ink] = field(default_factory=list)
    _redo: list[Ink] = field(default_factory=list)

    def _push(self, new: Ink) -> None:
        self._undo.append(self.current)
        self._redo.clear()
        self.current = new

    def add_stroke(self, stroke: Stroke) -> None:
        self._push(self.current.with_stroke(stroke))

    def clear(self) -> None:
        """Clear the drawing; undoable, so clearing by accident loses nothing."""
        if not self.current.is_empty:
            self._push(Ink())

    def replace(self, ink: Ink) -> None:
        """Load a whole drawing (e.g. from a file) as one undoable step."""
        self._push(ink)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.current)
        self.current = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.current)
        self.current = self._redo.pop()
        return True
