"""Expose a model's penultimate-layer features as a second ONNX output.

``python -m export.features MODEL.onnx [--out PATH] [--no-verify]``

The user-adaptation layer (``hwr_qt.adapt``) compares a new character with the user's
corrected examples in the network's own feature space: the input of the final
classification layer (``features @ W + b`` -> softmax). For a model whose Keras
checkpoint is gone this is done by graph surgery: the tensor feeding the last
MatMul/Gemm before the Softmax becomes graph output ``features`` [N, D] and the
metadata gains ``features_output`` = "features", ``feature_size`` = D and a ``model_id``
(a hash of the weights, so profiles stay keyed to them when only outputs change).

Verification: the old outputs are bit-identical on MNIST test and real pen digits, and
softmax(features @ W + b), from the graph's own initialisers, reproduces them.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES_NAME = "features"
TOLERANCE = 1e-5


class FeaturesError(Exception):
    pass


@dataclass(frozen=True)
class Head:
    """The final classification layer: features -> (MatMul W) -> (Add b) -> Softmax."""

    features: str  # tensor name of the features (input of the MatMul/Gemm)
    weight: np.ndarray  # [D, C']
    bias: np.ndarray  # [C']


def _initialisers(proto) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    return {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}


def find_head(proto) -> Head:
    """The last Softmax's logits traced back through Add(bias) to MatMul/Gemm."""
    nodes = list(proto.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    init = _initialisers(proto)
    softmaxes = [n for n in nodes if n.op_type == "Softmax"]
    if not softmaxes:
        raise FeaturesError("no Softmax in the graph: cannot find the classification layer")
    node = producer.get(softmaxes[-1].input[0])
    bias = None
    if node is not None and node.op_type == "Add":
        consts = [i for i in node.input if i in init]
        others = [i for i in node.input if i not in init]
        if len(consts) == 1 and len(others) == 1:
            bias = init[consts[0]]
            node = producer.get(others[0])
    if node is None or node.op_type not in ("MatMul", "Gemm"):
        raise FeaturesError("the Softmax is not fed by a MatMul/Gemm (+ bias): unknown head")
    if node.input[1] not in init:
        raise FeaturesError("the final layer's weights are not a constant")
    w = init[node.input[1]]
    if node.op_type == "Gemm":
        attrs = {a.name: a for a in node.attribute}
        if "transA" in attrs and attrs["transA"].i:
            raise FeaturesError("Gemm with transA is not supported")
        if "transB" in attrs and attrs["transB"].i:
            w = w.T
        if len(node.input) > 2 and node.input[2] in init:
            bias = init[node.input[2]] + (0 if bias is None else bias)
    if w.ndim != 2:
        raise FeaturesError(f"final layer weights are {w.shape}, expected 2-D")
    if bias is None:
        bias = np.zeros(w.shape[1], w.dtype)
    return Head(node.input[0], w.astype(np.float32), bias.reshape(-1).astype(np.float32))


def weights_id(proto) -> str:
    """sha256 of the initialisers (names and bytes): the same weights, the same id."""
    h = hashlib.sha256()
    for i in sorted(proto.graph.initializer, key=lambda i: i.name):
        h.update(i.name.encode())
        h.update(i.SerializeToString())
    return h.hexdigest()[:16]


def add_features_output(proto, name: str = FEATURES_NAME):
    """A copy of ``proto`` with the head's input as output ``name`` [N, D] and metadata
    ``features_output``, ``feature_size`` (and ``model_id`` if absent)."""
    import onnx
    from onnx import TensorProto, helper

    out = onnx.ModelProto()
    out.CopyFrom(proto)
    head = find_head(out)
    d = int(head.weight.shape[0])
    if any(o.name == name for o in out.graph.output):
        raise FeaturesError(f"the model already has an output named '{name}'")
    if head.features != name:
        # An Identity keeps the inner tensor's name (and every consumer) untouched.
        out.graph.node.append(helper.make_node("Identity", [head.features], [name],
                                               name="features_output"))
    batch = out.graph.input[0].type.tensor_type.shape.dim[0]
    value = helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, d])
    value.type.tensor_type.shape.dim[0].CopyFrom(batch)
    out.graph.output.append(value)
    meta = {p.key: p for p in out.metadata_props}
    for key, val in (("features_output", name), ("feature_size", str(d))):
        if key in meta:
            meta[key].value = val
        else:
            e = out.metadata_props.add()
            e.key, e.value = key, val
    if "model_id" not in meta:
        e = out.metadata_props.add()
        e.key, e.value = "model_id", weights_id(out)
    onnx.checker.check_model(out)
    return out


def features_metadata(proto, name: str = FEATURES_NAME) -> dict[str, str]:
    """Metadata for a model with a ``name`` output (none when it has no such output)."""
    out = {o.name: o for o in proto.graph.output}.get(name)
    if out is None:
        return {}
    d = out.type.tensor_type.shape.dim[1].dim_value
    return {"features_output": name, "feature_size": str(d), "model_id": weights_id(proto)}


def keras_feature_model(model, name: str = FEATURES_NAME):
    """A Keras model answering [probabilities, features] (the layer named ``name``,
    e.g. ``layers.ReLU(name="features")``), or None when the model has no such layer."""
    import keras

    try:
        layer = model.get_layer(name)
    except ValueError:
        return None
    return keras.Model(model.inputs, [model.outputs[0], layer.output])


def verify_keras(raw: bytes, model, x: np.ndarray) -> float | None:
    """max |onnx - keras| / max |keras| of the features on ``x`` [N,28,28,1] (None: the
    Keras model has no features layer)."""
    both = keras_feature_model(model)
    if both is None:
        return None
    f_keras = both.predict(x, batch_size=500, verbose=0)[1]
    f_onnx = _run(raw, x[..., 0], [FEATURES_NAME])[0]
    return float(np.abs(f_onnx - f_keras).max() / max(float(np.abs(f_keras).max()), 1e-6))


def _run(raw: bytes, x: np.ndarray, names: list[str]) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    parts = [sess.run(names, {"image": x[i:i + 1000, ..., None]})
             for i in range(0, len(x), 1000)]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]


def verify(before, after, x: np.ndarray, name: str = FEATURES_NAME) -> dict:
    """Old outputs bit-identical; the head reproduces them from the features.

    The digit model's softmax covers the ten digits plus "not a digit" (class 10);
    ``probabilities`` is the digits renormalised, ``not_digit`` the last column.
    """
    old_names = [o.name for o in before.graph.output]
    old = _run(before.SerializeToString(), x, old_names)
    new = _run(after.SerializeToString(), x, old_names + [name])
    identical = all(np.array_equal(a, b) for a, b in zip(old, new[:-1], strict=True))
    feats = new[-1]
    head = find_head(after)
    logits = feats.astype(np.float64) @ head.weight + head.bias
    outs = dict(zip(old_names, old, strict=True))
    p = outs["probabilities"]
    c = p.shape[1]
    z = logits[:, :c]
    p_head = np.exp(z - z.max(1, keepdims=True))
    p_head /= p_head.sum(1, keepdims=True)
    diff = float(np.abs(p_head - p).max())
    if "not_digit" in outs:
        full = np.exp(logits - logits.max(1, keepdims=True))
        full /= full.sum(1, keepdims=True)
        diff = max(diff, float(np.abs(full[:, c:].reshape(len(x), -1)[:, 0]
                                      - outs["not_digit"].reshape(-1)).max()))
    return {"images": int(len(x)), "outputs_bit_identical": identical,
            "head_max_abs_diff": diff, "feature_size": int(feats.shape[1]),
            "features_finite": bool(np.isfinite(feats).all())}


def check(report: dict) -> None:
    if not report["outputs_bit_identical"]:
        raise FeaturesError("the model's outputs changed: not writing it")
    if not report["features_finite"] or report["head_max_abs_diff"] > TOLERANCE:
        raise FeaturesError(f"softmax(features @ W + b) differs from the outputs by "
                            f"{report['head_max_abs_diff']:.2e}")


def verification_images(mnist_dir: str | None, pen_dir: str | None) -> dict[str, np.ndarray]:
    """MNIST test (all 10,000) and the real pen digits of the test writers."""
    from training.data import pen_digits, render_all
    from training.mnist import load_mnist
    from training.pen import DIGIT_FILES, load_pen

    data = load_mnist(mnist_dir)
    out = {"mnist_test": data.x_test.astype(np.float32) / 255}
    inks, _ = pen_digits(load_pen(pen_dir, DIGIT_FILES), "test")
    out["pen_test"] = render_all(inks)
    return out


def update_card(card_path: Path, proto, model: Path, reports: dict) -> None:
    import json

    from export.card import write_card

    card = json.loads(card_path.read_text())
    card["metadata"] = {p.key: p.value for p in proto.metadata_props}
    card["size_bytes"] = model.stat().st_size
    card["features_verification"] = reports
    write_card(card, model)


def main(argv: list[str] | None = None) -> int:
    import onnx

    ap = argparse.ArgumentParser(prog="python -m export.features", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--out", type=Path, help="default: overwrite MODEL")
    ap.add_argument("--mnist-dir", help="default: $HWR_MNIST_DIR")
    ap.add_argument("--pen-dir", help="default: $HWR_PEN_DIR")
    args = ap.parse_args(argv)
    before = onnx.load(str(args.model))
    try:
        after = add_features_output(before)
        reports = {}
        for what, x in verification_images(args.mnist_dir, args.pen_dir).items():
            reports[what] = report = verify(before, after, x)
            print(f"{what}: {report}", flush=True)
            check(report)
    except FeaturesError as e:
        print(f"export.features: error: {e}", file=sys.stderr)
        return 1
    out = args.out or args.model
    tmp = out.with_suffix(".onnx.tmp")
    tmp.write_bytes(after.SerializeToString())
    tmp.replace(out)
    print(f"wrote {out}: output '{FEATURES_NAME}' [N, {report['feature_size']}]")
    card = out.with_suffix(".json")
    if card.is_file():  # the model card beside it: new metadata, size, verification
        update_card(card, after, out, reports)
        print(f"updated {card} and its Markdown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
