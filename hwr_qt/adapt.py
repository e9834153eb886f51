"""Adapting a classifier to its user's handwriting, from the characters they corrected.

Each correction is the network's penultimate-layer features of the character (the
model's ``features`` output), the label the user gave it ("this is a 4", or
``NOT_A_CHARACTER``: "this isn't a character") and how sure the network was against
that label when it was learned (its *margin*: the log-probability of its reading minus
that of the label). A new character close to a corrected example (cosine similarity of
the L2-normalised features above a floor) gets that example's label's log-probability
raised by up to the example's cap, ``1 - exp(-kernel / saturation)`` of it; each label
takes its nearest example's boost, not the sum, so twenty copies of one correction
reach no further than one:

* an empty profile changes nothing (the base scores come back as they are);
* the network keeps the last word where it is sure: the boost is bounded (``max_boost``),
  so a character the network reads with a larger margin stays as it was;
* a correction against a reading the network was sure of counts for less: its cap
  shrinks by ``exp(-(margin - trusted_margin) / distrust_scale)`` above
  ``trusted_margin``. On the validation writers the misreads users correct have margins
  of 1-2 (90 % under 5), while a writer's well-read 1s taught as 7 have 10-14: that is
  what keeps a few wrong corrections from turning every writer's 1 into a 7;
* the user's own habits, read wrongly but not confidently so, are read their way.

The constants were tuned on the validation writers of the real pen data
(``python -m benchmarks.adapt --split val``, digits, letters and everything modes) and on
harder renderings of them (each writer's ink under one fixed rotation, shear and
squash, so that the model errs systematically), never on test writers.
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
# A reading the user's examples raised by this much (log-probability) is theirs: it is
# not joined with the path model (``pipeline.with_path``), so that a correction holds
# even where the image model already agreed. Validation writers under fixed distortions
# (``benchmarks.adapt --split val --distort 0..2``): second-half errors 17, 8, 7 at 0.5
# and 14, 8, 7 at 2.0 and 4.0 (a lower bar leaves more readings without the path model).
GUIDED_BOOST = 2.0


class AdaptError(ValueError):
    """A correction that cannot be learned; the message is for the user."""


@dataclass(frozen=True)
class AdaptParams:
    similarity_floor: float = 0.8  # cosine similarity below which an example has no say
    saturation: float = 0.3  # kernel value at which an example gives 63 % of its cap
    # Log-probability one example may add. Validation: 20 wrong corrections cost other
    # writers at most 0.5 pt (digits); the other-writer change stays under 0.5 pt.
    max_boost: float = 8.0
    trusted_margin: float = 4.0  # corrections against a surer network count for less
    distrust_scale: float = 1.0  # ... by a factor e per unit of margin beyond


DEFAULT_PARAMS = AdaptParams()


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); an all-zero row stays zero."""
    f = np.asarray(features, np.float32)
    out: np.ndarray = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-12)
    return out


def margin_against(probabilities: np.ndarray, column: int) -> float:
    """How sure the network was against ``column``: log-probability of its best label
    minus that of ``column`` (0 when it read that label already)."""
    logp = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-30, 1.0))
    return float(logp.max() - logp[column])


class Adapter:
    """The learned state: the corrected examples' normalised features, labels and caps,
    sorted by label (so that each label's nearest example is one reduction).

    ``labels`` are the model's labels; an example's label may also be NOT_A_CHARACTER.
    """

    def __init__(self, labels: Sequence[str], params: AdaptParams = DEFAULT_PARAMS) -> None:
        self.labels = tuple(labels)
        self.params = params
        self._index = {lab: i for i, lab in enumerate(self.labels)}
        self._index[NOT_A_CHARACTER] = len(self.labels)  # the reject column
        self._bank = np.zeros((0, 0), np.float32)
        self._label = np.zeros(0, np.intp)  # column of each example (sorted)
        self._cap = np.zeros(0, np.float32)  # the most each example may add
        self._starts = np.zeros(0, np.intp)  # first example of each label present

    def __len__(self) -> int:
        return len(self._label)

    def knows(self, label: str) -> bool:
        return label in self._index

    def class_index(self, label: str) -> int:
        try:
            return self._index[label]
        except KeyError:
            raise AdaptError(f"'{label}' is not one of the model's labels") from None

    def cap(self, margin: float | None) -> float:
        """The boost an example learned against ``margin`` may give (None: unknown,
        e.g. an example from an older profile: trusted)."""
        p = self.params
        over = 0.0 if margin is None else max(0.0, margin - p.trusted_margin)
        return float(p.max_boost * np.exp(-over / p.distrust_scale))

    def fit(self, features: np.ndarray, labels: Sequence[str],
            margins: Sequence[float | None] | None = None) -> None:
        """Replace the examples: ``features`` [M, D], one label (and margin) each."""
        f = np.asarray(features, np.float32)
        f = f.reshape(len(labels), f.size // max(len(labels), 1))
        column = np.array([self.class_index(x) for x in labels], np.intp)
        caps = np.array([self.cap(m) for m in (margins or [None] * len(labels))],
                        np.float32)
        order = np.argsort(column, kind="stable")
        self._bank, self._label, self._cap = normalise(f)[order], column[order], caps[order]
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._label) != 0]) \
            if len(order) else np.zeros(0, np.intp)

    def add(self, feature: np.ndarray, label: str, margin: float | None = None) -> None:
        """One more example (a correction just made)."""
        f = normalise(np.asarray(feature, np.float32).reshape(1, -1))
        i = int(np.searchsorted(self._label, self.class_index(label), side="right"))
        bank = f if not len(self) else np.insert(self._bank, i, f[0], axis=0)
        column = np.insert(self._label, i, self.class_index(label))
        cap = np.insert(self._cap, i, self.cap(margin))
        self._bank, self._label, self._cap = bank, column, cap
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._label) != 0])

    def boost(self, features: np.ndarray) -> np.ndarray:
        """[N, C+1] log-probability to add to each label (the last column: not a
        character) for each of the N characters: each label's nearest example's."""
        p = self.params
        s = normalise(features) @ self._bank.T  # [N, M] cosine similarities
        k = np.clip((s - p.similarity_floor) / (1.0 - p.similarity_floor), 0.0, 1.0)
        b = self._cap * (1.0 - np.exp(-k / p.saturation))  # [N, M]
        out = np.zeros((len(s), len(self.labels) + 1), np.float32)
        out[:, self._label[self._starts]] = np.maximum.reduceat(b, self._starts, axis=1)
        return out

    def adjust(self, probabilities: np.ndarray, reject: np.ndarray | None,
               features: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """(probabilities, reject, changed, guided): the scores moved towards the
        examples' labels, which characters' answers differ from the network's because of
        it, and which the examples had a say in at all (a boost of GUIDED_BOOST or more:
        the reading is the user's, even where the network already agreed)."""
        probs = np.asarray(probabilities, np.float32)
        n, c = probs.shape
        if not len(self) or not n:
            return probs, reject, np.zeros(n, bool), np.zeros(n, bool)
        boost = self.boost(features)
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
        guided = changed | (boost.max(axis=1) >= GUIDED_BOOST)
        return out.astype(np.float32), new_reject, changed, guided

    def read(self, probabilities: np.ndarray, reject: np.ndarray | None,
             features: np.ndarray, threshold: float
             ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """``adjust``, with a reject decision the examples flipped (at ``threshold``)
        counted as changed too: what the app reads and shows as the user's."""
        probs, new_reject, changed, guided = self.adjust(probabilities, reject, features)
        if new_reject is not None and reject is not None:
            changed = changed | ((new_reject >= threshold) != (np.asarray(reject) >= threshold))
            guided = guided | changed
        return probs, new_reject, changed, guided


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
            margins = self.profile.margins_for(self.info.model_id)
            # Only labels this model has (an example re-embedded from another model's
            # label set must not stop the reading).
            known = [i for i, lab in enumerate(labels) if self.adapter.knows(lab)]
            if len(known) < len(labels):
                feats, labels = feats[known], [labels[i] for i in known]
                margins = [margins[i] for i in known]
            self.adapter.fit(feats, labels, margins)
            self._revision = self.profile.revision

    def classify(self, images: np.ndarray) -> Scores:
        scores = self.base.classify(images)
        n = len(scores.probabilities)
        if not self.enabled or scores.features is None:
            return replace(scores, from_profile=np.zeros(n, bool), guided=np.zeros(n, bool))
        self._sync()
        probs, reject, changed, guided = self.adapter.read(
            scores.probabilities, scores.reject, scores.features, self.info.reject_threshold)
        return replace(scores, probabilities=probs, reject=reject, from_profile=changed,
                       guided=guided)

    def features(self, image: np.ndarray) -> np.ndarray:
        """The base model's features [D] of one model input [28, 28]."""
        return self.embed(image, NOT_A_CHARACTER)[0]

    def embed(self, image: np.ndarray, label: str) -> tuple[np.ndarray, float | None]:
        """(the base model's features [D] of one model input [28, 28], its margin
        against ``label``: None for NOT_A_CHARACTER)."""
        if not self.can_learn:
            raise AdaptError("this model cannot learn from corrections (it has no "
                             "features output)")
        s = self.base.classify(np.asarray(image, np.float32)[None])
        assert s.features is not None  # the model has a features output (checked above)
        column = self.adapter.class_index(label)
        margin = None if column == len(self.info.labels) else \
            margin_against(s.probabilities[0], column)
        return np.asarray(s.features[0], np.float32), margin

    def check_label(self, label: str) -> None:
        """AdaptError (for the user) unless ``label`` is the model's or NOT_A_CHARACTER."""
        self.adapter.class_index(label)

    def learn(self, image: np.ndarray, strokes: object, label: str) -> None:
        """Store a correction: ``image`` the model input [28, 28] the character was read
        from, ``strokes`` its ink (``hwr_qt.ink.Ink``; empty for an image file, whose
        model input is kept instead), ``label`` what it is. The next classify() already
        uses it; the caller saves the profile when it likes."""
        self.check_label(label)
        features, margin = self.embed(image, label)
        self.profile.add_example(strokes, label, features, self.info.model_id,
                                 image=image, margin=margin)

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

        def embed(e: Example) -> tuple[np.ndarray, float | None]:
            if e.image is not None:
                return self.embed(e.image.astype(np.float32) / 255, e.label)
            return self.embed(render_ink(e.ink), e.label)

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
