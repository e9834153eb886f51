"""The seam between a character model and the reading pipeline.

``ModelInfo`` is what a model file says about itself (read from its ONNX metadata, never
from constants in the app); ``Scores`` is what it answers for a batch of model inputs; a
``Classifier`` is anything that turns inputs into scores: the ONNX recognizer, the same
recognizer adapted to its user (``hwr_qt.adapt``), or a fake in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

MODES = ("digits", "letters", "all")  # reading modes; a model says which it serves
# What a mode's reader calls one of its characters, in messages and views.
MODE_NOUNS = {"digits": "digit", "letters": "letter", "all": "character"}


def mode_accepts(mode: str, label: str) -> bool:
    """Whether ``label`` belongs to ``mode``'s label set (digits, letters or everything)."""
    if mode == "digits":
        return label.isdigit()
    if mode == "letters":
        return label.isalpha()
    return True


@dataclass(frozen=True)
class ModelInfo:
    """A model's self-description (ONNX metadata), validated when the model loads."""

    labels: tuple[str, ...]  # one per probability column, e.g. "0".."9", "A".."z"
    modes: tuple[str, ...] = ("digits",)  # reading modes the model serves
    model_id: str = ""  # stable id of the weights (profiles are keyed to it)
    reject_output: str | None = None  # output name of "not a character" [N,1], if any
    features_output: str | None = None  # output name of penultimate features [N,D], if any
    feature_size: int = 0
    # Labels that are one shape in different case (c/C, I/l): context decides among them.
    same_shape: tuple[tuple[str, ...], ...] = ()
    temperature: float = 1.0
    reject_threshold: float = 0.5
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    def mode_mask(self, mode: str) -> np.ndarray:
        """bool [C]: the columns ``mode`` may answer."""
        return np.array([mode_accepts(mode, lab) for lab in self.labels], bool)


@dataclass(frozen=True)
class Scores:
    """A classifier's answer for N model inputs."""

    probabilities: np.ndarray  # float32 [N, C], calibrated, rows sum to 1
    reject: np.ndarray | None = None  # float32 [N]: P(not a character at all)
    features: np.ndarray | None = None  # float32 [N, D]: penultimate-layer features
    # bool [N]: the answer came from the user's own examples (an adapted classifier).
    from_profile: np.ndarray | None = None
    # bool [N]: the user's examples had a say (raised a label), whether or not the answer
    # changed: such a reading is not joined with the path model (a correction holds).
    guided: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    probability: float


class Classifier(Protocol):
    """Model inputs (float32 [N, 28, 28] in 0..1) -> Scores."""

    @property
    def info(self) -> ModelInfo: ...

    def classify(self, images: np.ndarray) -> Scores: ...


def ranked(probs: np.ndarray, info: ModelInfo, k: int) -> list[Prediction]:
    """The ``k`` likeliest labels of one row, best first. When the best is one shape of
    several cases (``info.same_shape``: c/C, I/l) its twins are in the list too, even if
    ranked lower: shape alone cannot tell them apart, so the view must show them."""
    k = max(1, min(k, len(probs)))
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    top = order[:k]
    best = info.labels[top[0]]
    twins = [info.labels.index(t) for g in info.same_shape if best in g for t in g
             if t != best]
    missing = [i for i in twins if i not in top][:k - 1]
    if missing:
        keep = [i for i in top if i not in twins][:k - len(missing)]
        top = sorted(keep + missing + [i for i in top if i in twins],
                     key=order.index)[:k]
    return [Prediction(info.labels[i], float(probs[i])) for i in top]


class ModeClassifier:
    """A classifier read in one mode: the columns outside the mode dropped and each row
    renormalised (P(label | the ink is one of the mode's characters)). Reject scores,
    features and profile flags pass through unchanged."""

    def __init__(self, inner: Classifier, mode: str) -> None:
        info = inner.info
        mask = info.mode_mask(mode)
        if not mask.any():
            raise ValueError(f"the model has no labels for {mode} mode")
        self.inner, self.mode = inner, mode
        self._columns = np.flatnonzero(mask)
        labels = tuple(info.labels[i] for i in self._columns)
        groups = tuple(g2 for g in info.same_shape
                       if len(g2 := tuple(x for x in g if x in labels)) > 1)
        self._info = replace(info, labels=labels, modes=(mode,), same_shape=groups)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def classify(self, images: np.ndarray) -> Scores:
        scores = self.inner.classify(images)
        if len(self._columns) == scores.probabilities.shape[1]:
            return scores  # every label is the mode's (everything mode)
        p = scores.probabilities[:, self._columns]
        total = p.sum(axis=1, keepdims=True)
        # A row with no mass on the mode at all (underflow) becomes uniform, not NaN.
        p = np.where(total > 0, p / np.maximum(total, 1e-30), 1.0 / p.shape[1])
        return replace(scores, probabilities=p.astype(np.float32, copy=False))


def for_mode(classifier: Classifier, mode: str) -> Classifier:
    """``classifier`` restricted to ``mode``'s labels, its ``info.modes`` just ``mode``
    (itself when it serves that mode alone)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    # A model that serves one mode answers in its own labels, whatever they are; the
    # masks are for a model that serves several (letters and everything).
    if classifier.info.modes == (mode,):
        return classifier
    return ModeClassifier(classifier, mode)
