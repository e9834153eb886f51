"""Real-pen letters benchmark: ``python -m benchmarks.pen.letters [--pen-dir DIR]
[--model PATH] [--split test|val] [--words N] [--limit N] [--seed S] [--json OUT]``.

Every ink goes through ``hwr_qt.pipeline.read_number`` in the mode measured, the path of
the GUI and of ``hwr-qt recognize --mode ...``; only the chosen split's writers are used
(``test`` by default: writers never used for training or tuning).

- Letters mode, single capitals and lower-case letters (UNIPEN, Omniglot): top-1 exact
  (case too), top-1 case-insensitive, top-3 case-insensitive, read as several
  characters, rejected; per class and the commonest confusions.
- Everything mode on pen digits and letters together: top-1 case-insensitive, and the
  digit/letter confusions that remain (0/O/o, 1/l/I, 2/z, 5/s, 9/g/q) with the share
  the top-3 resolves (the right character among the top 3 the view shows).
- Printed words of 3-6 letters of one writer (``benchmarks.pen.words``), Letters mode:
  exact word, case-insensitive word, letter count right.

Case-insensitive treats the pairs the model's ``same_shape`` metadata names alike in the
other direction too: a letter and its other case, and capital I with lower-case l.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from benchmarks import pathmodel  # noqa: E402
from benchmarks.pen.numbers import Digit  # noqa: E402
from benchmarks.pen.words import make_words  # noqa: E402
from benchmarks.report import table  # noqa: E402
from hwr_qt.classifier import Classifier  # noqa: E402
from hwr_qt.models import ModelSet  # noqa: E402
from hwr_qt.pipeline import REJECTED_LABEL, read_number  # noqa: E402
from hwr_qt.recognizer import ModelError  # noqa: E402
from hwr_qt.trajectory import TrajectoryModel  # noqa: E402
from training.pen import DIGIT_FILES, LETTER_FILES, PenDataError, PenSample, load_pen  # noqa: E402

# Digit/letter confusions Everything mode cannot always settle from one shape.
LOOKALIKES = (("0", "O", "o"), ("1", "l", "I"), ("2", "z", "Z"), ("5", "s", "S"),
              ("9", "g", "q"))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fold(text: str) -> str:
    """Case-insensitive form: lower case, and capital I as lower-case l (same shape)."""
    return text.replace("I", "l").lower()


def share(flags: Sequence[bool]) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


def read_singles(clf: Classifier, samples: Sequence[PenSample],
                 path_model: TrajectoryModel | None = None) -> list[tuple[str, str, tuple]]:
    """(label, text read, top-3 of the one character or ())."""
    rows = []
    for s in samples:
        r = read_number(clf, s.ink, k=3, path_model=path_model)
        top3 = tuple(p.label for p in r.chars[0].reading.top_k[:3]) if len(r.chars) == 1 else ()
        rows.append((s.label, r.text, top3))
    return rows


def single_stats(rows: Sequence[tuple[str, str, tuple]]) -> dict:
    return {
        "n": len(rows),
        "top1": share([t == y for y, t, _ in rows]),
        "top1_nocase": share([fold(t) == fold(y) for y, t, _ in rows]),
        "top3_nocase": share([fold(y) in {fold(q) for q in k} for y, _, k in rows]),
        "more_than_one_char": share([len(t) > 1 for _, t, _ in rows]),
        "rejected": share([t == REJECTED_LABEL for _, t, _ in rows]),
    }


def confusions(rows: Sequence[tuple[str, str, tuple]], n: int = 20) -> dict[str, int]:
    return dict(Counter(f"{y}->{t}" for y, t, _ in rows if fold(t) != fold(y)).most_common(n))


def lookalikes(rows: Sequence[tuple[str, str, tuple]]) -> dict[str, dict]:
    """Per look-alike family: readings of its members as another member, and how many of
    those the top-3 resolves (the true character is among them)."""
    out = {}
    for family in LOOKALIKES:
        wrong = [(y, t, k) for y, t, k in rows
                 if y in family and t in family and fold(t) != fold(y)]
        n = sum(1 for y, _, _ in rows if y in family)
        out["/".join(family)] = {"n": n, "confused": len(wrong),
                                 "resolved_by_top3": sum(1 for y, _, k in wrong if y in k)}
    return out


def run(models: ModelSet, letters: list[PenSample], digits: list[PenSample], n_words: int,
        seed: int, path_model: TrajectoryModel | None = None) -> dict:
    """Read everything in Letters and Everything mode (each ink joined with
    ``path_model``'s reading of its path where it has the mode's labels)."""
    by_case = {"capitals": [s for s in letters if s.label.isupper()],
               "lower_case": [s for s in letters if s.label.islower()]}
    letters_clf = models.classifier("letters")
    res: dict = {"letters_mode": {}}
    for name, sel in by_case.items():
        rows = read_singles(letters_clf, sel, path_model)
        res["letters_mode"][name] = {**single_stats(rows), "confusions": confusions(rows),
                                     "per_class_nocase": {
                                         y: share([fold(t) == fold(y) for yy, t, _ in rows
                                                   if yy == y])
                                         for y in sorted({r[0] for r in rows})}}
    all_clf = models.classifier("all")
    rows_all = read_singles(all_clf, digits, path_model) + read_singles(all_clf, letters,
                                                                       path_model)
    res["everything_mode"] = {
        "all": single_stats(rows_all),
        "digits": single_stats(rows_all[:len(digits)]),
        "letters": single_stats(rows_all[len(digits):]),
        "lookalikes": lookalikes(rows_all),
        "confusions": confusions(rows_all),
    }
    words = make_words([Digit(s.label, s.writer, s.ink) for s in letters], n_words,
                       np.random.default_rng(seed))
    read = [(w.label, read_number(letters_clf, w.ink, k=3, path_model=path_model).text)
            for w in words]
    res["words"] = {"n": len(read), "exact": share([t == y for y, t in read]),
                    "nocase": share([fold(t) == fold(y) for y, t in read]),
                    "letter_count_right": share([len(t) == len(y) for y, t in read]),
                    "examples_wrong": [f"{y}->{t}" for y, t in read if t != y][:15]}
    return res


def headline(res: dict) -> str:
    c, lo = res["letters_mode"]["capitals"], res["letters_mode"]["lower_case"]
    e, w = res["everything_mode"]["all"], res["words"]
    return (f"real pen, {res['split']} writers, Letters mode: capitals top-1 "
            f"{pct(c['top1_nocase'])} % case-insensitive ({pct(c['top1'])} % exact), lower "
            f"case {pct(lo['top1_nocase'])} % ({pct(lo['top1'])} % exact); Everything mode "
            f"{pct(e['top1_nocase'])} %; words exact {pct(w['exact'])} % "
            f"(case-insensitive {pct(w['nocase'])} %)")


def print_report(res: dict) -> None:
    head = ["", "n", "top-1 exact %", "top-1 no case %", "top-3 no case %", ">1 char %",
            "rejected %"]

    def row(name: str, s: dict) -> list[str]:
        return [name, str(s["n"]), pct(s["top1"]), pct(s["top1_nocase"]),
                pct(s["top3_nocase"]), pct(s["more_than_one_char"]), pct(s["rejected"])]

    lm, em = res["letters_mode"], res["everything_mode"]
    table("Letters mode, single letters", head,
          [row("capitals", lm["capitals"]), row("lower case", lm["lower_case"])])
    table("Everything mode, pen digits and letters", head,
          [row("all", em["all"]), row("digits", em["digits"]),
           row("letters", em["letters"])])
    table("Everything mode: look-alikes", ["family", "n", "confused", "top-3 resolves"],
          [[k, str(v["n"]), str(v["confused"]), str(v["resolved_by_top3"])]
           for k, v in em["lookalikes"].items()])
    for name in ("capitals", "lower_case"):
        print(f"{name}: commonest confusions " + ", ".join(
            f"{k} ({v})" for k, v in lm[name]["confusions"].items()))
    w = res["words"]
    table(f"Printed words of 3-6 letters, one writer each (seed {res['seed']})",
          ["n", "exact %", "case-insensitive %", "letter count right %"],
          [[str(w["n"]), pct(w["exact"]), pct(w["nocase"]), pct(w["letter_count_right"])]])
    print("some misread words: " + ", ".join(w["examples_wrong"]))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pen.letters",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--pen-dir", default=None, help="pen data folder (default: $HWR_PEN_DIR)")
    ap.add_argument("--model", default=None,
                    help="character model (default: the bundled chars.onnx)")
    ap.add_argument("--split", choices=("test", "val"), default="test")
    ap.add_argument("--words", type=int, default=1000, help="printed words to compose")
    ap.add_argument("--limit", type=int, default=None, help="at most N letters and N digits")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="OUT", default=None)
    pathmodel.add_arguments(ap)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        models = ModelSet(Path(args.model) if args.model else None)
        models.classifier("letters")
        path_model = pathmodel.load(args, "letters")
        pen = load_pen(args.pen_dir, files=LETTER_FILES + DIGIT_FILES)
    except (ModelError, PenDataError) as e:
        log(f"error: {e}")
        return 2
    rng = np.random.default_rng(args.seed)
    letters = pen.select(split=args.split, sources=LETTER_FILES)
    digits = pen.select(split=args.split, sources=DIGIT_FILES)
    if args.limit:
        letters = [letters[int(i)] for i in sorted(rng.choice(len(letters), min(
            args.limit, len(letters)), replace=False))]
        digits = [digits[int(i)] for i in sorted(rng.choice(len(digits), min(
            args.limit, len(digits)), replace=False))]
    log(f"{len(letters)} letters, {len(digits)} digits from {args.split} writers; reading...")
    res = {"model": str(models.path_for("letters")), "split": args.split, "seed": args.seed,
           "path_model": str(path_model.path) if path_model else None,
           **run(models, letters, digits, args.words, args.seed, path_model)}
    res["wall_time_s"] = round(time.perf_counter() - t0, 1)
    res["headline"] = headline(res)
    print(f"real-pen letters benchmark  model={res['model']}  path model="
          f"{res['path_model']}  split={args.split}")
    print_report(res)
    print(f"\n{res['headline']}\nwall time {res['wall_time_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
