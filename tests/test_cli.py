"""`hwr-qt recognize`: output formats, exit codes and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from hwr_qt import cli
from hwr_qt.imagefile import MAX_PIXELS, image_to_input
from hwr_qt.ink import MAX_POINTS, load_ink
from hwr_qt.raster import render_ink
from hwr_qt.recognizer import LABELS

REPO = Path(__file__).resolve().parent.parent
ONE_INK = {"strokes": [[[0, 0], [0, 100]]]}  # a "1": one vertical line


def run(capfd, *args: str) -> tuple[int, list[str], list[str]]:
    """cli.main in-process; (exit code, stdout lines, stderr lines) captured at fd level,
    so C++ warnings from Qt or ONNX Runtime would show up too."""
    rc = cli.main(["recognize", *args])
    out, err = capfd.readouterr()
    return rc, out.splitlines(), err.splitlines()


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def one_image(path: Path, *, invert: bool = False, fmt: str | None = None) -> Path:
    """A drawn "1": black vertical line on white (white on black if ``invert``)."""
    img = QImage(200, 200, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("black"), 18, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(100, 30), QPointF(100, 170))
    painter.end()
    if invert:
        img.invertPixels()  # the exact complement, so both polarities must read the same
    assert img.save(str(path), fmt)
    return path


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` (the pixel data is bogus)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def blank_png(path: Path) -> Path:
    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    assert img.save(str(path))
    return path


def many_points(path: Path) -> Path:
    # Two strokes so the limit is on the total, not per stroke.
    half = (MAX_POINTS + 2) // 2
    stroke = "[" + ",".join(["[0,0]"] * half) + "]"
    path.write_text('{"strokes": [' + stroke + "," + stroke + "]}", encoding="utf-8")
    return path


# name -> (file maker, a fragment the one-line error must contain)
BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing.png": (lambda p: p, "no such file"),
    "missing.json": (lambda p: p, "no such file"),
    "empty.png": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    "empty.json": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    "random.png": (lambda p: (p.write_bytes(np.random.default_rng(1).bytes(4096)), p)[1],
                   "not a readable image"),
    "text.png": (lambda p: (p.write_text("hello, not an image\n"), p)[1],
                 "not a readable image"),
    "binary.json": (lambda p: (p.write_bytes(b"\xff\xfe\x00\x81" * 64), p)[1], "UTF-8"),
    "invalid.json": (lambda p: (p.write_text('{"strokes": [[[0, 0],'), p)[1], "invalid JSON"),
    "nostrokes.json": (lambda p: write_json(p, {"points": [[0, 0]]}), '"strokes"'),
    "toplevel-list.json": (lambda p: write_json(p, [[[0, 0], [1, 1]]]), '"strokes"'),
    "nan.json": (lambda p: (p.write_text('{"strokes": [[[NaN, 0], [0, 5]]]}'), p)[1], "NaN"),
    "inf.ink": (lambda p: (p.write_text('{"strokes": [[[0, 0], [Infinity, 5]]]}'), p)[1],
                "infinite"),
    "absurd.json": (lambda p: write_json(p, {"strokes": [[[0, 0], [0, 2e7]]]}), "beyond"),
    "hugeint.json": (lambda p: (p.write_text('{"strokes": [[[0, 0], [0, 1' + "0" * 400
                                             + "]]]}"), p)[1], "beyond"),
    "bigliteral.json": (lambda p: (p.write_text('{"strokes": [[[0, ' + "9" * 5000 + "]]]}"),
                                   p)[1], "invalid JSON"),
    "deep.json": (lambda p: (p.write_text("[" * 200_000), p)[1], "nested too deeply"),
    "manypoints.json": (many_points, "too many points"),
    "zerostrokes.json": (lambda p: write_json(p, {"strokes": []}), "no points"),
    "emptystrokes.ink": (lambda p: write_json(p, {"strokes": [[], []]}), "no points"),
    "badpoint.json": (lambda p: write_json(p, {"strokes": [[[0, "a"]]]}), "numbers"),
    "huge-header.png": (lambda p: png_claiming_size(p, 100_000, 100_000),
                        "image too large (100000x100000"),
    "blank.png": (blank_png, "blank"),
    # A folder is read (its ink and image files); an empty one says so.
    "adir.png": (lambda p: (p.mkdir(), p)[1], "is a folder with no ink or image files"),
    "adir.json": (lambda p: (p.mkdir(), p)[1], "is a folder with no ink or image files"),
}


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_json(tmp_path / "good.json", ONE_INK)


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_others_still_run(capfd, tmp_path, good, name):
    make, fragment = BAD_INPUTS[name]
    bad = make(tmp_path / name)
    rc, out, err = run(capfd, str(good), str(bad), str(good))
    assert rc == 1
    assert len(out) == 2 and all(line.startswith(f"{good}: ") for line in out)
    assert len(err) == 1, err
    assert err[0].startswith(f"hwr-qt: {bad}: ")
    assert fragment in err[0]


@pytest.mark.parametrize("name", ["missing.png", "nan.json", "blank.png", "huge-header.png"])
def test_bad_input_with_json_is_an_error_object(capfd, tmp_path, good, name):
    make, fragment = BAD_INPUTS[name]
    bad = make(tmp_path / name)
    rc, out, err = run(capfd, "--json", str(bad), str(good))
    assert rc == 1 and err == []
    rows = [json.loads(line) for line in out]
    assert rows[0] == {"file": str(bad), "error": rows[0]["error"]}
    assert fragment in rows[0]["error"] and "\n" not in rows[0]["error"]
    assert rows[1]["file"] == str(good) and rows[1]["label"] in LABELS


def test_genuinely_big_image_is_refused_by_its_header(capfd, tmp_path, good):
    # 8000x7000 = 56 megapixels at 1 bit per pixel: a few kB on disk, never decoded.
    img = QImage(8000, 7000, QImage.Format.Format_Mono)
    img.fill(0)
    big = tmp_path / "big.png"
    assert img.save(str(big)) and MAX_PIXELS < 8000 * 7000
    del img
    start = time.perf_counter()
    rc, out, err = run(capfd, str(big), str(good))
    assert time.perf_counter() - start < 5.0
    assert rc == 1 and len(out) == 1
    assert err == [f"hwr-qt: {big}: image too large (8000x7000; limit 50 megapixels)"]


def test_plain_output_format(capfd, good):
    rc, out, err = run(capfd, str(good))
    assert rc == 0 and err == []
    pct = r"(\d+\.\d)%"
    m = re.fullmatch(rf"{re.escape(str(good))}: (\d) \({pct}\)  top-3: "
                     rf"(\d) {pct}, (\d) {pct}, (\d) {pct}", out[0])
    assert m, out
    label, conf, first, first_p = m.group(1), m.group(2), m.group(3), m.group(4)
    assert (label, conf) == (first, first_p)
    assert len({m.group(3), m.group(5), m.group(7)}) == 3
    assert float(m.group(4)) >= float(m.group(6)) >= float(m.group(8))


@pytest.mark.parametrize("k", [1, 3, 10])
def test_json_top_k_rows(capfd, tmp_path, good, k):
    image = one_image(tmp_path / "one.png")
    rc, out, err = run(capfd, "--json", "--top-k", str(k), str(good), str(image))
    assert rc == 0 and err == [] and len(out) == 2
    for line, path in zip(out, [good, image], strict=True):
        row = json.loads(line)
        assert {"file", "label", "text", "top_k", "digits", "rejected"} <= set(row)
        assert row["file"] == str(path) and row["text"] == row["label"]
        assert len(row["digits"]) == 1 and row["digits"][0]["top_k"] == row["top_k"]
        top = row["top_k"]
        assert len(top) == k and all(set(r) == {"label", "p"} for r in top)
        labels = [r["label"] for r in top]
        probs = [r["p"] for r in top]
        assert len(set(labels)) == k and set(labels) <= set(LABELS)
        assert row["label"] == labels[0]
        assert probs == sorted(probs, reverse=True)
        assert all(0.0 <= p <= 1.0 and round(p, 6) == p for p in probs)
        assert sum(probs) <= 1 + 1e-6
        if k == 10:
            assert sum(probs) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("k", ["0", "11", "-1", "three"])
def test_top_k_out_of_range_is_a_usage_error(capfd, good, k):
    rc, out, err = run(capfd, "--top-k", k, str(good))
    assert rc == 2 and out == []
    assert err[0].startswith("usage: hwr-qt recognize")
    assert "--top-k" in err[-1]


def test_usage_errors(capfd, good):
    assert cli.main([]) == 2
    assert cli.main(["identify", str(good)]) == 2
    assert cli.main(["recognize"]) == 2  # no FILE
    assert cli.main(["recognize", "--bogus", str(good)]) == 2
    out, _ = capfd.readouterr()
    assert out == ""
    assert cli.main(["recognize", "--help"]) == 0
    assert "usage: hwr-qt recognize" in capfd.readouterr().out


def _onnx_model(path: Path, *, shape: list, reshape_to_10: bool) -> Path:
    """A tiny ONNX model: Identity on [N,10] (incompatible input), or a model with the
    right signature whose Reshape of 784 values to [-1,10] fails only when run."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])
    if reshape_to_10:
        target = helper.make_tensor("target", TensorProto.INT64, [2], [-1, 10])
        nodes = [helper.make_node("Reshape", ["image", "target"], ["probabilities"])]
        inits = [target]
    else:
        nodes, inits = [helper.make_node("Identity", ["image"], ["probabilities"])], []
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"preprocessing_version": "1"})
    onnx.save(model, str(path))
    return path


MODELS: dict[str, Callable[[Path], Path]] = {
    "missing.onnx": lambda p: p,
    "random.onnx": lambda p: (p.write_bytes(np.random.default_rng(2).bytes(2048)), p)[1],
    "empty.onnx": lambda p: (p.write_bytes(b""), p)[1],
    "identity.onnx": lambda p: _onnx_model(p, shape=["N", 10], reshape_to_10=False),
    "fails-when-run.onnx": lambda p: _onnx_model(p, shape=["N", 28, 28, 1],
                                                 reshape_to_10=True),
}


@pytest.mark.parametrize("json_flag", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
def test_bad_model_is_exit_2_with_one_line(capfd, tmp_path, good, name, json_flag):
    model = MODELS[name](tmp_path / name)
    rc, out, err = run(capfd, *(["--json"] if json_flag else []), "--model", str(model),
                       str(good))
    assert rc == 2 and out == []
    assert len(err) == 1, err
    assert err[0].startswith("hwr-qt: error: ") and "Traceback" not in err[0]


def test_explicit_model_matches_default(capfd, good, model_path):
    rc1, out1, _ = run(capfd, "--json", str(good))
    rc2, out2, _ = run(capfd, "--json", "--model", str(model_path), str(good))
    assert rc1 == rc2 == 0 and out1 == out2


def test_ink_and_image_of_a_one_read_alike(capfd, tmp_path):
    ink_file = write_json(tmp_path / "one.json", ONE_INK)
    png = one_image(tmp_path / "one.png")
    jpg = one_image(tmp_path / "one.jpg", fmt="JPG")
    rc, out, err = run(capfd, "--json", str(ink_file), str(png), str(jpg))
    assert rc == 0 and err == []
    labels = [json.loads(line)["label"] for line in out]
    assert len(labels) == 3 and labels[0] in LABELS
    assert labels[0] == labels[1] == labels[2]
    # Same normalisation: both fitted to a 20 px tall, thin box centred by mass.
    for x in (render_ink(load_ink(ink_file)), image_to_input(png)):
        rows, cols = np.nonzero(x > 0.1)
        assert abs(rows.max() - rows.min() + 1 - 20) <= 1
        assert cols.max() - cols.min() + 1 <= 4
        assert abs(np.average(np.arange(28), weights=x.sum(axis=1)) - 14) <= 0.6


def test_polarity_does_not_change_the_model_input(capfd, tmp_path):
    dark_on_light = one_image(tmp_path / "dark.png")
    light_on_dark = one_image(tmp_path / "light.png", invert=True)
    a, b = image_to_input(dark_on_light), image_to_input(light_on_dark)
    assert a.sum() > 10  # real ink, not two blank inputs
    np.testing.assert_allclose(a, b, atol=1e-6)
    rc, out, _ = run(capfd, "--json", str(dark_on_light), str(light_on_dark))
    assert rc == 0
    rows = [json.loads(line) for line in out]
    assert rows[0]["top_k"] == rows[1]["top_k"]


def test_headless_subprocess(tmp_path):
    """`python -m hwr_qt.cli` with no display and no QT_QPA_PLATFORM: JPEG works, an SVG
    with text (which aborts Qt without a QGuiApplication) is refused before any decoder
    sees it, and a truncated JPEG gives our one line, without Qt's own warnings."""
    svg = tmp_path / "seven.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
                   '<rect width="100" height="100" fill="white"/>'
                   '<rect x="45" y="10" width="10" height="80" fill="black"/>'
                   '<text x="10" y="60" font-size="50">7</text></svg>')
    jpg = one_image(tmp_path / "one.jpg", fmt="JPG")
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes(jpg.read_bytes()[:400])
    ink_file = write_json(tmp_path / "one.ink", ONE_INK)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "hwr_qt.cli", "recognize", str(svg), str(jpg), str(trunc),
         str(ink_file)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.splitlines()
    assert [line.split(": ")[0] for line in out] == [str(jpg), str(ink_file)]
    err = proc.stderr.splitlines()
    assert len(err) == 2, err
    assert err[0] == (f"hwr-qt: {svg}: not a readable image (an SVG drawing; accepted: "
                      "PNG, JPEG, BMP, GIF, TIFF, WebP)")
    assert err[1].startswith(f"hwr-qt: {trunc}: ")
    assert "cannot decode image" in err[1] or "not a readable image" in err[1]
