"""App speed and memory: ``python benchmarks/bench_app.py [--quick] [--mode MODE]``.

``--mode digits|letters|all`` (default digits) reads with that mode's model and mask
(``hwr_qt.models``); ``--latency-only`` skips the cold starts and the memory run.

Prints medians (and ratios against a baseline measured in the same process):
- pen-up -> top-k latency (render + preprocess + inference) for a drawn digit;
- model-only inference; the naive seed-style pipeline (render at screen size, shrink) as
  the baseline;
- cold start of ``hwr-qt`` to a shown window with the model loaded, and its peak RSS;
- RSS growth over 10 000 recognitions.
Not a test: timings on shared machines are noisy, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.drawn_ink.conditions import CANVAS  # noqa: E402
from benchmarks.drawn_ink.naive import naive_input  # noqa: E402
from hwr_qt.classifier import MODES  # noqa: E402
from hwr_qt.ink import Ink, Point, Stroke, load_ink  # noqa: E402
from hwr_qt.models import ModelSet  # noqa: E402
from hwr_qt.pipeline import read_ink, read_number  # noqa: E402
from hwr_qt.raster import render_ink  # noqa: E402
from hwr_qt.resources import resource_path  # noqa: E402


def timeit(fn, repeat: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def on_screen(ink: Ink, size: float = CANVAS, fill: float = 0.8) -> Ink:
    """The ink scaled onto the seed's square canvas, as a user would have drawn it."""
    x0, y0, x1, y1 = ink.bounds()
    s = size * fill / max(x1 - x0, y1 - y0, 1e-9)
    off = size * (1 - fill) / 2
    return Ink(tuple(Stroke(tuple(Point((p.x - x0) * s + off, (p.y - y0) * s + off, p.pressure)
                                  for p in st.points)) for st in ink.strokes))


def side_by_side(parts: list[Ink], gap: float) -> Ink:
    """The inks left to right, ``gap`` units between neighbouring boxes."""
    strokes: list[Stroke] = []
    x = 0.0
    for part in parts:
        x0, _, x1, _ = part.bounds()
        strokes += [Stroke(tuple(Point(p.x - x0 + x, p.y) for p in s.points))
                    for s in part.strokes]
        x += x1 - x0 + gap
    return Ink(tuple(strokes))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cold_start(runs: int) -> tuple[list[float], list[float]]:
    """Wall time and peak RSS of `python -m hwr_qt --quit-after-show`, per run."""
    times, peaks = [], []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for i in range(runs):
        settings = f"/tmp/hwr-qt-bench-{os.getpid()}-{i}.ini"
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "hwr_qt", "--quit-after-show",
                                 "--settings", settings], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"hwr-qt --quit-after-show failed with status {status}")
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
        Path(settings).unlink(missing_ok=True)
    return times, peaks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--mode", choices=MODES, default="digits", help="reading mode")
    ap.add_argument("--latency-only", action="store_true",
                    help="only the reading latencies (no cold start, no memory run)")
    args = ap.parse_args()
    n = 300 if args.quick else 2000
    models = ModelSet()
    model = models.recognizer(args.mode)  # the mode's model, for model-only timings
    rec = models.classifier(args.mode)  # the same read in the mode (its label mask)
    path = models.path_model(args.mode)  # joins drawn ink's reading, as in the app
    print(f"mode {args.mode}: model {model.path.name} ({len(rec.info.labels)} labels), "
          f"path model {path.path.name if path else 'none'}")
    ink = load_ink(resource_path("samples/four.json"))
    x = render_ink(ink)

    ms = lambda v: statistics.median(v) * 1e3  # noqa: E731
    t_full = timeit(lambda: read_ink(rec, ink, 3, path_model=path), n)
    t_image = timeit(lambda: read_ink(rec, ink, 3), n)
    # What the GUI calls at pen-up: the number reader (grouping, then the same reading).
    t_gui = timeit(lambda: read_number(rec, ink, 3, path_model=path), n)
    t_gui_image = timeit(lambda: read_number(rec, ink, 3), n)
    t_model = timeit(lambda: model.probabilities(x), n)
    t_render = timeit(lambda: render_ink(ink), n)
    screen_ink = on_screen(ink)
    t_naive = timeit(lambda: model.probabilities(naive_input(screen_ink)), n)
    # A four-digit number: the sample digits side by side, read with segmentation; and
    # the same digits touching (boxes overlapping by 5 % of the height), which makes
    # the reader weigh stroke-wise partings and merges too.
    parts = [load_ink(resource_path(f"samples/{d}.json")) for d in ("four", "one", "seven",
                                                                      "zero")]
    strokes = []
    for i, part in enumerate(parts):
        x0 = part.bounds()[0]
        strokes += [Stroke(tuple(Point(p.x - x0 + 200 * i, p.y) for p in s.points))
                    for s in part.strokes]
    number = Ink(tuple(strokes))
    touching = side_by_side(parts, gap=-0.05 * 200)
    t_number = timeit(lambda: read_number(rec, number, 3, path_model=path), max(n // 4, 50))
    t_touching = timeit(lambda: read_number(rec, touching, 3, path_model=path),
                        max(n // 4, 50))
    print(f"pen-up -> top-k (render + preprocess + inference): median {ms(t_full):.3f} ms "
          f"(p90 {np.percentile(t_full, 90) * 1e3:.3f} ms, n={n})")
    print(f"  through read_number, as the GUI reads it:    median {ms(t_gui):.3f} ms "
          f"(image alone {ms(t_gui_image):.3f} ms)")
    print(f"  image alone (no path model):                 median {ms(t_image):.3f} ms "
          f"(with the path model {ms(t_full) / ms(t_image):.2f}x)")
    print(f"  render + centre only:                        median {ms(t_render):.3f} ms")
    print(f"  model-only inference (onnxruntime, 1 image): median {ms(t_model):.3f} ms")
    print(f"  baseline, naive seed-style pipeline:          median {ms(t_naive):.3f} ms "
          f"(ours is {ms(t_naive) / ms(t_full):.2f}x its speed)")
    print(f"pen-up -> 4-digit number (segment + read):      median {ms(t_number):.3f} ms "
          f"(read as {read_number(rec, number, path_model=path).text})")
    print(f"  the same digits touching:                     median {ms(t_touching):.3f} ms "
          f"(read as {read_number(rec, touching, path_model=path).text})")

    if args.latency_only:
        return
    runs = 5 if args.quick else 11
    times, peaks = cold_start(runs)
    print(f"cold start to shown window with model loaded: median {ms(times):.0f} ms "
          f"(min {min(times) * 1e3:.0f}, max {max(times) * 1e3:.0f}, n={runs}); "
          f"peak RSS median {statistics.median(peaks):.0f} MB (max {max(peaks):.0f} MB)")

    for _ in range(500):
        read_ink(rec, ink, 3, path_model=path)
    before = rss_mb()
    for _ in range(10_000):
        read_ink(rec, ink, 3, path_model=path)
    after = rss_mb()
    print(f"10 000 recognitions: RSS {before:.1f} -> {after:.1f} MB "
          f"(growth {after - before:+.2f} MB)")


if __name__ == "__main__":
    main()
