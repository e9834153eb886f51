"""Small ONNX character models made on the fly (onnx.helper), for tests of the label set,
the modes and words without the trained letters model.

``template_model`` reads by template: the probabilities are the softmax of the cosine
between the model input and each label's template (the app's own rendering of a shape
from ``LETTERS``), so ink drawn from the same shapes reads exactly as drawn, at any
size. Labels without a template score 0 and never win.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.raster import render_ink

CHARS = [*"0123456789", *(chr(c) for c in range(65, 91)), *(chr(c) for c in range(97, 123))]
SAME_SHAPE = [["c", "C"], ["o", "O"], ["x", "X"], ["s", "S"], ["I", "l"]]

Poly = list[tuple[float, float]]


def _line(x0: float, y0: float, x1: float, y1: float, n: int = 20) -> Poly:
    return [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> Poly:
    return [(cx + rx * math.sin(2 * math.pi * i / n * 1.04),
             cy - ry * math.cos(2 * math.pi * i / n * 1.04)) for i in range(n + 1)]


# Shapes in a unit box (0..1 wide and high, y down), drawn at any size by ``letter``.
LETTERS: dict[str, list[Poly]] = {
    "H": [_line(0, 0, 0, 1), _line(0.7, 0, 0.7, 1), _line(0, 0.5, 0.7, 0.5)],
    "o": [_ellipse(0.5, 0.5, 0.5, 0.5)],
    "x": [_line(0, 0, 1, 1), _line(1, 0, 0, 1)],
    "l": [_line(0, 0, 0, 1)],
    "i": [_line(0, 0.3, 0, 1), _line(-0.02, 0, 0.02, 0.02, 2)],  # stem and dot
    "t": [_line(0.3, 0, 0.3, 1), _line(0, 0.3, 0.75, 0.3)],  # stem and bar
    "4": [_line(0.6, 0, 0, 0.65) + _line(0, 0.65, 0.9, 0.65)[1:], _line(0.7, 0.2, 0.7, 1)],
    "1": [_line(0, 0.2, 0.35, 0) + _line(0.35, 0, 0.35, 1)[1:]],
    "m": [_line(0, 1, 0, 0) + _line(0, 0, 1, 0.15)[1:] + _line(1, 0.15, 1, 1)[1:]
          + _line(1, 1, 1, 0.15)[1:] + _line(1, 0.15, 2, 0.15)[1:] + _line(2, 0.15, 2, 1)[1:]],
}
TWINS = {"O": "o", "X": "x", "I": "l"}  # same shape, the template of the other case


def letter(label: str, x: float, y: float, w: float, h: float) -> list[Stroke]:
    """The shape of ``label`` in the box (x, y, w, h): h is its height; ``w`` the width of
    a unit-wide shape."""
    return [Stroke(tuple(Point(x + px * w, y + py * h) for px, py in poly))
            for poly in LETTERS[TWINS.get(label, label)]]


def word(*parts: tuple[str, float, float], gap: float = 25.0) -> Ink:
    """Letters left to right: (label, height, top) each; width from the shape."""
    strokes: list[Stroke] = []
    x = 0.0
    for label, h, top in parts:
        w = 0.6 * h
        strokes += letter(label, x, top, w, h)
        x = max(p.x for s in strokes for p in s.points) + gap
    return Ink(tuple(strokes))


def template_model(path: Path, *, labels: list[str] | None = None,
                   modes: list[str] | None = None, reject: float | None = 0.01,
                   reject_name: str = "reject", features: int = 0,
                   same_shape: list[list[str]] | None = None,
                   metadata: dict[str, str] | None = None, sharpness: float = 30.0) -> Path:
    """A model that reads the shapes of ``LETTERS`` by template (see the module doc)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    labels = CHARS if labels is None else labels
    w = np.zeros((784, len(labels)), np.float32)
    for j, lab in enumerate(labels):
        if TWINS.get(lab, lab) in LETTERS:
            t = render_ink(Ink(tuple(letter(lab, 0, 0, 60, 100)))).reshape(-1)
            w[:, j] = t / np.linalg.norm(t) * sharpness
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 28, 28, 1])
    outs = [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                          ["N", len(labels)])]
    inits = [numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
             numpy_helper.from_array(w, "w")]
    nodes = [helper.make_node("Reshape", ["image", "flat"], ["x"]),
             helper.make_node("LpNormalization", ["x"], ["xn"], axis=1, p=2),
             helper.make_node("MatMul", ["xn", "w"], ["scores"]),
             helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1)]
    if reject is not None:
        inits += [numpy_helper.from_array(np.zeros((784, 1), np.float32), "zero1"),
                  numpy_helper.from_array(np.array([reject], np.float32), "rej")]
        nodes += [helper.make_node("MatMul", ["xn", "zero1"], ["r0"]),
                  helper.make_node("Add", ["r0", "rej"], [reject_name])]
        outs.append(helper.make_tensor_value_info(reject_name, TensorProto.FLOAT, ["N", 1]))
    if features:
        f = np.random.default_rng(1).normal(0, 1, (784, features)).astype(np.float32)
        inits.append(numpy_helper.from_array(f, "wf"))
        nodes.append(helper.make_node("MatMul", ["xn", "wf"], ["features"]))
        outs.append(helper.make_tensor_value_info("features", TensorProto.FLOAT,
                                                  ["N", features]))
    graph = helper.make_graph(nodes, "templates", [x], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"preprocessing_version": "1", "labels": json.dumps(labels)}
    if modes is not None:
        meta["modes"] = json.dumps(modes)
    if reject is not None and reject_name != "not_digit":
        meta["reject_output"] = reject_name
    if features:
        meta.update(features_output="features", feature_size=str(features))
    if same_shape is not None:
        meta["same_shape"] = json.dumps(same_shape)
    meta.update(metadata or {})
    helper.set_model_props(model, meta)
    onnx.save(model, str(path))
    return path


def chars_model(path: Path, **kw: object) -> Path:
    """A stand-in for ``chars.onnx``: 62 labels, letters and everything modes."""
    return template_model(path, modes=["letters", "all"], same_shape=SAME_SHAPE,
                          features=8, **kw)  # type: ignore[arg-type]
