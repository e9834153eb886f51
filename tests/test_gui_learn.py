"""pytest-qt: the window learns its user's handwriting. Correct a character ("That's a …",
by clicking it or F2), and the answer, the next drawing of the same shape and the profile
file on disk follow; "this isn't a digit"; learning off; forget (the confirmation answered
here); a damaged or another model's profile at start-up; export and import.

Each test has a profile of its own (conftest's ``_own_profile``), never the user's."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from guihelpers import drag, line
from hwr_qt import profile as profile_store
from hwr_qt.adapt import NOT_A_CHARACTER, AdaptedClassifier
from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.profile import Profile, ProfileError
from hwr_qt.recognizer import Recognizer
from hwr_qt.ui.correct import CorrectDialog, spans
from hwr_qt.ui.learning import flush_saves
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import Settings


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    shown: list[str] = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind,
                            lambda parent, title, text, *a: shown.append(f"{title}: {text}"))
    return shown


def open_window(qtbot, tmp_path: Path, model_path: Path) -> MainWindow:
    w = MainWindow(Settings(str(tmp_path / "hwr-qt.ini")), model_path)
    qtbot.addWidget(w)
    w.resize(800, 560)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path, model_path, warnings) -> MainWindow:
    return open_window(qtbot, tmp_path, model_path)


def profile_path() -> Path:
    return profile_store.default_profile_path()


def hooked_one(w: MainWindow) -> list[list[tuple[float, float]]]:
    """A 1 with a long flag: the model reads 1 (~86 %), with 7 second (~14 %)."""
    cx, cy = w.canvas.width() / 2, w.canvas.height() / 2
    return [line(cx - 40, cy - 100, cx + 10, cy - 120, 10) + line(cx + 10, cy - 120, cx,
                                                                  cy + 120)]


def caret(w: MainWindow) -> list[list[tuple[float, float]]]:
    """A Λ: read as 1, with a reject score of a few percent."""
    cx, cy = w.canvas.width() / 2, w.canvas.height() / 2
    return [line(cx - 60, cy + 100, cx, cy - 100, 15) + line(cx, cy - 100, cx + 60, cy + 100,
                                                                15)]


def draw(w: MainWindow, strokes: list[list[tuple[float, float]]]) -> str:
    w.canvas.clear()
    for s in strokes:
        drag(w.canvas, s)
    assert w.last_number is not None
    return w.last_number.text


def correct(qtbot, w: MainWindow, label: str, how: str = "click") -> None:
    """Open "That's a …" on the selected character and choose ``label``."""
    if how == "click":
        qtbot.mouseClick(w.answer.answer, Qt.MouseButton.LeftButton)
    else:
        w.correct_action.trigger()
    dialog = w.correct_dialog
    assert isinstance(dialog, CorrectDialog) and dialog.isVisible()
    if label == NOT_A_CHARACTER:
        qtbot.mouseClick(dialog.not_button, Qt.MouseButton.LeftButton)
        return
    quick = [b for b in dialog.quick_buttons if b.text() == label]
    if quick:
        qtbot.mouseClick(quick[0], Qt.MouseButton.LeftButton)
    else:
        qtbot.keyClicks(dialog.edit, label)
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)


def stored() -> list[dict]:
    flush_saves()  # a correction is saved on a worker thread
    data = json.loads(gzip.decompress(profile_path().read_bytes()))
    assert data["format"] == "hwr-qt-profile"
    return data["examples"]


def test_correcting_a_character_teaches_the_app(qtbot, window):
    assert not profile_path().exists()
    assert draw(window, hooked_one(window)) == "1"
    assert not window.answer.mine.isVisible()
    correct(qtbot, window, "7")
    # The answer changes at once, and says why.
    assert window.last_number.text == "7"
    assert window.answer.answer.text() == "7"
    assert window.last_reading.from_profile
    assert window.answer.mine.isVisible()
    assert "your handwriting" in window.answer.mine.text()
    assert "Learned: that's a 7" in window.statusBar().currentMessage()
    # The profile on disk has the example: its label, ink and this model's features.
    (example,) = stored()
    assert example["label"] == "7" and example["model_id"] == window.recognizer.info.model_id
    assert example["strokes"] and example["features"]
    # The same shape drawn again reads the taught label; other shapes are untouched.
    assert draw(window, hooked_one(window)) == "7"
    cx, cy = window.canvas.width() / 2, window.canvas.height() / 2
    assert draw(window, [line(cx + 5, cy - 120, cx - 5, cy + 120)]) == "1"
    assert not window.answer.mine.isVisible()


def test_a_new_window_reads_with_the_saved_profile(qtbot, tmp_path, model_path, warnings):
    first = open_window(qtbot, tmp_path, model_path)
    draw(first, hooked_one(first))
    correct(qtbot, first, "7", how="key")
    second = open_window(qtbot, tmp_path, model_path)
    assert len(second.learning) == 1
    assert draw(second, hooked_one(second)) == "7"


def test_typed_labels_are_checked_and_escape_cancels(qtbot, window):
    draw(window, hooked_one(window))
    window.correct_action.trigger()
    dialog = window.correct_dialog
    assert dialog is not None
    # The reading's top-3, best first (a hooked 1 reads 1, then 7).
    top = [p.label for p in window.last_number.chars[0].reading.top_k]
    assert [b.text() for b in dialog.quick_buttons] == top and top[:2] == ["1", "7"]
    qtbot.keyClicks(dialog.edit, "a")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert dialog.error.text() == "“a” is not a digit here: type one of 0–9"
    dialog.edit.clear()
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    assert dialog.error.text() == "Type a digit, or choose one above"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and window.correct_dialog is None
    assert len(window.learning) == 0 and not profile_path().exists()
    assert window.last_number.text == "1"


def test_this_isnt_a_character(qtbot, window):
    assert draw(window, caret(window)) == "1"
    correct(qtbot, window, NOT_A_CHARACTER)
    assert window.last_reading.rejected and window.last_reading.from_profile
    assert window.answer.answer.text() == "?"
    assert [e["label"] for e in stored()] == [NOT_A_CHARACTER]
    assert draw(window, caret(window)) == "?"


def test_learning_off_reads_with_the_model_alone(qtbot, tmp_path, window):
    draw(window, hooked_one(window))
    correct(qtbot, window, "7")
    assert window.learn_action.isChecked()
    window.learn_action.trigger()  # off
    assert window.last_number.text == "1" and not window.last_reading.from_profile
    assert not window.answer.mine.isVisible()
    assert Settings(str(tmp_path / "hwr-qt.ini")).learn is False
    assert draw(window, hooked_one(window)) == "1"
    assert len(stored()) == 1  # kept, only not used
    window.learn_action.trigger()  # on again
    assert window.last_number.text == "7"


def _answer_forget(qtbot, button_text: str) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and box.objectName() == "forget-prompt"
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    QTimer.singleShot(0, answer)


def test_forget_asks_then_clears_the_profile(qtbot, window):
    draw(window, hooked_one(window))
    correct(qtbot, window, "7")
    _answer_forget(qtbot, "Cancel")
    window.forget_action.trigger()
    assert len(window.learning) == 1 and len(stored()) == 1
    _answer_forget(qtbot, "Forget")
    window.forget_action.trigger()
    assert len(window.learning) == 0 and stored() == []
    assert window.last_number.text == "1"  # re-read with the model alone
    assert draw(window, hooked_one(window)) == "1"


def test_damaged_profile_is_set_aside_with_a_message(qtbot, tmp_path, model_path, warnings):
    path = profile_path()
    path.write_bytes(b"\x1f\x8b not really gzip")
    w = open_window(qtbot, tmp_path, model_path)
    assert w.profile_message is not None and "damaged" in w.profile_message
    assert w.profile_message in w.statusBar().currentMessage()
    assert warnings == []  # a message in the status bar, no dialog to dismiss
    assert not path.exists() and len(list(path.parent.glob("*.damaged-*"))) == 1
    # The app works: it reads, and learns into a new profile.
    assert draw(w, hooked_one(w)) == "1"
    correct(qtbot, w, "7")
    assert [e["label"] for e in stored()] == ["7"]


def test_another_models_examples_are_reembedded(qtbot, tmp_path, model_path, warnings):
    """An example made with an older model (its ink kept) is re-read with this one at
    start-up, and the file says so."""
    scratch = open_window(qtbot, tmp_path, model_path)
    draw(scratch, hooked_one(scratch))
    ink = scratch.last_number.chars[0].ink
    old = Profile(profile_path())
    old.add_example(ink, "7", np.ones(64, np.float32), "an-older-model")
    old.save()
    w = open_window(qtbot, tmp_path, model_path)
    assert [e["model_id"] for e in stored()] == [w.recognizer.info.model_id]
    assert draw(w, hooked_one(w)) == "7"


def test_export_and_import_round_trip(qtbot, tmp_path, window, warnings):
    draw(window, hooked_one(window))
    correct(qtbot, window, "7")
    exported = tmp_path / "mine.json.gz"
    assert window.export_profile_file(exported)
    _answer_forget(qtbot, "Forget")
    window.forget_action.trigger()
    assert draw(window, hooked_one(window)) == "1"
    assert window.import_profile_file(exported)
    assert window.last_number.text == "7"
    assert [e["label"] for e in stored()] == ["7"]
    assert "Imported 1 corrections" in window.statusBar().currentMessage()

    bad = tmp_path / "bad.json.gz"
    bad.write_text('{"format": "something else"}')
    assert not window.import_profile_file(bad)
    assert warnings == ["Cannot import the profile: bad.json.gz: not an hwr-qt handwriting "
                        "profile"]
    assert len(window.learning) == 1


def test_correcting_is_listed_in_the_shortcuts(window):
    assert ("Correct Character", "F2") in window.shortcut_rows()


def test_spans():
    assert spans([str(d) for d in range(10)]) == "0–9"
    letters = [chr(c) for c in range(65, 91)] + [chr(c) for c in range(97, 123)]
    assert spans(letters) == "A–Z, a–z"
    assert spans(["0", "1", "x"]) == "0, 1, x"


def test_reembedding_leaves_other_models_and_unknown_labels(model_path):
    """Examples of the other modes' model, or of labels this model lacks, stay as they
    are; reading never fails on them."""
    recognizer = Recognizer(model_path)
    stroke = Stroke(tuple(Point(0, 10 * i) for i in range(10)))
    profile = Profile()
    profile.add_example(Ink((stroke,)), "7", np.ones(64, np.float32), "the-chars-model")
    profile.add_example(Ink((stroke,)), "A", np.ones(64, np.float32), "an-older-model")
    adapter = AdaptedClassifier(recognizer, profile)
    assert adapter.reembed_profile(keep_models={"the-chars-model"}) is None
    assert [e.model_id for e in profile.examples] == ["the-chars-model", "an-older-model"]
    # Even an unknown label under this model's id does not stop a reading.
    profile.add_example(Ink((stroke,)), "A", np.ones(recognizer.info.feature_size,
                                                      np.float32), recognizer.info.model_id)
    assert adapter.classify(np.zeros((1, 28, 28), np.float32)).probabilities.shape == (1, 10)


def test_a_correction_is_saved_off_the_gui_thread_and_kept_on_quit(qtbot, window,
                                                                   monkeypatch):
    """The write waits on a gate: the answer updates while it waits (the GUI thread is
    not blocked) and closing the window waits for it, so the file has the correction."""
    gate, writing = threading.Event(), threading.Event()
    write = profile_store.write_encoded
    threads = []

    def slow_write(path, encoded):
        threads.append(threading.current_thread())
        writing.set()
        gate.wait(10)
        write(path, encoded)

    monkeypatch.setattr(profile_store, "write_encoded", slow_write)
    draw(window, hooked_one(window))
    correct(qtbot, window, "7")
    assert window.last_number.text == "7"  # learned and re-read, the write still waiting
    assert writing.wait(10) and not profile_path().exists()
    assert threads[0] is not threading.main_thread()
    threading.Timer(0.2, gate.set).start()
    window.canvas.clear()
    window.close()  # quitting waits for the write
    assert gate.is_set() and [e["label"] for e in stored()] == ["7"]


def test_a_failed_background_save_is_reported(qtbot, window, warnings, monkeypatch):
    def failing(path, encoded):
        raise ProfileError(f"cannot save the handwriting profile {path}: disk full")

    monkeypatch.setattr(profile_store, "write_encoded", failing)
    draw(window, hooked_one(window))
    correct(qtbot, window, "7")
    flush_saves()
    qtbot.waitUntil(lambda: len(warnings) == 1)
    assert warnings[0].startswith("Cannot save your handwriting: Cannot save the "
                                  "handwriting profile")
    assert "disk full.\nThe correction is used until you quit" in warnings[0]
    assert window.last_number.text == "7"  # learned all the same
