"""The bundled letters model (``resources/models/chars.onnx``) in the app: its description,
and letters/everything mode through the CLI and the GUI. Skipped while the file is not
there (the modes are then unavailable; ``test_modes`` covers that)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from inkshapes import number

from hwr_qt import cli
from hwr_qt.ink import Ink
from hwr_qt.models import ModelSet, bundled_model_path

CHARS = bundled_model_path("letters")
pytestmark = pytest.mark.skipif(not CHARS.is_file(), reason=f"{CHARS} not installed yet")

LETTERS = [*(chr(c) for c in range(65, 91)), *(chr(c) for c in range(97, 123))]


@pytest.fixture(scope="module")
def chars():
    from hwr_qt.recognizer import Recognizer

    return Recognizer(CHARS)


def save(path: Path, ink: Ink) -> Path:
    path.write_text(json.dumps({"strokes": [[[p.x, p.y] for p in s.points]
                                            for s in ink.strokes]}))
    return path


def test_description(chars):
    info = chars.info
    assert info.labels == tuple([*"0123456789", *LETTERS])
    assert info.modes == ("letters", "all")
    assert info.reject_output and info.features_output and info.feature_size > 0
    assert ("c", "C") in info.same_shape and info.model_id
    s = chars.classify(np.zeros((2, 28, 28), np.float32))
    assert s.probabilities.shape == (2, 62) and s.features.shape == (2, info.feature_size)
    assert CHARS.stat().st_size <= 5 * 2**20  # issue 9: model files at most 5 MB


def test_modes_use_it(chars):
    models = ModelSet()
    assert models.recognizer("letters").path == CHARS
    assert models.classifier("letters").info.labels == tuple(LETTERS)
    assert models.recognizer("digits").path.name == "digits.onnx"


def _letter_h() -> Ink:
    from fakemodels import word

    return word(("H", 100, 0))


def test_cli_letters_mode_reads_an_h_from_ink_and_image(capfd, tmp_path):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    ink = save(tmp_path / "h.json", _letter_h())
    cli._ensure_qt_app()
    img = QImage(300, 300, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    painter.setPen(QPen(QColor("black"), 12, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for s in _letter_h().strokes:
        for a, b in zip(s.points, s.points[1:], strict=False):
            painter.drawLine(QPointF(80 + a.x * 2, 50 + a.y * 2), QPointF(80 + b.x * 2,
                                                                          50 + b.y * 2))
    painter.end()
    png = tmp_path / "h.png"
    assert img.save(str(png))
    rc = cli.main(["recognize", "--mode", "letters", "--json", str(ink), str(png)])
    out, err = capfd.readouterr()
    assert rc == 0 and err == ""
    for row in map(json.loads, out.splitlines()):
        assert row["mode"] == "letters"
        assert all(c["label"] in LETTERS for c in row["characters"])
        assert row["text"] == "H", row


def test_digits_stay_digits_in_everything_mode(capfd, tmp_path):
    ink = save(tmp_path / "n.json", number("47"))
    assert cli.main(["recognize", "--mode", "all", "--json", str(ink)]) == 0
    assert json.loads(capfd.readouterr().out)["text"] == "47"


def test_an_h_on_a_sparse_tablet_reads_as_one_letter():
    # Stems of two points each (a tablet sampling every 100 ms): the bar crosses them
    # between their points, so only ``segment.meeting_runs`` sees that they meet.
    from hwr_qt.ink import Point, Stroke
    from hwr_qt.pipeline import read_number

    def poly(*pts: tuple[float, float]) -> Stroke:
        return Stroke(tuple(Point(x, y) for x, y in pts))

    h = Ink((poly((0, 0), (2, 100)), poly((62, 0), (60, 100)), poly((-6, 52), (68, 48))))
    assert read_number(ModelSet().classifier("letters"), h).text == "H"


def test_an_h_whose_bar_stops_short_reads_as_one_letter():
    from hwr_qt.ink import Point, Stroke
    from hwr_qt.pipeline import read_number

    def poly(*pts: tuple[float, float]) -> Stroke:
        return Stroke(tuple(Point(x, y) for x, y in pts))

    h = Ink((poly((0, 0), (2, 100)), poly((62, 0), (60, 100)), poly((-8, 52), (50, 48))))
    assert read_number(ModelSet().classifier("letters"), h).text == "H"
