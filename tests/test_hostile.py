"""Hostile input, generated here: broken models, bombs, files the OS refuses, odd names.

Every case must end in one clear line (or a JSON error object), a meaningful exit code,
and the other files still read; never a traceback, a hang or a silent wrong answer.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QImageWriter, QPainter, QPen

from benchmarks import hostile
from hwr_qt import __main__ as entry
from hwr_qt import cli
from hwr_qt.imagefile import ImageFileError, image_to_input, read_image
from hwr_qt.ink import Ink, InkError
from hwr_qt.pipeline import MAX_READ_STROKES, check_readable, read_file, read_number
from hwr_qt.recognizer import ModelError, ModelOutputError, Recognizer

REPO = Path(__file__).resolve().parent.parent
ONE = {"strokes": [[[0, 0], [0, 100]]]}
TWO = {"strokes": [[[0, 0], [0, 100]], [[80, 0], [80, 100]]]}
pytest.importorskip("onnx")


def run(capfd, *args: str) -> tuple[int, list[str], list[str]]:
    rc = cli.main(["recognize", *args])
    out, err = capfd.readouterr()
    return rc, out.splitlines(), err.splitlines()


def ink_file(path: Path, data: dict = ONE) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return ink_file(tmp_path / "good.json")


# --- models ----------------------------------------------------------------------------


def test_fixed_batch_of_one_is_fed_one_image_at_a_time(tmp_path):
    ok = Recognizer(hostile.onnx_model(tmp_path / "ok.onnx", "ok"))
    one = Recognizer(hostile.onnx_model(tmp_path / "b1.onnx", "batch1"))
    assert one.max_batch == 1 and ok.max_batch is None
    x = np.random.default_rng(3).random((5, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(one.probabilities(x), ok.probabilities(x), atol=1e-6)
    number = read_number(one, Ink.from_json(TWO))
    assert len(number.chars) == 2


def test_fixed_batch_model_reads_a_number_in_the_cli(capfd, tmp_path, good):
    model = hostile.onnx_model(tmp_path / "b1.onnx", "batch1")
    two = ink_file(tmp_path / "two.json", TWO)
    rc, out, err = run(capfd, "--json", "--model", str(model), str(good), str(two))
    assert rc == 0 and err == []
    assert len(json.loads(out[1])["digits"]) == 2


@pytest.mark.parametrize("kind,fragment", [("logits", "do not sum to 1"),
                                           ("wrong-rows", "shape")])
def test_model_answering_nonsense_is_refused_at_load(capfd, tmp_path, good, kind, fragment):
    model = hostile.onnx_model(tmp_path / f"{kind}.onnx", kind)
    with pytest.raises(ModelError, match=fragment):
        Recognizer(model)
    rc, out, err = run(capfd, "--model", str(model), str(good))
    assert rc == 2 and out == []
    assert len(err) == 1 and err[0].startswith("hwr-qt: error: model ") and fragment in err[0]


def test_nan_output_is_one_error_per_file(capfd, tmp_path, good):
    """Valid on the blank probe, NaN on ink: each file gets one error, no answer at all."""
    model = hostile.onnx_model(tmp_path / "nan.onnx", "nan")
    with pytest.raises(ModelOutputError, match="NaN"):
        read_number(Recognizer(model), Ink.from_json(ONE))
    rc, out, err = run(capfd, "--model", str(model), str(good), str(good))
    assert rc == 1 and out == []
    assert err == [f"hwr-qt: {good}: the model's output is invalid: probabilities contain "
                   "NaN or infinity"] * 2
    rc, out, err = run(capfd, "--json", "--model", str(model), str(good))
    assert rc == 1 and err == []
    row = json.loads(out[0], parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert row["file"] == str(good) and "NaN" in row["error"]


@pytest.mark.parametrize("labels", [["0"] * 10, [str(d) for d in range(9)] + ["\x1b[2J"],
                                    [str(d) for d in range(9)] + ["x" * 50]])
def test_bad_labels_are_refused(tmp_path, labels):
    with pytest.raises(ModelError, match="labels"):
        Recognizer(hostile.onnx_model(tmp_path / "m.onnx", "ok", labels=labels))


# --- images ----------------------------------------------------------------------------


def _digit_image() -> QImage:
    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setPen(QPen(QColor("black"), 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(32, 8), QPointF(32, 56))
    p.end()
    return img


@pytest.mark.parametrize("fmt", ["png", "jpeg", "bmp", "gif", "tiff", "webp"])
def test_each_accepted_format_is_read(tmp_path, fmt):
    path = tmp_path / f"one.{fmt}"
    if fmt == "gif":
        a = np.ones((64, 64), np.uint8)
        a[8:56, 30:35] = 0
        path.write_bytes(hostile.gif_bytes(a))
    else:
        if fmt.encode() not in [bytes(f) for f in QImageWriter.supportedImageFormats()]:
            pytest.skip(f"this Qt cannot write {fmt}")
        assert _digit_image().save(str(path), fmt)
    x = image_to_input(path)
    rows, cols = np.nonzero(x > 0.3)
    assert abs(rows.max() - rows.min() + 1 - 20) <= 1 and cols.max() - cols.min() < 8


@pytest.mark.parametrize("fmt", ["xpm", "ppm", "ico"])
def test_formats_outside_the_allow_list_are_refused(tmp_path, fmt):
    path = tmp_path / f"one.{fmt}"
    assert _digit_image().save(str(path), fmt)
    with pytest.raises(ImageFileError, match="accepted: PNG, JPEG, BMP, GIF, TIFF, WebP"):
        read_image(path)


def test_svg_bombs_are_refused_without_decoding(capfd, tmp_path, good):
    use_bomb = hostile.svg_use_bomb(tmp_path / "bomb.svg")
    svgz = hostile.svgz_bomb(tmp_path / "bomb.svgz", megabytes=2)
    named_png = tmp_path / "bomb.png"  # the name does not matter, the content does
    shutil.copy(use_bomb, named_png)
    start = time.perf_counter()
    rc, out, err = run(capfd, str(use_bomb), str(svgz), str(named_png), str(good))
    assert time.perf_counter() - start < 5  # the bomb alone ran for minutes
    assert rc == 1 and len(out) == 1 and len(err) == 3
    assert "an SVG drawing" in err[0] and "gzip-compressed" in err[1]
    assert "an SVG drawing" in err[2]


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    bomb = hostile.png_pixel_bomb(tmp_path / "px.png", side=3000)  # 9 MP in ~10 kB
    assert bomb.stat().st_size < 20_000
    with pytest.raises(ImageFileError, match=r"image too large \(3000x3000; limit 1 mega"):
        read_image(bomb, max_pixels=1_000_000)


def test_file_size_limit(tmp_path):
    path = tmp_path / "big.png"
    assert _digit_image().save(str(path))
    with pytest.raises(ImageFileError, match="file too large"):
        read_image(path, max_bytes=100)


def test_decoder_chatter_becomes_our_one_line(capfd, tmp_path, good):
    bad = hostile.png_bad_crc(tmp_path / "crc.png")
    rc, out, err = run(capfd, str(bad), str(good))
    assert rc == 1 and len(out) == 1
    assert err == [f"hwr-qt: {bad}: cannot decode image: IDAT: CRC error"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_is_not_a_regular_file(capfd, good):
    rc, out, err = run(capfd, "/dev/zero", str(good))
    assert rc == 1 and len(out) == 1
    assert err == ["hwr-qt: /dev/zero: not a regular file"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    return env


def test_unreadable_file_says_permission_denied(tmp_path):
    locked = tmp_path / "locked.png"
    assert _digit_image().save(str(locked))
    locked.chmod(0)
    good = ink_file(tmp_path / "good.json")
    argv = [sys.executable, "-m", "hwr_qt", "recognize", str(locked), str(good)]
    if os.geteuid() == 0:  # root reads anything unless it drops these capabilities
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv")
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"hwr-qt: {locked}: cannot read locked.png: "
                                        "permission denied"]


def test_non_utf8_file_name_does_not_end_the_output(tmp_path):
    """Python keeps undecodable bytes of a name as lone surrogates, which a strict UTF-8
    stdout (any UTF-8 desktop locale) cannot print: the names are shown escaped."""
    if sys.platform == "darwin":
        pytest.skip("macOS file names are always UTF-8")
    name = os.fsencode(str(tmp_path)) + b"/caf\xe9.json"
    with open(name, "w") as f:
        json.dump(ONE, f)
    good = ink_file(tmp_path / "good.json")
    env = dict(_env(), PYTHONIOENCODING="utf-8")
    for extra in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-m", "hwr_qt", "recognize", *extra, name,
                               str(good)], env=env, capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode("utf-8").splitlines()
        assert len(out) == 2 and proc.stderr == b""
        shown = f"{tmp_path}/caf\\xe9.json"
        assert out[0].startswith(shown + ": ") or json.loads(out[0])["file"] == shown


def test_read_file_refuses_svg_without_a_gui_application(tmp_path):
    """Qt aborts the process if an SVG with text is decoded before a QGuiApplication
    exists; read_file must never hand it to Qt."""
    svg = tmp_path / "seven.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="90" height="90">'
                   '<text x="10" y="60" font-size="50">7</text></svg>')
    code = ("import sys; from hwr_qt.pipeline import read_file; "
            "from hwr_qt.recognizer import Recognizer; "
            "from hwr_qt.resources import default_model_path\n"
            "try:\n    read_file(Recognizer(default_model_path()), sys.argv[1])\n"
            "except ValueError as e:\n    print('refused:', e)")
    proc = subprocess.run([sys.executable, "-c", code, str(svg)], env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused: not a readable image (an SVG drawing")


# --- entry points and limits -------------------------------------------------------------


@pytest.mark.parametrize("word", ["recognize", "recognise"])
def test_both_spellings_in_both_entry_points(capfd, good, word):
    assert cli.main([word, str(good)]) == 0
    assert entry.main([word, str(good)]) == 0
    out, err = capfd.readouterr()
    assert err == "" and len(out.splitlines()) == 2


def test_drawing_beyond_the_read_limit_is_one_clear_error(capfd, tmp_path, good):
    many = {"strokes": [[[i * 10, 0], [i * 10, 50]] for i in range(MAX_READ_STROKES + 1)]}
    with pytest.raises(InkError, match="too much ink"):
        check_readable(Ink.from_json(many))
    check_readable(Ink.from_json({"strokes": many["strokes"][:MAX_READ_STROKES]}))
    path = ink_file(tmp_path / "many.json", many)
    rc, out, err = run(capfd, str(path), str(good))
    assert rc == 1 and len(out) == 1
    assert err == [f"hwr-qt: {path}: too much ink to read as a number "
                   f"({MAX_READ_STROKES + 1} strokes; the limit is {MAX_READ_STROKES})"]


def test_svgz_generator_is_a_real_bomb(tmp_path):
    """The test above must be refusing a real bomb: ~1000x inflation."""
    bomb = hostile.svgz_bomb(tmp_path / "b.svgz", megabytes=2)
    with gzip.open(bomb) as f:
        inflated = sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))
    assert inflated > 2_000_000 and bomb.stat().st_size * 200 < inflated


def test_read_file_on_an_image_matches_the_pipeline(tmp_path, recognizer):
    path = tmp_path / "one.png"
    assert _digit_image().save(str(path))
    assert read_file(recognizer, path).text == "1"
