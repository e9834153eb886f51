"""The real-pen loader (good and broken records), the writer-disjoint split, and the
pen-like augmentation that training applies to it."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from hwr_qt.ink import Ink
from hwr_qt.raster import render_ink
from training.pen import (
    DIGIT_FILES,
    LETTER_FILES,
    UNLIKE_DIGITS,
    PenDataError,
    load_file,
    load_pen,
    parse_record,
    writer_split,
)
from training.penaug import STYLES, pen_restyle, styled, touching_pair

GOOD = {"label": "7", "writer": "w/1", "set": "all",
        "strokes": [[[0, 0], [10, 0], [4, 20]], [[2, 10], [8, 10]]]}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_parse_good_record():
    label, writer, src_set, ink = parse_record(json.dumps(GOOD), "f:1")
    assert (label, writer, src_set) == ("7", "w/1", "all")
    assert len(ink.strokes) == 2 and ink.point_count == 5


@pytest.mark.parametrize("change, message", [
    ({"label": "77"}, "'label' must be one letter or digit"),
    ({"label": 7}, "'label'"),
    ({"writer": ""}, "'writer'"),
    ({"set": "dev"}, "'set' must be train, test or all"),
    ({"strokes": "x"}, "must be a list"),
    ({"strokes": [[[0, "a"]]]}, "coordinates must be numbers"),
    ({"strokes": []}, "no points"),
])
def test_parse_broken_record_names_the_line(change, message):
    with pytest.raises(PenDataError, match=message) as e:
        parse_record(json.dumps(GOOD | change), "digits.jsonl.gz:12")
    assert str(e.value).startswith("digits.jsonl.gz:12: ")


def test_parse_rejects_non_json_and_non_objects():
    with pytest.raises(PenDataError, match="f:3: not JSON"):
        parse_record("{oops", "f:3")
    with pytest.raises(PenDataError, match="expected a JSON object"):
        parse_record("[1, 2]", "f:3")


def test_load_file_drops_plainly_broken_and_counts_them(tmp_path):
    word = GOOD | {"strokes": [[[0, 0], [100, 5], [200, 0], [300, 4]]]}  # a word, not a char
    tap = GOOD | {"strokes": [[[5, 5]]]}
    path = write_jsonl(tmp_path / "x_digits.jsonl.gz",
                       [json.dumps(GOOD), json.dumps(word), "", json.dumps(tap)])
    samples, dropped = load_file(path)
    assert dropped == 2 and len(samples) == 1
    assert samples[0].source == "x_digits" and samples[0].label == "7"


def test_load_file_reports_damaged_gzip(tmp_path):
    path = tmp_path / "bad.jsonl.gz"
    full = gzip.compress((json.dumps(GOOD) + "\n").encode() * 5000)
    path.write_bytes(full[:len(full) // 2])  # truncated mid-stream
    with pytest.raises(PenDataError, match="bad.jsonl.gz: cannot read"):
        load_file(path)


def test_load_pen_needs_folder_and_files(tmp_path, monkeypatch):
    monkeypatch.delenv("HWR_PEN_DIR", raising=False)
    with pytest.raises(PenDataError, match="HWR_PEN_DIR"):
        load_pen()
    with pytest.raises(PenDataError, match="not found"):
        load_pen(tmp_path / "nowhere")
    with pytest.raises(PenDataError, match="missing pen data file"):
        load_pen(tmp_path, files=("pendigits",))


def test_writer_split_is_fixed_and_by_writer():
    # pendigits' own test writers stay test; its training writers never become test.
    assert writer_split("pendigits/test-3", "test") == "test"
    assert {writer_split(f"pendigits/train-{i}", "train") for i in range(200)} == {"train", "val"}
    splits = [writer_split(f"unipen/x/{i}", "all") for i in range(4000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert abs(share["test"] - 0.25) < 0.03 and abs(share["val"] - 0.15) < 0.03
    assert splits == [writer_split(f"unipen/x/{i}", "all") for i in range(4000)]


def test_real_pen_splits_are_writer_disjoint(pen_data):
    splits_of = defaultdict(set)
    for s in pen_data.samples:
        splits_of[s.writer].add(s.split)
    assert all(len(v) == 1 for v in splits_of.values())
    summary = pen_data.summary()
    assert set(summary) == set(DIGIT_FILES + LETTER_FILES)
    for source in DIGIT_FILES:
        assert summary[source].get("test", 0) > 200 and summary[source].get("train", 0) > 500
    assert summary["pendigits"]["test"] == 3498  # the source's own 14 test writers
    # Digits and letters of one UNIPEN session fall into the same split.
    by_writer = defaultdict(set)
    for s in pen_data.samples:
        if s.writer.startswith("unipen/"):
            by_writer[s.writer].add(s.source)
    assert any(len(v) > 1 for v in by_writer.values())


def test_real_pen_letters_unlike_digits_exist_for_every_split(pen_data):
    for split in ("train", "val", "test"):
        letters = {s.label for s in pen_data.select(split=split, sources=LETTER_FILES,
                                                    labels=UNLIKE_DIGITS)}
        assert letters == set(UNLIKE_DIGITS)


SEVEN = Ink.from_points([[[0, 0], [30, 0], [12, 50]]])


def test_pen_restyle_keeps_a_drawable_character_and_is_seeded():
    a = pen_restyle(SEVEN, np.random.default_rng(5))
    b = pen_restyle(SEVEN, np.random.default_rng(5))
    assert a == b and not a.is_empty
    x = render_ink(a)
    assert x.shape == (28, 28) and x.max() > 0.5
    # A restyle changes the drawing, but not beyond recognition: the rendered images
    # stay correlated with the original.
    base = render_ink(SEVEN).ravel()
    corr = [np.corrcoef(base, render_ink(pen_restyle(SEVEN, np.random.default_rng(i)))
                        .ravel())[0, 1] for i in range(20)]
    assert np.median(corr) > 0.4 and min(corr) < 0.99


def test_touching_pair_sets_two_digits_side_by_side_at_one_height():
    one = Ink.from_points([[[5, 0], [5, 40]]])  # a "1", 40 tall
    seven = SEVEN  # 30 wide, 50 tall
    for seed in range(30):
        pair = touching_pair(one, seven, np.random.default_rng(seed))
        assert len(pair.strokes) == 2
        a, b = (s.bounds() for s in pair.strokes)
        assert a[3] - a[1] == pytest.approx(100) and b[3] - b[1] == pytest.approx(100)
        gap = b[0] - a[2]  # the 7 starts where the 1 ends, give or take a touch
        assert -12.0 - 1e-9 <= gap <= 10.0 + 1e-9
        assert abs((b[1] + b[3]) / 2 - (a[1] + a[3]) / 2) < 30  # one baseline, jittered


@pytest.mark.parametrize("label", sorted(STYLES))
def test_styles_add_ink_or_draw_the_digit(label):
    base = Ink.from_points([[[10, 0], [10, 50]]]) if label == "1" else \
        Ink.from_points([[[0, 0], [30, 0], [30, 50], [0, 50], [0, 0]]])
    ink = styled(label, base, np.random.default_rng(1))
    assert not ink.is_empty
    if label in "017":  # drawn onto the real sample: one more stroke or a longer one
        assert ink.point_count > base.point_count
    assert render_ink(ink).max() > 0.5
