"""The real-pen benchmark: its number composer (hand-made digits, no data needed), its
command line on bad input, and one run on the real test writers (needs HWR_PEN_DIR)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inkshapes import digit

from benchmarks.pen.__main__ import main, run
from benchmarks.pen.numbers import (
    BASELINE_JITTER,
    GAPS,
    ComposedNumber,
    Digit,
    compose_number,
    make_numbers,
    median_height,
)
from hwr_qt.ink import Ink

LABELS = "01247"  # the shapes tests/inkshapes.py can draw


def writer_digits(writer: str, count: int, size: float, x: float = 0.0) -> list[Digit]:
    """``count`` digits of one writer, each a slightly different height (so each sample
    can be recognised in a number by its height) around ``size`` units."""
    return [Digit(LABELS[i % len(LABELS)], writer,
                  Ink(tuple(digit(LABELS[i % len(LABELS)], x=x + 7 * i, y=-3 * i,
                                  scale=size / 100 * (1 + 0.01 * i)))))
            for i in range(count)]


WRITERS = (writer_digits("big", 12, 500.0) + writer_digits("small", 8, 20.0, x=1000)
           + writer_digits("mid", 9, 100.0))


def pieces(number: ComposedNumber) -> list[Ink]:
    """The number's ink cut back into its digits."""
    n = max(number.digit_of_stroke) + 1
    return [Ink(tuple(s for s, d in zip(number.ink.strokes, number.digit_of_stroke,
                                         strict=True) if d == k)) for k in range(n)]


def shape(ink: Ink) -> np.ndarray:
    """Points relative to the box's corner: the same for a moved (not scaled) ink."""
    x0, y0, _, _ = ink.bounds()
    return np.array([(p.x - x0, p.y - y0) for s in ink.strokes for p in s.points])


def test_same_seed_same_numbers_other_seed_others():
    a = make_numbers(WRITERS, 30, np.random.default_rng(5))
    b = make_numbers(WRITERS, 30, np.random.default_rng(5))
    c = make_numbers(WRITERS, 30, np.random.default_rng(6))
    assert [(n.label, n.writer, n.ink, n.gaps) for n in a] == \
        [(n.label, n.writer, n.ink, n.gaps) for n in b]
    assert [n.ink for n in a] != [n.ink for n in c]


def test_each_number_is_one_writers_own_digits_moved_not_scaled():
    by_writer: dict[str, list[Digit]] = {}
    for d in WRITERS:
        by_writer.setdefault(d.writer, []).append(d)
    numbers = make_numbers(WRITERS, 40, np.random.default_rng(0))
    assert {n.writer for n in numbers} == {"big", "small", "mid"}
    for n in numbers:
        assert len(n.label) == 4 and len(pieces(n)) == 4
        own = by_writer[n.writer]
        for label, piece in zip(n.label, pieces(n), strict=True):
            # The piece is one of this writer's samples, with its label, only moved.
            assert any(d.label == label and np.allclose(shape(d.ink), shape(piece))
                       for d in own), (n.writer, label)
        assert n.height == pytest.approx(median_height([d.ink for d in own]))


def test_gaps_and_baseline_follow_the_writers_height():
    numbers = make_numbers(WRITERS, 600, np.random.default_rng(1))
    lo, hi = min(g[1] for g in GAPS), max(g[2] for g in GAPS)
    kinds = np.zeros(len(GAPS))
    for n in numbers:
        boxes = [p.bounds() for p in pieces(n)]
        measured = [(b[0] - a[2]) / n.height for a, b in zip(boxes, boxes[1:], strict=False)]
        assert measured == pytest.approx(list(n.gaps), abs=1e-9)
        assert all(lo <= g <= hi for g in n.gaps)
        for g in n.gaps:
            kinds[next(k for k, (_, a, b) in enumerate(GAPS) if a <= g <= b)] += 1
        # Bottoms share a baseline up to the jitter (5 standard deviations).
        bottoms = np.array([b[3] for b in boxes]) / n.height
        assert np.ptp(bottoms) <= 10 * BASELINE_JITTER
    shares = kinds / kinds.sum()
    assert shares == pytest.approx([g[0] for g in GAPS], abs=0.04)


def test_every_sample_is_used_once_per_pass():
    numbers = make_numbers(WRITERS, 7, np.random.default_rng(2))  # 3 + 2 + 2 per pass
    used = sorted((n.writer, round(p.bounds()[3] - p.bounds()[1], 6))
                  for n in numbers for p in pieces(n))
    assert len(set(used)) == len(used) == 28  # 28 of 29: "mid" keeps one for next pass
    # A second pass starts only when the first is spent.
    assert len(make_numbers(WRITERS, 8, np.random.default_rng(2))) == 8


def test_a_number_is_written_by_one_writer():
    mixed = [WRITERS[0], WRITERS[-1]]
    with pytest.raises(ValueError, match="one writer"):
        compose_number(mixed, 100.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="no writer has 4 digits"):
        make_numbers(writer_digits("few", 3, 50.0), 1, np.random.default_rng(0))


def test_missing_pen_data_is_a_one_line_error(tmp_path, capsys):
    assert main(["--pen-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pen data folder not found" in err


def test_benchmark_on_real_test_writers(pen_data, recognizer):
    from training.pen import DIGIT_FILES, LETTER_FILES, UNLIKE_DIGITS

    digits = pen_data.select(split="test", sources=DIGIT_FILES)
    letters = pen_data.select(split="test", sources=LETTER_FILES, labels=UNLIKE_DIGITS)
    res = run(recognizer, digits, letters, n_numbers=40, seed=3, limit=200)
    assert res == run(recognizer, digits, letters, n_numbers=40, seed=3, limit=200)
    d = res["digits"]
    assert d["overall"]["n"] == 200
    assert sum(s["n"] for s in d["per_source"].values()) == 200
    assert set(d["per_source"]) <= set(DIGIT_FILES)
    for y, row in d["confusion"]["rows"].items():
        assert sum(row.values()) == d["per_class"][y]["n"]
        if d["per_class"][y]["n"]:
            assert row[y] / d["per_class"][y]["n"] == pytest.approx(d["per_class"][y]["top1"])
    assert d["overall"]["top3"] >= d["overall"]["top1"] > 0.5
    assert res["numbers"]["overall"]["n"] == 40
    assert res["letters"]["overall"]["n"] == 200
    assert set(res["letters"]["per_letter"]) <= UNLIKE_DIGITS
    # The composer on real data: test writers only, their own digits at their own size.
    test_writers = {s.writer for s in digits}
    widths: dict[tuple[str, str], list[float]] = {}
    for s in digits:
        widths.setdefault((s.writer, s.label), []).append(s.ink.bounds()[2] - s.ink.bounds()[0])
    for n in make_numbers([Digit(s.label, s.writer, s.ink) for s in digits], 40,
                          np.random.default_rng(0)):
        assert n.writer in test_writers
        for label, p in zip(n.label, pieces(n), strict=True):
            width = p.bounds()[2] - p.bounds()[0]
            assert any(abs(x - width) < 1e-6 * (1 + x) for x in widths[n.writer, label])


def test_command_line_writes_the_figures_the_model_card_reads(pen_dir, tmp_path, capsys):
    out = tmp_path / "pen.json"
    assert main(["--pen-dir", str(pen_dir), "--limit", "60", "--numbers", "12", "--split",
                 "val", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["split"] == "val" and res["headline"] in capsys.readouterr().out
    for key in ("top1", "top3", "more_than_one_char", "rejected", "n"):
        assert key in res["digits"]["overall"]
    assert res["numbers"]["overall"]["n"] == 12 and "exact" in res["numbers"]["overall"]
    assert res["letters"]["overall"]["n"] == 60 and "rejected" in res["letters"]["overall"]
    assert set(res["dropped_as_broken"]) == {"pendigits", "uji_digits", "unipen_digits",
                                             "unipen_upper", "unipen_lower", "omniglot_latin"}
