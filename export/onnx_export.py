"""Export a trained Keras model to ONNX: ``python -m export [--model-dir DIR] [--out PATH]``.

Converts with tf2onnx (``from_function``: ``from_keras`` fails on Keras 3 models), names
the input ``image`` (float32 [N,28,28,1], 0..1, white on black) and the output
``probabilities`` (float32 [N,10]); verifies onnxruntime against Keras on the MNIST test
set; fits a calibration temperature on the held-out validation split; writes metadata
into the file and a model card (JSON + Markdown) beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from export.calibration import apply_temperature, expected_calibration_error, fit_temperature
from export.card import write_card
from export.features import FEATURES_NAME, features_metadata, keras_feature_model
from export.features import verify_keras as verify_keras_features
from hwr_qt import __version__
from hwr_qt.preprocess import PREPROCESSING_VERSION, normalize_batch
from hwr_qt.recognizer import INPUT_NAME, LABELS, OUTPUT_NAME, REJECT_NAME
from training.augment import augment_batch
from training.data import pen_digits, pen_letters, render_all, split_indices
from training.drawn import drawn_batch, trace_all
from training.mnist import MnistError, load_mnist
from training.negatives import negative_images
from training.pen import PenDataError, load_pen
from training.recipe import Seeds

OPSET = 17
TOLERANCE = 1e-4
DEFAULT_OUT = Path("resources/models/digits.onnx")
MAX_FALSE_REJECT = 0.005  # of each kind of held-out MNIST digits, when picking the threshold
# Real pen digits of the validation writers: a tighter budget, so that writers never seen
# (the test writers, and users) stay under 0.5 % despite sampling noise.
MAX_FALSE_REJECT_PEN = 0.003
MIN_REJECT_THRESHOLD = 0.5
DRAWN_VAL = 2000  # validation digits traced and re-drawn as pen ink for the threshold


class ExportError(Exception):
    pass


def split_outputs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Keras softmax over 10 digits (+ "not a digit") -> (digit probabilities, not-digit).

    The digit probabilities are renormalised over the ten digits: "which digit, if it
    is one", so MNIST accuracy and calibration are unaffected by the extra class.
    """
    if p.shape[1] == 10:
        return p, None
    digits = p[:, :10]
    return digits / digits.sum(axis=1, keepdims=True), p[:, 10]


def convert(model, opset: int = OPSET):
    """Keras model -> onnx.ModelProto with our input/output names."""
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT_NAME),)
    with_reject = model.output_shape[-1] == 11
    both = keras_feature_model(model)  # issue 10: + the penultimate features, if named

    @tf.function(input_signature=spec)
    def serve(image):
        if both is not None:
            p, f = both(image, training=False)
        else:
            p, f = model(image, training=False), None
        outs = (p,) if not with_reject else (
            p[:, :10] / tf.reduce_sum(p[:, :10], axis=1, keepdims=True), p[:, 10:11])
        return outs if f is None else outs + (f,)

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=opset)
    _rename(proto, proto.graph.input[0].name, INPUT_NAME)
    outputs = list(proto.graph.output)
    if both is not None:  # issue 10: the last output is the features
        _rename(proto, outputs.pop().name, FEATURES_NAME)
    for out in outputs:
        width = out.type.tensor_type.shape.dim[1].dim_value
        _rename(proto, out.name, OUTPUT_NAME if width == 10 else REJECT_NAME)
    return proto


def _rename(proto, old: str, new: str) -> None:
    if old == new:
        return
    for value in list(proto.graph.input) + list(proto.graph.output):
        if value.name == old:
            value.name = new
    for node in proto.graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]


def run_onnx_both(path_or_bytes, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities [N,10], not_digit [N] or None) from onnxruntime."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    want = [OUTPUT_NAME] + ([REJECT_NAME] if REJECT_NAME in names else [])
    parts = [sess.run(want, {INPUT_NAME: x[i:i + 1000]}) for i in range(0, len(x), 1000)]
    probs = np.concatenate([p[0] for p in parts])
    reject = np.concatenate([p[1][:, 0] for p in parts]) if len(want) == 2 else None
    return probs, reject


def run_onnx(path_or_bytes, x: np.ndarray) -> np.ndarray:
    return run_onnx_both(path_or_bytes, x)[0]


def choose_reject_threshold(digit_scores: np.ndarray, budget: float = 0.005) -> float:
    """Reject above the score that at most ``budget`` of held-out digits reach."""
    q = float(np.quantile(digit_scores, 1.0 - budget))
    return float(min(max(q, MIN_REJECT_THRESHOLD), 0.99))


def export(model_dir: Path, out: Path, data_dir: str | None, verify_count: int = 10_000,
           pen_dir: str | None = None, benchmarks: bool = False) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import onnx

    record_path = model_dir / "training.json"
    model_path = model_dir / "model.keras"
    for p in (record_path, model_path):
        if not p.is_file():
            raise ExportError(f"{p} not found: train first (python -m training)")
    record_bytes = record_path.read_bytes()
    record = json.loads(record_bytes)
    if record.get("preprocessing_version") != PREPROCESSING_VERSION:
        raise ExportError(f"model was trained with preprocessing v"
                          f"{record.get('preprocessing_version')}, this code is v"
                          f"{PREPROCESSING_VERSION}: retrain")
    model = keras.models.load_model(model_path)
    t0 = time.perf_counter()
    proto = convert(model)
    print(f"converted with tf2onnx (opset {OPSET}) in {time.perf_counter() - t0:.1f} s",
          flush=True)

    data = load_mnist(data_dir)
    n = min(verify_count, len(data.x_test))
    x_test = data.x_test.astype(np.float32)[..., None] / 255
    y_test = data.y_test.astype(np.int64)
    raw = proto.SerializeToString()
    p_onnx, r_onnx = run_onnx_both(raw, x_test)
    p_keras, r_keras = split_outputs(model.predict(x_test[:n], batch_size=500, verbose=0))
    diff = float(np.abs(p_onnx[:n] - p_keras).max())
    if r_keras is not None:
        diff = max(diff, float(np.abs(r_onnx[:n] - r_keras).max()))
    same = bool((p_onnx[:n].argmax(1) == p_keras.argmax(1)).all())
    print(f"verify on {n} MNIST test images: max |onnx - keras| = {diff:.2e}, "
          f"argmax identical: {same}", flush=True)
    if diff > TOLERANCE or not same:
        raise ExportError(f"ONNX output differs from Keras (max abs diff {diff:.2e}, "
                          f"argmax identical: {same}); not writing {out}")
    # issue 10: the features output against Keras's "features" layer, like the above.
    f_diff = verify_keras_features(raw, model, x_test[:n])
    if f_diff is not None:
        print(f"features: max |onnx - keras| / max |keras| = {f_diff:.2e}", flush=True)
        if f_diff > TOLERANCE:
            raise ExportError(f"ONNX features differ from Keras ({f_diff:.2e}); "
                              f"not writing {out}")

    pred = p_onnx.argmax(1)
    acc = float((pred == y_test).mean())
    acc_norm = float((run_onnx(raw, normalize_batch(x_test[..., 0])[..., None]).argmax(1)
                      == y_test).mean())
    # Calibrate on held-out data (MNIST validation split, validation writers' pen digits),
    # never on a test set.
    recipe = record["recipe"]
    _, val_idx = split_indices(len(data.x_train), recipe["val_size"], recipe["seed"])
    x_val = normalize_batch(data.x_train[val_idx].astype(np.float32) / 255)
    y_val = data.y_train[val_idx].astype(np.int64)
    pen_val = _pen_validation(pen_dir) if _uses_pen(recipe) else None
    if pen_val is not None:
        x_cal = np.concatenate([x_val, pen_val[0][0]])
        y_cal = np.concatenate([y_val, pen_val[0][1]])
    else:
        x_cal, y_cal = x_val, y_val
    temperature = fit_temperature(run_onnx(raw, x_cal[..., None]), y_cal)
    ece_before = expected_calibration_error(p_onnx, y_test)
    ece_after = expected_calibration_error(apply_temperature(p_onnx, temperature), y_test)
    rejection = None
    if r_onnx is not None:
        rejection = measure_rejection(raw, data, val_idx, recipe["seed"],
                                      None if pen_val is None else
                                      (pen_val[0][0], pen_val[1]))
        rejection["mnist_test_rejected"] = float((r_onnx >= rejection["threshold"]).mean())
        print(f"rejection threshold {rejection['threshold']:.3f}: "
              f"{rejection['held_out_negatives_rejected']:.2%} of held-out negatives rejected, "
              f"{rejection['held_out_digits_rejected']:.2%} of held-out digits "
              f"({rejection['augmented_digits_rejected']:.2%} of augmented, "
              f"{rejection['drawn_digits_rejected']:.2%} of re-drawn ones), "
              f"{rejection['mnist_test_rejected']:.2%} of MNIST test", flush=True)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (y_test, pred), 1)

    meta = {
        "labels": json.dumps(LABELS),
        "preprocessing_version": PREPROCESSING_VERSION,
        "input_convention": "float32 [N,28,28,1], 0..1, white ink on black, "
                            "digit fitted to 20x20 and centred by mass",
        "training_data": f"MNIST train split minus {recipe['val_size']} held-out images "
                         f"(seed {recipe['seed']})" + (
                             "; real pen digits and letters of the training writers "
                             "(pendigits, UJI Pen Characters v2, UNIPEN, Omniglot)"
                             if pen_val is not None else ""),
        "sources": json.dumps(SOURCES if pen_val is not None else SOURCES[:1]),
        "architecture": recipe["arch"],
        "test_accuracy": f"{acc:.6f}",
        "test_accuracy_normalized": f"{acc_norm:.6f}",
        "temperature": f"{temperature:.6f}",
        "ece_test_before": f"{ece_before:.6f}",
        "ece_test_after": f"{ece_after:.6f}",
        **({"reject_threshold": f"{rejection['threshold']:.6f}"} if rejection else {}),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_record_sha256": hashlib.sha256(record_bytes).hexdigest(),
        "hwr_qt_version": __version__,
        **features_metadata(proto),  # issue 10
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "hwr-qt export (tf2onnx)"
    proto.doc_string = "hwr-qt handwritten digit classifier"
    onnx.checker.check_model(proto)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(out)  # atomic: a failed export never leaves a half-written model
    card = {
        "model": out.name,
        "metadata": meta,
        "parameters": record["parameters"],
        "size_bytes": out.stat().st_size,
        "verification": {"images": n, "max_abs_diff": diff, "argmax_identical": same,
                         "features_max_rel_diff": f_diff},
        "per_class_accuracy": {str(c): float(confusion[c, c] / confusion[c].sum())
                               for c in range(10)},
        "confusion_matrix": confusion.tolist(),
        "rejection": rejection,
        "training": {k: record.get(k) for k in ("recipe", "wall_time_s", "machine", "history",
                                                "test_accuracy", "validation")},
    }
    if benchmarks:
        card.update(run_benchmarks(out, data_dir, pen_dir if pen_val is not None else None))
    write_card(card, out)
    print(f"MNIST test accuracy (onnxruntime): {acc:.4%} raw, {acc_norm:.4%} re-normalised; "
          f"temperature {temperature:.3f}, ECE {ece_before:.4f} -> {ece_after:.4f}; "
          f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) and its card", flush=True)
    return card


def measure_rejection(raw: bytes, data, val_idx: np.ndarray, seed: int,
                      pen_val: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """Pick the not-a-digit threshold on held-out data and report the trade-off.

    Each kind of held-out digit (MNIST, augmented, re-drawn, real pen from validation
    writers) may lose at most its budget to rejection; the threshold is the strictest.
    """
    seeds = Seeds(seed)
    x_val_u8 = data.x_train[val_idx]
    clean = normalize_batch(x_val_u8.astype(np.float32) / 255)
    augmented = augment_batch(x_val_u8, np.random.default_rng(seeds.export_augment))
    drawn = drawn_batch(trace_all(x_val_u8[:DRAWN_VAL]), np.random.default_rng(seeds.export_drawn))
    negatives, kinds = negative_images(3000, seeds.export_negatives)
    scores = {"held_out": clean, "augmented": augmented, "drawn": drawn}
    s = {k: run_onnx_both(raw, v[..., None])[1] for k, v in scores.items()}
    budget = {k: MAX_FALSE_REJECT for k in s}
    s_letters = None
    if pen_val is not None:
        s["pen"] = run_onnx_both(raw, pen_val[0][..., None])[1]
        budget["pen"] = MAX_FALSE_REJECT_PEN
        s_letters = run_onnx_both(raw, pen_val[1][..., None])[1]
    s_neg = run_onnx_both(raw, negatives[..., None])[1]
    threshold = max(choose_reject_threshold(s[k], budget[k]) for k in s)
    digits = np.concatenate(list(s.values()))
    kinds_arr = np.array(kinds)
    out = {
        "threshold": threshold,
        "held_out_digits_rejected": float((s["held_out"] >= threshold).mean()),
        "augmented_digits_rejected": float((s["augmented"] >= threshold).mean()),
        "drawn_digits_rejected": float((s["drawn"] >= threshold).mean()),
        "held_out_negatives_rejected": float((s_neg >= threshold).mean()),
        "negatives_rejected_by_kind": {k: float((s_neg[kinds_arr == k] >= threshold).mean())
                                       for k in sorted(set(kinds))},
        "mnist_test_rejected": 0.0,  # filled in by the caller
        "trade_off": [{"threshold": t,
                       "digits_rejected": float((digits >= t).mean()),
                       "negatives_rejected": float((s_neg >= t).mean()),
                       **({"pen_val_digits_rejected": float((s["pen"] >= t).mean()),
                           "pen_val_letters_rejected": float((s_letters >= t).mean())}
                          if s_letters is not None else {})}
                      for t in (0.1, 0.3, 0.5, 0.7, 0.9, 0.97)],
    }
    if s_letters is not None:
        out["pen_val_digits_rejected"] = float((s["pen"] >= threshold).mean())
        out["pen_val_letters_rejected"] = float((s_letters >= threshold).mean())
    return out


SOURCES = [
    "MNIST (LeCun, Cortes & Burges): training and test digits",
    "UCI Pen-Based Recognition of Handwritten Digits (Alpaydin & Alimoglu, 1998), CC BY 4.0",
    "UCI UJI Pen Characters v2 (Llorens et al., Universitat Jaume I), CC BY 4.0",
    "UNIPEN train_r01_v07 (International Unipen Foundation), CC BY 4.0",
    "Omniglot (Lake, Salakhutdinov & Tenenbaum), MIT licence",
]


def run_benchmarks(model: Path, data_dir: str | None, pen_dir: str | None) -> dict:
    """The card's headline figures: the real-pen benchmark on test writers (through the
    app's pipeline) and, beside it, the synthetic drawn-ink benchmark."""
    import tempfile

    from benchmarks.drawn_ink.run import main as drawn_main

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        if pen_dir is not None or os.environ.get("HWR_PEN_DIR"):
            from benchmarks.pen.__main__ import main as pen_main

            args = ["--model", str(model), "--json", f"{tmp}/pen.json"]
            if pen_dir:
                args += ["--pen-dir", pen_dir]
            if pen_main(args) == 0:
                out["real_pen"] = json.loads(Path(f"{tmp}/pen.json").read_text())
        args = ["--model", str(model), "--json", f"{tmp}/drawn.json"]
        if data_dir:
            args += ["--data-dir", data_dir]
        if drawn_main(args) == 0:
            out["synthetic"] = json.loads(Path(f"{tmp}/drawn.json").read_text())
    return out


def _uses_pen(recipe: dict) -> bool:
    return any(recipe.get(k, 0) for k in ("pen_repeat", "pen_letters", "styles"))


def _pen_validation(pen_dir: str | None) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((digits [N,28,28], labels), letters [M,28,28]) of the validation writers."""
    pen = load_pen(pen_dir)
    inks, labels = pen_digits(pen, "val")
    return (render_all(inks), labels), render_all(pen_letters(pen, "val"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, default=Path("runs/default"),
                   help="folder with model.keras and training.json (default: %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    p.add_argument("--data-dir", help="MNIST folder (default: $HWR_MNIST_DIR)")
    p.add_argument("--pen-dir", help="real pen data folder (default: $HWR_PEN_DIR)")
    p.add_argument("--no-benchmarks", action="store_true",
                   help="skip the real-pen and drawn-ink benchmarks in the model card")
    p.add_argument("--verify-count", type=int, default=10_000,
                   help="test images compared against Keras (at least 1000)")
    args = p.parse_args(argv)
    if args.verify_count < 1000:
        p.error("--verify-count must be at least 1000")
    try:
        export(args.model_dir, args.out, args.data_dir, args.verify_count, args.pen_dir,
               benchmarks=not args.no_benchmarks)
    except (ExportError, MnistError, PenDataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
