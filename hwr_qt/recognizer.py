"""ONNX Runtime inference: load and check a character model, answer its scores.

Everything about the model's classes comes from its ONNX metadata (``ModelInfo``): the
labels (any number), the reading modes it serves, its reject and feature outputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from hwr_qt.classifier import MODES, ModelInfo, Prediction, Scores, ranked
from hwr_qt.preprocess import FIELD, PREPROCESSING_VERSION

__all__ = ["DEFAULT_LABELS", "INPUT_NAME", "LABELS", "ModelError", "ModelOutputError",
           "OUTPUT_NAME", "Prediction", "REJECT_NAME", "Recognizer"]

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
# The reject output [N,1] (probability that the ink is no character of the model's) when
# the metadata names none: the digit models' name for it.
REJECT_NAME = "not_digit"
# Labels of a model whose metadata has none: the first digit models had ten columns.
DEFAULT_LABELS = [str(d) for d in range(10)]
LABELS = DEFAULT_LABELS  # the old name, still used by tests of the digit model


MAX_LABEL = 8  # characters: a label is shown large in the answer, one per bar
MAX_CLASSES = 1000  # far beyond any alphabet; a bigger output is not a character model
PROBE_BATCH = 4  # "many": what read_number sends for a multi-digit drawing
SUM_TOLERANCE = 1e-3  # float32 softmax rows sum to 1 within ~1e-6; logits miss by far more
ID_LENGTH = 16  # hex digits of the file's sha256 used as its id when the metadata has none


class ModelError(Exception):
    """The model is missing, unreadable or incompatible; the message is for the user."""


class ModelOutputError(ModelError):
    """The model ran but answered nonsense (NaN, not probabilities, wrong shape) for one
    input: an error for that drawing or file, never a shown answer."""


def _load_problem(e: Exception) -> str:
    """onnxruntime's load error in the user's words ("[ONNXRuntimeError] : 7 :
    INVALID_PROTOBUF : Load model from ... failed:Protobuf parsing failed." means the
    file is not an ONNX model at all)."""
    text = str(e).strip()
    if "INVALID_PROTOBUF" in text or "Protobuf parsing failed" in text:
        return "not an ONNX model (a damaged file, or another format)"
    if "INVALID_GRAPH" in text or "NOT_IMPLEMENTED" in text:
        return "an ONNX model this version of ONNX Runtime cannot run"
    first = text.splitlines()[0] if text else type(e).__name__
    # Drop onnxruntime's "[ONNXRuntimeError] : N : CODE :" prefix.
    return first.rsplit(" : ", 1)[-1][:200]


def open_session(path: Path) -> Any:  # onnxruntime.InferenceSession (imported late)
    """An ONNX Runtime session on the CPU for one model file; ModelError when the file is
    missing or is no model onnxruntime can load."""
    import onnxruntime as ort  # deferred: keeps `import hwr_qt...` light

    ort.disable_telemetry_events()  # the event switch too (hwr_qt.privacy: the files)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    opts = ort.SessionOptions()
    # One thread: a single 28x28 image is faster without thread hand-offs, and the
    # GUI thread stays the only busy one.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # Fatal only: every failure is raised (as ModelError or from run()) and reported by
    # the caller; ORT's own error lines on stderr would only duplicate it.
    opts.log_severity_level = 4
    try:
        return ort.InferenceSession(str(path), sess_options=opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises several unrelated types
        raise ModelError(f"cannot load model {path.name}: {_load_problem(e)}") from None


class Recognizer:
    """One ONNX Runtime session plus the model's description (``info``): a ``Classifier``.

    Probabilities are calibrated with the temperature stored by the export (softmax of
    logits / T, computed from the softmax output), so "90 %" means right 9 times in 10.
    """

    def __init__(self, path: str | Path, *, calibrate: bool = True) -> None:
        self.path = Path(path)
        self._session = open_session(self.path)
        width = self._check_signature()
        meta = self._session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, str] = dict(meta)
        version = meta.get("preprocessing_version")
        if version != PREPROCESSING_VERSION:
            raise ModelError(f"model {self.path.name} expects preprocessing version "
                             f"{version or 'unknown'}, this app uses {PREPROCESSING_VERSION}")
        try:
            t = float(meta.get("temperature", "1")) if calibrate else 1.0
        except ValueError:
            t = 1.0
        self.temperature = t if np.isfinite(t) and 0.05 <= t <= 20 else 1.0
        try:
            r = float(meta.get("reject_threshold", "0.5"))
        except ValueError:
            r = 0.5
        self.info = self._read_info(meta, width, r if 0.0 < r < 1.0 else 0.5)
        self.labels = list(self.info.labels)
        self.reject_threshold = self.info.reject_threshold
        self.has_reject = self.info.reject_output is not None
        self._outputs = [OUTPUT_NAME] + [o for o in (self.info.reject_output,
                                                     self.info.features_output) if o]
        self.max_batch = self._probe()

    # --- the model's description --------------------------------------------------
    def _read_info(self, meta: dict[str, str], width: int | None,
                   reject_threshold: float) -> ModelInfo:
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        labels = self._read_labels(meta, width)
        modes = self._read_modes(meta, labels)
        reject = meta.get("reject_output") or (REJECT_NAME if REJECT_NAME in outputs else None)
        if reject is not None and reject not in outputs:
            raise self._incompatible(f"its metadata names a reject output '{reject}' that "
                                     f"it does not have (found {list(outputs)})")
        features = meta.get("features_output") or None
        size = 0
        if features is not None:
            if features not in outputs:
                raise self._incompatible(f"its metadata names a features output "
                                         f"'{features}' that it does not have")
            declared = outputs[features]
            size = declared[1] if len(declared) == 2 and isinstance(declared[1], int) else 0
            try:
                size = int(meta.get("feature_size", size))
            except ValueError:
                raise self._incompatible("its 'feature_size' metadata is not a number") \
                    from None
            if size <= 0:
                raise self._incompatible("its features output has no size")
        return ModelInfo(labels=labels, modes=modes, model_id=self._model_id(meta),
                         reject_output=reject, features_output=features, feature_size=size,
                         same_shape=self._read_same_shape(meta, labels),
                         temperature=self.temperature, reject_threshold=reject_threshold,
                         metadata=dict(meta))

    def _incompatible(self, detail: str) -> ModelError:
        return ModelError(f"incompatible model {self.path.name}: {detail}")

    def _read_labels(self, meta: dict[str, str], width: int | None) -> tuple[str, ...]:
        if "labels" not in meta:
            if width not in (None, len(DEFAULT_LABELS)):
                raise self._incompatible(f"it has {width} outputs but no 'labels' metadata "
                                         "naming them")
            return tuple(DEFAULT_LABELS)
        try:
            labels = json.loads(meta["labels"])
        except ValueError:
            labels = None
        if not (isinstance(labels, list) and 2 <= len(labels) <= MAX_CLASSES
                and all(isinstance(x, str) and 0 < len(x) <= MAX_LABEL
                        and x.isprintable() and not x.isspace() for x in labels)
                and len(set(labels)) == len(labels)):
            raise self._incompatible("its 'labels' metadata is not a JSON list of distinct "
                                     f"short labels (1 to {MAX_LABEL} printable characters)")
        if width is not None and width != len(labels):
            raise self._incompatible(f"its 'labels' metadata names {len(labels)} labels "
                                     f"for {width} outputs")
        return tuple(labels)

    def _read_modes(self, meta: dict[str, str], labels: tuple[str, ...]) -> tuple[str, ...]:
        if "modes" not in meta:
            # Older files: the mode their labels fill (the digit models: digits).
            return next(((m,) for m in MODES if any(ModelInfo(labels).mode_mask(m))),
                        ("all",))
        try:
            modes = json.loads(meta["modes"])
        except ValueError:
            modes = None
        if not (isinstance(modes, list) and modes and all(m in MODES for m in modes)):
            raise self._incompatible(f"its 'modes' metadata is not a JSON list of modes "
                                     f"({', '.join(MODES)})")
        for m in modes:
            if not ModelInfo(labels).mode_mask(m).any():
                raise self._incompatible(f"it claims {m} mode but has no labels for it")
        return tuple(dict.fromkeys(modes))

    def _read_same_shape(self, meta: dict[str, str], labels: tuple[str, ...]
                         ) -> tuple[tuple[str, ...], ...]:
        if "same_shape" not in meta:
            return ()
        try:
            groups = json.loads(meta["same_shape"])
        except ValueError:
            groups = None
        if not (isinstance(groups, list) and all(
                isinstance(g, list) and len(g) >= 2 and all(x in labels for x in g)
                for g in groups)):
            raise self._incompatible("its 'same_shape' metadata is not a JSON list of "
                                     "groups of its labels")
        return tuple(tuple(g) for g in groups)

    def _model_id(self, meta: dict[str, str]) -> str:
        given = meta.get("model_id", "").strip()
        if given:
            return given[:64]
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:ID_LENGTH]

    # --- checks -------------------------------------------------------------------
    def _probe(self) -> int | None:
        """Run the batch sizes the pipeline sends (1 and several) on blank input, so that
        a model that cannot run, or answers nonsense, fails now as a model error rather
        than on every drawing. Returns the largest batch the model takes (None: any)."""
        declared = self._session.get_inputs()[0].shape[0]
        fixed = isinstance(declared, int) and declared > 0
        sizes = [declared] if fixed else [1, PROBE_BATCH]
        self.max_batch = declared if fixed else None
        for n in sizes:
            try:
                self._run(np.zeros((n, FIELD, FIELD), np.float32))
            except ModelOutputError as e:
                raise ModelError(f"model {self.path.name}: {e}") from None
            except Exception as e:  # noqa: BLE001 - onnxruntime raises several types
                if n == sizes[0]:
                    raise ModelError(f"model {self.path.name} fails to run: "
                                     f"{_first_line(e)}") from None
                # Runs one image at a time only (e.g. a batch dimension named but fixed
                # inside the graph): the pipeline then sends images one by one.
                return 1
        return declared if fixed else None

    def _check_signature(self) -> int | None:
        """The input and the probabilities output checked; the number of classes the
        output declares (None: not declared, checked on the first run)."""
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise ModelError(f"incompatible model: expected one input named '{INPUT_NAME}', "
                             f"found {[i.name for i in inputs]}")
        shape = inputs[0].shape
        if inputs[0].type != "tensor(float)" or len(shape) != 4 or \
                list(shape[1:]) != [FIELD, FIELD, 1]:
            raise ModelError(f"incompatible model: input must be float [N,28,28,1], "
                             f"found {inputs[0].type} {shape}")
        names = [o.name for o in outputs]
        if OUTPUT_NAME not in names:
            raise ModelError(f"incompatible model: no output named '{OUTPUT_NAME}' "
                             f"(found {names})")
        out = outputs[names.index(OUTPUT_NAME)]
        width = out.shape[1] if len(out.shape) == 2 else None
        if len(out.shape) != 2 or (isinstance(width, int) and not 2 <= width <= MAX_CLASSES):
            raise ModelError("incompatible model: output must be [N,classes], found "
                             f"{out.shape}")
        return width if isinstance(width, int) else None

    # --- inference ----------------------------------------------------------------
    def classify(self, images: np.ndarray) -> Scores:
        """[N,28,28] or [28,28] float32 in 0..1 -> calibrated probabilities [N,C], the
        reject score [N] and the features [N,D] where the model has them.

        The probabilities are conditional on the ink being one of the model's characters.
        """
        x = np.asarray(images, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.shape[1:] != (FIELD, FIELD):
            raise ValueError(f"expected [N,28,28] images, got {x.shape}")
        n, step = len(x), self.max_batch or len(x)
        parts = []
        for i in range(0, n, max(step, 1)):
            chunk = x[i:i + step]
            if len(chunk) < step and self.max_batch:  # a fixed batch: pad the last chunk
                pad = np.zeros((step - len(chunk), FIELD, FIELD), np.float32)
                parts.append([o[:len(chunk)] for o in self._run(np.concatenate([chunk, pad]))])
            else:
                parts.append(self._run(chunk))
        if not parts:
            c = len(self.labels)
            return Scores(np.zeros((0, c), np.float32))
        outs = {name: np.concatenate([q[j] for q in parts])
                for j, name in enumerate(self._outputs)}
        return Scores(self._calibrate(outs[OUTPUT_NAME]),
                      reject=outs.get(self.info.reject_output or ""),
                      features=outs.get(self.info.features_output or ""))

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(calibrated probabilities [N,C], reject [N] or None): ``classify`` as a pair."""
        scores = self.classify(images)
        return scores.probabilities, scores.reject

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        """One session run, its outputs checked: [N,C] probabilities (finite, in [0, 1],
        rows summing to 1) and, if present, the reject score [N] in [0, 1] and the
        features [N,D], finite."""
        outs = self._session.run(self._outputs, {INPUT_NAME: x[..., None]})
        n, c = len(x), len(self.info.labels)
        p = np.asarray(outs[0])
        if p.shape != (n, c):
            raise _bad(f"expected probabilities of shape ({n}, {c}), got {p.shape}")
        _check_probabilities(p, "probabilities")
        if abs(p.sum(axis=1) - 1.0).max(initial=0.0) > SUM_TOLERANCE:
            raise _bad("the probabilities do not sum to 1 (logits, not softmax?)")
        result = [p.astype(np.float32, copy=False)]
        reject, features = self.info.reject_output, self.info.features_output
        for name, out in zip(self._outputs[1:], outs[1:], strict=True):
            a = np.asarray(out)
            if name == reject:
                if a.shape not in ((n, 1), (n,)):
                    raise _bad(f"expected {name} of shape ({n}, 1), got {a.shape}")
                _check_probabilities(a, name)
                result.append(a.reshape(n).astype(np.float32, copy=False))
            elif name == features:
                if a.shape != (n, self.info.feature_size):
                    raise _bad(f"expected {name} of shape ({n}, {self.info.feature_size}), "
                               f"got {a.shape}")
                if not np.isfinite(a).all():
                    raise _bad(f"{name} contain NaN or infinity")
                result.append(a.astype(np.float32, copy=False))
        return result

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """[N,28,28] or [28,28] float32 in 0..1 -> calibrated [N,C]."""
        return self.classify(images).probabilities

    def _calibrate(self, p: np.ndarray) -> np.ndarray:
        if self.temperature != 1.0:
            logp = np.log(np.clip(p, 1e-12, 1.0)) / self.temperature
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
        return p

    def top_k(self, image: np.ndarray, k: int = 3) -> list[Prediction]:
        return self.top_k_from(self.probabilities(image)[0], k)

    def top_k_from(self, probs: np.ndarray, k: int) -> list[Prediction]:
        return ranked(probs, self.info, k)


def _check_probabilities(a: np.ndarray, name: str) -> None:
    if not np.isfinite(a).all():
        raise _bad(f"{name} contain NaN or infinity")
    if a.min() < -1e-6 or a.max() > 1 + 1e-6:
        raise _bad(f"{name} outside 0..1 (e.g. {float(a.max()):.4g})")


def _bad(detail: str) -> ModelOutputError:
    return ModelOutputError(f"the model's output is invalid: {detail}")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__
