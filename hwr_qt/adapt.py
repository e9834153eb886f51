"""Adapting a classifier to its user's handwriting, from the characters they corrected.

Each correction is the network's penultimate-layer features of the character (the
model's ``features`` output) and the label the user gave it ("this is a 4", or
``NOT_A_CHARACTER``: "this isn't a character"). A new character close to corrected
examples (cosine similarity of the L2-normalised features above a floor) gets their
label's log-probability raised by up to ``max_boost``, a weight that grows with how close
and how many the examples are (``1 - exp(-sum of kernel weights / saturation)``):

* an empty profile changes nothing (the base scores come back as they are);
* the network keeps the last word where it is sure: the boost is bounded, so a
  character the network reads with a margin above ``max_boost`` (log-probability) stays
  as it was. That is what keeps a handful of wrong corrections (twenty 1s taught as 7)
  from turning every writer's 1 into a 7: only 1s that were nearly 7s already flip;
* the user's own habits, read wrongly but not confidently so, are read their way.

The constants were tuned on the validation writers of the real pen data
(``python -m benchmarks.adapt --split val``) and on a harder rendering of them (each
writer's ink under one fixed rotation and shear, so that the model errs systematically),
never on test writers.
Numpy only; reading with a 1,000-example profile is one [N,D] x [D,M] product.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from hwr_qt.classifier import Classifier, ModelInfo, Scores

if TYPE_CHECKING:
    from hwr_qt.profile import Example, Profile

NOT_A_CHARACTER = "?"  # the label of a "this isn't a character" correction


class AdaptError(ValueError):
    """A correction that cannot be learned; the message is for the user."""


@dataclass(frozen=True)
class AdaptParams:
    # Validation writers: same-writer nearest neighbours above 0.85 have the same label
    # 99.8 % of the time; the floor keeps other shapes out of reach.
    similarity_floor: float = 0.85
    sharpness: float = 1.0  # kernel exponent: ((s - floor) / (1 - floor)) ** sharpness
    saturation: float = 0.5  # kernel weight sum at which the boost reaches 63 %
    # Log-probability a profile may add. 20 wrong corrections (1s taught as 7) cost the
    # other validation writers at most 0.5 pt at 6; 8 cost up to 1 pt.
    max_boost: float = 6.0


DEFAULT_PARAMS = AdaptParams()


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); an all-zero row stays zero."""
    f = np.asarray(features, np.float32)
    out: np.ndarray = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-12)
    return out


class Adapter:
    """The learned state: the corrected examples' normalised features and labels.

    ``labels`` are the model's labels; an example's label may also be NOT_A_CHARACTER.
    """

    def __init__(self, labels: Sequence[str], params: AdaptParams = DEFAULT_PARAMS) -> None:
        self.labels = tuple(labels)
        self.params = params
        self._index = {lab: i for i, lab in enumerate(self.labels)}
        self._index[NOT_A_CHARACTER] = len(self.labels)  # the reject column
        self._bank = np.zeros((0, 0), np.float32)
        self._onehot = np.zeros((0, len(self.labels) + 1), np.float32)

    def __len__(self) -> int:
        return len(self._onehot)

    def knows(self, label: str) -> bool:
        return label in self._index

    def class_index(self, label: str) -> int:
        try:
            return self._index[label]
        except KeyError:
            raise AdaptError(f"'{label}' is not one of the model's labels") from None

    def fit(self, features: np.ndarray, labels: Sequence[str]) -> None:
        """Replace the examples: ``features`` [M, D], one label each."""
        f = np.asarray(features, np.float32)
        f = f.reshape(len(labels), f.size // max(len(labels), 1))
        onehot = np.zeros((len(labels), len(self.labels) + 1), np.float32)
        onehot[np.arange(len(labels)), [self.class_index(x) for x in labels]] = 1.0
        self._bank, self._onehot = normalise(f), onehot

    def add(self, feature: np.ndarray, label: str) -> None:
        """One more example (a correction just made)."""
        row = np.zeros((1, len(self.labels) + 1), np.float32)
        row[0, self.class_index(label)] = 1.0
        f = normalise(np.asarray(feature, np.float32).reshape(1, -1))
        self._bank = f if not len(self) else np.concatenate([self._bank, f])
        self._onehot = np.concatenate([self._onehot, row])

    def evidence(self, features: np.ndarray) -> np.ndarray:
        """[N, C+1] in 0..1: how strongly the examples speak for each label (the last
        column: not a character) near each of the N characters."""
        p = self.params
        s = normalise(features) @ self._bank.T  # [N, M] cosine similarities
        k = np.clip((s - p.similarity_floor) / (1.0 - p.similarity_floor), 0.0, 1.0)
        if p.sharpness != 1.0:
            k **= p.sharpness
        out: np.ndarray = 1.0 - np.exp(-(k @ self._onehot) / p.saturation)
        return out

    def adjust(self, probabilities: np.ndarray, reject: np.ndarray | None,
               features: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(probabilities, reject, changed): the scores moved towards the examples'
        labels, and which characters' answers differ from the network's because of it."""
        probs = np.asarray(probabilities, np.float32)
        n, c = probs.shape
        if not len(self) or not n:
            return probs, reject, np.zeros(n, bool)
        boost = self.params.max_boost * self.evidence(features)
        logp = np.log(np.clip(probs, 1e-30, 1.0)) + boost[:, :c]
        out = np.exp(logp - logp.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
        changed = out.argmax(1) != probs.argmax(1)
        new_reject = reject
        if reject is not None:
            r = np.clip(np.asarray(reject, np.float64), 1e-9, 1 - 1e-9)
            # "Not a character" examples nearby raise the reject score; examples of a
            # character lower it (the user said such ink is that character).
            logit = np.log(r / (1 - r)) + boost[:, c] - boost[:, :c].max(axis=1)
            new_reject = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
        return out.astype(np.float32), new_reject, changed


class AdaptedClassifier:
    """A ``Classifier`` whose answers lean towards its user's corrected examples.

    ``profile`` holds the examples (``hwr_qt.profile.Profile``); the adapter follows its
    changes (it is rebuilt when the profile's revision moves, ~1 ms for 1,000 examples).
    ``enabled`` False ("Learn from my corrections" off) answers exactly as ``base``.
    A model without a features output is passed through unchanged.
    """

    def __init__(self, base: Classifier, profile: Profile,
                 params: AdaptParams = DEFAULT_PARAMS, enabled: bool = True) -> None:
        self.base = base
        self.profile = profile
        self.enabled = enabled
        self.adapter = Adapter(base.info.labels, params)
        self._revision = -1

    @property
    def info(self) -> ModelInfo:
        return self.base.info

    @property
    def can_learn(self) -> bool:
        return self.base.info.features_output is not None

    def _sync(self) -> None:
        if self._revision != self.profile.revision:
            feats, labels = self.profile.features_for(self.info.model_id)
            # Only labels this model has (an example re-embedded from another model's
            # label set must not stop the reading).
            known = [i for i, lab in enumerate(labels) if self.adapter.knows(lab)]
            if len(known) < len(labels):
                feats, labels = feats[known], [labels[i] for i in known]
            self.adapter.fit(feats, labels)
            self._revision = self.profile.revision

    def classify(self, images: np.ndarray) -> Scores:
        scores = self.base.classify(images)
        n = len(scores.probabilities)
        if not self.enabled or scores.features is None:
            return replace(scores, from_profile=np.zeros(n, bool))
        self._sync()
        probs, reject, changed = self.adapter.adjust(scores.probabilities, scores.reject,
                                                     scores.features)
        if reject is not None and scores.reject is not None:
            t = self.info.reject_threshold
            changed |= (reject >= t) != (scores.reject >= t)
        return replace(scores, probabilities=probs, reject=reject, from_profile=changed)

    def features(self, image: np.ndarray) -> np.ndarray:
        """The base model's features [D] of one model input [28, 28]."""
        if not self.can_learn:
            raise AdaptError("this model cannot learn from corrections (it has no "
                             "features output)")
        f = self.base.classify(np.asarray(image, np.float32)[None]).features
        assert f is not None  # the model has a features output (checked above)
        return np.asarray(f[0], np.float32)

    def check_label(self, label: str) -> None:
        """AdaptError (for the user) unless ``label`` is the model's or NOT_A_CHARACTER."""
        self.adapter.class_index(label)

    def learn(self, image: np.ndarray, strokes: object, label: str) -> None:
        """Store a correction: ``image`` the model input [28, 28] the character was read
        from, ``strokes`` its ink (``hwr_qt.ink.Ink``; empty for an image file, whose
        model input is kept instead), ``label`` what it is. The next classify() already
        uses it; the caller saves the profile when it likes."""
        self.check_label(label)
        self.profile.add_example(strokes, label, self.features(image), self.info.model_id,
                                 image=image)

    def reembed_profile(self, keep_models: Collection[str] = ()) -> str | None:
        """Bring examples made with another model to this one (re-rendered from their
        ink, or their kept image). Examples of ``keep_models`` (models still in use, e.g.
        another reading mode's) and examples whose label this model lacks stay as they
        are. A one-line message when some could not be re-read."""
        from hwr_qt.raster import render_ink  # Qt: only when there is something to do

        model_id = self.info.model_id
        keep = set(keep_models) - {model_id}

        def wanted(e: Example) -> bool:
            return e.model_id not in keep and self.adapter.knows(e.label)

        if not any(wanted(e) for e in self.profile.examples
                   if e.model_id != model_id or e.features is None):
            return None
        if not self.can_learn:
            return (f"{self.profile.set_aside(model_id)} handwriting examples set aside: "
                    "this model cannot learn from corrections")

        def embed(e: Example) -> np.ndarray:
            if e.image is not None:
                return self.features(e.image.astype(np.float32) / 255)
            return self.features(render_ink(e.ink))

        done, failed = self.profile.reembed(model_id, embed, wanted)
        if failed:
            return (f"{failed} handwriting examples made with another model could not be "
                    f"re-read and are set aside ({done} re-read)")
        return None


def adapted(classifier: Classifier, profile: Profile, **kw: object) -> Classifier:
    """``classifier`` with the profile applied under any mode restriction (the profile
    speaks the model's full label set, so it wraps the model itself)."""
    from hwr_qt.classifier import ModeClassifier

    if isinstance(classifier, ModeClassifier):
        inner = AdaptedClassifier(classifier.inner, profile, **kw)  # type: ignore[arg-type]
        return ModeClassifier(inner, classifier.mode)
    return AdaptedClassifier(classifier, profile, **kw)  # type: ignore[arg-type]
