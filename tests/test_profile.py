"""The handwriting profile store: round trip, atomic writes, damage, other models, cap."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from hwr_qt import profile as profile_mod
from hwr_qt.ink import Ink
from hwr_qt.profile import MAX_EXAMPLES, Profile, ProfileError, read_examples

SEVEN = Ink.from_json({"strokes": [[[0, 0], [60, 0], [20, 100]]]})
ONE = Ink.from_json({"strokes": [[[30, 0], [30.123456, 100, 0.5]]]})


def feats(seed: int, d: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).random(d).astype(np.float32)


def test_round_trip(tmp_path):
    p = Profile(tmp_path / "p.json.gz")
    p.add_example(SEVEN, "7", feats(1), "model-a", when=100.0)
    p.add_example(ONE, "?", None, "model-a", when=200.0)
    p.add_example(Ink(), "4", feats(2), "model-a", when=300.0,
                  image=np.full((28, 28), 0.5, np.float32))
    p.save()
    q, message = Profile.load(tmp_path / "p.json.gz")
    assert message is None
    assert [(e.label, e.time, e.model_id) for e in q.examples] == \
        [("7", 100.0, "model-a"), ("?", 200.0, "model-a"), ("4", 300.0, "model-a")]
    assert q.examples[0].ink == SEVEN
    # Coordinates are kept to 2 decimals; pressure survives.
    assert q.examples[1].ink.strokes[0].points[1][:2] == (30.12, 100.0)
    np.testing.assert_allclose(q.examples[0].features, feats(1), rtol=1e-3)  # float16
    assert q.examples[1].features is None
    assert q.examples[2].image is not None and q.examples[2].image[0, 0] == 128
    f, labels = q.features_for("model-a")
    assert labels == ["7", "4"] and f.shape == (2, 8)
    assert q.features_for("model-b")[1] == []


def test_file_is_versioned_gzip_json(tmp_path):
    p = Profile(tmp_path / "p.json.gz")
    p.add_example(SEVEN, "7", feats(1), "m")
    p.save()
    data = json.loads(gzip.decompress((tmp_path / "p.json.gz").read_bytes()))
    assert data["format"] == "hwr-qt-profile" and data["version"] == 1
    assert data["examples"][0]["strokes"] == [[[0, 0], [60, 0], [20, 100]]]


def test_missing_file_is_an_empty_profile(tmp_path):
    p, message = Profile.load(tmp_path / "none.json.gz")
    assert len(p) == 0 and message is None


@pytest.mark.parametrize("content", [b"garbage", b"\x1f\x8b\x08 broken gzip",
                                     json.dumps({"format": "other"}).encode(),
                                     json.dumps({"format": "hwr-qt-profile", "version": 99,
                                                 "examples": []}).encode(),
                                     json.dumps({"format": "hwr-qt-profile", "version": 1,
                                                 "examples": [{"label": 7}]}).encode()])
def test_damaged_file_is_moved_aside_with_one_line(tmp_path, content):
    path = tmp_path / "p.json.gz"
    path.write_bytes(content)
    p, message = Profile.load(path)
    assert len(p) == 0
    assert message is not None and "\n" not in message and "damaged" in message
    aside = list(tmp_path.glob("p.json.gz.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content  # nothing lost
    assert not path.exists()
    p.add_example(SEVEN, "7", feats(1), "m")
    p.save()  # starts afresh at the same place
    assert len(Profile.load(path)[0]) == 1


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.json.gz"
    p = Profile(path)
    p.add_example(SEVEN, "7", feats(1), "m")
    p.save()
    before = path.read_bytes()
    p.add_example(ONE, "1", feats(2), "m")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(profile_mod.os, "replace", fail)  # dies before the rename
    with pytest.raises(ProfileError, match="No space left"):
        p.save()
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["p.json.gz"]  # no temp file left
    monkeypatch.undo()
    p.save()
    assert len(read_examples(path)) == 2


def test_cap_drops_oldest_first(tmp_path):
    p = Profile(tmp_path / "p.json.gz", max_examples=5)
    for i in range(8):
        p.add_example(SEVEN, str(i), feats(i), "m", when=float(i))
    assert [e.label for e in p.examples] == ["3", "4", "5", "6", "7"]
    assert MAX_EXAMPLES == 2000


def test_thousand_examples_fit_in_2_mb(tmp_path):
    rng = np.random.default_rng(0)
    p = Profile(tmp_path / "p.json.gz")
    for i in range(1000):  # pen-like ink: 3 strokes of 40 points in tablet units
        ink = Ink.from_json({"strokes": [(rng.random((40, 2)) * 500).tolist()
                                         for _ in range(3)]})
        p.add_example(ink, str(i % 10), rng.random(128), "m")
    p.save()
    assert (tmp_path / "p.json.gz").stat().st_size <= 2_000_000


def test_margin_round_trip_and_older_files(tmp_path):
    p = Profile(tmp_path / "p.json.gz")
    p.add_example(SEVEN, "7", feats(1), "m", margin=2.5)
    p.add_example(ONE, "?", feats(2), "m")
    p.save()
    q, _ = Profile.load(tmp_path / "p.json.gz")
    assert q.margins_for("m") == [2.5, None]
    data = json.loads(gzip.decompress((tmp_path / "p.json.gz").read_bytes()))
    del data["examples"][0]["margin"]  # a file written before margins: still read
    (tmp_path / "old.json.gz").write_bytes(gzip.compress(json.dumps(data).encode()))
    assert [e.margin for e in read_examples(tmp_path / "old.json.gz")] == [None, None]
    data["examples"][0]["margin"] = -1
    (tmp_path / "bad.json.gz").write_bytes(gzip.compress(json.dumps(data).encode()))
    with pytest.raises(ProfileError, match="example 1: bad margin -1"):
        read_examples(tmp_path / "bad.json.gz")


def test_foreign_model_examples_are_reembedded_or_set_aside(tmp_path):
    p = Profile(tmp_path / "p.json.gz")
    p.add_example(SEVEN, "7", feats(1), "old-model")
    p.add_example(ONE, "1", feats(2), "old-model")
    p.add_example(Ink(), "1", None, "old-model")  # cannot be re-embedded
    assert p.set_aside("new-model") == 3
    assert p.features_for("new-model")[1] == []

    def embed(e):
        if e.ink.is_empty:
            raise ValueError("no ink")
        return np.ones(4) * len(e.ink.strokes[0].points)

    rev = p.revision
    done, failed = p.reembed("new-model", embed)
    assert (done, failed) == (2, 1) and p.revision > rev
    f, labels = p.features_for("new-model")
    assert labels == ["7", "1"] and f[0, 0] == 3 and f[1, 0] == 2
    assert p.set_aside("new-model") == 1
    assert len(p) == 3  # set aside, not deleted
    p.add_example(SEVEN, "7", feats(1), "old-model", margin=9.0)
    assert p.reembed("new-model", lambda e: (np.ones(4), 0.5),
                     lambda e: e.margin is not None) == (1, 0)
    assert p.margins_for("new-model") == [None, None, 0.5]  # the new model's margin


def test_remove_clear_export_import(tmp_path):
    p = Profile(tmp_path / "a.json.gz")
    p.add_example(SEVEN, "7", feats(1), "m", when=1.0)
    p.add_example(ONE, "1", feats(2), "m", when=2.0)
    assert p.remove(0).label == "7" and [e.label for e in p.examples] == ["1"]
    out = p.export(tmp_path / "exported.json.gz")
    q = Profile(tmp_path / "b.json.gz")
    q.add_example(SEVEN, "7", feats(3), "m", when=0.5)
    assert q.import_(out) == 1
    assert q.import_(out) == 0  # the same examples twice are not doubled
    assert [e.label for e in q.examples] == ["7", "1"]
    q.clear()
    assert len(q) == 0
    with pytest.raises(ProfileError):
        q.import_(tmp_path / "missing.json.gz")


def test_unwritable_place_is_a_profile_error(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    p = Profile(tmp_path / "a_file" / "p.json.gz")
    p.add_example(SEVEN, "7", feats(1), "m")
    with pytest.raises(ProfileError, match="cannot save"):
        p.save()
