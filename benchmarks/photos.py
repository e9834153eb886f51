"""Photo-like images of real pen digits: ``python -m benchmarks.photos [--split test]``.

Digits written by real people on tablets (``training.pen``, $HWR_PEN_DIR) are drawn as
ink on paper and "photographed": paper tint, ink colour (black, blue, pencil grey),
uneven light (a gradient in any direction, a vignette, sometimes a hard shadow along an
edge), sensor grain, blur, JPEG quality 30-95 and digit heights 24-320 px. Four digits of
one writer are also written side by side as a number (uneven gaps, size and baseline
jitter, sometimes touching). Each image is read through the app's image path
(``imagefile.image_ink`` -> ``pipeline.read_image_ink``); the same ink read through the
drawing path (``pipeline.read_number``) is printed beside it.

``--split val`` is for tuning; ``--split test`` (writers never used for training or for
tuning anything here) is the figure to report. Everything is seeded: the same arguments
print the same table. ``--save DIR`` writes the first images, and every one misread
(``fail-...-LABEL-read-TEXT.jpg``), to look at.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402

from benchmarks import pathmodel  # noqa: E402
from hwr_qt import pipeline  # noqa: E402
from hwr_qt.imagefile import image_ink  # noqa: E402
from hwr_qt.ink import Ink, Point, Stroke  # noqa: E402
from hwr_qt.preprocess import EmptyInputError  # noqa: E402
from hwr_qt.raster import paint_stroke  # noqa: E402
from hwr_qt.recognizer import Recognizer  # noqa: E402
from hwr_qt.resources import default_model_path  # noqa: E402
from training.pen import DIGIT_FILES, PenSample, load_pen  # noqa: E402

DIGITS = "0123456789"


@dataclass(frozen=True)
class Photo:
    """How one image is made (all drawn from the seeded generator)."""

    height: float  # digit height, px
    pen: float  # pen width, fraction of the height
    paper: tuple[int, int, int]
    ink: tuple[int, int, int]
    light_lo: float  # darkest point of the light gradient, multiplier
    light_angle: float
    shadow: float  # multiplier inside a shadow band along one edge (1 = none)
    shadow_edge: int
    noise: float  # grain, standard deviation in 0..1 units
    blur: float  # Gaussian sigma, px
    jpeg: int  # quality


def random_photo(rng: np.random.Generator) -> Photo:
    paper = np.array([250, 248, 240]) - rng.uniform(0, 40) * np.array([0.6, 0.8, 1.4])
    inks = [(25, 25, 30), (25, 45, 130), (85, 85, 90), (60, 40, 40)]
    return Photo(
        height=float(np.exp(rng.uniform(np.log(24), np.log(320)))),
        pen=float(rng.uniform(0.05, 0.13)),
        paper=tuple(int(v) for v in paper),  # type: ignore[arg-type]
        ink=inks[int(rng.integers(len(inks)))],
        light_lo=float(rng.uniform(0.45, 1.0)),
        light_angle=float(rng.uniform(0, 2 * np.pi)),
        shadow=float(rng.uniform(0.45, 0.8)) if rng.random() < 0.3 else 1.0,
        shadow_edge=int(rng.integers(4)),
        noise=float(rng.uniform(0.0, 0.05)),
        blur=float(rng.uniform(0.0, 1.5)),
        jpeg=int(rng.integers(30, 96)),
    )


def _fit(ink: Ink, height: float) -> list[list[tuple[float, float]]]:
    x0, y0, x1, y1 = ink.bounds()
    s = height / max(y1 - y0, 0.4 * (x1 - x0), 1e-9)
    return [[((p.x - x0) * s, (p.y - y0) * s) for p in st.points] for st in ink.strokes]


def _gap(layout: str, rng: np.random.Generator) -> float:
    """Space between two digits, as a fraction of the writing height. "drawn": the
    drawn-ink benchmark's numbers (benchmarks/drawn_ink/numbers.py: mostly 5-15 %,
    sometimes 15-50 %); "tight": a quarter of the gaps 0-12 %, so that with a thick pen
    neighbours often touch, the rest 12-40 %."""
    if layout == "tight":
        return rng.uniform(0.0, 0.12) if rng.random() < 0.25 else rng.uniform(0.12, 0.4)
    return rng.uniform(0.05, 0.15) if rng.random() < 0.7 else rng.uniform(0.15, 0.5)


def compose_number(digits: list[Ink], rng: np.random.Generator, layout: str = "drawn",
                   pen: float = 0.0) -> Ink:
    """Digits side by side, as one writes a number: one height (+-15 %), gaps per
    ``_gap``, the baseline wandering a little. ``pen`` (a fraction of the height) is
    added to each "drawn" gap, so that the gap is white paper between the inked
    strokes, as the eye measures it; "tight" gaps are between the pen's centre lines."""
    strokes, x = [], 0.0
    for i, d in enumerate(digits):
        h = 100.0 * rng.uniform(0.85, 1.15)
        pts = _fit(d, h)
        w = max(p[0] for s in pts for p in s)
        if i:
            x += 100.0 * (_gap(layout, rng) + (pen if layout == "drawn" else 0.0))
        dy = rng.normal(0.0, 4.0) + (100.0 - h) / 2
        strokes += [Stroke(tuple(Point(px + x, py + dy) for px, py in s)) for s in pts]
        x += w
    return Ink(tuple(strokes))


def _gauss_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return img
    r = max(1, int(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    out = np.apply_along_axis(lambda v: np.convolve(np.pad(v, r, mode="edge"), k, "valid"),
                              0, img)
    return np.apply_along_axis(lambda v: np.convolve(np.pad(v, r, mode="edge"), k, "valid"),
                               1, out)


def photograph(ink: Ink, look: Photo, rng: np.random.Generator) -> QImage:
    """Ink drawn on paper and photographed (see the module docstring)."""
    strokes = _fit(ink, look.height)
    w = max(p[0] for s in strokes for p in s)
    pen = max(1.2, look.pen * look.height)
    mx = look.height * rng.uniform(0.25, 0.8) + pen
    my = look.height * rng.uniform(0.25, 0.8) + pen
    width, height = int(w + 2 * mx), int(look.height + 2 * my)
    canvas = QImage(width, height, QImage.Format.Format_RGB32)
    canvas.fill(QColor(255, 255, 255))
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for s in strokes:
        stroke = Stroke(tuple(Point(x + mx, y + my) for x, y in s))
        paint_stroke(painter, stroke, QPointF, pen, QColor(0, 0, 0))
    painter.end()
    buf = np.frombuffer(canvas.constBits(), np.uint8,
                        count=canvas.bytesPerLine() * height).reshape(height, -1)
    coverage = 1.0 - buf[:, : width * 4].reshape(height, width, 4)[..., 0] / 255.0
    rgb = (np.array(look.paper, np.float64)[None, None] * (1 - coverage[..., None])
           + np.array(look.ink, np.float64)[None, None] * coverage[..., None]) / 255.0
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    u = (np.cos(look.light_angle) * xx / width + np.sin(look.light_angle) * yy / height)
    u = (u - u.min()) / max(np.ptp(u), 1e-9)
    light = look.light_lo + (1 - look.light_lo) * u
    r = np.hypot(xx / width - 0.5, yy / height - 0.5)
    light *= 1.0 - 0.25 * r ** 2
    if look.shadow < 1.0:
        d = [xx / width, 1 - xx / width, yy / height, 1 - yy / height][look.shadow_edge]
        edge = rng.uniform(0.1, 0.3)
        light *= np.where(d < edge, look.shadow, 1.0)
        light = _gauss_blur(light, 2.0)
    rgb = rgb * light[..., None]
    rgb = np.stack([_gauss_blur(rgb[..., c], look.blur) for c in range(3)], axis=-1)
    rgb += rng.normal(0.0, look.noise, rgb.shape)
    out = np.ascontiguousarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8))
    img = QImage(out.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    data = QByteArray()
    io = QBuffer(data)
    io.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(io, "JPG", look.jpeg)
    io.close()
    return QImage.fromData(data, "JPG")


def read_photo(recognizer: Recognizer, img: QImage) -> str:
    """The text read from an image; "" when nothing is found (counted as wrong)."""
    try:
        return pipeline.read_image_ink(recognizer, image_ink(img)).text
    except EmptyInputError:
        return ""


def _by_writer(samples: list[PenSample]) -> dict[str, list[PenSample]]:
    out: dict[str, list[PenSample]] = defaultdict(list)
    for s in samples:
        out[s.writer].append(s)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.photos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("val", "test"), default="test")
    p.add_argument("--singles", type=int, default=2000, help="single-digit images")
    p.add_argument("--numbers", type=int, default=500, help="4-digit number images")
    p.add_argument("--layout", choices=("drawn", "tight"), default="drawn",
                   help="gaps between a number's digits (see _gap)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--pen-dir", default=None, help="default: $HWR_PEN_DIR")
    p.add_argument("--save", type=Path, default=None,
                   help="write the first images and the misread ones here")
    pathmodel.add_arguments(p)
    args = p.parse_args(argv)

    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts, JPEG
    recognizer = Recognizer(args.model or default_model_path())
    path = pathmodel.load(args)  # the ink column reads as the app does; photos have no path
    data = load_pen(args.pen_dir, DIGIT_FILES)
    pool = [s for s in data.select(split=args.split, labels=DIGITS)]
    rng = np.random.default_rng(args.seed)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    singles = [pool[i] for i in rng.choice(len(pool), min(args.singles, len(pool)),
                                            replace=False)]
    photo_ok = ink_ok = 0
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for n, s in enumerate(singles):
        img = photograph(s.ink, random_photo(rng), rng)
        if args.save and n < 200:
            img.save(str(args.save / f"single-{n:04d}-{s.label}.jpg"), "JPG", 95)
        got = read_photo(recognizer, img)
        if args.save and got != s.label:
            img.save(str(args.save / f"fail-single-{n:04d}-{s.label}-read-{got or 'none'}.jpg"),
                     "JPG", 95)
        photo_ok += got == s.label
        per_source[s.source][0] += got == s.label
        per_source[s.source][1] += 1
        ink_ok += pipeline.read_number(recognizer, s.ink, path_model=path).text == s.label

    writers = {w: ss for w, ss in _by_writer(pool).items() if len(ss) >= 4}
    names = sorted(writers)
    num_ok = num_ink_ok = 0
    for n in range(args.numbers):
        ss = writers[names[int(rng.integers(len(names)))]]
        chosen = [ss[i] for i in rng.choice(len(ss), 4, replace=False)]
        label = "".join(s.label for s in chosen)
        look = random_photo(rng)
        ink = compose_number([s.ink for s in chosen], rng, args.layout, look.pen)
        img = photograph(ink, look, rng)
        if args.save and n < 100:
            img.save(str(args.save / f"number-{n:04d}-{label}.jpg"), "JPG", 95)
        got = read_photo(recognizer, img)
        if args.save and got != label:
            img.save(str(args.save / f"fail-number-{n:04d}-{label}-read-{got or 'none'}.jpg"),
                     "JPG", 95)
        num_ok += got == label
        num_ink_ok += pipeline.read_number(recognizer, ink, path_model=path).text == label
    wall = time.perf_counter() - t0

    n1, n4 = len(singles), args.numbers
    print(f"photo-like images of real pen digits, {args.split} writers "
          f"({len({s.writer for s in pool})} writers, {len(pool)} digits), seed {args.seed}, "
          f"number layout {args.layout}, "
          f"model {recognizer.path.name}")
    print(f"{'':28}{'photo':>10}{'ink':>10}")
    if n1:
        print(f"{'single digits (n=' + str(n1) + ')':28}{photo_ok / n1:>10.2%}"
              f"{ink_ok / n1:>10.2%}")
    if n4:
        print(f"{'4-digit numbers (n=' + str(n4) + ')':28}{num_ok / n4:>10.2%}"
              f"{num_ink_ok / n4:>10.2%}")
    for src, (ok, tot) in sorted(per_source.items()):
        print(f"  singles from {src}: {ok / tot:.2%} of {tot}")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
