"""Export the character model: ``python -m export.chars [--model-dir runs/chars1 ...]``.

The Keras model's 63 classes (62 characters of ``training.chardata.CHAR_LABELS`` + "not a
character") become three ONNX outputs: ``probabilities`` [N,62] (renormalised over the
characters: "which character, if it is one"), ``reject`` [N,1] and ``features`` [N,D]
(the penultimate layer, for the user's profile). Verified against Keras on the
validation writers' pen characters; temperature and reject threshold are chosen on the
validation writers; the metadata names labels, modes, outputs and same-shape letters, so
the app hard-wires none of them. The card's figures are on **test writers**, never used
for training or tuning: letters mode, Everything mode, per class and the confusions.
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
from export.features import keras_feature_model
from export.onnx_export import (
    OPSET,
    SOURCES,
    TOLERANCE,
    ExportError,
    _rename,
    choose_reject_threshold,
)
from hwr_qt import __version__
from hwr_qt.preprocess import PREPROCESSING_VERSION
from training.chardata import (
    CHAR_LABELS,
    NEGATIVE_KINDS,
    NOT_CHAR,
    SAME_SHAPE,
    fold_case,
    pen_chars,
)
from training.data import render_all
from training.negatives import negative_images
from training.pen import DIGIT_FILES, LETTER_FILES, PenDataError, load_pen
from training.recipe import Seeds

INPUT, PROBS, REJECT, FEATURES = "image", "probabilities", "reject", "features"
DEFAULT_OUT = Path("resources/models/chars.onnx")
MAX_FALSE_REJECT = 0.005  # of the validation writers' characters


def convert(models: list):
    """Keras models -> (their [probabilities, features] models, onnx.ModelProto with outputs
    probabilities, reject, features). Several models are one ensemble: their softmax
    outputs averaged, their features side by side."""
    import tensorflow as tf
    import tf2onnx

    members = [keras_feature_model(m, FEATURES) for m in models]
    if any(b is None for b in members):
        raise ExportError(f"a model has no layer named '{FEATURES}' to export as features")
    spec = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT),)

    @tf.function(input_signature=spec)
    def serve(image):
        outs = [b(image, training=False) for b in members]
        p = tf.add_n([o[0] for o in outs]) / len(outs)
        f = outs[0][1] if len(outs) == 1 else tf.concat([o[1] for o in outs], axis=1)
        chars = p[:, :NOT_CHAR]
        return {PROBS: chars / tf.reduce_sum(chars, axis=1, keepdims=True),
                REJECT: p[:, NOT_CHAR:], FEATURES: f}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    _rename(proto, proto.graph.input[0].name, INPUT)
    for out in list(proto.graph.output):
        width = out.type.tensor_type.shape.dim[1].dim_value
        _rename(proto, out.name, {NOT_CHAR: PROBS, 1: REJECT}.get(width, FEATURES))
    return members, proto


def keras_outputs(members: list, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's [probabilities (63 classes), features] computed by Keras."""
    outs = [b.predict(x, batch_size=500, verbose=0) for b in members]
    return (np.mean([o[0] for o in outs], axis=0),
            np.concatenate([o[1] for o in outs], axis=1))


def run_onnx(raw: bytes, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    parts = [sess.run([PROBS, REJECT, FEATURES], {INPUT: x[i:i + 1000]})
             for i in range(0, len(x), 1000)]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def score(probs: np.ndarray, reject: np.ndarray, y: np.ndarray, threshold: float,
          mode: str) -> dict:
    """Top-1/top-3 exact and case-insensitive in a mode (letters: letter columns only)."""
    mask = np.array([lab.isalpha() or mode == "all" for lab in CHAR_LABELS])
    p = np.where(mask, probs, -1.0)
    order = np.argsort(-p, axis=1)
    top1 = order[:, 0]
    top3 = order[:, :3]
    fold1 = fold_case(top1) == fold_case(y)
    return {
        "n": int(len(y)),
        "top1": float(np.mean(top1 == y)),
        "top1_nocase": float(np.mean(fold1)),
        "top3_nocase": float(np.mean((fold_case(top3) == fold_case(y)[:, None]).any(1))),
        "rejected": float(np.mean(reject >= threshold)),
    }


def export_chars(model_dirs: list[Path], out: Path, pen_dir: str | None) -> dict:
    """Export one trained model, or several (each from ``python -m training --arch chars
    --seed N``) as one averaged ensemble."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import onnx

    records: list[dict] = []
    record_bytes = b""
    models = []
    for model_dir in model_dirs:
        record_path, model_path = model_dir / "training.json", model_dir / "model.keras"
        for p in (record_path, model_path):
            if not p.is_file():
                raise ExportError(f"{p} not found: train first (python -m training --arch chars)")
        raw_record = record_path.read_bytes()
        record = json.loads(raw_record)
        if record.get("labels") != list(CHAR_LABELS):
            raise ExportError(f"{model_dir} is not a character model (labels differ)")
        if record.get("preprocessing_version") != PREPROCESSING_VERSION:
            raise ExportError(f"{model_dir} was trained with another preprocessing version: "
                              "retrain")
        records.append(record)
        record_bytes += raw_record
        models.append(keras.models.load_model(model_path))
    record = records[0]
    members, proto = convert(models)
    raw = proto.SerializeToString()

    pen = load_pen(pen_dir)
    sets = {}
    for split in ("val", "test"):
        inks_l, y_l = pen_chars(pen, split, LETTER_FILES)
        inks_d, y_d = pen_chars(pen, split, DIGIT_FILES)
        sets[split] = {"letters": (render_all(inks_l)[..., None], y_l),
                       "digits": (render_all(inks_d)[..., None], y_d)}
    # Verify ONNX against Keras on validation writers' characters.
    x_v = np.concatenate([sets["val"]["letters"][0], sets["val"]["digits"][0]])
    y_v = np.concatenate([sets["val"]["letters"][1], sets["val"]["digits"][1]])
    p_o, r_o, f_o = run_onnx(raw, x_v)
    p_k, f_k = keras_outputs(members, x_v[:5000])
    chars_k = p_k[:, :NOT_CHAR] / p_k[:, :NOT_CHAR].sum(1, keepdims=True)
    diff = max(float(np.abs(p_o[:5000] - chars_k).max()),
               float(np.abs(r_o[:5000, 0] - p_k[:, NOT_CHAR]).max()),
               float(np.abs(f_o[:5000] - f_k).max()) / max(float(np.abs(f_k).max()), 1.0))
    same = bool((p_o[:5000].argmax(1) == chars_k.argmax(1)).all())
    print(f"verify on {min(5000, len(x_v))} validation-writer characters: max |onnx - keras| "
          f"= {diff:.2e} (probabilities, reject, features), argmax identical: {same}",
          flush=True)
    if diff > TOLERANCE or not same:
        raise ExportError(f"ONNX output differs from Keras ({diff:.2e}); not writing {out}")

    # Calibrate and pick the reject threshold on validation writers only.
    temperature = fit_temperature(p_o, y_v)
    negatives, _ = negative_images(3000, Seeds(record["recipe"]["seed"]).export_negatives,
                                   NEGATIVE_KINDS)
    _, r_neg, _ = run_onnx(raw, negatives[..., None])
    threshold = choose_reject_threshold(r_o[:, 0], MAX_FALSE_REJECT)

    figures: dict = {"threshold": threshold,
                     "validation_negatives_rejected": float(np.mean(r_neg[:, 0] >= threshold))}
    per_class: dict[str, float] = {}
    confusions: dict[str, int] = {}
    for split in ("val", "test"):
        for kind, (x, y) in sets[split].items():
            p, r, _ = run_onnx(raw, x)
            p = apply_temperature(p, temperature)
            for mode in (("letters", "all") if kind == "letters" else ("all",)):
                figures[f"{split}_{kind}_{mode}"] = score(p, r[:, 0], y, threshold, mode)
            if split == "test":
                if kind == "letters":
                    upper = np.array([CHAR_LABELS[i].isupper() for i in y])
                    mask = np.array([lab.isalpha() for lab in CHAR_LABELS])
                    for name, sel in (("capitals", upper), ("lower_case", ~upper)):
                        figures[f"test_{name}_letters"] = score(p[sel], r[sel, 0], y[sel],
                                                                threshold, "letters")
                    pred = np.where(mask, p, -1).argmax(1)
                else:
                    pred = p.argmax(1)
                figures[f"test_{kind}_ece"] = expected_calibration_error(p, y)
                right = fold_case(pred) == fold_case(y)
                for c in np.unique(y):
                    per_class[CHAR_LABELS[c]] = float(np.mean(right[y == c]))
                for t, q in zip(y[~right].tolist(), pred[~right].tolist(), strict=True):
                    key = f"{CHAR_LABELS[t]}->{CHAR_LABELS[q]}"
                    confusions[key] = confusions.get(key, 0) + 1
    meta = {
        "labels": json.dumps(list(CHAR_LABELS)),
        "modes": json.dumps(["letters", "all"]),
        "reject_output": REJECT,
        "features_output": FEATURES,
        "feature_size": str(int(f_o.shape[1])),
        "same_shape": json.dumps([list(g) for g in SAME_SHAPE]),
        "preprocessing_version": PREPROCESSING_VERSION,
        "input_convention": "float32 [N,28,28,1], 0..1, white ink on black, "
                            "character fitted to 20x20 and centred by mass",
        "training_data": "real pen letters and digits of the training writers (UNIPEN, "
                         "Omniglot, pendigits, UJI Pen Characters v2), a fifth of the MNIST "
                         "training split per epoch, generated scribbles as not-a-character",
        "sources": json.dumps(SOURCES),
        "architecture": record["recipe"]["arch"] + (
            f" x{len(records)} (averaged, seeds "
            f"{', '.join(str(r['recipe']['seed']) for r in records)})"
            if len(records) > 1 else ""),
        "temperature": f"{temperature:.6f}",
        "reject_threshold": f"{threshold:.6f}",
        "test_capitals_nocase": f"{figures['test_capitals_letters']['top1_nocase']:.6f}",
        "test_lower_case_nocase": f"{figures['test_lower_case_letters']['top1_nocase']:.6f}",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_record_sha256": hashlib.sha256(record_bytes).hexdigest(),
        "model_id": "chars-" + hashlib.sha256(record_bytes).hexdigest()[:12],
        "hwr_qt_version": __version__,
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "hwr-qt export (tf2onnx)"
    proto.doc_string = "hwr-qt handwritten character classifier (digits and letters)"
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".onnx.tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(out)  # atomic: a failed export never leaves a half-written model
    card = {"model": out.name, "metadata": meta,
            "parameters": sum(r["parameters"] for r in records),
            "size_bytes": out.stat().st_size,
            "verification": {"characters": int(min(5000, len(x_v))), "max_abs_diff": diff,
                             "argmax_identical": same},
            "figures": figures, "per_class_test_nocase": per_class,
            "top_confusions_test": dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:30]),
            "training": {k: record.get(k) for k in ("recipe", "machine", "history",
                                                    "test_accuracy")}
            | {"wall_time_s": sum(r["wall_time_s"] for r in records),
               "members": [{"seed": r["recipe"]["seed"], "wall_time_s": r["wall_time_s"]}
                           for r in records]}}
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    out.with_suffix(".md").write_text(render_card(card))
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) and its card; test writers: "
          f"capitals {figures['test_capitals_letters']['top1_nocase']:.2%}, lower case "
          f"{figures['test_lower_case_letters']['top1_nocase']:.2%} (case-insensitive)",
          flush=True)
    return card


def _pct(v: float) -> str:
    return f"{v:.2%}"


def render_card(card: dict) -> str:
    f, m = card["figures"], card["metadata"]
    rows = [("Capitals, Letters mode", f["test_capitals_letters"]),
            ("Lower case, Letters mode", f["test_lower_case_letters"]),
            ("All letters, Everything mode", f["test_letters_all"]),
            ("Digits, Everything mode", f["test_digits_all"])]
    lines = [
        f"# Model card: {card['model']}", "",
        "Handwritten character classifier for hwr-qt's Letters and Everything modes "
        "(62 labels: 0-9, A-Z, a-z, plus a not-a-character output). Digits mode uses "
        "`digits.onnx`. Generated by `python -m export.chars`.", "",
        "## Real pen characters, test writers never used for training or tuning", "",
        "Each character rendered by the app's own raster path; the mode's labels only.", "",
        "| | n | top-1 exact case | top-1 case-insensitive | top-3 case-insensitive "
        "| rejected |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {s['n']:,} | {_pct(s['top1'])} | **{_pct(s['top1_nocase'])}** | "
              f"{_pct(s['top3_nocase'])} | {_pct(s['rejected'])} |" for name, s in rows]
    lines += ["", "Validation writers (used for calibration and the threshold): capitals "
              "and lower case together "
              f"{_pct(f['val_letters_letters']['top1_nocase'])} case-insensitive in Letters "
              f"mode; digits {_pct(f['val_digits_all']['top1_nocase'])} in Everything mode.",
              "", "Case-insensitive accuracy per class (test writers; letters in Letters "
              "mode, digits in Everything mode):", "",
              "| " + " | ".join(card["per_class_test_nocase"]) + " |",
              "|---" * len(card["per_class_test_nocase"]) + "|",
              "| " + " | ".join(f"{v:.0%}" for v in card["per_class_test_nocase"].values())
              + " |", "", "Commonest confusions (test writers, true -> read):", "",
              ", ".join(f"{k} ({v})" for k, v in card["top_confusions_test"].items()), "",
              "## The model", "", "| | |", "|---|---|",
              f"| Architecture | `{m['architecture']}` ({card['parameters']:,} parameters) |",
              f"| Input | {m['input_convention']} |",
              "| Outputs | `probabilities` [N,62] (softmax over characters), `reject` [N,1], "
              f"`features` [N,{m['feature_size']}] |",
              f"| Labels, modes | {', '.join(json.loads(m['labels']))}; modes "
              f"{', '.join(json.loads(m['modes']))} |",
              f"| Same shape in both cases | {m['same_shape']} |",
              f"| Calibration | temperature {float(m['temperature']):.3f} (validation writers)"
              " |",
              f"| Reject threshold | {float(m['reject_threshold']):.3f}: at most "
              f"{MAX_FALSE_REJECT:.1%} of validation characters rejected; "
              f"{_pct(f['validation_negatives_rejected'])} of held-out scribbles rejected |",
              f"| Verified | onnxruntime vs Keras on {card['verification']['characters']:,} "
              f"characters: max diff {card['verification']['max_abs_diff']:.1e}, argmax "
              f"identical: {card['verification']['argmax_identical']} |",
              f"| Training data | {m['training_data']} |",
              f"| Training time | {card['training']['wall_time_s'] / 60:.1f} min on "
              f"{card['training']['machine']['cpus']} CPU cores"
              + ("" if len(card["training"].get("members", [])) < 2 else " (" + " + ".join(
                  f"seed {t['seed']}: {t['wall_time_s'] / 60:.1f} min"
                  for t in card["training"]["members"]) + ")") + " |",
              f"| Size | {card['size_bytes'] / 1e6:.2f} MB |", "",
              "## Sources and licences", ""]
    lines += [f"- {s}" for s in json.loads(m["sources"])]
    lines += ["", "Writers are split by id, never by sample (`training.pen.writer_split`): "
              "pendigits keeps its own writer split; other writers by a hash of their id "
              "(25 % test, 15 % validation).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m export.chars",
                                description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, nargs="+", default=[Path("runs/chars1")],
                   help="trained model folder(s); several make one averaged ensemble "
                        "(default: runs/chars1)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    p.add_argument("--pen-dir", help="real pen data folder (default: $HWR_PEN_DIR)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    try:
        export_chars(args.model_dir, args.out, args.pen_dir)
    except (ExportError, PenDataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"export took {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
