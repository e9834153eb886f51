"""`hwr-qt learn` and `hwr-qt recognize --profile` on files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwr_qt import cli, learn_cli
from hwr_qt.__main__ import main as entry
from hwr_qt.profile import Profile


def write(path: Path, strokes) -> Path:
    path.write_text(json.dumps({"strokes": strokes}))
    return path


@pytest.fixture
def files(tmp_path, pen_data, recognizer):
    """A validation writer's digit the model reads wrongly or with its runner-up close,
    and a far-away digit of another class."""
    from hwr_qt.pipeline import read_ink

    best = None
    for s in pen_data.select(split="val", sources=["pendigits"])[:400]:
        r = read_ink(recognizer, s.ink, k=2)
        margin = r.top_k[0].probability - r.top_k[1].probability
        if best is None or margin < best[0]:
            best = (margin, s, r.top_k[1].label if r.top_k[0].label == s.label
                    else r.top_k[0].label)
    _, s, other = best
    ink = write(tmp_path / "mine.json", s.ink.to_json()["strokes"])
    return {"ink": ink, "runner_up": other, "label": s.label,
            "zero": write(tmp_path / "zero.json", [[[50, 0], [0, 50], [50, 100], [100, 50],
                                                    [50, 0]]])}


def run(capfd, fn, *args: str):
    rc = fn(list(args))
    out, err = capfd.readouterr()
    return rc, out.splitlines(), err.splitlines()


def label_of(capfd, *args: str) -> str:
    rc, out, err = run(capfd, cli.main, "recognize", "--json", *args)
    assert rc == 0, err
    return json.loads(out[0])["label"]


def test_learn_then_recognize_with_profile(capfd, tmp_path, files):
    profile = tmp_path / "p.json.gz"
    before = label_of(capfd, str(files["ink"]))
    want = files["runner_up"] if before == files["label"] else files["label"]
    rc, out, err = run(capfd, entry, "learn", "--profile", str(profile), "--label", want,
                       str(files["ink"]))
    assert rc == 0 and err == [] and out == [f"learned 1 example of '{want}'; the profile "
                                             f"{profile} holds 1"]
    assert label_of(capfd, "--profile", str(profile), str(files["ink"])) == want
    # Without --profile the CLI reads as before; a far-away shape is unchanged with it.
    assert label_of(capfd, str(files["ink"])) == before
    zero = label_of(capfd, str(files["zero"]))
    assert label_of(capfd, "--profile", str(profile), str(files["zero"])) == zero
    p, _ = Profile.load(profile)
    assert [e.label for e in p.examples] == [want]
    assert p.examples[0].ink.strokes  # the ink itself is kept


def test_bad_label_is_rejected_clearly(capfd, tmp_path, files):
    profile = tmp_path / "p.json.gz"
    rc, out, err = run(capfd, learn_cli.main, "learn", "--profile", str(profile),
                       "--label", "Q", str(files["ink"]))
    assert rc == 2 and out == []
    assert err == ["hwr-qt: error: 'Q' is not one of the model's labels (labels: "
                   "0 1 2 3 4 5 6 7 8 9, or '?' for no character)"]
    assert not profile.exists()


def test_bad_file_is_one_line_and_the_others_are_learned(capfd, tmp_path, files):
    profile = tmp_path / "p.json.gz"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    rc, out, err = run(capfd, learn_cli.main, "learn", "--profile", str(profile),
                       "--label", "?", str(bad), str(files["zero"]),
                       str(tmp_path / "missing.json"))
    assert rc == 1
    assert len(err) == 2 and all(e.startswith("hwr-qt: ") for e in err)
    assert out == [f"learned 1 example of '?'; the profile {profile} holds 1"]
    assert [e.label for e in Profile.load(profile)[0].examples] == ["?"]


def test_recognize_with_missing_or_damaged_profile(capfd, tmp_path, files):
    rc, out, err = run(capfd, cli.main, "recognize", "--profile",
                       str(tmp_path / "none.json.gz"), str(files["zero"]))
    assert rc == 2 and out == [] and len(err) == 1 and "no handwriting profile" in err[0]
    damaged = tmp_path / "d.json.gz"
    damaged.write_bytes(b"\x00garbage")
    rc, out, err = run(capfd, cli.main, "recognize", "--profile", str(damaged),
                       str(files["zero"]))
    assert rc == 0 and len(out) == 1  # read without examples, the damage reported once
    assert len(err) == 1 and "damaged" in err[0] and "moved aside" in err[0]
    assert list(tmp_path.glob("d.json.gz.damaged-*"))


def test_learn_needs_profile_and_label(capfd, files):
    rc, _, err = run(capfd, learn_cli.main, "learn", str(files["zero"]))
    assert rc == 2 and any("--profile" in e for e in err)
