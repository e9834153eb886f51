"""Heavy drawing through the real window: ``python benchmarks/bench_heavy.py [--quick]``.

Prints:
- a 50,000-point stroke drawn with mouse events: time per move event (median, p99, max),
  first vs last 1,000 moves (flat when painting is O(1) per move);
- 300 strokes written one after another: pen-up -> answer shown (median, p99) and the
  longest GUI stall (the longest single event-loop step);
- 10,000 strokes: memory held by the undo history (tracemalloc), against a baseline
  history that stacks whole states (the previous implementation) in the same process;
- a 1M-point ink file opened from the File menu's code path: progress updates, longest
  GUI stall while it loads, time to done; a second open cancelled at ~30 %.
Not a test: timings on shared machines are noisy, so nothing here asserts. Copied into an
older checkout (with benchmarks/hostile.py) it measures that code the same way: what it
lacks (background reading, progress dialog) is skipped.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QPushButton  # noqa: E402

from benchmarks import hostile  # noqa: E402
from hwr_qt import pipeline  # noqa: E402
from hwr_qt.ink import Ink, InkHistory, Point, Stroke, load_ink  # noqa: E402
from hwr_qt.resources import default_model_path, resource_path  # noqa: E402
from hwr_qt.ui.main_window import MainWindow  # noqa: E402
from hwr_qt.ui.settings import Settings  # noqa: E402

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
MAX_READ_STROKES = getattr(pipeline, "MAX_READ_STROKES", 10**9)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def mouse(widget, kind: QEvent.Type, x: float, y: float, button, buttons) -> None:
    pos = QPointF(x, y)
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, pos, button, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def window() -> MainWindow:
    settings = Settings(str(Path(tempfile.mkdtemp(prefix="hwr-bench-")) / "s.ini"))
    w = MainWindow(settings, default_model_path())
    w.resize(1000, 700)
    w.show()
    QApplication.processEvents()
    return w


def wait_idle(w: MainWindow, stalls: list[float], timeout: float = 30.0) -> None:
    """Run the event loop until no reading, render or file open is under way, noting
    how long each step of the loop took (a step is how long the GUI cannot respond)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        t = time.perf_counter()
        QApplication.processEvents()
        stalls.append(time.perf_counter() - t)
        if not (getattr(w, "reading_pending", False) or getattr(w.canvas, "rendering", False)
                or getattr(w, "opening", False)):
            return
        time.sleep(0.0005)


def long_stroke(points: int) -> None:
    w = window()
    c = w.canvas
    cx, cy = c.width() / 2, c.height() / 2
    times: list[float] = []
    mouse(c, QEvent.Type.MouseButtonPress, cx, cy, LEFT, LEFT)
    for i in range(1, points):
        # A dense zigzag: every move adds a point (1 px apart, over the 0.75 px filter).
        x = cx + ((i % 200) - 100) * (1 if (i // 200) % 2 else -1)
        y = cy - 200 + (i % 20000) * 0.02
        t = time.perf_counter()
        mouse(c, QEvent.Type.MouseMove, x, y, NONE, LEFT)
        QApplication.processEvents()  # the paint of the dirty rectangle, live reading
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    mouse(c, QEvent.Type.MouseButtonRelease, x, y, LEFT, NONE)
    release = time.perf_counter() - t
    stalls: list[float] = []
    wait_idle(w, stalls)
    n = c.ink.point_count
    print(f"\n## one stroke of {n:,} points through the canvas (live recognition on)")
    print(f"   move event: median {ms(statistics.median(times))}, p99 "
          f"{ms(pct(times, 0.99))}, max {ms(max(times))}")
    print(f"   first 1,000 moves median {ms(statistics.median(times[:1000]))}, last 1,000 "
          f"{ms(statistics.median(times[-1000:]))}")
    print(f"   pen-up event {ms(release)}; answer: {w.answer.detail.text()!r}")
    w.close()


def tiled_strokes(count: int, width: float, height: float) -> list[list[tuple[float, float]]]:
    """Digits from the bundled samples written in rows across the canvas."""
    samples = [load_ink(resource_path(f"samples/{n}.json")) for n in
               ("four", "one", "seven", "zero")]
    out: list[list[tuple[float, float]]] = []
    i = 0
    per_row = int((width - 40) // 42)
    while len(out) < count:
        d = samples[i % 4]
        x0, y0, x1, y1 = d.bounds()
        s = 36 / max(x1 - x0, y1 - y0)
        ox, oy = 20 + (i % per_row) * 42, 20 + (i // per_row) * 52 % (height - 60)
        for st in d.strokes:
            out.append([((p.x - x0) * s + ox, (p.y - y0) * s + oy) for p in st.points])
        i += 1
    return out[:count]


def many_strokes(count: int) -> None:
    w = window()
    c = w.canvas
    answer: list[float] = []
    stalls: list[float] = []
    for pts in tiled_strokes(count, c.width(), c.height()):
        mouse(c, QEvent.Type.MouseButtonPress, *pts[0], LEFT, LEFT)
        for x, y in pts[1:]:
            mouse(c, QEvent.Type.MouseMove, x, y, NONE, LEFT)
        QApplication.processEvents()
        t = time.perf_counter()
        mouse(c, QEvent.Type.MouseButtonRelease, *pts[-1], LEFT, NONE)
        stalls.append(time.perf_counter() - t)
        wait_idle(w, stalls)
        answer.append(time.perf_counter() - t)
    read, limited = answer[:MAX_READ_STROKES], answer[MAX_READ_STROKES:]
    print(f"\n## {count} strokes, written one after another (live recognition on)")
    print(f"   pen-up -> answer, all: median {ms(statistics.median(answer))}, p99 "
          f"{ms(pct(answer, 0.99))}, max {ms(max(answer))}")
    print(f"   strokes 1-{MAX_READ_STROKES} (read as a number): median "
          f"{ms(statistics.median(read))}, p99 {ms(pct(read, 0.99))}")
    if limited:
        print(f"   strokes {MAX_READ_STROKES + 1}-{count} (past the read limit, message): "
              f"median {ms(statistics.median(limited))}, p99 {ms(pct(limited, 0.99))}")
    print(f"   longest GUI stall {ms(max(stalls))}; last answer: "
          f"{w.answer.detail.text().splitlines()[0]!r}")
    w.close()


class StateStackHistory:
    """The previous history: undo/redo stacks of whole Ink states (the baseline)."""

    def __init__(self) -> None:
        self.current, self._undo = Ink(), []

    def add_stroke(self, stroke: Stroke) -> None:
        self._undo.append(self.current)
        self.current = self.current.with_stroke(stroke)


def history_memory(count: int) -> None:
    strokes = [Stroke(tuple(Point(i + j, j) for j in range(20))) for i in range(count)]
    print(f"\n## undo history after {count:,} strokes (20 points each; the strokes "
          "themselves not counted)")
    for name, make in (("InkHistory of this checkout", InkHistory),
                       ("baseline: stack of whole states", StateStackHistory)):
        tracemalloc.start()
        h = make()
        t = time.perf_counter()
        for s in strokes:
            h.add_stroke(s)
        elapsed = time.perf_counter() - t
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        print(f"   {name}: {size / 2**20:.1f} MB, {elapsed:.2f} s to add them")
        del h


def big_file(points: int) -> None:
    w = window()
    c = w.canvas
    mouse(c, QEvent.Type.MouseButtonPress, 100, 100, LEFT, LEFT)
    mouse(c, QEvent.Type.MouseMove, 100, 200, NONE, LEFT)
    mouse(c, QEvent.Type.MouseButtonRelease, 100, 200, LEFT, NONE)
    before = c.ink
    with tempfile.TemporaryDirectory() as d:
        path = hostile.big_ink(Path(d) / "big.json", points=points)
        print(f"\n## opening a {points:,}-point ink file ({path.stat().st_size / 2**20:.0f} MB)")
        updates: list[float] = []
        if not hasattr(w, "_loader"):
            print("   (this checkout opens files in the GUI thread: no progress, no cancel)")
        else:
            w._loader.progress.connect(lambda _t, f: updates.append(f))
        stalls: list[float] = []
        t = time.perf_counter()
        w.open_ink_file(path)
        stalls.append(time.perf_counter() - t)
        dialog = getattr(w, "_progress", None)
        shown = dialog is not None and dialog.isVisible()
        wait_idle(w, stalls, timeout=300)
        done = time.perf_counter() - t
        print(f"   progress dialog shown: {shown}; {len(updates)} progress updates; opened "
              f"in {done:.1f} s; longest GUI stall {ms(max(stalls))}; "
              f"{c.ink.point_count:,} points shown")
        c.undo()
        if not updates:
            print(f"   peak RSS of this process so far "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            return
        updates.clear()
        stalls.clear()
        t = time.perf_counter()
        w.open_ink_file(path)
        while not updates or updates[-1] < 0.3:
            s = time.perf_counter()
            QApplication.processEvents()
            stalls.append(time.perf_counter() - s)
            time.sleep(0.001)
        button = w._progress.findChild(QPushButton) if w._progress else None
        at = updates[-1]
        s = time.perf_counter()
        if button is not None:
            button.click()
        gone = time.perf_counter() - s
        wait_idle(w, stalls, timeout=60)
        print(f"   cancelled at {at:.0%} after {time.perf_counter() - t:.1f} s: dialog gone in "
              f"{ms(gone)}; drawing unchanged: {c.ink is before}; longest GUI stall "
              f"{ms(max(stalls))}")
    print(f"   peak RSS of this process so far "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", choices=["stroke", "strokes", "history", "file"])
    ap.add_argument("--stroke-points", type=int, help="default 50,000 (5,000 with --quick)")
    ap.add_argument("--strokes", type=int, help="default 300 (60 with --quick)")
    ap.add_argument("--file-points", type=int, help="default 1,000,000 (100,000 --quick)")
    args = ap.parse_args()
    QApplication.instance() or QApplication([])
    q = args.quick
    if args.only in (None, "stroke"):
        long_stroke(args.stroke_points or (5_000 if q else 50_000))
    if args.only in (None, "strokes"):
        many_strokes(args.strokes or (60 if q else 300))
    if args.only in (None, "history"):
        history_memory(1_000 if q else 10_000)
    if args.only in (None, "file"):
        big_file(args.file_points or (100_000 if q else 1_000_000))


if __name__ == "__main__":
    main()
