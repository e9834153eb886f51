"""pytest-qt tests that drive the real main window and canvas."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from guihelpers import drag, ellipse, line, pen_drag
from hwr_qt.ink import Ink, load_ink
from hwr_qt.resources import resource_path
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import DEFAULTS, Settings


@pytest.fixture
def settings_path(tmp_path) -> str:
    return str(tmp_path / "hwr-qt.ini")


@pytest.fixture
def window(qtbot, settings_path, model_path):
    w = MainWindow(Settings(settings_path), model_path)
    qtbot.addWidget(w)
    w.resize(800, 560)
    w.show()
    qtbot.waitExposed(w)
    return w


def canvas_centre(w):
    c = w.canvas
    return c.width() / 2, c.height() / 2


def test_empty_canvas_shows_hint_not_prediction(window):
    assert window.canvas.ink.is_empty
    assert window.answer.answer.text() == ""
    # The canvas says "Draw a digit"; the answer panel does not repeat it, and shows no
    # empty bars.
    assert window.canvas.hint == "Draw a digit"
    assert window.answer.detail.text() == ""
    assert window.bars.values() == [] and not window.bars.isVisible()
    assert window.preview.shown is None
    assert window.last_reading is None


def test_drawing_a_one_is_read_as_one(window):
    cx, cy = canvas_centre(window)
    drag(window.canvas, line(cx + 5, cy - 120, cx - 5, cy + 120))
    assert len(window.canvas.ink.strokes) == 1
    assert window.last_reading is not None
    assert window.last_reading.label == "1"
    assert window.answer.answer.text() == "1"
    assert window.preview.shown is not None and window.preview.shown.shape == (28, 28)


def test_drawing_a_loop_is_read_as_zero(window):
    cx, cy = canvas_centre(window)
    drag(window.canvas, ellipse(cx, cy, 70, 110))
    assert window.last_reading.label == "0"


def test_two_stroke_four_and_seven_sample(window):
    for name, expected in (("four", "4"), ("seven", "7")):
        window.canvas.set_ink(load_ink(resource_path(f"samples/{name}.json")))
        assert window.last_reading.label == expected, name


def test_undo_redo_clear(window, qtbot):
    cx, cy = canvas_centre(window)
    drag(window.canvas, line(cx - 60, cy - 80, cx + 60, cy - 80))
    drag(window.canvas, line(cx + 60, cy - 80, cx - 10, cy + 120))
    assert len(window.canvas.ink.strokes) == 2
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()

    window.undo_action.trigger()
    assert len(window.canvas.ink.strokes) == 1
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()
    assert len(window.canvas.ink.strokes) == 2

    qtbot.mouseClick(window.clear_button, Qt.MouseButton.LeftButton)
    assert window.canvas.ink.is_empty
    assert window.last_reading is None and window.answer.answer.text() == ""
    assert not window.bars.isVisible()
    window.undo_action.trigger()  # clearing by accident loses nothing
    assert len(window.canvas.ink.strokes) == 2
    assert window.last_reading is not None

    # A new stroke after an undo discards the redo branch.
    window.undo_action.trigger()
    drag(window.canvas, line(cx, cy - 100, cx, cy + 100))
    assert not window.redo_action.isEnabled()


def test_keyboard_shortcuts(window, qtbot):
    window.live_action.setChecked(False)  # so Enter is what triggers recognition
    window.canvas.setFocus()
    cx, cy = canvas_centre(window)
    drag(window.canvas, line(cx, cy - 100, cx, cy + 100))
    assert window.last_reading is None
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert window.last_reading is not None
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.ink.is_empty
    qtbot.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert len(window.canvas.ink.strokes) == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.canvas.ink.is_empty
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.canvas.ink.is_empty  # nothing to redo after an undoable clear...
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.canvas.ink.strokes) == 1  # ...but the clear itself undoes
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert window.canvas.ink.is_empty


@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_top_k_rows(window, k):
    window.top_k_spin.setValue(k)
    cx, cy = canvas_centre(window)
    drag(window.canvas, ellipse(cx, cy, 60, 100))
    rows = window.bars.values()
    assert len(rows) == k
    probs = [p for _, p in rows]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0 + 1e-3 * k  # bars are rounded to 0.1 %
    assert len({label for label, _ in rows}) == k


def test_live_recognition_during_a_stroke(window, qtbot):
    from PySide6.QtCore import QEvent, QPointF

    from guihelpers import LEFT, NONE, _mouse

    cx, cy = canvas_centre(window)
    pts = [QPointF(x, y) for x, y in line(cx, cy - 100, cx, cy + 100)]
    _mouse(window.canvas, QEvent.Type.MouseButtonPress, pts[0], LEFT, LEFT)
    for p in pts[1:]:
        _mouse(window.canvas, QEvent.Type.MouseMove, p, NONE, LEFT)
    # Pen still down: the throttled timer reads the unfinished stroke.
    qtbot.waitUntil(lambda: window.last_reading is not None, timeout=2000)
    assert window.canvas.ink.is_empty
    _mouse(window.canvas, QEvent.Type.MouseButtonRelease, pts[-1], LEFT, NONE)
    assert len(window.canvas.ink.strokes) == 1


def test_tablet_pressure_is_recorded(window):
    cx, cy = canvas_centre(window)
    pts = [(x, y, 0.2 + 0.6 * i / 30) for i, (x, y) in
           enumerate(line(cx, cy - 100, cx, cy + 100))]
    pen_drag(window.canvas, pts)
    strokes = window.canvas.ink.strokes
    assert len(strokes) == 1
    pressures = [p.pressure for p in strokes[0].points]
    assert min(pressures) == pytest.approx(0.2, abs=0.01)
    assert max(pressures) == pytest.approx(0.8, abs=0.01)
    assert window.last_reading.label == "1"


def test_many_segments_do_not_crash(window, qtbot):
    """PySide6 6.12.0 on CPython 3.11 dies after a few thousand void Qt calls."""
    cx, cy = canvas_centre(window)
    pts = [(cx + 80 * ((i // 50) % 2 * 2 - 1) * (i % 50) / 50, cy - 120 + (i % 240))
           for i in range(20_000)]
    drag(window.canvas, pts)
    assert window.canvas.ink.point_count > 10_000
    window.canvas.set_pen_width(20)  # re-renders every segment from the vectors
    # A drawing this big is read in the background.
    qtbot.waitUntil(lambda: window.last_reading is not None, timeout=10_000)


def test_settings_round_trip(qtbot, settings_path, model_path):
    w = MainWindow(Settings(settings_path), model_path)
    qtbot.addWidget(w)
    w.show()
    w.top_k_spin.setValue(6)
    w.pen_spin.setValue(22)
    w.live_action.trigger()  # live off
    w.resize(720, 590)
    size = (w.width(), w.height())
    assert size != (780, 520)  # differs from the default size
    w.close()

    again = MainWindow(Settings(settings_path), model_path)
    qtbot.addWidget(again)
    assert again.bars.k == 6 and again.top_k_spin.value() == 6
    assert again.canvas.pen_width == 22
    assert not again.live_action.isChecked()
    assert (again.width(), again.height()) == size


def test_corrupt_settings_fall_back_to_defaults(qtbot, settings_path, model_path):
    Path(settings_path).write_bytes(b"\x00\xff[General]\ntop_k=banana\npen_width=9999\n"
                                    b"geometry=@ByteArray(garbage)\nlive=maybe\n\x00\x01")
    w = MainWindow(Settings(settings_path), model_path)
    qtbot.addWidget(w)
    assert w.bars.k == DEFAULTS["top_k"]
    assert w.canvas.pen_width == DEFAULTS["pen_width"]


def test_bad_model_shows_dialog_and_keeps_drawing(qtbot, tmp_path, settings_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text, *a: shown.append((title, text)))
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"this is not an onnx model")
    w = MainWindow(Settings(settings_path), bad)
    qtbot.addWidget(w)
    w.show()
    assert w.recognizer is None
    assert len(shown) == 1 and "broken.onnx" in shown[0][1]
    assert not w.recognise_button.isEnabled()
    cx, cy = canvas_centre(w)
    drag(w.canvas, line(cx, cy - 50, cx, cy + 50))
    assert len(w.canvas.ink.strokes) == 1  # the drawing is kept
    assert w.last_reading is None

    shown.clear()
    w.load_model(tmp_path / "missing.onnx")
    assert len(shown) == 1 and "not found" in shown[0][1]


def test_save_and_open_ink(window, tmp_path, monkeypatch):
    cx, cy = canvas_centre(window)
    drag(window.canvas, line(cx, cy - 100, cx, cy + 100))
    path = tmp_path / "one.json"
    assert window.save_ink_file(path)
    saved = load_ink(path)
    assert len(saved.strokes) == 1

    window.canvas.clear()
    assert window.open_ink_file(path)
    assert len(window.canvas.ink.strokes) == 1
    assert window.last_reading.label == "1"

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a: warnings.append(text))
    broken = tmp_path / "broken.json"
    broken.write_text('{"strokes": [[[1, NaN]]]}')
    assert not window.open_ink_file(broken)
    assert warnings and "NaN" in warnings[0]
    assert len(window.canvas.ink.strokes) == 1  # the current drawing is untouched


def test_about_shows_model_figures(window):
    text = window.about_text()
    assert "MNIST test accuracy" in text
    acc = float(window.recognizer.metadata["test_accuracy"])
    assert f"{acc:.2%}" in text


def test_loaded_ink_is_scaled_to_the_canvas(window):
    tiny = Ink.from_points([[[0, 0], [0, 0.01]]])
    window.canvas.set_ink(tiny)
    x0, y0, x1, y1 = window.canvas.ink.bounds()
    assert y1 - y0 > window.canvas.height() / 2


def _draw_number(window, text: str) -> None:
    from inkshapes import number

    ink = number(text, scale=1.6)
    x0, y0, _, _ = ink.bounds()
    for stroke in ink.strokes:
        drag(window.canvas, [(p.x - x0 + 20, p.y - y0 + 60) for p in stroke.points])


def test_multi_digit_number_is_shown_with_boxes(window, qtbot):
    _draw_number(window, "42")
    assert window.last_number.text == "42"
    assert [b.text() for b in window.answer.char_buttons] == ["4", "2"]
    assert "2 digits" in window.answer.detail.text()
    assert len(window.canvas._boxes) == 2
    assert [label for _, label in window.canvas._boxes] == ["4", "2"]
    assert window.bars.values()[0][0] == "4"  # the first digit is selected

    first_input = window.preview.shown.copy()
    qtbot.mouseClick(window.answer.char_buttons[1], Qt.MouseButton.LeftButton)
    assert window.answer.char_buttons[1].isChecked()
    assert not window.answer.char_buttons[0].isChecked()
    assert window.bars.values()[0][0] == "2"
    assert window.last_reading.label == "2"
    assert (window.preview.shown != first_input).any()


def test_undo_back_to_one_digit_drops_the_boxes(window):
    _draw_number(window, "71")
    assert window.last_number.text == "71"
    window.undo_action.trigger()
    assert window.last_number.text == "7"
    assert window.canvas._boxes == [] and window.answer.char_buttons == []
    assert window.answer.answer.text() == "7"


def test_scribble_is_not_a_digit(window):
    assert window.recognizer.has_reject, "the bundled model has a not-a-digit output"
    cx, cy = canvas_centre(window)
    zigzag = [(cx - 100 + 200 * (i % 2), cy - 100 + 12 * i) for i in range(17)]
    drag(window.canvas, zigzag)
    assert window.last_reading.rejected
    assert window.answer.answer.text() == "?"
    assert window.answer.detail.text() == "Not a digit"
