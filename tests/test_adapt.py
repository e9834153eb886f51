"""Adaptation to the user's examples (hwr_qt.adapt), with a fake feature classifier and
with the bundled model on real pen digits."""

from __future__ import annotations

import numpy as np
import pytest

from hwr_qt.adapt import NOT_A_CHARACTER, AdaptedClassifier, Adapter, AdaptError, adapted
from hwr_qt.classifier import ModeClassifier, ModelInfo, Scores
from hwr_qt.ink import Ink
from hwr_qt.profile import Profile

LABELS = tuple("0123456789")
INK = Ink.from_json({"strokes": [[[0, 0], [0, 10]]]})


class Fake:
    """Image i (the value of pixel [0, 0]) -> fixed probabilities, reject and features."""

    def __init__(self, probs, reject, feats) -> None:
        self.p, self.r, self.f = (np.asarray(a, np.float32) for a in (probs, reject, feats))
        self.info = ModelInfo(labels=LABELS, model_id="fake", features_output="features",
                              feature_size=self.f.shape[1], reject_threshold=0.5)

    def classify(self, images: np.ndarray) -> Scores:
        i = np.asarray(images)[:, 0, 0].astype(int)
        return Scores(self.p[i], self.r[i], self.f[i])


def image(i: int) -> np.ndarray:
    x = np.zeros((28, 28), np.float32)
    x[0, 0] = i
    return x


def onehot_probs(label: int, p: float) -> np.ndarray:
    row = np.full(10, (1 - p) / 9, np.float32)
    row[label] = p
    return row


@pytest.fixture
def fake() -> Fake:
    rng = np.random.default_rng(0)
    centre = rng.random(16)
    # 0: the user's 7 read as 1 (70 %); 1: a near-duplicate of it; 2: a far-away shape
    # read as 1; 3: a confident 1 right beside the examples; 4: rejected ink; 5: a fairly
    # sure 1 (margin ~6.8 against 7) beside them too.
    feats = [centre, centre + 0.02 * rng.random(16), rng.random(16) * 3, centre, centre,
             centre + 0.02 * rng.random(16)]
    probs = [onehot_probs(1, 0.7), onehot_probs(1, 0.7), onehot_probs(1, 0.7),
             onehot_probs(1, 0.99999), onehot_probs(4, 0.9), onehot_probs(1, 0.99)]
    return Fake(probs, [0.01, 0.01, 0.01, 0.01, 0.9, 0.01], feats)


def test_empty_profile_is_the_identity(fake):
    a = AdaptedClassifier(fake, Profile())
    x = np.stack([image(i) for i in range(6)])
    s0, s1 = fake.classify(x), a.classify(x)
    assert np.array_equal(s0.probabilities, s1.probabilities)
    assert np.array_equal(s0.reject, s1.reject)
    assert not s1.from_profile.any()


def test_learning_fixes_a_repeated_misread_on_a_near_duplicate(fake):
    a = AdaptedClassifier(fake, Profile())
    assert a.classify(image(1)[None]).probabilities[0].argmax() == 1
    a.learn(image(0), INK, "7")
    s = a.classify(np.stack([image(1), image(2)]))
    assert s.probabilities[0].argmax() == 7 and s.from_profile[0]  # near: fixed
    assert s.probabilities[1].argmax() == 1 and not s.from_profile[1]  # far: unchanged
    assert np.allclose(s.probabilities.sum(1), 1, atol=1e-5)


def test_the_network_keeps_the_last_word_where_it_is_sure(fake):
    """Twenty wrong corrections next to a confident reading do not overturn it."""
    a = AdaptedClassifier(fake, Profile())
    for _ in range(20):
        a.learn(image(0), INK, "7")
    s = a.classify(image(3)[None])
    assert s.probabilities[0].argmax() == 1 and not s.from_profile[0]
    assert s.probabilities[0, 7] > fake.p[3, 7]  # nudged, but bounded


def test_a_correction_against_a_sure_reading_counts_for_less(fake):
    """Same features, same label: taught from ink the network read as a 1 at 70 % (a
    likely misread) it reads the fairly sure 1 beside it as 7; taught from ink it was
    sure was a 1 (a likely wrong correction) it does not."""
    sure = AdaptedClassifier(fake, Profile())
    sure.learn(image(3), INK, "7")
    assert sure.profile.examples[0].margin == pytest.approx(np.log(0.99999 * 9 / 1e-5))
    assert sure.classify(image(5)[None]).probabilities[0].argmax() == 1
    unsure = AdaptedClassifier(fake, Profile())
    unsure.learn(image(0), INK, "7")
    assert unsure.profile.examples[0].margin == pytest.approx(np.log(0.7 * 9 / 0.3))
    s = unsure.classify(image(5)[None])
    assert s.probabilities[0].argmax() == 7 and s.from_profile[0]


def test_copies_of_a_correction_reach_no_further_than_one():
    one, twenty = Adapter(LABELS), Adapter(LABELS)
    f = np.array([[1.0, 0.0, 0.0]])
    one.fit(f, ["3"], [1.0])
    twenty.fit(np.repeat(f, 20, axis=0), ["3"] * 20, [1.0] * 20)
    q = np.array([[1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.85, 0.4, 0.3]])
    assert one.boost(q)[:, 3].min() > 0
    np.testing.assert_allclose(twenty.boost(q), one.boost(q), rtol=1e-6)


def test_add_keeps_examples_sorted_by_label():
    """add() one by one equals fit() at once (each label's nearest example)."""
    rng = np.random.default_rng(1)
    f, labels = rng.random((12, 6)), [str(i % 4) for i in (3, 1, 0, 2, 1, 3, 0, 0, 2, 1, 3, 2)]
    margins = list(rng.random(12) * 8)
    whole, step = Adapter(LABELS), Adapter(LABELS)
    whole.fit(f, labels, margins)
    for row, lab, m in zip(f, labels, margins, strict=True):
        step.add(row, lab, m)
    q = f + 0.05 * rng.random(f.shape)
    np.testing.assert_allclose(step.boost(q), whole.boost(q), rtol=1e-6)
    assert (whole.boost(q)[:, 4:] == 0).all()  # no examples of 4-9 nor of "?"


def test_not_a_character_correction_raises_the_reject_score(fake):
    a = AdaptedClassifier(fake, Profile())
    before = float(a.classify(image(1)[None]).reject[0])
    a.learn(image(0), INK, NOT_A_CHARACTER)
    s = a.classify(image(1)[None])
    assert s.reject[0] >= 0.5 > before and s.from_profile[0]


def test_a_character_correction_lifts_a_rejection(fake):
    a = AdaptedClassifier(fake, Profile())
    a.learn(image(4), INK, "4")
    s = a.classify(image(4)[None])
    assert s.reject[0] < 0.5 and s.from_profile[0]


def test_disabled_and_bad_labels(fake):
    profile = Profile()
    a = AdaptedClassifier(fake, profile)
    a.learn(image(0), INK, "7")
    a.enabled = False
    assert np.array_equal(a.classify(image(1)[None]).probabilities, fake.p[[1]])
    with pytest.raises(AdaptError, match="'x' is not one of the model's labels"):
        a.learn(image(0), INK, "x")
    assert len(profile) == 1


def test_profile_changes_are_followed(fake):
    profile = Profile()
    a = AdaptedClassifier(fake, profile)
    a.learn(image(0), INK, "7")
    assert a.classify(image(1)[None]).probabilities[0].argmax() == 7
    profile.clear()
    assert a.classify(image(1)[None]).probabilities[0].argmax() == 1


def test_adapted_under_a_mode_wraps_the_model(fake):
    profile = Profile()
    c = adapted(ModeClassifier(fake, "digits"), profile)
    assert isinstance(c, ModeClassifier) and isinstance(c.inner, AdaptedClassifier)


def test_adapter_matches_hand_computation():
    ad = Adapter(LABELS)
    ad.fit(np.array([[1.0, 0.0]]), ["3"])
    p = np.full((1, 10), 0.1, np.float32)
    q, _, changed, _ = ad.adjust(p, None, np.array([[1.0, 0.0]]))
    boost = ad.params.max_boost * (1 - np.exp(-1 / ad.params.saturation))
    assert q[0, 3] == pytest.approx(np.exp(boost) / (np.exp(boost) + 9), rel=1e-5)
    assert changed[0]


def test_real_pen_writer_is_helped_and_others_are_not_broken(pen_data, recognizer):
    """The bundled model on validation writers: a writer's own corrections read their
    near-duplicates their way; another writer's profile changes nobody else's reading
    much."""
    from training.data import render_all

    samples = [s for s in pen_data.select(split="val", sources=["pendigits"])][:600]
    x = render_all([s.ink for s in samples])
    y = np.array([int(s.label) for s in samples])
    w = np.array([s.writer for s in samples])
    profile = Profile()
    a = AdaptedClassifier(recognizer, profile)
    first = np.flatnonzero(w == w[0])[:40]
    for i in first:  # the writer teaches 40 of their own characters, all correct
        a.learn(x[i], samples[i].ink, samples[i].label)
    base = recognizer.classify(x).probabilities.argmax(1)
    mine = a.classify(x).probabilities.argmax(1)
    assert (mine[first] == y[first]).all()
    other = w != w[0]
    assert abs((mine[other] == y[other]).mean() - (base[other] == y[other]).mean()) < 0.005


def test_benchmark_counts_same_shape_twins_alike():
    """benchmarks.adapt: c read as C is right (one shape, two cases), 0 read as O is not,
    and neither is a rejection."""
    from benchmarks.adapt import REJECT, Base, Reader

    labels = ("0", "O", "c", "C")
    info = ModelInfo(labels=labels, model_id="fake", features_output="features",
                     feature_size=2, reject_threshold=0.5, same_shape=(("c", "C"),))
    truth = np.array([2, 0, 2, 3])  # c, 0, c, C
    probs = np.eye(4, dtype=np.float32)[[3, 1, 2, 2]]  # read: C, O, c, c
    base = Base(truth, np.array(["w"] * 4), probs, np.array([0, 0, 0.9, 0], np.float32),
                np.ones((4, 2), np.float32), np.zeros((4, 28, 28), np.float32), [])
    reader = Reader(info, "all", base)
    assert reader.read(np.arange(4), None)[2] == REJECT
    assert reader.right(np.arange(4), None).tolist() == [True, False, False, True]
