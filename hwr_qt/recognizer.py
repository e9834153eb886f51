"""ONNX Runtime inference: load and check a digit model, return top-k predictions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwr_qt.preprocess import FIELD, PREPROCESSING_VERSION

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
REJECT_NAME = "not_digit"  # optional output [N,1]: probability that the ink is no digit
LABELS = [str(d) for d in range(10)]


MAX_LABEL = 8  # characters: a label is shown large in the answer, one per bar
PROBE_BATCH = 4  # "many": what read_number sends for a multi-digit drawing
SUM_TOLERANCE = 1e-3  # float32 softmax rows sum to 1 within ~1e-6; logits miss by far more


class ModelError(Exception):
    """The model is missing, unreadable or incompatible; the message is for the user."""


class ModelOutputError(ModelError):
    """The model ran but answered nonsense (NaN, not probabilities, wrong shape) for one
    input: an error for that drawing or file, never a shown answer."""


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    probability: float


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


class Recognizer:
    """One ONNX Runtime session plus the model's metadata.

    Probabilities are calibrated with the temperature stored by the export (softmax of
    logits / T, computed from the softmax output), so "90 %" means right 9 times in 10.
    """

    def __init__(self, path: str | Path, *, calibrate: bool = True) -> None:
        import onnxruntime as ort  # deferred: keeps `import hwr_qt...` light

        ort.disable_telemetry_events()  # the event switch too (hwr_qt.privacy: the files)

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        opts = ort.SessionOptions()
        # One thread: a single 28x28 image is faster without thread hand-offs, and the
        # GUI thread stays the only busy one.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        # Fatal only: every failure is raised (as ModelError or from run()) and reported by
        # the caller; ORT's own error lines on stderr would only duplicate it.
        opts.log_severity_level = 4
        try:
            self._session = ort.InferenceSession(str(self.path), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises several unrelated types
            raise ModelError(f"cannot load model {self.path.name}: {_load_problem(e)}") from None
        self._check_signature()
        meta = self._session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, str] = dict(meta)
        self.labels = self._read_labels(meta)
        version = meta.get("preprocessing_version")
        if version != PREPROCESSING_VERSION:
            raise ModelError(f"model {self.path.name} expects preprocessing version "
                             f"{version or 'unknown'}, this app uses {PREPROCESSING_VERSION}")
        try:
            t = float(meta.get("temperature", "1")) if calibrate else 1.0
        except ValueError:
            t = 1.0
        self.temperature = t if np.isfinite(t) and 0.05 <= t <= 20 else 1.0
        self.has_reject = REJECT_NAME in {o.name for o in self._session.get_outputs()}
        self._outputs = [OUTPUT_NAME] + ([REJECT_NAME] if self.has_reject else [])
        try:
            r = float(meta.get("reject_threshold", "0.5"))
        except ValueError:
            r = 0.5
        self.reject_threshold = r if 0.0 < r < 1.0 else 0.5
        self.max_batch = self._probe()

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

    def _check_signature(self) -> None:
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
        if len(out.shape) != 2 or out.shape[1] != len(LABELS):
            raise ModelError(f"incompatible model: output must be [N,10], found {out.shape}")

    @staticmethod
    def _read_labels(meta: dict[str, str]) -> list[str]:
        try:
            labels = json.loads(meta["labels"])
        except (KeyError, ValueError):
            return list(LABELS)
        if not (isinstance(labels, list) and len(labels) == len(LABELS)
                and all(isinstance(x, str) and 0 < len(x) <= MAX_LABEL
                        and x.isprintable() for x in labels)
                and len(set(labels)) == len(labels)):
            raise ModelError("incompatible model: its 'labels' metadata is not 10 distinct "
                             f"short labels (1 to {MAX_LABEL} printable characters)")
        return list(labels)

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """[N,28,28] or [28,28] float32 in 0..1 -> (calibrated [N,10], not-digit [N] or None).

        The digit probabilities are conditional on the ink being a digit; models without
        a ``not_digit`` output give None.
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
        p = self._calibrate(np.concatenate([q[0] for q in parts]))
        return p, (np.concatenate([q[1] for q in parts]) if self.has_reject else None)

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        """One session run, its outputs checked: [N,10] probabilities (finite, in [0, 1],
        rows summing to 1) and, if present, not-digit [N] in [0, 1]."""
        outs = self._session.run(self._outputs, {INPUT_NAME: x[..., None]})
        n = len(x)
        p = np.asarray(outs[0])
        if p.shape != (n, len(LABELS)):
            raise _bad(f"expected probabilities of shape ({n}, {len(LABELS)}), "
                                   f"got {p.shape}")
        _check_probabilities(p, "probabilities")
        if abs(p.sum(axis=1) - 1.0).max() > SUM_TOLERANCE:
            raise _bad("the probabilities do not sum to 1 (logits, not softmax?)")
        result = [p.astype(np.float32, copy=False)]
        if self.has_reject:
            r = np.asarray(outs[1])
            if r.shape not in ((n, 1), (n,)):
                raise _bad(f"expected not_digit of shape ({n}, 1), got {r.shape}")
            _check_probabilities(r, "not_digit")
            result.append(r.reshape(n).astype(np.float32, copy=False))
        return result

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """[N,28,28] or [28,28] float32 in 0..1 -> calibrated [N,10]."""
        return self.predict(images)[0]

    def _calibrate(self, p: np.ndarray) -> np.ndarray:
        if self.temperature != 1.0:
            logp = np.log(np.clip(p, 1e-12, 1.0)) / self.temperature
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
        return p

    def top_k(self, image: np.ndarray, k: int = 3) -> list[Prediction]:
        return self.top_k_from(self.probabilities(image)[0], k)

    def top_k_from(self, probs: np.ndarray, k: int) -> list[Prediction]:
        order = np.argsort(-probs, kind="stable")[:max(1, min(k, len(probs)))]
        return [Prediction(self.labels[i], float(probs[i])) for i in order]


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
