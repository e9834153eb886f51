"""Drawn-ink benchmark: ``python -m benchmarks.drawn_ink.run [--limit N] [--seed S] ...``.

MNIST test digits are traced into strokes (``training.trace``), drawn on a 400x400 canvas the way
people draw (``conditions``), and read by (a) the app: ``render_ink`` -> recognizer (joined
with the path model, ``hwr_qt.trajectory``, as the app reads drawn ink), and
(b) the naive seed-style baseline (``naive``) -> the same recognizer. Prints per-condition
and overall top-1/top-3, whole-number accuracy on 4-digit numbers, rejection of non-digit
ink (``negatives``) and false rejections of real digits, and the wall time.
Everything is seeded: the same arguments print the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from benchmarks import pathmodel  # noqa: E402
from benchmarks.drawn_ink import negatives as neg  # noqa: E402
from benchmarks.drawn_ink.conditions import (  # noqa: E402
    CONDITIONS,
    DEFAULT,
    Condition,
    DrawStyle,
    draw,
    random_style,
)
from benchmarks.drawn_ink.naive import naive_input, naive_number_inputs  # noqa: E402
from benchmarks.drawn_ink.numbers import compose, draw_number, number_style  # noqa: E402
from benchmarks.report import table  # noqa: E402
from hwr_qt import pipeline  # noqa: E402
from hwr_qt.ink import Ink  # noqa: E402
from hwr_qt.raster import render_ink  # noqa: E402
from hwr_qt.recognizer import Recognizer  # noqa: E402
from hwr_qt.resources import default_model_path  # noqa: E402
from hwr_qt.trajectory import TrajectoryModel  # noqa: E402
from training.trace import skeleton_strokes  # noqa: E402

BATCH = 256
Template = list[np.ndarray]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- templates -----------------------------------------------------------------------

def trace_digits(images: np.ndarray) -> tuple[list[Template], int]:
    """Skeleton strokes of each image; an empty skeleton becomes a centroid dot (counted)."""
    from training.trace import centroid_dot

    out: list[Template] = []
    fallbacks = 0
    for i, img in enumerate(images):
        s = skeleton_strokes(img)
        if not s:
            fallbacks += 1
            s = [centroid_dot(img)]
        out.append(s)
        if (i + 1) % 2000 == 0:
            log(f"  traced {i + 1}/{len(images)}")
    return out, fallbacks


# --- reading -------------------------------------------------------------------------

@dataclass
class Scores:
    """Per-sample outcomes for one set of inks: ours (app) and naive."""

    ours_top1: list[bool] = field(default_factory=list)
    ours_top3: list[bool] = field(default_factory=list)
    ours_rejected: list[bool] = field(default_factory=list)
    ours_conf: list[float] = field(default_factory=list)
    naive_top1: list[bool] = field(default_factory=list)
    naive_top3: list[bool] = field(default_factory=list)

    def extend(self, other: Scores) -> None:
        for name in ("ours_top1", "ours_top3", "ours_rejected", "ours_conf", "naive_top1",
                     "naive_top3"):
            getattr(self, name).extend(getattr(other, name))


def read_ours(rec: Recognizer, inks: Sequence[Ink], k: int,
              path_model: TrajectoryModel | None = None) -> list[pipeline.Reading]:
    """The app's reading of inks, each one digit (its image, joined with its path as the
    app does when a path model is given), in batches."""
    out: list[pipeline.Reading] = []
    for i in range(0, len(inks), BATCH):
        out += pipeline.read_pieces(rec, list(inks[i:i + BATCH]), k, path_model)
    return out


def probs(rec: Recognizer, images: np.ndarray) -> np.ndarray:
    return np.concatenate([rec.probabilities(images[i:i + BATCH])
                           for i in range(0, len(images), BATCH)])


def evaluate(rec: Recognizer, inks: Sequence[Ink], labels: Sequence[int],
             pens: Sequence[float], k: int = 3,
             path_model: TrajectoryModel | None = None) -> Scores:
    ours = read_ours(rec, inks, k, path_model)
    naive_p = probs(rec, np.stack([naive_input(ink, pen) for ink, pen in zip(inks, pens,
                                                                              strict=True)]))
    naive_rank = np.argsort(-naive_p, axis=1, kind="stable")[:, :k]
    s = Scores()
    for r, nr, y in zip(ours, naive_rank, labels, strict=True):
        ranked = [p.label for p in r.top_k]
        s.ours_top1.append(ranked[0] == rec.labels[y])
        s.ours_top3.append(rec.labels[y] in ranked[:k])
        s.ours_rejected.append(bool(getattr(r, "rejected", False)))
        s.ours_conf.append(float(r.confidence))
        s.naive_top1.append(int(nr[0]) == y)
        s.naive_top3.append(y in [int(v) for v in nr])
    return s


def draw_all(templates: Sequence[Template], styles: Sequence[DrawStyle],
             rng: np.random.Generator) -> list[Ink]:
    return [draw(t, st, rng) for t, st in zip(templates, styles, strict=True)]


# --- report --------------------------------------------------------------------------

def pct(xs: Sequence[bool]) -> str:
    return f"{100.0 * float(np.mean(xs)):6.2f}" if len(xs) else "   n/a"


def score_row(name: str, n: int, s: Scores) -> list[str]:
    return [name, str(n), pct(s.ours_top1), pct(s.naive_top1), pct(s.ours_top3),
            pct(s.naive_top3)]


SCORE_HEADER = ["condition", "n", "ours top1", "naive top1", "ours top3", "naive top3"]


# --- numbers -------------------------------------------------------------------------

@dataclass
class NumberResult:
    label: str
    ours: str | None  # None: read_number not available yet
    naive: str
    ours_chars_rejected: int = 0


def read_numbers(rec: Recognizer, templates: Sequence[Template], labels: np.ndarray,
                 n: int, rng: np.random.Generator, path_model: TrajectoryModel | None = None
                 ) -> tuple[list[NumberResult], list[Ink], list[DrawStyle]]:
    reader: Callable | None = getattr(pipeline, "read_number", None)
    results, inks, styles = [], [], []
    for _ in range(n):
        idx = rng.choice(len(templates), 4, replace=False)
        number = compose([templates[i] for i in idx], [int(labels[i]) for i in idx], rng)
        style = number_style(rng)
        ink = draw_number(number, style, rng)
        text = None
        rejected = 0
        if reader is not None:
            nr = reader(rec, ink, k=3, path_model=path_model)
            text = str(nr.text)
            for c in nr.chars:
                flag = getattr(c, "rejected", None)
                if flag is None:
                    flag = getattr(getattr(c, "reading", None), "rejected", False)
                rejected += bool(flag)
        naive_p = rec.probabilities(naive_number_inputs(ink, style.pen_width))
        naive_text = "".join(rec.labels[int(i)] for i in naive_p.argmax(axis=1))
        results.append(NumberResult(number.label, text, naive_text, rejected))
        inks.append(ink)
        styles.append(style)
    return results, inks, styles


# --- main ----------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.drawn_ink.run",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("HWR_MNIST_DIR"),
                    help="folder with the MNIST IDX .gz files (default: $HWR_MNIST_DIR)")
    ap.add_argument("--limit", type=int, default=10000,
                    help="use N test digits (seeded random subset; default all 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None, help="ONNX model (default: the bundled one)")
    ap.add_argument("--per-condition", type=int, default=1000,
                    help="digits per condition row (at most --limit)")
    ap.add_argument("--numbers", type=int, default=1000, help="4-digit numbers to read")
    ap.add_argument("--negatives", type=int, default=250, help="non-digit inks per kind")
    ap.add_argument("--json", metavar="OUT", default=None,
                    help="also write the overall figures here (the export's model card)")
    ap.add_argument("--save-samples", metavar="DIR", default=None,
                    help="write PNG contact sheets of generated ink to DIR")
    pathmodel.add_arguments(ap)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    from training.mnist import MnistError, load_test_set

    if not args.data_dir:
        log("no MNIST: pass --data-dir or set HWR_MNIST_DIR (the folder with the IDX .gz files)")
        return 2
    try:
        images, labels = load_test_set(args.data_dir)
    except MnistError as e:
        log(f"cannot load MNIST: {e}")
        return 2
    labels = np.asarray(labels, dtype=np.int64)
    model = Path(args.model) if args.model else default_model_path()
    rec = Recognizer(model)
    path_model = pathmodel.load(args)
    # One child stream per part, so e.g. --numbers 0 leaves the digit rows unchanged.
    ss = np.random.SeedSequence(args.seed)
    s_pick, s_mix, s_cond, s_num, s_negdraw = ss.spawn(5)
    n = max(1, min(args.limit, len(images)))
    pick = np.random.default_rng(s_pick).permutation(len(images))[:n]
    log(f"tracing {n} MNIST test digits into strokes...")
    templates, fallbacks = trace_digits(images[pick])
    ys = labels[pick]

    print(f"drawn-ink benchmark  model={model}  path model="
          f"{path_model.path if path_model else None}  seed={args.seed}  digits={n} "
          f"(MNIST test, seeded subset)")
    print(f"strokes per digit: mean {np.mean([len(t) for t in templates]):.2f}, "
          f"distribution {np.bincount([len(t) for t in templates]).tolist()}; "
          f"empty skeletons (drawn as a dot): {fallbacks}")
    has_reject = bool(getattr(rec, "has_reject", False))

    # (0) reference: the MNIST images themselves through the model.
    ref_p = probs(rec, images[pick].astype(np.float32) / 255.0)
    ref_top1 = float(np.mean(ref_p.argmax(axis=1) == ys))

    # (1) every digit once, every parameter random.
    log("mixed conditions...")
    mix_rng = np.random.default_rng(s_mix)
    mix_styles = [random_style(mix_rng) for _ in range(n)]
    mix_inks = draw_all(templates, mix_styles, mix_rng)
    mix = evaluate(rec, mix_inks, ys, [st.pen_width for st in mix_styles],
                   path_model=path_model)

    # (2) one condition at a time, on the same fixed subset for every row.
    m = max(1, min(args.per_condition, n))
    rows, per_cond = [], {}
    cond_rngs = s_cond.spawn(len(CONDITIONS))
    for cond, cs in zip(CONDITIONS, cond_rngs, strict=True):
        log(f"condition: {cond.name}")
        rng = np.random.default_rng(cs)
        inks = draw_all(templates[:m], [cond.style] * m, rng)
        sc = evaluate(rec, inks, ys[:m], [cond.style.pen_width] * m, path_model=path_model)
        per_cond[cond.name] = (cond, inks)
        rows.append(score_row(cond.name, m, sc))
    table(f"Per condition ({m} digits each; one parameter changed from the default: "
          f"height {DEFAULT.height:g}px centred, step {DEFAULT.step:g}px, pen "
          f"{DEFAULT.pen_width:g}px)", SCORE_HEADER, rows)
    table("Overall", SCORE_HEADER, [
        score_row("mixed: every digit, random style", n, mix),
        [f"MNIST image itself (reference, model on the {n} source images)", str(n),
         f"{100 * ref_top1:6.2f}", "", "", ""],
    ])

    from export.calibration import ece_from_confidence

    print(f"calibration on drawn ink (mixed): ECE of the top-1 confidence "
          f"{100 * ece_from_confidence(np.array(mix.ours_conf), np.array(mix.ours_top1)):.2f} %"
          f" (mean confidence {100 * np.mean(mix.ours_conf):.2f} %, accuracy "
          f"{100 * np.mean(mix.ours_top1):.2f} %)")

    # (3) numbers.
    nn = max(0, min(args.numbers, n // 2 if n >= 8 else 0))
    num_inks: list[Ink] = []
    num_styles: list[DrawStyle] = []
    num_results: list[NumberResult] = []
    if nn:
        log(f"{nn} 4-digit numbers...")
        num_results, num_inks, num_styles = read_numbers(rec, templates, ys, nn,
                                                         np.random.default_rng(s_num),
                                                         path_model)
        naive_ok = [r.naive == r.label for r in num_results]
        naive_digits = [a == b for r in num_results for a, b in zip(r.naive, r.label,
                                                                    strict=True)]
        if num_results[0].ours is None:
            ours_num, ours_len = "pending", "pending"
            ours_note = "pending: hwr_qt.pipeline.read_number not available"
        else:
            ours_num = pct([r.ours == r.label for r in num_results])
            ours_len = pct([len(r.ours or "") == 4 for r in num_results])
            ours_note = "read_number: segmentation by the app"
        table(f"4-digit numbers ({nn})", ["", "whole number correct", "4 characters found"], [
            [f"ours ({ours_note})", ours_num, ours_len],
            ["naive (canvas cut into 4 equal squares on the middle line; generous: assumes "
             "4 equal-width digits)", pct(naive_ok), "100.00 (by construction)"],
            ["naive per-digit accuracy within the 4 slices", pct(naive_digits), ""],
        ])

    # (4) rejection.
    negs = neg.generate(max(0, args.negatives), args.seed)
    neg_rng = np.random.default_rng(s_negdraw)
    neg_styles = [neg.negative_style(kind, neg_rng) for kind, _, _ in negs]
    neg_inks = [draw(t, st, neg_rng) for (_, _, t), st in zip(negs, neg_styles, strict=True)]
    kinds = [k for k in neg.KINDS if any(x[0] == k for x in negs)]
    if negs:
        neg_read = read_ours(rec, neg_inks, 3, path_model)
        rej_rows = []
        for kind in kinds:
            sel = [r for r, x in zip(neg_read, negs, strict=True) if x[0] == kind]
            rej = pct([bool(getattr(r, "rejected", False)) for r in sel]) if has_reject \
                else "pending"
            conf = np.mean([r.confidence for r in sel])
            rej_rows.append([f"negatives: {kind}", str(len(sel)), rej, f"{conf:.2f}"])
        fr = pct(mix.ours_rejected) if has_reject else "pending"
        rej_rows.append(["real digits (mixed) falsely rejected", str(n), fr,
                         f"{np.mean(mix.ours_conf):.2f}"])
        table("Rejection (ours; the naive seed app never rejected anything)"
              + ("" if has_reject else " -- pending: this model has no not_digit output"),
              ["ink", "n", "rejected %", "mean top-1 conf"], rej_rows)
        if "letter" not in kinds:
            print("letters skipped: no font found (QFontDatabase.families() is empty)")
    if nn and num_results[0].ours is not None and has_reject:
        print(f"numbers with a rejected character: "
              f"{pct([r.ours_chars_rejected > 0 for r in num_results])} %")

    if args.json:
        summary = {"digits": n, "seed": args.seed, "top1": float(np.mean(mix.ours_top1)),
                   "top3": float(np.mean(mix.ours_top3)), "mnist_reference_top1": ref_top1,
                   "numbers": nn, "numbers_exact": (float(np.mean([r.ours == r.label
                                                                   for r in num_results]))
                                                    if nn and num_results[0].ours is not None
                                                    else None)}
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    if args.save_samples:
        save_samples(Path(args.save_samples), per_cond, negs, neg_inks, neg_styles,
                     num_inks, num_styles, num_results, rec)
    print(f"\nwall time {time.perf_counter() - t0:.1f} s")
    return 0


def save_samples(out: Path, per_cond: dict[str, tuple[Condition, list[Ink]]],
                 negs: list[tuple[str, str, Template]], neg_inks: list[Ink],
                 neg_styles: list[DrawStyle], num_inks: list[Ink], num_styles: list[DrawStyle],
                 num_results: list[NumberResult], rec: Recognizer, per_row: int = 6) -> None:
    from benchmarks.drawn_ink.samples import save_sheet

    def cell(ink: Ink, pen: float, caption: str = "") -> tuple[Ink, float, list, str]:
        ours = render_ink(ink)
        naive = naive_input(ink, pen)
        cap = caption or (f"ours {rec.top_k(ours, 1)[0].label}  "
                          f"naive {rec.top_k(naive, 1)[0].label}")
        return ink, pen, [ours, naive], cap

    rows = [(f"{name}\n(canvas | ours | naive)",
             [cell(ink, cond.style.pen_width) for ink in inks[:per_row]])
            for name, (cond, inks) in per_cond.items()]
    save_sheet(out / "conditions.png", rows)
    nrows = []
    for kind in neg.KINDS:
        sel = [(ink, st, x) for ink, st, x in zip(neg_inks, neg_styles, negs, strict=True)
               if x[0] == kind][:per_row]
        if sel:
            nrows.append((f"negative: {kind}", [
                cell(ink, st.pen_width, f"{x[1]}: ours {rec.top_k(render_ink(ink), 1)[0].label}")
                for ink, st, x in sel]))
    save_sheet(out / "negatives.png", nrows)
    numrows = []
    for i in range(0, min(len(num_inks), 8), 2):
        numrows.append(("numbers\n(canvas | naive's 4 slices)", [
            (ink, st.pen_width, list(naive_number_inputs(ink, st.pen_width)),
             f"{r.label}: ours {r.ours or 'pending'}, naive {r.naive}")
            for ink, st, r in zip(num_inks[i:i + 2], num_styles[i:i + 2],
                                  num_results[i:i + 2], strict=True)]))
    if numrows:
        save_sheet(out / "numbers.png", numrows, canvas_px=224, pic_px=84)
    log(f"samples written to {out}/")


if __name__ == "__main__":
    sys.exit(main())
