"""Vector ink: strokes of points, undo/redo history and the JSON ink file format.

Pure Python (no Qt) so the model of a drawing can be tested and reused without a screen.
An ink file is ``{"strokes": [[[x, y] | [x, y, pressure], ...], ...]}``, y downward, any units.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import math
import os
import stat
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

# Limits that keep a hostile or broken file from exhausting memory or time.
MAX_POINTS = 1_000_000
MAX_COORD = 1e7
MAX_FILE_BYTES = 32 * 1024 * 1024  # 1 M points take ~25 MB; JSON parsing needs ~100x
MAX_UNDO_STEPS = 10_000  # each step is one small record; the cap bounds a day-long session
PROGRESS_EVERY = 20_000  # points between two progress reports while loading

# Called with the fraction done (0..1) while loading; returning False cancels.
Progress = Callable[[float], bool]


class InkError(ValueError):
    """Ink that cannot be used: the message is one line meant for the user."""


class LoadCancelled(InkError):
    """The user cancelled loading a (big) ink file."""

    def __init__(self) -> None:
        super().__init__("loading cancelled")


class Point(NamedTuple):
    """A named tuple rather than a dataclass: a tuple of floats drops out of the cyclic
    garbage collector's sight, so a drawing of a million points adds nothing to the
    (GUI-stalling) full collections."""

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
    def from_json(cls, data: object, progress: Progress | None = None) -> Ink:
        """Validate and build an Ink from parsed JSON, raising InkError on anything odd
        (LoadCancelled when ``progress`` returns False)."""
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
            if total + len(s) > MAX_POINTS:
                raise InkError(f"too many points (more than {MAX_POINTS:,})")
            pts: list[Point] = []
            for start in range(0, len(s), PROGRESS_EVERY):
                if progress is not None and not progress((total + start) / MAX_POINTS):
                    raise LoadCancelled()
                pts += [_parse_point(p, si, start + pi)
                        for pi, p in enumerate(s[start:start + PROGRESS_EVERY])]
            total += len(s)
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


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection meanwhile. Parsing a big file creates a million
    lists at once; each full collection that this triggers walks all of them while
    holding the GIL, which freezes the GUI thread too. Nothing parsed here forms cycles:
    reference counting frees it all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_ink(path: str | Path, progress: Progress | None = None) -> Ink:
    """Read an ink file, raising InkError with a one-line reason on any problem.

    ``progress(fraction)`` is called now and then (from the calling thread); returning
    False cancels with LoadCancelled.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise InkError(f"cannot read {path.name}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InkError(f"cannot read {path.name}: it is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InkError(f"cannot read {path.name}: not a regular file")
    size = st.st_size
    if size > MAX_FILE_BYTES:
        raise InkError(f"file too large ({size / 2**20:.0f} MB; limit "
                       f"{MAX_FILE_BYTES // 2**20} MB)")
    if size == 0:
        raise InkError("the file is empty")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InkError(f"cannot read {path.name}: {e.strerror or e}") from None
    return parse_ink(raw, progress)


def parse_ink(raw: bytes, progress: Progress | None = None) -> Ink:
    """An ink document's bytes (a file's, or standard input's) -> Ink, or InkError."""
    if len(raw) > MAX_FILE_BYTES:
        raise InkError(f"too large (over {MAX_FILE_BYTES // 2**20} MB)")
    if not raw.strip():
        raise InkError("the ink document is empty")
    try:
        with paused_gc():
            data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InkError("not an ink file: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InkError(f"not an ink file: invalid JSON ({e.msg}, line {e.lineno})") from None
    except RecursionError:  # e.g. "[[[[..." nested 100,000 deep
        raise InkError("not an ink file: JSON nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal over Python's 4300-digit limit
        raise InkError(f"not an ink file: invalid JSON ({str(e).split(':')[0]})") from None
    if progress is not None and not progress(0.0):
        raise LoadCancelled()
    with paused_gc():
        return Ink.from_json(data, progress)


def save_ink(ink: Ink, path: str | Path) -> None:
    """Write so that a failure at any step leaves the old file as it was and no stray
    temporary file: a unique temporary file next to the target, flushed to disk
    (fsync), then renamed over it in one atomic step.

    A symlink is written through (its target is replaced, the link stays); a read-only
    file or a folder is refused. Raises OSError with a plain ``strerror``.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))
    mode = None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        # Mode bits too: root may write anywhere, but a read-only file says "keep me".
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only", str(path))
        mode = stat.S_IMODE(st.st_mode)
    data = json.dumps(ink.to_json(), separators=(",", ":")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort, the data is already safe."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class InkHistory:
    """The editable drawing: the current Ink plus undo/redo stacks of *edits*.

    An edit is ``(stroke, None)`` for an added stroke or ``(None, ink)`` for a drawing
    replaced (clear, load) with the ink it replaced; strokes are immutable and shared, so
    memory grows with the drawing, not with the square of its length (a stack of whole
    states would hold a tuple of every stroke for every step). At most ``max_steps`` edits
    can be undone.
    """

    current: Ink = field(default_factory=Ink)
    max_steps: int = MAX_UNDO_STEPS
    _undo: deque[tuple[Stroke | None, Ink | None]] = field(default_factory=deque)
    _redo: list[tuple[Stroke | None, Ink | None]] = field(default_factory=list)

    def _push(self, edit: tuple[Stroke | None, Ink | None]) -> None:
        self._undo.append(edit)
        while len(self._undo) > self.max_steps:
            self._undo.popleft()
        self._redo.clear()

    def add_stroke(self, stroke: Stroke) -> None:
        self._push((stroke, None))
        self.current = self.current.with_stroke(stroke)

    def clear(self) -> None:
        """Clear the drawing; undoable, so clearing by accident loses nothing."""
        if not self.current.is_empty:
            self.replace(Ink())

    def replace(self, ink: Ink) -> None:
        """Load a whole drawing (e.g. from a file) as one undoable step."""
        self._push((None, self.current))
        self.current = ink

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _apply(self, edit: tuple[Stroke | None, Ink | None], forward: bool
               ) -> tuple[Stroke | None, Ink | None]:
        """Apply or revert ``edit``; returns the edit for the opposite stack."""
        stroke, ink = edit
        if stroke is not None:
            self.current = (self.current.with_stroke(stroke) if forward
                            else Ink(self.current.strokes[:-1]))
            return edit
        previous, self.current = self.current, ink if ink is not None else Ink()
        return (None, previous)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._apply(self._undo.pop(), forward=False))
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._apply(self._redo.pop(), forward=True))
        return True
