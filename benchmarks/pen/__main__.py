"""Real-pen benchmark: ``python -m benchmarks.pen [--pen-dir DIR] [--model PATH]
[--split test|val] [--numbers N] [--limit N] [--seed S] [--json OUT]``.

Every ink goes through ``hwr_qt.pipeline.read_number``, the path of the GUI and of
``hwr-qt recognize file.json`` in their default mode, and only the chosen split's writers
are used (``test`` by default; ``val`` is for tuning, never ``test``).

- Single digits (pendigits, uji_digits, unipen_digits): top-1 = read as exactly one
  character, not rejected, the right digit. top-3 = exactly one character read and the
  digit among its top 3 (whether or not it was rejected: the top-k bars still show it).
  Also the share read as more than one character, the share rejected (the one character
  read as "?"), per source, per class and a confusion matrix.
- 4-digit numbers from one test writer's own digits (``benchmarks.pen.numbers``): exact
  match and right digit count.
- Real pen letters unlike digits (``training.pen.UNLIKE_DIGITS``): a letter counts as
  rejected when the reading shows a "?" anywhere (any of its characters rejected): what
  the user sees is then "not a number", not a confident digit. The stricter share (every
  character rejected) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from benchmarks import pathmodel  # noqa: E402
from benchmarks.pen.numbers import Digit, make_numbers  # noqa: E402
from benchmarks.report import table  # noqa: E402
from hwr_qt import pipeline  # noqa: E402
from hwr_qt.ink import Ink  # noqa: E402
from hwr_qt.pipeline import REJECTED_LABEL, NumberReading  # noqa: E402
from hwr_qt.recognizer import ModelError, Recognizer  # noqa: E402
from hwr_qt.resources import default_model_path  # noqa: E402
from hwr_qt.trajectory import TrajectoryModel  # noqa: E402
from training.pen import (  # noqa: E402
    DIGIT_FILES,
    LETTER_FILES,
    UNLIKE_DIGITS,
    PenDataError,
    PenSample,
    load_pen,
)

DEFINITIONS = {
    "top1": "read as exactly one character, not rejected, the right digit",
    "top3": "exactly one character read and the digit among its top 3",
    "more_than_one_char": "the drawing of one digit read as several characters",
    "rejected": "read as one character, rejected as not a digit ('?')",
    "numbers": "4 digits of one writer as written (own scale), gaps and baseline jitter "
               "relative to the writer's median digit height; exact = every digit right",
    "letters_rejected": "a '?' anywhere in the reading of a letter unlike digits",
}
DIGIT_LABELS = [str(d) for d in range(10)]
MULTI = ">1"  # confusion-matrix column: read as more than one character
COLUMNS = [*DIGIT_LABELS, REJECTED_LABEL, MULTI]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- scoring -------------------------------------------------------------------------

@dataclass(frozen=True)
class DigitOutcome:
    label: str
    source: str
    text: str  # as read, "?" for a rejected character
    top3: tuple[str, ...]  # of the character when exactly one was read, else ()

    @property
    def chars(self) -> int:
        return len(self.text)

    @property
    def column(self) -> str:
        """Confusion-matrix column: the digit read, "?" or ">1"."""
        return self.text if self.chars == 1 else MULTI


def digit_outcome(s: PenSample, r: NumberReading) -> DigitOutcome:
    top3 = tuple(p.label for p in r.chars[0].reading.top_k[:3]) if len(r.chars) == 1 else ()
    return DigitOutcome(s.label, s.source, r.text, top3)


def share(flags: Sequence[bool]) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def digit_stats(outs: Sequence[DigitOutcome]) -> dict:
    return {
        "n": len(outs),
        "top1": share([o.text == o.label for o in outs]),
        "top3": share([o.label in o.top3 for o in outs]),
        "more_than_one_char": share([o.chars > 1 for o in outs]),
        "rejected": share([o.text == REJECTED_LABEL for o in outs]),
    }


def score_digits(outs: Sequence[DigitOutcome]) -> dict:
    sources = sorted({o.source for o in outs})
    confusion = {y: dict.fromkeys(COLUMNS, 0) for y in DIGIT_LABELS}
    for o in outs:
        confusion[o.label][o.column] += 1
    return {
        "overall": digit_stats(outs),
        "per_source": {s: digit_stats([o for o in outs if o.source == s]) for s in sources},
        "per_class": {y: digit_stats([o for o in outs if o.label == y]) for y in DIGIT_LABELS},
        "confusion": {"columns": COLUMNS, "rows": confusion},
        "misread_as_several": dict(Counter(f"{o.label}->{o.text}" for o in outs
                                           if o.chars > 1).most_common(15)),
    }


def gap_kind(gaps: Sequence[float]) -> str:
    """The tightest gap of a number: how hard it is to segment."""
    g = min(gaps)
    return "touching (<3 %)" if g < 0.03 else "usual (3-35 %)" if g < 0.35 else "wide"


def score_numbers(rows: Sequence[tuple[str, str, str, Sequence[float]]]) -> dict:
    """rows: (label, text read, source, gaps)."""
    def stats(sel: Sequence[tuple[str, str, str, Sequence[float]]]) -> dict:
        return {"n": len(sel), "exact": share([t == y for y, t, _, _ in sel]),
                "digit_count_right": share([len(t) == len(y) for y, t, _, _ in sel])}

    return {
        "overall": stats(rows),
        "per_source": {s: stats([r for r in rows if r[2] == s])
                       for s in sorted({r[2] for r in rows})},
        "per_tightest_gap": {k: stats([r for r in rows if gap_kind(r[3]) == k])
                             for k in sorted({gap_kind(r[3]) for r in rows})},
    }


def score_letters(rows: Sequence[tuple[str, str, NumberReading]]) -> dict:
    """rows: (label, source, reading)."""
    def stats(sel: Sequence[tuple[str, str, NumberReading]]) -> dict:
        return {"n": len(sel), "rejected": share([r.rejected for _, _, r in sel]),
                "all_chars_rejected": share([all(c.reading.rejected for c in r.chars)
                                             for _, _, r in sel])}

    return {
        "overall": stats(rows),
        "per_source": {s: stats([r for r in rows if r[1] == s])
                       for s in sorted({r[1] for r in rows})},
        "per_letter": {y: stats([r for r in rows if r[0] == y])
                       for y in sorted({r[0] for r in rows})},
        "read_as_digits": dict(Counter(r.text for _, _, r in rows
                                       if not r.rejected).most_common(10)),
    }


# --- report --------------------------------------------------------------------------

def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


def headline(res: dict) -> str:
    d, n, lt = res["digits"]["overall"], res["numbers"]["overall"], res["letters"]["overall"]
    return (f"real pen, {res['split']} writers: digits top-1 {pct(d['top1'])} % "
            f"(top-3 {pct(d['top3'])} %, >1 char {pct(d['more_than_one_char'])} %, "
            f"rejected {pct(d['rejected'])} %); 4-digit numbers exact {pct(n['exact'])} %; "
            f"letters rejected {pct(lt['rejected'])} %")


def print_report(res: dict) -> None:
    dig = res["digits"]
    head = ["", "n", "top-1 %", "top-3 %", ">1 char %", "rejected %"]

    def drow(name: str, s: dict) -> list[str]:
        return [name, str(s["n"]), pct(s["top1"]), pct(s["top3"]),
                pct(s["more_than_one_char"]), pct(s["rejected"])]

    table("Single digits", head, [drow("all", dig["overall"])]
          + [drow(k, v) for k, v in dig["per_source"].items()])
    table("Single digits per class", head, [drow(k, v) for k, v in dig["per_class"].items()])
    conf = dig["confusion"]
    table("Confusion (rows: true digit; columns: read as)", ["", *conf["columns"]],
          [[y, *(str(row[c]) for c in conf["columns"])] for y, row in conf["rows"].items()])
    if dig["misread_as_several"]:
        print("most frequent multi-character readings: " + ", ".join(
            f"{k} ({v})" for k, v in dig["misread_as_several"].items()))

    num = res["numbers"]
    nhead = ["", "n", "exact %", "digit count right %"]

    def nrow(name: str, s: dict) -> list[str]:
        return [name, str(s["n"]), pct(s["exact"]), pct(s["digit_count_right"])]

    table(f"4-digit numbers (one writer's own digits; seed {res['seed']})", nhead,
          [nrow("all", num["overall"])] + [nrow(k, v) for k, v in num["per_source"].items()]
          + [nrow(f"tightest gap {k}", v) for k, v in num["per_tightest_gap"].items()])

    let = res["letters"]
    lhead = ["", "n", "rejected %", "every char rejected %"]

    def lrow(name: str, s: dict) -> list[str]:
        return [name, str(s["n"]), pct(s["rejected"]), pct(s["all_chars_rejected"])]

    table("Letters unlike digits (rejected: a '?' anywhere in the reading)", lhead,
          [lrow("all", let["overall"])] + [lrow(k, v) for k, v in let["per_source"].items()]
          + [lrow(k, v) for k, v in let["per_letter"].items()])
    if let["read_as_digits"]:
        print("most frequent digit readings of letters: " + ", ".join(
            f"{k} ({v})" for k, v in let["read_as_digits"].items()))


# --- main ----------------------------------------------------------------------------

def subset(items: list, limit: int | None, rng: np.random.Generator) -> list:
    if limit is None or limit >= len(items):
        return items
    return [items[int(i)] for i in sorted(rng.choice(len(items), limit, replace=False))]


def run(rec: Recognizer, digits: list[PenSample], letters: list[PenSample], n_numbers: int,
        seed: int, limit: int | None = None, path_model: TrajectoryModel | None = None
        ) -> dict:
    """Read everything and score it; the dict that ``--json`` writes (without timing)."""

    def read_number(classifier: Recognizer, ink: Ink) -> NumberReading:
        return pipeline.read_number(classifier, ink, path_model=path_model)

    s_digits, s_numbers, s_letters = np.random.SeedSequence(seed).spawn(3)
    picked = subset(digits, limit, np.random.default_rng(s_digits))
    outs = [digit_outcome(s, read_number(rec, s.ink)) for s in picked]
    source_of = {s.writer: s.source for s in digits}
    numbers = make_numbers([Digit(s.label, s.writer, s.ink) for s in digits], n_numbers,
                           np.random.default_rng(s_numbers)) if n_numbers else []
    num_rows = [(n.label, read_number(rec, n.ink).text, source_of[n.writer], n.gaps)
                for n in numbers]
    let_rows = [(s.label, s.source, read_number(rec, s.ink))
                for s in subset(letters, limit, np.random.default_rng(s_letters))]
    return {"digits": score_digits(outs), "numbers": score_numbers(num_rows),
            "letters": score_letters(let_rows)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pen",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--pen-dir", default=None, help="pen data folder (default: $HWR_PEN_DIR)")
    ap.add_argument("--model", default=None, help="ONNX model (default: the bundled one)")
    ap.add_argument("--split", choices=("test", "val"), default="test",
                    help="whose writers: test (default, the headline) or val (for tuning)")
    ap.add_argument("--numbers", type=int, default=1000, help="4-digit numbers to compose")
    ap.add_argument("--limit", type=int, default=None,
                    help="at most N digits and N letters (seeded subset; quick runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="OUT", default=None, help="also write the figures here")
    pathmodel.add_arguments(ap)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        model = Path(args.model) if args.model else default_model_path()
        rec = Recognizer(model)
        path_model = pathmodel.load(args)
        digit_data = load_pen(args.pen_dir, files=DIGIT_FILES)
        letter_data = load_pen(args.pen_dir, files=LETTER_FILES)
    except (ModelError, PenDataError) as e:
        log(f"error: {e}")
        return 2
    digits = digit_data.select(split=args.split)
    letters = letter_data.select(split=args.split, labels=UNLIKE_DIGITS)
    log(f"{len(digits)} digits, {len(letters)} letters from {args.split} writers; reading...")
    res = {"model": str(model), "split": args.split, "seed": args.seed,
           "path_model": str(path_model.path) if path_model else None,
           "definitions": DEFINITIONS,
           "dropped_as_broken": {**digit_data.dropped, **letter_data.dropped},
           **run(rec, digits, letters, args.numbers, args.seed, args.limit, path_model)}
    res["wall_time_s"] = round(time.perf_counter() - t0, 1)
    res["headline"] = headline(res)
    print(f"real-pen benchmark  model={model}  path model={res['path_model']}  "
          f"split={args.split}  seed={args.seed}")
    print_report(res)
    print(f"\n{res['headline']}\nwall time {res['wall_time_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
