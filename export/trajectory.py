"""Export the path model: ``python -m export.trajectory [--model-dir DIR] [--out PATH]``.

Converts ``training.trajectory``'s Keras model with tf2onnx (input ``trajectory`` float32
[N,64,5], output ``probabilities`` [N,labels] and, with a "not a digit" class,
``reject`` [N,1]), checks onnxruntime against Keras on the validation writers'
characters, measures the model alone on the validation and test writers,
and writes the metadata the app reads (labels, feature version, the image model's weight
in the mix) and a model card (Markdown + JSON) beside the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from export.onnx_export import OPSET, SOURCES, TOLERANCE, ExportError, _rename
from hwr_qt import __version__
from hwr_qt.trajectory import (
    CHANNELS,
    DEFAULT_WEIGHT,
    FEATURES_VERSION,
    INPUT_NAME,
    OUTPUT_NAME,
    POINTS,
    REJECT_NAME,
    trajectory_batch,
)
from training.pen import DIGIT_FILES, LETTER_FILES, PenDataError, load_pen

DEFAULT_OUT = Path("resources/models/trajectory.onnx")
CHARS_OUT = Path("resources/models/chars_trajectory.onnx")
PEN_SOURCES = SOURCES[1:4]  # pendigits, UJI, UNIPEN: the path model sees no MNIST


def convert(model, classes: int):
    """Keras model -> ONNX with ``probabilities`` [N, classes] and, when the model has a
    last "not a digit" class, ``reject`` [N, 1] (the probabilities renormalised without
    it, as the image model's export does)."""
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, POINTS, CHANNELS), tf.float32, name=INPUT_NAME),)
    with_reject = model.output_shape[-1] == classes + 1

    @tf.function(input_signature=spec)
    def serve(trajectory):
        p = model(trajectory, training=False)
        if not with_reject:
            return (p,)
        chars = p[:, :classes]
        return chars / tf.reduce_sum(chars, axis=1, keepdims=True), p[:, classes:]

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    _rename(proto, proto.graph.input[0].name, INPUT_NAME)
    names = [OUTPUT_NAME, REJECT_NAME]
    for out, name in zip(list(proto.graph.output), names, strict=False):
        _rename(proto, out.name, name)
    return proto, with_reject


def _onnx_outputs(raw: bytes, x: np.ndarray, with_reject: bool) -> np.ndarray:
    """[N, C] probabilities, with the reject score as a last column if there is one."""
    import onnxruntime as ort

    sess = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    outs = sess.run([OUTPUT_NAME, REJECT_NAME] if with_reject else [OUTPUT_NAME],
                    {INPUT_NAME: x})
    return np.concatenate([np.asarray(o) for o in outs], axis=1)


def _keras_outputs(model, x: np.ndarray, classes: int) -> np.ndarray:
    p = model.predict(x, batch_size=1024, verbose=0)
    if p.shape[1] == classes:
        return p
    chars = p[:, :classes]
    return np.concatenate([chars / chars.sum(axis=1, keepdims=True), p[:, classes:]], 1)


def export(model_dir: Path, out: Path | None, pen_dir: str | None, image_weight: float
           ) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import onnx

    record_path, model_path = model_dir / "training.json", model_dir / "model.keras"
    for p in (record_path, model_path):
        if not p.is_file():
            raise ExportError(f"{p} not found: train first (python -m training.trajectory)")
    record_bytes = record_path.read_bytes()
    record = json.loads(record_bytes)
    if record.get("trajectory_features_version") != FEATURES_VERSION:
        raise ExportError(f"{model_dir} was trained on trajectory features version "
                          f"{record.get('trajectory_features_version')}, this app uses "
                          f"{FEATURES_VERSION}: retrain")
    model = keras.models.load_model(model_path)
    labels = record["labels"]

    task = record["recipe"].get("task", "digits")
    out = out or (CHARS_OUT if task == "chars" else DEFAULT_OUT)
    pen = load_pen(pen_dir, files=DIGIT_FILES + (LETTER_FILES if task == "chars" else ()))
    split = {name: pen.select(split=name, labels=labels) for name in ("val", "test")}
    x = {k: trajectory_batch([s.ink for s in v]) for k, v in split.items()}
    y = {k: np.array([labels.index(s.label) for s in v]) for k, v in split.items()}

    classes = len(labels)
    proto, with_reject = convert(model, classes)
    raw = proto.SerializeToString()
    p_onnx = _onnx_outputs(raw, x["val"], with_reject)
    p_keras = _keras_outputs(model, x["val"], classes)
    diff = float(np.abs(p_onnx - p_keras).max())
    same = bool((p_onnx[:, :classes].argmax(1) == p_keras[:, :classes].argmax(1)).all())
    if diff > TOLERANCE or not same:
        raise ExportError(f"onnxruntime disagrees with Keras (max diff {diff:.2e}, "
                          f"argmax identical: {same})")
    out_val = {k: _onnx_outputs(raw, x[k], with_reject) for k in x}
    acc = {k: float(np.mean(v[:, :classes].argmax(1) == y[k])) for k, v in out_val.items()}
    rejected = {k: float(np.mean(v[:, classes] >= 0.5)) if with_reject else None
                for k, v in out_val.items()}

    meta = {
        "labels": json.dumps(labels),
        "trajectory_features_version": FEATURES_VERSION,
        "input": f"{INPUT_NAME}: float32 [N,{POINTS},{CHANNELS}] (hwr_qt.trajectory)",
        "image_weight": f"{image_weight:.3f}",
        **({"reject_output": REJECT_NAME,
            "pen_val_digits_rejected": f"{rejected['val']:.6f}"} if with_reject else {}),
        "pen_val_accuracy": f"{acc['val']:.6f}",
        "pen_test_accuracy": f"{acc['test']:.6f}",
        "task": task,
        "training_data": f"real pen {'digits' if task == 'digits' else 'letters and digits'}"
                         " of the training writers (pendigits, UJI Pen Characters v2, UNIPEN"
                         + (", Omniglot" if task == "chars" or with_reject else "")
                         + "), restyled each epoch" + (
                             "; as 'not a digit', their pen letters unlike digits and two of "
                             "their digits touching" if with_reject else ""),
        "sources": json.dumps(PEN_SOURCES + (SOURCES[4:] if task == "chars" or with_reject
                                             else [])),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_record_sha256": hashlib.sha256(record_bytes).hexdigest(),
        "hwr_qt_version": __version__,
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "hwr-qt export (tf2onnx)"
    proto.doc_string = "hwr-qt digit path model (order and direction of the strokes)"
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(out)  # atomic: a failed export never leaves a half-written model

    card = {"model": out.name, "metadata": meta, "parameters": record["parameters"],
            "size_bytes": out.stat().st_size,
            "verification": {"inks": len(y["val"]), "max_abs_diff": diff,
                             "argmax_identical": same},
            "counts": {k: len(v) for k, v in y.items()},
            "training": {k: record.get(k) for k in ("recipe", "wall_time_s", "machine",
                                                    "history")}}
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    out.with_suffix(".md").write_text(render_card(card))
    print(f"wrote {out} ({card['size_bytes'] / 1024:.0f} KiB): validation writers "
          f"{acc['val']:.2%}, test writers {acc['test']:.2%} (the path model alone); "
          f"Keras vs ONNX max diff {diff:.1e}")
    return card


def render_card(card: dict) -> str:
    m, t = card["metadata"], card["training"]
    r = t["recipe"]
    chars = m.get("task") == "chars"
    lines = [
        f"# Model card: {card['model']}",
        "",
        f"The path model of hwr-qt's {'Letters and Everything modes' if chars else 'digits mode'}"
        ": it reads the order and direction of the strokes (the pen's path, pen-ups "
        f"included), which a raster loses, and is joined with the image model "
        f"(`{'chars' if chars else 'digits'}.onnx`) for drawn ink: p = p_image^w * "
        "p_path^(1-w), renormalised (a mode keeps its labels' columns). Images (files, "
        "photos) have no path and are read by the image model alone. Generated by "
        "`python -m export.trajectory`.",
        "",
        "| | |",
        "|---|---|",
        f"| Input | {m['input']}: the whole path resampled by arc length; x, y in the "
        "ink's box, direction, pen up |",
        f"| Output | `probabilities` float32 [N,{len(json.loads(m['labels']))}], softmax" + (
            "; `reject` [N,1], P(not a digit), learnt from real pen letters and touching "
            "pairs of digits (validation writers' digits with it >= 0.5: "
            f"{float(m['pen_val_digits_rejected']):.2%})" if "reject_output" in m else "")
        + " |",
        f"| Image model's weight w in the mix | {float(m['image_weight']):.2f} (chosen on the "
        f"validation writers' {'letters' if chars else 'numbers'}) |",
        f"| Real pen {'characters (exact case)' if chars else 'digits'}, the path model "
        "alone: validation / test writers | "
        f"{float(m['pen_val_accuracy']):.2%} (n = {card['counts']['val']:,}) / "
        f"{float(m['pen_test_accuracy']):.2%} (n = {card['counts']['test']:,}) |",
        f"| Parameters | {card['parameters']:,} |",
        f"| Training data | {m['training_data']} |",
        f"| Recipe | adam lr {r['learning_rate']}, batch {r['batch_size']}, {r['epochs']} "
        f"epochs, {r['repeat']} restyled copies per character, {r['styles']} styled digits per "
        f"epoch, seed {r['seed']} |",
        f"| Training wall time | {t['wall_time_s'] / 60:.1f} min on "
        f"{t['machine']['cpus']} CPUs |",
        f"| File size | {card['size_bytes'] / 1024:.0f} KiB |",
        f"| Keras vs ONNX | max abs diff {card['verification']['max_abs_diff']:.1e} on "
        f"{card['verification']['inks']} inks, argmax identical |",
        f"| Exported | {m['date']} |",
        "",
        "Test writers are never used for training or tuning; the figures through the "
        "app's pipeline (joined with the image model) are in the README"
        + ("" if chars else " and `digits.md`") + ".",
        "",
        "## Sources and licences",
        "",
        *[f"- {s}" for s in json.loads(m["sources"])],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m export.trajectory",
                                description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, default=Path("runs/trajectory-digits"),
                   help="a python -m training.trajectory run (default runs/trajectory-digits)")
    p.add_argument("--out", type=Path, default=None,
                   help=f"default {DEFAULT_OUT} (a chars model: {CHARS_OUT})")
    p.add_argument("--pen-dir", help="folder with the real pen *.jsonl.gz files "
                   "(default: $HWR_PEN_DIR)")
    p.add_argument("--image-weight", type=float, default=DEFAULT_WEIGHT,
                   help="the image model's weight w in p_image^w * p_path^(1-w) "
                   f"(default {DEFAULT_WEIGHT})")
    args = p.parse_args(argv)
    if not 0.0 <= args.image_weight <= 1.0:
        p.error("--image-weight must be in 0..1")
    try:
        export(args.model_dir, args.out, args.pen_dir, args.image_weight)
    except (ExportError, PenDataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
