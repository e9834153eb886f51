"""Adapting to the writer: ``python -m benchmarks.adapt [--model PATH] [--mode digits]
[--split test|val] [--distort SEED] [--pen-dir DIR] [--mnist-dir DIR] [--json OUT]``.

Real pen writers the model never saw (the ``test`` split; ``val`` is for tuning
``hwr_qt.adapt``'s constants, never ``test``), each with at least 20 characters of the
mode, in the order the data lists them. Every character is one model input rendered as
the app renders a drawing (``hwr_qt.raster``), read by the classifier as the pipeline
reads one character: the mode's best label, or "?" when the reject score reaches the
model's threshold. A misread is a wrong label or a "?". A label and its twin of the
same shape (the model's ``same_shape`` metadata: c/C, o/O, ..., I/l) count alike: one
character's shape cannot tell them apart (the pipeline decides case from the
neighbours), so reading c as C is neither a misread to correct nor an error. That
matters in letters and everything modes only (the digit model has no such pairs); the
digit/letter look-alikes (0/O, 1/l) still count as errors.

- Per writer: the first half is read with the profile as it grows and each misread is
  corrected (only those, as a user would; learned as the app learns one: features, label
  and the model's margin against the label); the second half is then read without and
  with the profile. Overall: relative fall of second-half errors.
- Another writer's profile: each writer's profile read on every other writer's
  characters: change of accuracy (points), overall and the worst profile.
- Wrong corrections: 20 characters of class A of one writer taught as B, read on every
  other writer: change of accuracy (mean and worst profile), for a few pairs.
- MNIST test with an empty profile: the scores must be identical to the model's.
- ``--distort SEED`` (for tuning, with ``--split val``): each writer's ink under one
  fixed random rotation (10-25 degrees), shear and vertical squash, drawn from SEED and
  the writer, so that the model errs systematically, as it does on a writer's habit;
  the validation writers alone make too few errors (3 in digits) to tune on.
- Timings (medians): learning one correction (features + store + rebuild) and reading
  one character with a 1,000-example profile; the size of that profile's file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from benchmarks import pathmodel  # noqa: E402
from benchmarks.report import table  # noqa: E402
from hwr_qt.adapt import AdaptedClassifier, Adapter, margin_against  # noqa: E402
from hwr_qt.classifier import ModelInfo  # noqa: E402
from hwr_qt.ink import Ink, Point, Stroke  # noqa: E402
from hwr_qt.profile import Profile  # noqa: E402
from hwr_qt.recognizer import ModelError, Recognizer  # noqa: E402
from hwr_qt.resources import default_model_path  # noqa: E402
from hwr_qt.trajectory import TrajectoryModel, mix, mix_reject  # noqa: E402

MIN_CHARS = 20
WRONG_COUNT = 20
WRONG_PAIRS = {"digits": ("1:7", "4:9", "7:1"), "letters": ("e:c", "n:h", "u:v"),
               "all": ("1:7", "O:0", "l:1")}
DIGIT_FILES = ("pendigits", "uji_digits", "unipen_digits")
LETTER_FILES = ("unipen_upper", "unipen_lower", "omniglot_latin")
REJECT = -1  # read as "?"


@dataclass
class Base:
    """The network's scores for every character of the split (read once)."""

    labels: np.ndarray  # int [N]: index into info.labels
    writers: np.ndarray  # str [N]
    probs: np.ndarray  # [N, C] full label set
    reject: np.ndarray | None
    feats: np.ndarray
    images: np.ndarray
    inks: list
    # [N, C] the path model's probabilities and the image model's weight in the mix, as
    # the app joins them for drawn ink (``pipeline.with_path``); None: image alone.
    path: np.ndarray | None = None
    path_weight: float = 1.0
    path_reject: np.ndarray | None = None  # [N] the path model's P(no character), if any


def distorted(ink: Ink, seed: int) -> Ink:
    """``ink`` under the fixed affine map ``seed`` draws (rotation, shear, squash)."""
    rng = np.random.default_rng(seed)
    angle = np.radians(rng.choice([-1, 1]) * rng.uniform(10, 25))
    shear, squash = rng.choice([-1, 1]) * rng.uniform(0.15, 0.4), rng.uniform(0.7, 1.3)
    c, s = np.cos(angle), np.sin(angle)

    def f(p: Point) -> Point:
        x, y = p.x + shear * p.y, p.y * squash
        return Point(float(c * x - s * y), float(s * x + c * y), p.pressure, p.t)

    return Ink(tuple(Stroke(tuple(f(p) for p in st.points)) for st in ink.strokes))


def load_base(rec: Recognizer, mode: str, split: str, pen_dir: str | None,
              distort: int | None = None, path_model: TrajectoryModel | None = None) -> Base:
    from hwr_qt.classifier import mode_accepts
    from training.data import render_all
    from training.pen import load_pen

    files = DIGIT_FILES if mode == "digits" else LETTER_FILES if mode == "letters" \
        else DIGIT_FILES + LETTER_FILES
    info = rec.info
    samples = [s for s in load_pen(pen_dir, files).select(split=split)
               if s.label in info.labels and mode_accepts(mode, s.label)]
    if distort is not None:
        writer_no = {w: i for i, w in enumerate(sorted({s.writer for s in samples}))}
        samples = [replace(s, ink=distorted(s.ink, writer_no[s.writer] + 1000 * distort))
                   for s in samples]
    images = render_all([s.ink for s in samples])
    parts = [rec.classify(images[i:i + 500]) for i in range(0, len(images), 500)]
    feats = [p.features for p in parts]
    if any(f is None for f in feats):
        raise ModelError(f"model {rec.path.name} has no features output: nothing to adapt")
    rej = [p.reject for p in parts]
    return Base(np.array([info.labels.index(s.label) for s in samples]),
                np.array([s.writer for s in samples]),
                np.concatenate([p.probabilities for p in parts]),
                None if any(r is None for r in rej) else np.concatenate(rej),  # type: ignore[arg-type]
                np.concatenate(feats),  # type: ignore[arg-type]
                images, [s.ink for s in samples], *_path_scores(rec, mode, samples, path_model))


def _path_scores(rec: Recognizer, mode: str, samples: list,
                 path_model: TrajectoryModel | None
                 ) -> tuple[np.ndarray | None, float, np.ndarray | None]:
    """The path model's probabilities in the model's label order and its reject scores,
    where the app would join them (a path model that has the model's labels)."""
    if path_model is None or not path_model.serves(rec.info.labels):
        return None, 1.0, None
    inks = [s.ink for s in samples]
    parts = [path_model.scores(inks[i:i + 500], rec.info.labels)
             for i in range(0, len(inks), 500)]
    rejects = [r for _, r in parts]
    reject = None if any(r is None for r in rejects) else np.concatenate(rejects)  # type: ignore[arg-type]
    return np.concatenate([p for p, _ in parts]), path_model.weight, reject


class Reader:
    """Reads cached base scores through an adapter, as AdaptedClassifier then a mode
    restriction would (the adapter works in the model's full label set)."""

    def __init__(self, info: ModelInfo, mode: str, base: Base) -> None:
        self.info, self.base = info, base
        self.columns = np.flatnonzero(info.mode_mask(mode))
        # label index -> the index of its same-shape group's first label
        self.fold = np.arange(len(info.labels))
        for group in info.same_shape:
            for lab in group:
                self.fold[info.labels.index(lab)] = info.labels.index(group[0])

    def read(self, idx: np.ndarray, adapter: Adapter | None) -> np.ndarray:
        b = self.base
        p, r = b.probs[idx], None if b.reject is None else b.reject[idx]
        mine = np.zeros(len(idx), bool)  # as the app: rows the user's examples had a say in
        if adapter is not None and len(adapter):
            p, r, _, mine = adapter.read(p, r, b.feats[idx], self.info.reject_threshold)
        if b.path is not None:  # ... stay as the profile made them (pipeline.with_path)
            p = np.where(mine[:, None], p, mix(p, b.path[idx], b.path_weight))
            if r is not None and b.path_reject is not None:
                r = np.where(mine, r, mix_reject(r, b.path_reject[idx], b.path_weight))
        label = self.columns[p[:, self.columns].argmax(1)]
        if r is not None:
            label = np.where(r >= self.info.reject_threshold, REJECT, label)
        return label

    def right(self, idx: np.ndarray, adapter: Adapter | None) -> np.ndarray:
        """bool [len(idx)]: read as the true label or its same-shape twin."""
        got = self.read(idx, adapter)
        return (got != REJECT) & (self.fold[np.maximum(got, 0)]
                                  == self.fold[self.base.labels[idx]])


def big_writers(base: Base) -> list[str]:
    names, counts = np.unique(base.writers, return_counts=True)
    return [str(w) for w, c in zip(names, counts, strict=True) if c >= MIN_CHARS]


def teach_writer(reader: Reader, base: Base, writer: str) -> dict:
    """First half read and corrected as it goes; second half without and with."""
    idx = np.flatnonzero(base.writers == writer)
    half = len(idx) // 2
    first, second = idx[:half], idx[half:]
    adapter = Adapter(reader.info.labels)
    for i in first:
        one = np.array([i])
        if not reader.right(one, adapter)[0]:  # learned as the app does: with the margin
            adapter.add(base.feats[i], reader.info.labels[base.labels[i]],
                        margin_against(base.probs[i], base.labels[i]))
    before = int((~reader.right(second, None)).sum())
    after = int((~reader.right(second, adapter)).sum())
    return {"writer": writer, "n": int(len(idx)), "corrections": len(adapter),
            "second_half": int(len(second)), "errors_without": before,
            "errors_with": after, "adapter": adapter}


def cross_writers(reader: Reader, base: Base, taught: list[dict]) -> dict:
    """Each writer's profile on every other writer's characters."""
    ok_base = reader.right(np.arange(len(base.labels)), None)
    changes, gained, n_all = [], 0, 0
    for t in taught:
        if not len(t["adapter"]):
            continue
        other = np.flatnonzero(base.writers != t["writer"])
        ok = reader.right(other, t["adapter"])
        d = int(ok.sum() - ok_base[other].sum())
        gained += d
        n_all += len(other)
        changes.append(100.0 * d / len(other))
    return {"profiles": len(changes),
            "mean_change_pt": 100.0 * gained / max(n_all, 1),
            "worst_change_pt": min(changes, default=0.0)}


def wrong_corrections(reader: Reader, base: Base, pair: str) -> dict:
    """20 of one writer's A taught as B, read on every other writer."""
    a, b = pair.split(":")
    labels = reader.info.labels
    ok_base = reader.right(np.arange(len(base.labels)), None)
    drops = []
    for w in big_writers(base):
        own = np.flatnonzero((base.writers == w) & (base.labels == labels.index(a)))
        if len(own) < WRONG_COUNT:
            continue
        adapter = Adapter(labels)
        taught = own[:WRONG_COUNT]
        adapter.fit(base.feats[taught], [b] * WRONG_COUNT,
                    [margin_against(base.probs[i], labels.index(b)) for i in taught])
        other = np.flatnonzero(base.writers != w)
        ok = reader.right(other, adapter)
        drops.append(100.0 * (ok.mean() - ok_base[other].mean()))
    return {"pair": f"{a}->{b}", "profiles": len(drops),
            "mean_change_pt": float(np.mean(drops)) if drops else None,
            "worst_change_pt": float(min(drops)) if drops else None}


def mnist_identity(rec: Recognizer, mnist_dir: str | None) -> dict:
    from training.mnist import load_mnist

    x = load_mnist(mnist_dir).x_test.astype(np.float32) / 255
    y = load_mnist(mnist_dir).y_test
    adapted = AdaptedClassifier(rec, Profile())
    same, acc_base, acc_adapted = True, 0, 0
    for i in range(0, len(x), 1000):
        s0, s1 = rec.classify(x[i:i + 1000]), adapted.classify(x[i:i + 1000])
        same &= bool(np.array_equal(s0.probabilities, s1.probabilities))
        if s0.reject is not None and s1.reject is not None:
            same &= bool(np.array_equal(s0.reject, s1.reject))
        truth = np.array([rec.info.labels.index(str(v)) for v in y[i:i + 1000]])
        acc_base += int((s0.probabilities.argmax(1) == truth).sum())
        acc_adapted += int((s1.probabilities.argmax(1) == truth).sum())
    return {"images": len(x), "scores_identical": same, "accuracy": acc_base / len(x),
            "accuracy_with_empty_profile": acc_adapted / len(x)}


def timings(rec: Recognizer, base: Base, repeats: int = 200) -> dict:
    """Medians: learning one correction; reading one character with 1,000 examples."""
    rng = np.random.default_rng(0)
    pick = rng.choice(len(base.labels), size=min(1000, len(base.labels)), replace=False)
    profile = Profile()
    adapted = AdaptedClassifier(rec, profile)
    learn = []
    for i in pick:
        t0 = time.perf_counter()
        adapted.learn(base.images[i], base.inks[i], rec.info.labels[base.labels[i]])
        adapted.classify(base.images[i][None])  # the answer updates at once
        learn.append(time.perf_counter() - t0)
    plain, with_profile = [], []
    for j in range(repeats):
        img = base.images[j % len(base.images)][None]
        t0 = time.perf_counter()
        rec.classify(img)
        t1 = time.perf_counter()
        adapted.classify(img)
        t2 = time.perf_counter()
        plain.append(t1 - t0)
        with_profile.append(t2 - t1)
    with tempfile.TemporaryDirectory() as tmp:
        path = profile.save(Path(tmp) / "profile.json.gz")
        size = path.stat().st_size
        t0 = time.perf_counter()
        Profile.load(path)
        load_s = time.perf_counter() - t0
    ms = 1000.0
    return {"profile_examples": len(profile),
            "learn_ms_median": statistics.median(learn) * ms,
            "read_ms_median_no_profile": statistics.median(plain) * ms,
            "read_ms_median_1000_examples": statistics.median(with_profile) * ms,
            "adaptation_overhead_ms": (statistics.median(with_profile)
                                       - statistics.median(plain)) * ms,
            "profile_bytes": size, "profile_load_ms": load_s * ms}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.adapt", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="ONNX model (default: the bundled digit model)")
    ap.add_argument("--mode", choices=("digits", "letters", "all"), default="digits")
    ap.add_argument("--split", choices=("test", "val"), default="test")
    ap.add_argument("--distort", type=int, metavar="SEED",
                    help="each writer's ink under a fixed random affine map (tuning)")
    ap.add_argument("--pen-dir")
    ap.add_argument("--mnist-dir")
    ap.add_argument("--no-mnist", action="store_true", help="skip the MNIST identity check")
    ap.add_argument("--json", type=Path, metavar="OUT")
    pathmodel.add_arguments(ap)
    args = ap.parse_args(argv)
    try:
        rec = Recognizer(args.model or default_model_path())
        path_model = pathmodel.load(args, args.mode)
    except ModelError as e:
        print(f"benchmarks.adapt: {e}", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    base = load_base(rec, args.mode, args.split, args.pen_dir, args.distort, path_model)
    reader = Reader(rec.info, args.mode, base)
    taught = [teach_writer(reader, base, w) for w in big_writers(base)]
    e0 = sum(t["errors_without"] for t in taught)
    e1 = sum(t["errors_with"] for t in taught)
    n2 = sum(t["second_half"] for t in taught)
    rows = [[t["writer"], str(t["n"]), str(t["corrections"]), str(t["errors_without"]),
             str(t["errors_with"])] for t in taught if t["errors_without"] or t["errors_with"]
            or t["corrections"]]
    table(f"Per writer ({args.split} writers, {args.mode}; writers with no errors and no "
          "corrections left out)", ["writer", "chars", "corrections", "2nd-half errors",
                                    "with profile"], rows)
    overall = {"writers": len(taught), "characters": int(sum(t["n"] for t in taught)),
               "corrections": int(sum(t["corrections"] for t in taught)),
               "second_half_chars": n2, "errors_without": e0, "errors_with": e1,
               "accuracy_without": 1 - e0 / max(n2, 1), "accuracy_with": 1 - e1 / max(n2, 1),
               "relative_error_fall": (e0 - e1) / e0 if e0 else None}
    cross = cross_writers(reader, base, taught)
    wrong = [wrong_corrections(reader, base, p) for p in WRONG_PAIRS[args.mode]
             if all(x in rec.info.labels for x in p.split(":"))]
    mnist = None if args.no_mnist or args.mode != "digits" else mnist_identity(rec,
                                                                             args.mnist_dir)
    speed = timings(rec, base)
    fall = overall["relative_error_fall"]
    print(f"\nOverall: {overall['writers']} writers, {n2} second-half characters: errors "
          f"{e0} -> {e1} ({'n/a' if fall is None else f'{fall:.0%}'} fewer; accuracy "
          f"{overall['accuracy_without']:.2%} -> {overall['accuracy_with']:.2%}) from "
          f"{overall['corrections']} corrections")
    print(f"Another writer's profile: accuracy change {cross['mean_change_pt']:+.2f} pt "
          f"overall, worst profile {cross['worst_change_pt']:+.2f} pt "
          f"({cross['profiles']} profiles)")
    for w in wrong:
        if w["profiles"]:
            print(f"{WRONG_COUNT} wrong corrections {w['pair']}: other writers "
                  f"{w['mean_change_pt']:+.2f} pt mean, {w['worst_change_pt']:+.2f} pt worst "
                  f"({w['profiles']} profiles)")
    if mnist:
        print(f"MNIST test, empty profile: scores identical {mnist['scores_identical']}, "
              f"accuracy {mnist['accuracy']:.2%} -> {mnist['accuracy_with_empty_profile']:.2%}")
    print(f"Learn one correction: {speed['learn_ms_median']:.2f} ms (median); read one "
          f"character with {speed['profile_examples']} examples: "
          f"{speed['read_ms_median_1000_examples']:.3f} ms (model alone "
          f"{speed['read_ms_median_no_profile']:.3f} ms, adaptation "
          f"{speed['adaptation_overhead_ms']:.3f} ms); profile file "
          f"{speed['profile_bytes'] / 1e6:.2f} MB, loads in {speed['profile_load_ms']:.0f} ms")
    print(f"({time.perf_counter() - t_start:.0f} s)")
    if args.json:
        result = {"model": str(rec.path), "mode": args.mode, "split": args.split,
                  "overall": overall, "per_writer": [
                      {k: v for k, v in t.items() if k != "adapter"} for t in taught],
                  "cross_writer": cross, "wrong_corrections": wrong, "mnist": mnist,
                  "timings": speed}
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
