"""The seam between a character model and the reading pipeline.

``ModelInfo`` is what a model file says about itself (read from its ONNX metadata, never
from constants in the app); ``Scores`` is what it answers for a batch of model inputs; a
``Classifier`` is anything that turns inputs into scores: the ONNX recognizer, the same
recognizer adapted to its user (``hwr_qt.adapt``), or a fake in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

MODES = ("digits", "letters", "all")  # reading modes; a model says which it serves


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


class Classifier(Protocol):
    """Model inputs (float32 [N, 28, 28] in 0..1) -> Scores."""

    @property
    def info(self) -> ModelInfo: ...

    def classify(self, images: np.ndarray) -> Scores: ...
