"""Desktop conventions, driven through the real window with pytest-qt: drag and drop,
clipboard, save / title / unsaved-changes prompt, recent files, export, dark palette,
a window that never resizes itself, a chart that never contradicts the answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from guihelpers import drag, ellipse, line
from hwr_qt import app as app_mod
from hwr_qt.ink import Ink, Point, Stroke, load_ink
from hwr_qt.raster import render_ink
from hwr_qt.ui.canvas import MAX_SHIFT, smooth_points
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import Settings
from hwr_qt.ui.theme import dark_palette, is_dark


@pytest.fixture
def window(qtbot, tmp_path, model_path):
    w = MainWindow(Settings(str(tmp_path / "hwr-qt.ini")), model_path)
    qtbot.addWidget(w)
    w.resize(860, 600)
    w.show()
    qtbot.waitExposed(w)
    return w


def draw_one(w: MainWindow) -> None:
    cx, cy = w.canvas.width() / 2, w.canvas.height() / 2
    drag(w.canvas, line(cx + 5, cy - 120, cx - 5, cy + 120))


def ink_file(path: Path) -> Path:
    path.write_text(json.dumps({"strokes": [[[0, 0], [0, 100]]]}))
    return path


def photo_of_digits(path: Path, text: str) -> Path:
    """Dark digits in a font on grey paper lit from one side (a gradient)."""
    img = QImage(90 * len(text), 140, QImage.Format.Format_RGB32)
    for x in range(img.width()):
        v = int(235 - 90 * x / img.width())
        for y in range(img.height()):
            img.setPixelColor(x, y, QColor(v, v, v - 10))
    p = QPainter(img)
    font = p.font()
    font.setPixelSize(100)
    p.setFont(font)
    p.setPen(QColor(30, 30, 40))
    for i, ch in enumerate(text):
        p.drawText(QPointF(18 + 90 * i, 110), ch)
    p.end()
    assert img.save(str(path))
    return path


def _send_drop(w: MainWindow, paths: list[Path]) -> tuple[bool, bool]:
    """A drag-enter and drop of these files on the window: (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(w.width() / 2, w.height() / 2)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, drop)
    return enter.isAccepted(), drop.isAccepted()


# --- drag and drop ---------------------------------------------------------------------
def test_dropping_an_ink_file_opens_it(window, qtbot, tmp_path):
    assert window.acceptDrops()
    path = ink_file(tmp_path / "one.json")
    assert _send_drop(window, [path]) == (True, True)
    qtbot.waitUntil(lambda: not window.canvas.ink.is_empty)
    assert window.last_number.text == "1"
    assert window.file_path == path and "one.json" in window.windowTitle()


def test_dropping_an_image_shows_it_with_boxes(window, qtbot, tmp_path):
    path = photo_of_digits(tmp_path / "photo.png", "47")
    assert _send_drop(window, [path]) == (True, True)
    qtbot.waitUntil(lambda: window.canvas.image is not None)
    assert window.last_number is not None and len(window.last_number.chars) == 2
    # Boxes in image pixels, left to right, inside the image, not [0, 0, 0, 0].
    boxes = [c.box for c in window.last_number.chars]
    assert all(b.width > 10 and b.height > 40 for b in boxes)
    assert boxes[0].x1 <= boxes[1].x0 + 5 and boxes[1].x1 <= 180
    assert len(window.canvas._boxes) == 2
    assert window.preview.shown is not None  # what the model saw


def test_undo_after_opening_an_image_brings_the_ink_back(window, qtbot, tmp_path):
    draw_one(window)
    assert window.open_path(photo_of_digits(tmp_path / "p.png", "7"), ask=False)
    assert window.canvas.image is not None and window.last_number.text == "7"
    window.undo_action.trigger()
    assert window.canvas.image is None and window.last_number.text == "1"


def test_a_big_photo_is_read_in_the_background(window, qtbot, tmp_path):
    small = QImage(str(photo_of_digits(tmp_path / "p.png", "47")))
    big = tmp_path / "big.png"
    assert small.scaled(small.width() * 10, small.height() * 10).save(str(big))  # 2.5 MP
    assert window.open_path(big, ask=False)
    assert window.reading_pending  # the window is not blocked meanwhile
    qtbot.waitUntil(lambda: window.last_number is not None, timeout=30_000)
    assert window.last_number.text == "47" and len(window.canvas._boxes) == 2


@pytest.mark.parametrize("names", [["notes.txt"], ["a.json", "b.json"]])
def test_other_drops_are_refused(window, tmp_path, names):
    paths = [ink_file(tmp_path / n) for n in names]
    entered, dropped = _send_drop(window, paths)
    assert not entered and not dropped
    assert window.canvas.ink.is_empty


# --- clipboard -------------------------------------------------------------------------
def test_ctrl_c_copies_the_answer(window, qtbot):
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("before")
    window.copy_action.trigger()  # nothing recognised: the clipboard is left alone
    assert clipboard.text() == "before"
    draw_one(window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == "1"


# --- save, title, unsaved changes ------------------------------------------------------
def test_title_shows_name_and_modified_marker(window, tmp_path, monkeypatch):
    assert window.windowTitle().startswith("Untitled") and not window.isWindowModified()
    draw_one(window)
    assert window.isWindowModified()
    path = tmp_path / "mine.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.save_action.trigger()  # no file yet: Save asks where (Save As)
    assert load_ink(path).strokes and not window.isWindowModified()
    assert window.windowTitle().startswith("mine.json")
    drag(window.canvas, line(50, 50, 60, 200))
    assert window.isWindowModified()
    window.undo_action.trigger()  # back to what was saved
    assert not window.isWindowModified()
    drag(window.canvas, line(50, 50, 60, 200))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: pytest.fail("Save must not ask again"))
    window.save_action.trigger()
    assert len(load_ink(path).strokes) == 2 and not window.isWindowModified()


def _answer_prompt(qtbot, button: QMessageBox.StandardButton, seen: list[str]) -> None:
    """Click ``button`` in the next modal message box (the real one, shown by exec())."""
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, click)


@pytest.mark.unsaved_prompt
def test_quit_with_unsaved_ink_asks_first(window, qtbot):
    draw_one(window)
    seen: list[str] = []
    _answer_prompt(qtbot, QMessageBox.StandardButton.Cancel, seen)
    assert not window.close()  # cancelled: the window and the drawing stay
    assert seen and "Save the changes" in seen[0]
    assert window.isVisible() and not window.canvas.ink.is_empty
    _answer_prompt(qtbot, QMessageBox.StandardButton.Discard, seen)
    assert window.close()
    assert len(seen) == 2


@pytest.mark.unsaved_prompt
def test_new_and_open_ask_and_save_when_told(window, qtbot, tmp_path, monkeypatch):
    draw_one(window)
    seen: list[str] = []
    _answer_prompt(qtbot, QMessageBox.StandardButton.Cancel, seen)
    window.new_action.trigger()
    assert seen and not window.canvas.ink.is_empty  # Cancel keeps it
    target = tmp_path / "kept.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    _answer_prompt(qtbot, QMessageBox.StandardButton.Save, seen)
    other = ink_file(tmp_path / "other.json")
    assert window.open_path(other)
    assert len(seen) == 2 and load_ink(target).strokes  # saved first, then opened
    assert window.file_path == other and not window.isWindowModified()
    window.new_action.trigger()  # nothing unsaved: no question
    assert len(seen) == 2 and window.canvas.ink.is_empty


def test_recent_files_and_a_missing_one(window, tmp_path, monkeypatch):
    a, b = ink_file(tmp_path / "a.json"), ink_file(tmp_path / "b.json")
    window.open_path(a)
    window.open_path(b)
    assert window.settings.recent_files[:2] == [str(b), str(a)]
    window._fill_recent_menu()
    texts = [act.text() for act in window.recent_menu.actions()]
    assert texts[:2] == ["&1 b.json", "&2 a.json"]
    a.unlink()
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *x: warnings.append(text))
    window.recent_menu.actions()[1].trigger()
    assert warnings and str(a) not in window.settings.recent_files


# --- export ------------------------------------------------------------------------------
def test_export_png_and_svg(window, tmp_path):
    draw_one(window)
    png, svg = tmp_path / "d.png", tmp_path / "d.svg"
    assert window.export_picture_file(png) and window.export_picture_file(svg)
    img = QImage(str(png))
    assert not img.isNull() and img.height() > 240 > img.width()
    assert img.pixelColor(2, 2) == QColor(255, 255, 255)
    centre = img.pixelColor(img.width() // 2, img.height() // 2)
    assert centre.lightness() < 80  # the stroke
    root = ET.parse(svg).getroot()
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    assert len(paths) == 1 and paths[0].get("stroke-linecap") == "round"


# --- looks -------------------------------------------------------------------------------
def test_window_does_not_resize_itself(window, qtbot):
    size = window.size()
    window.top_k_spin.setValue(10)
    from inkshapes import number

    ink = number("2047", scale=1.2)
    x0, y0, _, _ = ink.bounds()
    for stroke in ink.strokes:
        drag(window.canvas, [(p.x - x0 + 15, p.y - y0 + 60) for p in stroke.points])
    qtbot.wait(50)
    assert len(window.last_number.chars) >= 2
    window.answer.char_buttons[0].click()
    qtbot.wait(50)
    assert window.size() == size
    # Ten rows are all there, none squeezed below its text's height.
    rows = window.bars._rows[:10]
    assert all(label.isVisible() and label.height() >= label.fontMetrics().height()
               for label, _bar, _pct in rows)


def test_dark_palette_reaches_the_canvas_not_the_model(window, qtbot):
    draw_one(window)
    light_input = window.preview.shown.copy()
    window.setPalette(dark_palette())
    qtbot.wait(10)
    assert is_dark(window.canvas.palette())
    shot = window.canvas.grab().toImage()
    paper = shot.pixelColor(5, 5)
    dpr = shot.devicePixelRatio()
    stroke = shot.pixelColor(round(shot.width() / 2), round(window.canvas.height() / 2 * dpr))
    assert paper.lightness() < 60 and stroke.lightness() > 180
    window.recognise()
    assert np.array_equal(window.preview.shown, light_input)  # white on black, as before


def test_rejected_ink_chart_agrees_with_the_answer(window):
    cx, cy = window.canvas.width() / 2, window.canvas.height() / 2
    zigzag = [(cx - 100 + 200 * (i % 2), cy - 100 + 12 * i) for i in range(17)]
    drag(window.canvas, zigzag)
    assert window.last_reading.rejected
    rows = window.bars.values()
    assert rows[0][0] == "?" and window.answer.answer.text() == "?"
    assert rows[0][1] == max(p for _, p in rows)
    assert abs(sum(p for _, p in rows) - 1.0) < 0.02 or len(rows) < 10


def test_live_off_marks_the_answer_stale(window, qtbot):
    window.live_action.trigger()  # on by default: now off
    assert not window.live_action.isChecked()
    draw_one(window)
    assert window.last_number is None  # nothing read yet
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert window.answer.answer.text() == "1" and window.answer.answer.isEnabled()
    cx, cy = window.canvas.width() / 2, window.canvas.height() / 2
    drag(window.canvas, ellipse(cx + 150, cy, 40, 80))
    assert not window.answer.answer.isEnabled() and not window.bars.isEnabled()
    assert "press Enter" in window.answer.detail.text()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert window.answer.answer.isEnabled() and len(window.last_number.chars) == 2


def test_a_lone_dot_is_not_read_as_a_digit(window):
    cx, cy = window.canvas.width() / 2, window.canvas.height() / 2
    drag(window.canvas, [(cx, cy), (cx + 1, cy)])
    assert not window.canvas.ink.is_empty
    assert window.last_number is None and window.answer.answer.text() == ""
    assert "Too small" in window.answer.detail.text()
    assert not window.bars.isVisible()


def test_buttons_take_keyboard_focus(window, qtbot):
    draw_one(window)
    for b in (window.recognise_button, window.undo_button, window.clear_button):
        assert b.focusPolicy() & Qt.FocusPolicy.TabFocus
    window.undo_button.setFocus()
    qtbot.keyClick(window.undo_button, Qt.Key.Key_Space)
    assert window.canvas.ink.is_empty


def test_toolbar_and_shortcuts_dialog(window, qtbot):
    acts = window.toolbar.actions()
    assert all(not a.icon().isNull() for a in acts if not a.isSeparator())
    assert "Ctrl+C" in dict(window.shortcut_rows())["Copy Answer"]
    window.shortcuts_action.trigger()
    qtbot.waitUntil(lambda: window.shortcuts_dialog.isVisible())
    window.shortcuts_dialog.reject()


# --- mouse smoothing ---------------------------------------------------------------------
def test_mouse_smoothing_is_light_and_keeps_the_model_input():
    # A slow diagonal as a mouse reports it: a staircase of whole pixels.
    raw = [Point(float(i // 2 + (i % 2)), float(i // 2)) for i in range(120)]
    smoothed = smooth_points(raw)
    shifts = [np.hypot(a.x - b.x, a.y - b.y) for a, b in zip(raw, smoothed, strict=True)]
    assert max(shifts) <= MAX_SHIFT + 1e-9 and (raw[0], raw[-1]) == (smoothed[0], smoothed[-1])

    def roughness(pts: list[Point]) -> float:  # mean turning between segments
        v = np.diff([(p.x, p.y) for p in pts], axis=0)
        ang = np.arctan2(v[:, 1], v[:, 0])
        return float(np.abs(np.diff(ang)).mean())

    assert roughness(smoothed) < 0.5 * roughness(raw)
    # A real digit drawn with the mouse: the model sees the same thing.
    digit = [Point(100 + 60 * np.sin(t), 100 - 90 * np.cos(t)) for t in np.linspace(0, 6, 200)]
    digit = [Point(round(p.x), round(p.y)) for p in digit]
    a = render_ink(Ink((Stroke(tuple(digit)),)))
    b = render_ink(Ink((Stroke(tuple(smooth_points(digit))),)))
    # Centring shifts by whole pixels (as MNIST did), so a sub-pixel move of the centre
    # of mass may land it one pixel over: compare with that shift undone.
    aligned = min(float(np.abs(np.roll(a, (dy, dx), axis=(0, 1)) - b).mean())
                  for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    assert aligned < 0.02


# --- hwr-qt FILE ---------------------------------------------------------------------------
def test_command_line_file_argument(window, tmp_path):
    path = ink_file(tmp_path / "one.json")
    args = app_mod.parse_args([str(path), "--settings", str(tmp_path / "s.ini")])
    assert args.file == path
    assert window.open_path(args.file, ask=False) and window.last_number.text == "1"


def test_opening_a_folder_says_so(window, tmp_path, monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *x: warnings.append(text))
    assert not window.open_path(tmp_path)
    assert warnings == [f"{tmp_path.name} is a folder"]



# --- defects ---------------------------------------------------------------------------------
def test_about_box_is_a_table_with_the_calibrated_ece(window):
    text = window.about_text()
    ece = float(window.recognizer.metadata["ece_test_after"])
    assert f"ECE {ece:.2%}" in text and "→" not in text
    assert "<table>" in text and "white-space:nowrap" in text
    assert "nothing you draw or open is sent anywhere" in text


def test_bad_model_at_start_up_is_said_plainly(qtbot, tmp_path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, _t, text, *a: shown.append(text))
    bad = tmp_path / "notes.onnx"
    bad.write_text("just some text")
    w = MainWindow(Settings(str(tmp_path / "s.ini")), bad)
    qtbot.addWidget(w)
    assert len(shown) == 1
    assert "notes.onnx: not an ONNX model" in shown[0]
    assert "ONNXRuntimeError" not in shown[0] and "PROTOBUF" not in shown[0]


def test_desktop_entry_opens_ink_files():
    from configparser import ConfigParser

    from hwr_qt.resources import resource_path

    entry = ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(resource_path("hwr-qt.desktop"))
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"].endswith(" %f")
    assert "application/x-hwr-qt-ink" in desktop["MimeType"].split(";")
    mime = ET.parse(resource_path("hwr-qt-mime.xml")).getroot()
    ns = "{http://www.freedesktop.org/standards/shared-mime-info}"
    kinds = {t.get("type"): [g.get("pattern") for g in t.iter(f"{ns}glob")]
             for t in mime.iter(f"{ns}mime-type")}
    assert kinds == {"application/x-hwr-qt-ink": ["*.ink"]}
