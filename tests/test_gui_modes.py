"""pytest-qt: the mode switch (menu, toolbar, Ctrl+1/2/3) re-reads the drawing, persists,
reads words, and a mode without its model is refused with a message. The letters model is
a template stand-in (``fakemodels``); the digits model is the bundled one."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

pytest.importorskip("onnx")

from fakemodels import chars_model, word

from guihelpers import drag
from hwr_qt import models
from hwr_qt.ink import Ink
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import Settings


@pytest.fixture
def letters_model(tmp_path, monkeypatch) -> Path:
    """The stand-in installed as the bundled letters model."""
    path = chars_model(tmp_path / "chars.onnx")
    for mode in ("letters", "all"):
        monkeypatch.setitem(models.MODEL_FILES, mode, str(path))  # absolute: used as is
    return path


@pytest.fixture
def no_dialogs(monkeypatch):
    shown: list[str] = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind,
                            lambda parent, title, text, *a, kind=kind: shown.append(text))
    return shown


def open_window(qtbot, settings: str, model_path: Path) -> MainWindow:
    w = MainWindow(Settings(settings), model_path)
    qtbot.addWidget(w)
    w.resize(800, 560)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path, model_path, letters_model, no_dialogs) -> MainWindow:
    return open_window(qtbot, str(tmp_path / "hwr-qt.ini"), model_path)


def draw(w: MainWindow, ink: Ink, scale: float = 2.0) -> None:
    """The ink drawn stroke by stroke with the mouse, near the canvas's top left."""
    for s in ink.strokes:
        drag(w.canvas, [(60 + p.x * scale, 120 + p.y * scale) for p in s.points])


def read_text(qtbot, w: MainWindow) -> str:
    qtbot.waitUntil(lambda: not w.reading_pending and w.last_number is not None)
    assert w.last_number is not None
    return w.last_number.text


def test_switching_modes_rereads_the_drawing(qtbot, window):
    assert window.mode == "digits" and window.mode_actions["digits"].isChecked()
    draw(window, word(("H", 100, 0)))
    in_digits = read_text(qtbot, window)
    assert in_digits != "H" and all(c.isdigit() or c == "?" for c in in_digits)

    window.mode_actions["letters"].trigger()
    assert window.mode == "letters" and window.mode_actions["letters"].isChecked()
    assert read_text(qtbot, window) == "H"
    assert window.answer.answer.text() == "H"
    assert window.bars.values()[0][0] == "H"
    assert window.canvas.hint == "Draw a letter or a word"
    assert window.recognizer is not None and window.recognizer.path.name == "chars.onnx"

    window.mode_actions["digits"].trigger()
    assert read_text(qtbot, window) == in_digits
    assert window.canvas.hint == "Draw a digit"


def test_mode_shortcuts_menu_and_toolbar(window):
    keys = {m: a.shortcut().toString() for m, a in window.mode_actions.items()}
    assert keys == {"digits": "Ctrl+1", "letters": "Ctrl+2", "all": "Ctrl+3"}
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert [a.text().replace("&", "") for a in menus["Mode"].actions()] == \
        ["Digits", "Letters", "Everything"]
    assert all(a in window.toolbar.actions() for a in window.mode_actions.values())
    rows = dict(window.shortcut_rows())
    assert rows["Letters"] == QKeySequence("Ctrl+2").toString(
        QKeySequence.SequenceFormat.NativeText)


def test_the_mode_persists_in_a_new_window(qtbot, tmp_path, window, model_path):
    window.mode_actions["all"].trigger()
    window.close()
    again = open_window(qtbot, str(tmp_path / "hwr-qt.ini"), model_path)
    assert again.mode == "all" and again.mode_actions["all"].isChecked()
    draw(again, word(("H", 100, 0), ("4", 100, 0)))
    assert read_text(qtbot, again) == "H4"


def test_a_word_reads_with_case_from_height(qtbot, window):
    window.set_mode("letters")
    draw(window, word(("H", 100, 0), ("i", 60, 40), ("t", 90, 10), ("o", 50, 50)))
    assert read_text(qtbot, window) == "Hito"
    assert [b.text() for b in window.answer.char_buttons] == ["H", "i", "t", "o"]
    assert window.answer.detail.text().startswith("4 letters, ")
    assert [label for _, label in window.canvas._boxes] == ["H", "i", "t", "o"]


def test_a_lone_same_shape_letter_shows_both_cases(qtbot, window):
    window.set_mode("letters")
    draw(window, word(("o", 100, 0)))
    read_text(qtbot, window)
    assert {label for label, _ in window.bars.values()[:2]} == {"o", "O"}


def test_rejection_wording_follows_the_mode(qtbot, tmp_path, model_path, monkeypatch,
                                            no_dialogs):
    path = chars_model(tmp_path / "rejecting.onnx", reject=0.9)
    for mode in ("letters", "all"):
        monkeypatch.setitem(models.MODEL_FILES, mode, str(path))
    w = open_window(qtbot, str(tmp_path / "r.ini"), model_path)
    w.set_mode("letters")
    draw(w, word(("H", 100, 0)))
    read_text(qtbot, w)
    assert w.answer.answer.text() == "?" and w.answer.detail.text() == "Not a letter"
    w.set_mode("all")
    assert w.answer.detail.text() == "Not a character"


def test_a_mode_without_its_model_is_refused_with_a_message(qtbot, tmp_path, model_path,
                                                            monkeypatch, no_dialogs):
    for mode in ("letters", "all"):
        monkeypatch.setitem(models.MODEL_FILES, mode, "models/not-installed.onnx")
    settings = str(tmp_path / "s.ini")
    Settings(settings).mode = "letters"  # left in letters mode, then the model went away
    w = open_window(qtbot, settings, model_path)
    assert w.mode == "digits" and w.recognizer is not None  # fell back, no crash
    assert not w.mode_actions["letters"].isEnabled()
    assert "not installed" in w.mode_actions["letters"].toolTip()
    assert w.set_mode("letters") is False
    assert w.mode == "digits" and w.mode_actions["digits"].isChecked()
    assert "Letters mode is not available" in w.statusBar().currentMessage()
    draw(w, word(("l", 100, 0)))
    assert read_text(qtbot, w) == "1"
    assert no_dialogs == []
