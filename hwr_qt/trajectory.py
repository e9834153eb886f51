"""The pen's path as a second opinion: how a character was drawn, not only how it looks.

A raster keeps the shape of the ink and loses what the pen did: the order of the strokes,
their direction, where the pen was lifted. Those tell apart what real writers' shapes
confuse: a hooked 1 (an up-stroke, then the stem) from a 7 (a bar, then a diagonal), an
open 4 (two strokes) from a 9 (one), a 5 whose flag is a stroke of its own from a 3.
On the validation writers of the real pen data the image model alone misreads 12 of
2,032 digits, a path model 3 (ten of the image model's twelve it reads right); joined,
4-digit numbers read 96.05 -> 97.80 % and letters are rejected 90.40 -> 92.97 %
(``python -m benchmarks.pen --split val``; the digits path model has a reject output).

``trajectory_features`` turns ink into the model input: the whole path, pen-up jumps
included, resampled by arc length to ``POINTS`` points of (x, y, direction x,
direction y, pen up), in the character's own box. Training (``training.trajectory``),
the export's check and the app all call it: one definition of the input.

``TrajectoryModel`` runs the exported ONNX file; ``mix`` joins its probabilities with
the image model's (a weighted geometric mean, the weight stored in the model's metadata).
Ink only: an image file has no path and is read by the image model alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hwr_qt.ink import Ink, Point, Stroke

POINTS = 64  # samples along the path: a digit's turns need ~20, a number's piece no more
CHANNELS = 5  # x, y, direction x, direction y, pen up
FEATURES_VERSION = "1"  # bump when trajectory_features changes: models must be retrained
INPUT_NAME = "trajectory"
OUTPUT_NAME = "probabilities"
REJECT_NAME = "reject"  # [N, 1] P(no character of the model's), if the model has it
# A pen-up jump is not ink: it counts for less of the path than a stroke of its length
# (but still some, so that the order of the strokes shows), and a long one no more than
# a short one.
JUMP_SHARE = 0.5
JUMP_CAP = 0.3  # of the character's size
DEFAULT_WEIGHT = 0.5  # the image model's share in ``mix`` when the metadata names none


def _path(ink: Ink) -> tuple[np.ndarray, np.ndarray]:
    """(the points [P, 2] of every stroke in order, whether each step [P-1] lifts the pen)."""
    points = np.array([p[:2] for s in ink.strokes for p in s.points], np.float64)
    lifts = np.zeros(max(len(points) - 1, 0))
    lifts[np.cumsum([len(s.points) for s in ink.strokes])[:-1] - 1] = 1.0  # strokes' ends
    return points, lifts


def trajectory_features(ink: Ink, points: int = POINTS) -> np.ndarray:
    """float32 [points, CHANNELS]: the pen's path, centred on the ink's box and scaled by
    its longer side (so a 1 stays thin), resampled evenly along the path."""
    if ink.is_empty:
        raise ValueError("the drawing is empty")
    p, lifts = _path(ink)
    lo, hi = p.min(axis=0), p.max(axis=0)
    p = (p - (lo + hi) / 2) / max(float((hi - lo).max()), 1e-6)
    out = np.zeros((points, CHANNELS), np.float32)
    if len(p) == 1:  # a dot
        out[:, :2] = p[0]
        return out
    steps = p[1:] - p[:-1]
    norm = np.hypot(steps[:, 0], steps[:, 1])
    length = np.where(lifts > 0, np.minimum(norm, JUMP_CAP) * JUMP_SHARE, norm) + 1e-6
    along = np.empty(len(p))
    along[0] = 0.0
    np.cumsum(length, out=along[1:])
    t = np.linspace(0.0, along[-1], points)
    i = np.minimum(np.searchsorted(along, t, side="right") - 1, len(length) - 1)
    f = np.clip((t - along[i]) / length[i], 0.0, 1.0)[:, None]
    out[:, :2] = p[i] + f * steps[i]
    out[:, 2:4] = steps[i] / np.maximum(norm[i], 1e-9)[:, None]
    out[:, 4] = lifts[i]
    return out


def trajectory_batch(inks: Sequence[Ink]) -> np.ndarray:
    """float32 [N, POINTS, CHANNELS]."""
    return np.stack([trajectory_features(ink) for ink in inks])


def restrict(probabilities: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """[N, C] probabilities -> the ``columns`` in their order, rows renormalised (a
    reading mode's labels, as ``classifier.ModeClassifier`` restricts the image model)."""
    if len(columns) == probabilities.shape[1] and \
            (columns == np.arange(len(columns))).all():
        return probabilities
    p = probabilities[:, columns]
    out: np.ndarray = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-30)
    return out


def mix_reject(image: np.ndarray | float, path: np.ndarray | float,
               weight: float) -> np.ndarray:
    """Two models' P(not a character) [N] joined as ``mix`` joins distributions (the
    weighted geometric mean of the two-way distributions [reject, accept])."""
    a = np.clip(np.asarray(image, np.float64), 1e-12, 1.0 - 1e-12)
    b = np.clip(np.asarray(path, np.float64), 1e-12, 1.0 - 1e-12)
    no = a ** weight * b ** (1.0 - weight)
    out: np.ndarray = no / (no + (1.0 - a) ** weight * (1.0 - b) ** (1.0 - weight))
    return out


def mix(image: np.ndarray, path: np.ndarray, weight: float) -> np.ndarray:
    """Rows of the two models' probabilities joined: p_image^weight * p_path^(1-weight),
    renormalised. Geometric, not arithmetic: a label either model rules out stays out."""
    logp = weight * np.log(np.clip(image, 1e-12, 1.0)) + \
        (1.0 - weight) * np.log(np.clip(path, 1e-12, 1.0))
    p = np.exp(logp - logp.max(axis=-1, keepdims=True))
    out: np.ndarray = (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)
    return out


class TrajectoryModel:
    """One ONNX Runtime session of a path model and what its metadata says (labels, the
    image model's weight in ``mix``). Raises ``ModelError`` with the user's message."""

    def __init__(self, path: str | Path) -> None:
        from hwr_qt.recognizer import ModelError, open_session

        self.path = Path(path)
        self._session = open_session(self.path)
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME or \
                list(inputs[0].shape[1:]) != [POINTS, CHANNELS]:
            raise ModelError(f"incompatible path model {self.path.name}: expected one input "
                             f"'{INPUT_NAME}' of shape [N,{POINTS},{CHANNELS}]")
        meta = dict(self._session.get_modelmeta().custom_metadata_map)
        if meta.get("trajectory_features_version") != FEATURES_VERSION:
            raise ModelError(f"path model {self.path.name} expects trajectory features "
                             f"version {meta.get('trajectory_features_version') or 'unknown'}"
                             f", this app uses {FEATURES_VERSION}")
        try:
            labels = json.loads(meta.get("labels", ""))
            weight = float(meta.get("image_weight", DEFAULT_WEIGHT))
        except ValueError:
            raise ModelError(f"path model {self.path.name}: unreadable metadata") from None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels) \
                or not 0.0 <= weight <= 1.0:
            raise ModelError(f"path model {self.path.name}: invalid labels or weight")
        self.labels: tuple[str, ...] = tuple(labels)
        self.weight = weight
        self.metadata = meta
        outputs = {o.name for o in self._session.get_outputs()}
        if OUTPUT_NAME not in outputs:
            raise ModelError(f"incompatible path model {self.path.name}: no output named "
                             f"'{OUTPUT_NAME}' (found {sorted(outputs)})")
        self.has_reject = meta.get("reject_output") == REJECT_NAME and REJECT_NAME in outputs
        self._outputs = [OUTPUT_NAME] + ([REJECT_NAME] if self.has_reject else [])
        self._columns: dict[tuple[str, ...], np.ndarray | None] = {}
        self._probe()

    def _probe(self) -> None:
        """Run it once on the batch sizes the pipeline sends (one piece, several), so that
        a model that cannot run, or answers in other shapes than its labels, fails now as
        a model error rather than on every drawing."""
        from hwr_qt.recognizer import ModelError, _first_line

        tick = Ink((Stroke((Point(0.0, 0.0), Point(1.0, 2.0))),))
        for n in (1, 4):
            try:
                self.scores([tick] * n)
            except Exception as e:  # noqa: BLE001 - onnxruntime raises several types
                raise ModelError(f"path model {self.path.name} fails to run: "
                                 f"{_first_line(e)}") from None

    def scores(self, inks: Sequence[Ink], labels: Sequence[str] | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """(float32 [N, C] probabilities, [N] P(not a character) or None) for N inks.
        With ``labels`` (a reader's, see ``columns``), the probabilities are those labels'
        columns in their order, renormalised as ``classifier.ModeClassifier`` does."""
        from hwr_qt.recognizer import ModelOutputError

        n = len(inks)
        outs = self._session.run(self._outputs, {INPUT_NAME: trajectory_batch(inks)})
        p = np.asarray(outs[0])
        r = np.asarray(outs[1]).reshape(-1) if self.has_reject else None
        if p.shape != (n, len(self.labels)) or not np.isfinite(p).all() or \
                (r is not None and (r.shape != (n,) or not np.isfinite(r).all())):
            raise ModelOutputError(f"the path model's output is invalid (shape {p.shape})")
        p = p.astype(np.float32, copy=False)
        if labels is not None:
            columns = self.columns(labels)
            if columns is None:
                raise ValueError(f"path model {self.path.name} lacks some of these labels")
            p = restrict(p, columns)
        return p, r

    def probabilities(self, inks: Sequence[Ink]) -> np.ndarray:
        """float32 [N, C] for N inks (each one character)."""
        return self.scores(inks)[0]

    def columns(self, labels: Sequence[str]) -> np.ndarray | None:
        """Where ``labels`` are among its columns (a mode's labels within the characters
        model's), or None when it lacks one of them: it joins no such reader."""
        key = tuple(labels)
        if key not in self._columns:  # asked at every pen-up: worked out once per label set
            index = {lab: i for i, lab in enumerate(self.labels)}
            self._columns[key] = None if not key or any(lab not in index for lab in key) \
                else np.array([index[lab] for lab in key], np.intp)
        return self._columns[key]

    def serves(self, labels: Sequence[str]) -> bool:
        return self.columns(labels) is not None
