"""The pen's path as a second opinion (hwr_qt.trajectory): its features, ``mix``, the
bundled path model and its errors, how the pipeline, the command line and the window join
it with the image model, and its accuracy on the real pen writers (needs HWR_PEN_DIR)."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from inkshapes import OPEN_FOUR, digit

from guihelpers import drag, line
from hwr_qt import cli, models
from hwr_qt.classifier import ModelInfo, Scores
from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.models import PATH_MODEL_FILE, ModelSet
from hwr_qt.pipeline import Reading, read_ink, read_inputs, read_number, with_path
from hwr_qt.raster import render_ink
from hwr_qt.recognizer import ModelError
from hwr_qt.resources import resource_path
from hwr_qt.trajectory import (
    CHANNELS,
    FEATURES_VERSION,
    POINTS,
    TrajectoryModel,
    mix,
    mix_reject,
    restrict,
    trajectory_batch,
    trajectory_features,
)

DIGITS = tuple("0123456789")
REPO = Path(__file__).resolve().parent.parent
SEVEN = REPO / "resources" / "samples" / "seven.json"  # a two-stroke 7 both models read
PATH_TEST_ACCURACY = 0.98  # the path model alone, real pen test writers (card: 99.3 %)


def ink_of(*strokes: list[tuple[float, float]]) -> Ink:
    return Ink(tuple(Stroke(tuple(Point(x, y) for x, y in s)) for s in strokes))


def shape(label: str) -> Ink:
    return Ink(tuple(digit(label)))


def reversed_strokes(ink: Ink) -> Ink:
    return Ink(tuple(Stroke(s.points[::-1]) for s in ink.strokes))


@pytest.fixture(scope="module")
def path_model() -> TrajectoryModel:
    path = resource_path(PATH_MODEL_FILE)
    assert path.is_file(), f"the bundled path model is missing: {path}"
    return TrajectoryModel(path)


class FakePath:
    """A path model certain of one label for every ink (``weight``: the image's share)."""

    def __init__(self, certain: str = "3", weight: float = 0.0,
                 labels: tuple[str, ...] = DIGITS) -> None:
        self.labels, self.weight, self.certain = labels, weight, certain
        self.reject: float | None = None  # P(not a digit) it answers, if it has a reject output
        self.calls = 0

    def columns(self, labels) -> np.ndarray | None:
        if any(lab not in self.labels for lab in labels):
            return None
        return np.array([self.labels.index(lab) for lab in labels], np.intp)

    def serves(self, labels) -> bool:
        return self.columns(labels) is not None

    def full(self, inks) -> np.ndarray:
        p = np.zeros((len(inks), len(self.labels)), np.float32)
        p[:, self.labels.index(self.certain)] = 1.0
        return p

    def scores(self, inks, labels=None) -> tuple[np.ndarray, np.ndarray | None]:
        self.calls += 1
        p = self.full(inks)
        if labels is not None:  # as TrajectoryModel.scores does
            p = restrict(p, self.columns(labels))
        return p, self.reject if self.reject is None else np.full(len(inks), self.reject)

    def probabilities(self, inks) -> np.ndarray:
        return self.scores(inks)[0]


class FromProfile:
    """A classifier whose every answer came from the user's own examples."""

    def __init__(self, inner) -> None:
        self.inner = inner

    @property
    def info(self) -> ModelInfo:
        return self.inner.info

    def classify(self, images: np.ndarray) -> Scores:
        s = self.inner.classify(images)
        return replace(s, from_profile=np.ones(len(images), bool))


def readings_of(number) -> list[tuple[str, list[float], float | None, bool]]:
    return [(c.label, c.reading.probabilities.tolist(), c.reading.reject,
             c.reading.from_profile) for c in number.chars]


def damage(path: Path) -> Path:
    path.write_bytes(b"this is not an onnx model\x00\xff" * 40)
    return path


@pytest.fixture
def damaged_path_model(tmp_path, monkeypatch) -> Path:
    """The bundled path model resolves to a damaged file; every other resource as before."""
    bad = damage(tmp_path / "trajectory.onnx")
    real = models.resource_path

    def resolve(relpath: str) -> Path:
        return bad if relpath == PATH_MODEL_FILE else real(relpath)

    monkeypatch.setattr(models, "resource_path", resolve)
    return bad


# --- trajectory_features ------------------------------------------------------------------

def test_features_shape_and_type():
    f = trajectory_features(shape("4"))
    assert f.shape == (POINTS, CHANNELS) == (64, 5) and f.dtype == np.float32
    assert np.isfinite(f).all()
    assert trajectory_features(shape("4"), points=16).shape == (16, CHANNELS)
    batch = trajectory_batch([shape("1"), shape("7")])
    assert batch.shape == (2, POINTS, CHANNELS) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[1], trajectory_features(shape("7")))


@pytest.mark.parametrize("label", ["0", "1", "2", "4", "7"])
def test_coordinates_are_centred_and_scaled_by_the_longer_side(label):
    f = trajectory_features(shape(label))
    xy = f[:, :2]
    assert np.abs(xy).max() <= 0.5 + 1e-6
    # The longer side spans 1, centred on 0 (up to where the samples fall on the path).
    assert max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) == pytest.approx(1.0, abs=0.02)
    assert xy.max(axis=0) + xy.min(axis=0) == pytest.approx([0, 0], abs=0.02)


def test_a_thin_one_stays_thin_and_a_wide_bar_wide():
    one = trajectory_features(shape("1"))  # 4 wide, 100 high
    assert np.ptp(one[:, 0]) == pytest.approx(0.04, abs=1e-5)
    assert np.ptp(one[:, 1]) == pytest.approx(1.0, abs=1e-5)
    bar = trajectory_features(ink_of(line(0, 50, 300, 60)))  # 300 wide, 10 high
    assert np.ptp(bar[:, 0]) == pytest.approx(1.0, abs=1e-5)
    assert np.ptp(bar[:, 1]) == pytest.approx(10 / 300, abs=1e-5)


def test_moving_and_scaling_the_ink_changes_nothing():
    ink = shape("4")
    moved = Ink(tuple(Stroke(tuple(Point(3 * p.x + 500, 3 * p.y - 70) for p in s.points))
                      for s in ink.strokes))
    np.testing.assert_allclose(trajectory_features(moved), trajectory_features(ink),
                               atol=1e-5)


def test_pen_up_is_set_only_on_the_jump_between_strokes():
    ink = Ink(tuple(OPEN_FOUR))
    f = trajectory_features(ink)
    up = f[:, 4]
    assert set(np.unique(up)) == {0.0, 1.0}
    lifted = np.flatnonzero(up)
    assert 1 <= len(lifted) < POINTS // 4  # a jump counts for less than ink
    assert np.array_equal(lifted, np.arange(lifted[0], lifted[-1] + 1))  # one run
    # The jump, in the features' coordinates: from the L's end to the stem's top.
    pts = np.array([p[:2] for s in ink.strokes for p in s.points])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    a, b = ((np.array(p[:2]) - (lo + hi) / 2) / (hi - lo).max()
            for p in (ink.strokes[0].points[-1], ink.strokes[1].points[0]))
    d = (b - a) / np.linalg.norm(b - a)
    for xy, direction in zip(f[lifted, :2], f[lifted, 2:4], strict=True):
        s = float(np.dot(xy - a, d))
        assert -1e-6 <= s <= np.linalg.norm(b - a) + 1e-6
        assert np.linalg.norm(xy - (a + s * d)) < 1e-5  # on the segment
        np.testing.assert_allclose(direction, d, atol=1e-5)  # going along it
    # Every other point lies on ink: its direction is a stroke's, not the jump's.
    others = np.delete(f[:, 2:4], lifted, axis=0)
    assert not np.any(np.all(np.abs(others - d) < 1e-4, axis=1))


@pytest.mark.parametrize("label", ["0", "1", "2", "7"])
def test_one_stroke_has_no_pen_up(label):
    assert len(shape(label).strokes) == 1
    assert not trajectory_features(shape(label))[:, 4].any()


@pytest.mark.parametrize("label", ["0", "1", "2", "4", "7"])
def test_directions_are_unit_vectors(label):
    d = trajectory_features(shape(label))[:, 2:4]
    np.testing.assert_allclose(np.hypot(d[:, 0], d[:, 1]), 1.0, atol=1e-5)


def test_a_stroke_drawn_upwards_is_not_one_drawn_downwards():
    down = trajectory_features(shape("1"))  # top to bottom (y grows downwards)
    up = trajectory_features(reversed_strokes(shape("1")))
    assert (down[:, 3] > 0.99).all() and (up[:, 3] < -0.99).all()
    np.testing.assert_allclose(up[:, :2], down[::-1, :2], atol=1e-5)  # the same line...
    np.testing.assert_allclose(up[:, 2:4], -down[:, 2:4], atol=1e-5)  # ...the other way
    assert not np.allclose(up, down, atol=0.1)


def test_a_curved_stroke_reversed_flips_its_directions():
    fwd = trajectory_features(shape("2"))
    back = trajectory_features(reversed_strokes(shape("2")))
    np.testing.assert_allclose(back[:, :2], fwd[::-1, :2], atol=0.02)
    # Point by point along the path, the direction of travel points the other way.
    cos = np.sum(back[:, 2:4] * fwd[::-1, 2:4], axis=1)
    assert np.median(cos) < -0.99


@pytest.mark.parametrize("points", [1, 5])
def test_a_dot_gives_constant_coordinates(points):
    f = trajectory_features(ink_of([(40.0, 70.0)] * points))
    assert f.shape == (POINTS, CHANNELS)
    assert np.isfinite(f).all()
    assert (f[:, :2] == f[0, :2]).all()
    np.testing.assert_allclose(f[0, :2], 0.0, atol=1e-6)
    assert not f[:, 4].any()


def test_an_empty_ink_is_a_value_error():
    with pytest.raises(ValueError, match="empty"):
        trajectory_features(Ink())


def test_the_order_of_the_strokes_shows():
    ink = Ink(tuple(OPEN_FOUR))
    swapped = Ink(ink.strokes[::-1])
    a, b = trajectory_features(ink), trajectory_features(swapped)
    assert a[:, 4].any() and b[:, 4].any()
    assert not np.allclose(a, b, atol=0.05)
    # The same ink either way: the same box, so the same span (up to the sampling).
    np.testing.assert_allclose(a[:, :2].min(axis=0), b[:, :2].min(axis=0), atol=0.02)
    np.testing.assert_allclose(a[:, :2].max(axis=0), b[:, :2].max(axis=0), atol=0.02)


# --- mix ------------------------------------------------------------------------------------

def rows(seed: int, n: int = 6, c: int = 10) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(c), n).astype(np.float32)


def test_weight_one_is_the_image_and_zero_the_path():
    image, path = rows(0), rows(1)
    np.testing.assert_allclose(mix(image, path, 1.0), image, atol=1e-6)
    np.testing.assert_allclose(mix(image, path, 0.0), path, atol=1e-6)


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_mixed_rows_are_distributions(weight):
    p = mix(rows(2), rows(3), weight)
    assert p.shape == (6, 10) and p.dtype == np.float32
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_mix_is_the_weighted_geometric_mean():
    image, path = rows(4), rows(5)
    expected = image ** 0.7 * path ** 0.3
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mix(image, path, 0.7), expected, rtol=1e-4, atol=1e-6)
    one = mix(np.array([0.8, 0.2]), np.array([0.2, 0.8]), 0.5)
    np.testing.assert_allclose(one, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("which", ["image", "path"])
def test_a_label_either_model_rules_out_stays_out(which):
    ruled_out = np.array([0.0, 0.5, 0.5])
    other = np.array([0.98, 0.01, 0.01])  # the other model is sure of it
    image, path = (ruled_out, other) if which == "image" else (other, ruled_out)
    p = mix(image, path, 0.5)
    assert p[0] < 1e-4
    assert p.argmax() != 0


def test_a_confident_path_model_can_change_the_answer():
    image = np.array([[0.05, 0.55, 0.0, 0.0, 0.0, 0.0, 0.0, 0.40, 0.0, 0.0]])  # "1"?
    path = np.full((1, 10), 0.001)
    path[0, 7] = 1 - 0.009  # a bar, then a diagonal: a 7
    assert image.argmax() == 1
    assert mix(image, path, 0.5).argmax() == 7
    assert mix(image, path, 1.0).argmax() == 1


# --- TrajectoryModel ------------------------------------------------------------------------

def test_bundled_model_describes_itself(path_model):
    assert path_model.labels == DIGITS
    assert 0.0 <= path_model.weight <= 1.0
    assert path_model.metadata["trajectory_features_version"] == FEATURES_VERSION
    assert path_model.serves(DIGITS) and path_model.serves(list(DIGITS))
    assert not path_model.serves(tuple("0123456789AB"))
    # Labels in another order map to their columns; a subset (a mode's) too.
    assert list(path_model.columns(DIGITS[::-1])) == list(range(9, -1, -1))
    assert list(path_model.columns(("3", "7"))) == [3, 7]


def test_bundled_model_gives_distributions_and_reads_clean_digits(path_model):
    labels = ["0", "1", "2", "4", "7"]
    p = path_model.probabilities([shape(c) for c in labels])
    assert p.shape == (5, 10) and p.dtype == np.float32
    assert np.isfinite(p).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert [DIGITS[i] for i in p.argmax(axis=1)] == labels


def one_line_error(path: Path) -> str:
    with pytest.raises(ModelError) as e:
        TrajectoryModel(path)
    message = str(e.value)
    assert message and "\n" not in message, message
    assert path.name in message, message
    return message


def test_a_missing_file_is_a_model_error(tmp_path):
    assert "not found" in one_line_error(tmp_path / "no-such-path-model.onnx")


def test_a_damaged_file_is_a_model_error(tmp_path):
    one_line_error(damage(tmp_path / "broken-path-model.onnx"))


def edited_copy(tmp_path: Path, **meta: str) -> Path:
    onnx = pytest.importorskip("onnx", reason="onnx is needed to edit a model's metadata")
    model = onnx.load(str(resource_path(PATH_MODEL_FILE)))
    props = {p.key: p.value for p in model.metadata_props}
    props.update(meta)
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    path = tmp_path / "edited-path-model.onnx"
    onnx.save(model, str(path))
    return path


def test_a_model_for_other_features_is_refused(tmp_path):
    message = one_line_error(edited_copy(tmp_path, trajectory_features_version="2"))
    assert "version 2" in message and f"uses {FEATURES_VERSION}" in message


@pytest.mark.parametrize("meta", [{"labels": "not json"}, {"image_weight": "1.5"},
                                  {"image_weight": "heavy"}, {"labels": '["1", 2]'}])
def test_unusable_metadata_is_refused(tmp_path, meta):
    one_line_error(edited_copy(tmp_path, **meta))


def test_metadata_that_does_not_match_the_outputs_is_refused_at_load(tmp_path):
    """Eleven labels for ten columns: refused when it loads (its trial run), not on
    every drawing."""
    labels = '["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"]'
    assert "fails to run" in one_line_error(edited_copy(tmp_path, labels=labels))


def test_an_unchanged_copy_loads(tmp_path, path_model):
    copy = TrajectoryModel(edited_copy(tmp_path))
    assert copy.labels == path_model.labels and copy.weight == path_model.weight


# --- the pipeline ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits_classifier():
    return ModelSet().classifier("digits")


def test_a_certain_path_model_with_all_the_weight_decides(digits_classifier):
    fake = FakePath("3", weight=0.0)
    image_only = read_number(digits_classifier, shape("1"), mode="digits")
    assert image_only.text == "1"
    joined = read_number(digits_classifier, shape("1"), mode="digits", path_model=fake)
    assert fake.calls == 1 and joined.text == "3"
    assert joined.chars[0].reading.confidence == pytest.approx(1.0, abs=1e-5)
    # The reject score is the image model's, whatever the path says.
    assert joined.chars[0].reading.reject == image_only.chars[0].reading.reject


def test_read_ink_joins_the_path_too(digits_classifier):
    alone = read_ink(digits_classifier, shape("7"))
    joined = read_ink(digits_classifier, shape("7"), path_model=FakePath("3", weight=0.0))
    assert alone.label == "7" and joined.label == "3"
    assert joined.reject == alone.reject
    np.testing.assert_array_equal(joined.model_input, alone.model_input)
    # Half the weight each: the image's 7 against a path that rules everything else out.
    half = read_ink(digits_classifier, shape("7"), path_model=FakePath("3", weight=0.5))
    assert half.label == "3"
    assert half.top_k[0].probability > 0.99


def test_the_bundled_path_model_keeps_clean_digits(digits_classifier, path_model):
    for label in ["0", "1", "2", "4", "7"]:
        assert read_number(digits_classifier, shape(label), path_model=path_model).text == label


@pytest.mark.parametrize("mode", ["letters", "all"])
def test_a_path_model_of_other_labels_changes_nothing(mode, path_model):
    classifier = ModelSet().classifier(mode)
    assert not path_model.serves(classifier.info.labels)
    ink = Ink(tuple(digit("1")) + tuple(digit("7", x=90)))
    alone = read_number(classifier, ink, mode=mode)
    fake = FakePath("3", weight=0.0)
    for joined in (read_number(classifier, ink, mode=mode, path_model=path_model),
                   read_number(classifier, ink, mode=mode, path_model=fake)):
        assert readings_of(joined) == readings_of(alone)
    assert fake.calls == 0


def test_a_fake_of_other_labels_changes_nothing_in_digits(digits_classifier):
    fake = FakePath("c", weight=0.0, labels=tuple("abcdefghij"))
    ink = Ink(tuple(digit("4")) + tuple(digit("1", x=90)))
    alone = read_number(digits_classifier, ink)
    assert readings_of(read_number(digits_classifier, ink, path_model=fake)) == \
        readings_of(alone)
    assert fake.calls == 0


def test_the_users_own_corrections_are_not_changed(digits_classifier):
    mine = FromProfile(digits_classifier)
    fake = FakePath("3", weight=0.0)
    ink = Ink(tuple(digit("7")) + tuple(digit("1", x=90)))
    alone = read_number(mine, ink)
    joined = read_number(mine, ink, path_model=fake)
    assert alone.text == "71" and all(c.reading.from_profile for c in joined.chars)
    assert readings_of(joined) == readings_of(alone)
    one = read_ink(mine, shape("7"), path_model=fake)
    assert one.label == "7" and one.from_profile


def test_with_path_joins_only_readings_not_from_the_profile(digits_classifier):
    info = digits_classifier.info
    inputs = [render_ink(shape("7")), render_ink(shape("1"))]
    image = read_inputs(digits_classifier, inputs)
    readings = [replace(image[0], from_profile=True, guided=True), image[1]]
    path = np.zeros((2, 10), np.float32)
    path[:, 3] = 1.0
    out = with_path(readings, path, 0.0, info, 3)
    assert out[0] is readings[0]  # the correction holds
    assert out[1].label == "3" and not out[1].from_profile
    assert out[1].reject == image[1].reject
    assert len(out[1].top_k) == 3 and isinstance(out[1], Reading)


# --- the real pen writers (HWR_PEN_DIR) -----------------------------------------------------

@pytest.fixture(scope="module")
def pen_digits(pen_dir):
    from training.pen import DIGIT_FILES, load_pen

    return load_pen(pen_dir, files=DIGIT_FILES)


def test_path_model_alone_reads_the_test_writers(pen_digits, path_model):
    test = pen_digits.select(split="test")
    assert len(test) > 1000
    p = np.concatenate([path_model.probabilities([s.ink for s in test[i:i + 512]])
                        for i in range(0, len(test), 512)])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-4)
    right = sum(path_model.labels[j] == s.label for j, s in zip(p.argmax(axis=1), test,
                                                                 strict=True))
    acc = right / len(test)
    assert acc >= PATH_TEST_ACCURACY, f"{acc:.2%} of {len(test)} test digits"


def test_joined_reads_the_val_writers_at_least_as_well(pen_digits, digits_classifier,
                                                       path_model):
    val = pen_digits.select(split="val")
    rng = np.random.default_rng(0)
    sample = [val[i] for i in sorted(rng.choice(len(val), min(600, len(val)), replace=False))]
    alone = [read_number(digits_classifier, s.ink).text == s.label for s in sample]
    joined = [read_number(digits_classifier, s.ink, path_model=path_model).text == s.label
              for s in sample]
    report = f"image alone {sum(alone)}, joined {sum(joined)} of {len(sample)}"
    assert sum(joined) >= sum(alone), report
    # The path is really read: it puts right some of what the image gets wrong.
    assert any(j and not a for a, j in zip(alone, joined, strict=True)), report


# --- the command line -----------------------------------------------------------------------

def run(capfd, *args: str) -> tuple[int, list[str], list[str]]:
    rc = cli.main(["recognize", *args])
    out, err = capfd.readouterr()
    return rc, out.splitlines(), err.splitlines()


@pytest.mark.parametrize("image_only", [False, True])
def test_cli_reads_ink_with_and_without_the_path(capfd, image_only):
    rc, out, err = run(capfd, str(SEVEN), *(["--image-only"] if image_only else []))
    assert rc == 0 and err == []
    assert len(out) == 1 and out[0].startswith(f"{SEVEN}: 7 ("), out


def test_cli_joins_the_path_model_unless_image_only(capfd, monkeypatch):
    fake = FakePath("3", weight=0.0)
    monkeypatch.setattr(ModelSet, "path_model", lambda self, mode="digits": fake)
    rc, out, err = run(capfd, str(SEVEN))
    assert rc == 0 and err == [] and out[0].startswith(f"{SEVEN}: 3 ("), out
    assert fake.calls == 1
    rc, out, err = run(capfd, str(SEVEN), "--image-only")
    assert rc == 0 and err == [] and out[0].startswith(f"{SEVEN}: 7 ("), out
    assert fake.calls == 1  # not asked
    # Letters: the path model reads digits only.
    rc, out, _ = run(capfd, "--mode", "letters", str(SEVEN))
    assert rc == 0 and fake.calls == 1 and ": 3 (" not in out[0]


def test_cli_joins_the_path_for_ink_on_standard_input(capfd, monkeypatch):
    fake = FakePath("3", weight=0.0)
    monkeypatch.setattr(ModelSet, "path_model", lambda self, mode="digits": fake)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(SEVEN.read_bytes())))
    rc, out, err = run(capfd, "-")
    assert rc == 0 and err == [] and out[0].startswith("-: 3 ("), out
    assert fake.calls == 1


def test_cli_damaged_path_model_warns_once_and_reads(capfd, damaged_path_model):
    one = REPO / "resources" / "samples" / "one.json"
    rc, out, err = run(capfd, str(SEVEN), str(one))
    assert rc == 0
    assert len(err) == 1, err
    assert err[0].startswith("hwr-qt: warning: ") and "warning" in err[0]
    assert err[0].endswith("; reading by image alone")
    assert damaged_path_model.name in err[0]
    assert [o.split(" (")[0] for o in out] == [f"{SEVEN}: 7", f"{one}: 1"]


def test_cli_image_only_does_not_look_at_a_damaged_path_model(capfd, damaged_path_model):
    rc, out, err = run(capfd, "--image-only", str(SEVEN))
    assert rc == 0 and err == [] and out[0].startswith(f"{SEVEN}: 7 (")


# --- the window -----------------------------------------------------------------------------

@pytest.fixture
def open_window(qtbot, tmp_path, model_path):
    from hwr_qt.ui.main_window import MainWindow
    from hwr_qt.ui.settings import Settings

    def make():
        w = MainWindow(Settings(str(tmp_path / "hwr-qt.ini")), model_path)
        qtbot.addWidget(w)
        w.resize(800, 560)
        w.show()
        qtbot.waitExposed(w)
        return w
    return make


def draw_one(w) -> None:
    cx, cy = w.canvas.width() / 2, w.canvas.height() / 2
    drag(w.canvas, line(cx + 5, cy - 120, cx - 5, cy + 120))


def test_window_joins_the_path_model(open_window, monkeypatch):
    fake = FakePath("3", weight=0.0)
    monkeypatch.setattr(ModelSet, "path_model", lambda self, mode="digits": fake)
    w = open_window()
    draw_one(w)
    assert fake.calls >= 1
    assert w.last_reading is not None and w.last_reading.label == "3"
    assert w.answer.answer.text() == "3"


def test_window_joins_the_path_model_off_the_gui_thread(open_window, qtbot, monkeypatch):
    from hwr_qt.ui import main_window

    fake = FakePath("3", weight=0.0)
    monkeypatch.setattr(ModelSet, "path_model", lambda self, mode="digits": fake)
    w = open_window()
    long_one = ink_of(line(200, 40, 190, 300, n=main_window.INLINE_POINTS + 100))
    w.canvas.set_ink(long_one)  # too many points to read inline: read in the background
    qtbot.waitUntil(lambda: not w.reading_pending and w.last_number is not None,
                    timeout=10_000)
    assert fake.calls >= 1 and w.last_number.text == "3"
    assert w.answer.answer.text() == "3"


def test_window_with_a_damaged_path_model_reads_by_image(open_window, damaged_path_model):
    w = open_window()
    draw_one(w)
    message = w.statusBar().currentMessage()
    assert message.startswith("Reading by image alone"), message
    assert damaged_path_model.name in message
    assert w.answer.answer.text() == "1" and w.last_reading.label == "1"
    # Said once: the next drawing is read without a word about it.
    w.statusBar().clearMessage()
    w.undo_action.trigger()
    draw_one(w)
    assert "Reading by image alone" not in w.statusBar().currentMessage()
    assert w.answer.answer.text() == "1"



# --- reject scores and a mode's columns ------------------------------------------------

def test_mix_reject_is_the_geometric_mix_of_the_two_way_distributions():
    assert mix_reject(0.3, 0.9, 1.0) == pytest.approx(0.3)
    assert mix_reject(0.3, 0.9, 0.0) == pytest.approx(0.9)
    assert mix_reject(0.8, 0.8, 0.5) == pytest.approx(0.8)
    a, b = np.sqrt(0.5 * 0.99), np.sqrt(0.5 * 0.01)
    assert mix_reject(0.5, 0.99, 0.5) == pytest.approx(a / (a + b))


def test_a_path_model_sure_it_is_no_digit_rejects_the_reading(digits_classifier):
    fake = FakePath("1", weight=0.0)
    fake.reject = 1.0 - 1e-6
    got = read_number(digits_classifier, shape("1"), path_model=fake)
    assert got.text == "?" and got.chars[0].reading.rejected
    fake.reject = 0.0  # ... and one sure it is a digit keeps it
    assert read_number(digits_classifier, shape("1"), path_model=fake).text == "1"


def test_a_characters_path_model_joins_a_mode_by_its_columns():
    """A path model of all 62 characters joins Letters mode on the letters' columns,
    renormalised: certain of "a" among letters (though it gives digits mass too)."""
    classifier = ModelSet().classifier("letters")
    labels = tuple("0123456789") + tuple(
        c for c in classifier.info.labels if c not in "0123456789")
    fake = FakePath("a", weight=0.0, labels=labels)
    base = fake.full

    def with_digit_mass(inks):  # half of its belief on "7": the mode must drop it
        p = base(inks) * 0.5
        p[:, labels.index("7")] = 0.5
        return p

    fake.full = with_digit_mass  # type: ignore[method-assign]
    got = read_number(classifier, shape("1"), mode="letters", path_model=fake)
    assert got.text == "a"
    assert got.chars[0].reading.top_k[0].probability == pytest.approx(1.0, abs=1e-4)


def test_each_mode_has_its_bundled_path_model():
    """Digits mode joins the digits path model; Letters and Everything share the
    characters one, which has every label of both modes."""
    models = ModelSet()
    digits, letters, both = (models.path_model(m) for m in ("digits", "letters", "all"))
    assert digits is not None and digits.labels == DIGITS
    assert letters is not None and letters is both and letters is not digits
    for mode in ("letters", "all"):
        assert letters.serves(models.classifier(mode).info.labels)
    assert not digits.serves(models.classifier("letters").info.labels)


def test_letters_mode_reads_a_real_word_with_its_path_model():
    models = ModelSet()
    classifier, path = models.classifier("letters"), models.path_model("letters")
    # Capital T, then capital L: two strokes each, side by side.
    ink = ink_of([(0, 0), (60, 0)], [(30, 0), (30, 100)],
                 [(100, 0), (100, 100)], [(100, 100), (150, 100)])
    joined = read_number(classifier, ink, mode="letters", path_model=path)
    assert joined.text.upper() == "TL"
    assert all(c.reading.probabilities.shape == (52,) for c in joined.chars)


@pytest.mark.parametrize("taught", ["7", "1"])
def test_a_correction_holds_against_the_path_model(digits_classifier, taught):
    """The user's correction of this very ink wins over a path model certain of another
    digit: whether it changed the image model's answer ("7") or agreed with it ("1")."""
    from hwr_qt.adapt import AdaptedClassifier
    from hwr_qt.profile import Profile

    # A 1 with a long up-stroke: read as 1 (~98 %), unsure enough to be taught a 7.
    ink = ink_of([(10.0, 32.0), (50.0, 0.0), (50.0, 100.0)])
    adapted = AdaptedClassifier(digits_classifier, Profile())
    adapted.learn(render_ink(ink), ink, taught)
    fake = FakePath("3", weight=0.0)
    got = read_number(adapted, ink, path_model=fake)
    assert got.text == taught and got.chars[0].reading.guided
    # ... while the path model still joins ink the profile has no say in.
    assert read_number(adapted, shape("0"), path_model=fake).text == "3"


def test_a_path_model_that_cannot_answer_leaves_the_image_reading(digits_classifier):
    from hwr_qt.recognizer import ModelOutputError

    class Broken(FakePath):
        def scores(self, inks, labels=None):
            raise ModelOutputError("the path model's output is invalid")

    alone = read_number(digits_classifier, shape("4"))
    assert readings_of(read_number(digits_classifier, shape("4"), path_model=Broken())) == \
        readings_of(alone)


def test_a_model_of_ones_own_reads_alone(tmp_path):
    """The mix weight was chosen for the bundled pair: a model the user chose reads its
    modes alone; the bundled one, even named explicitly, keeps its path model."""
    from hwr_qt.models import bundled_model_path

    own = tmp_path / "mine.onnx"
    own.write_bytes(bundled_model_path("digits").read_bytes())
    assert ModelSet(own).path_model("digits") is None
    assert ModelSet(own).path_model("letters") is not None  # not a mode it reads
    assert ModelSet(bundled_model_path("digits")).path_model("digits") is not None


def test_the_real_path_model_answers_in_a_readers_labels(path_model):
    """``scores(inks, labels)``: those labels' columns, in their order, renormalised."""
    inks = [shape("1"), shape("7")]
    full, reject = path_model.scores(inks)
    some = ("7", "1", "4")
    p, r = path_model.scores(inks, some)
    expected = full[:, [7, 1, 4]] / full[:, [7, 1, 4]].sum(axis=1, keepdims=True)
    assert np.allclose(p, expected, atol=1e-6) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(r, reject)
    assert path_model.scores(inks, DIGITS)[0] is not None
    with pytest.raises(ValueError):
        path_model.scores(inks, ("1", "A"))
