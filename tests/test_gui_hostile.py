"""The window under hostile and heavy use: broken models, huge drawings and files, failed
saves. Driven through the real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from benchmarks import hostile
from guihelpers import drag, line
from hwr_qt.ink import Ink, InkHistory, Point, Stroke, load_ink
from hwr_qt.pipeline import MAX_READ_STROKES
from hwr_qt.ui import main_window as mw
from hwr_qt.ui.background import LatestOnly
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import Settings

pytest.importorskip("onnx")


def make_window(qtbot, tmp_path: Path, model: Path) -> MainWindow:
    w = MainWindow(Settings(str(tmp_path / "hwr-qt.ini")), model)
    qtbot.addWidget(w)
    w.resize(800, 560)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path, model_path):
    return make_window(qtbot, tmp_path, model_path)


@pytest.fixture
def no_dialogs(monkeypatch):
    """Fail on any modal message box; collect warnings instead."""
    shown: list[str] = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind,
                            lambda parent, title, text, *a, kind=kind: shown.append(
                                f"{kind}: {text}"))
    return shown


def one(window, dx: float = 0) -> None:
    c = window.canvas
    cx, cy = c.width() / 2 + dx, c.height() / 2
    drag(c, line(cx, cy - 100, cx, cy + 100))


# --- models ----------------------------------------------------------------------------


def test_nan_model_shows_no_answer_and_no_dialog(qtbot, tmp_path, no_dialogs):
    w = make_window(qtbot, tmp_path, hostile.onnx_model(tmp_path / "nan.onnx", "nan"))
    assert w.recognizer is not None  # blank input is fine; ink gives NaN
    for _ in range(3):
        one(w)
    assert no_dialogs == []
    assert len(w.canvas.ink.strokes) == 3
    assert w.last_reading is None and w.answer.answer.text() == ""
    assert "output is invalid" in w.answer.detail.text()
    assert w.bars.values() == []


def test_fixed_batch_model_reads_two_digits(qtbot, tmp_path, no_dialogs):
    w = make_window(qtbot, tmp_path, hostile.onnx_model(tmp_path / "b1.onnx", "batch1"))
    one(w, -150)
    one(w, 150)
    assert no_dialogs == []
    assert w.last_number is not None and len(w.last_number.chars) == 2


def test_logits_model_is_refused_at_load_with_one_dialog(qtbot, tmp_path, no_dialogs):
    w = make_window(qtbot, tmp_path, hostile.onnx_model(tmp_path / "lg.onnx", "logits"))
    assert w.recognizer is None
    assert len(no_dialogs) == 1 and "do not sum to 1" in no_dialogs[0]
    one(w)
    assert len(w.canvas.ink.strokes) == 1 and len(no_dialogs) == 1


def test_model_metadata_is_shown_as_text(qtbot, tmp_path):
    labels = ["<b>0</b>", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    model = hostile.onnx_model(tmp_path / "html.onnx", "ok", labels=labels,
                               metadata={"architecture": "<img src=x>", "date": "<i>now"})
    w = make_window(qtbot, tmp_path, model)
    about = w.about_text()
    assert "<img" not in about and "&lt;img src=x&gt;" in about and "&lt;i&gt;now" in about
    w.bars.set_predictions([mw.Recognizer.top_k_from(w.recognizer, _p0(), 1)[0]])
    label = w.bars._rows[0][0]
    assert label.text() == "<b>0</b>" and label.textFormat().name == "PlainText"


def _p0():
    import numpy as np

    p = np.zeros(10, np.float32)
    p[0] = 1
    return p


# --- heavy drawing ---------------------------------------------------------------------


def test_one_reading_per_pen_up(window, monkeypatch):
    calls = []
    real = mw.read_number
    monkeypatch.setattr(mw, "read_number", lambda *a, **k: calls.append(1) or real(*a, **k))
    one(window)
    assert len(calls) == 1 and window.last_reading.label == "1"


def test_live_painting_matches_a_full_render(window):
    """Painted segment by segment while drawing, the cache after pen-up is exactly what
    re-rendering the vectors gives."""
    c = window.canvas
    cx, cy = c.width() / 2, c.height() / 2
    drag(c, [(cx - 80 + i, cy + 60 * ((i // 7) % 2)) for i in range(0, 160, 3)])
    drag(c, line(cx, cy - 100, cx, cy + 100))
    live = c._pixmap.toImage()
    c._rerender()
    assert live == c._pixmap.toImage()


def test_big_drawing_is_read_in_the_background_and_stale_answers_dropped(window, qtbot):
    c = window.canvas
    cx, cy = c.width() / 2, c.height() / 2
    for i in range(12):  # enough strokes to be read off the GUI thread
        drag(c, line(cx - 200 + 30 * i, cy - 40, cx - 200 + 30 * i, cy + 40))
    assert window.reading_pending or window.last_number is not None
    c.clear()  # before the background answer arrives
    qtbot.waitUntil(lambda: not window.reading_pending, timeout=10_000)
    qtbot.wait(50)  # let a queued (stale) result be delivered, if any
    assert window.last_number is None and window.answer.char_buttons == []
    assert window.answer.answer.text() == "" and not window.bars.isVisible()


def test_drawing_beyond_the_limit_says_so(window):
    c = window.canvas
    strokes = tuple(Stroke((Point(10 + 4 * i, 50), Point(10 + 4 * i, 90)))
                    for i in range(MAX_READ_STROKES + 1))
    c.history.replace(Ink(strokes))
    c._ink_changed()
    assert "Too much ink" in window.answer.detail.text()
    assert window.last_number is None
    c.undo()  # back to an empty canvas: the problem is gone with the ink
    assert window.answer.detail.text() == "" and window.canvas.ink.is_empty


def test_history_is_capped():
    h = InkHistory(max_steps=5)
    for i in range(10):
        h.add_stroke(Stroke((Point(i, i),)))
    undone = 0
    while h.undo():
        undone += 1
    assert undone == 5 and len(h.current.strokes) == 5
    while h.redo():
        pass
    assert len(h.current.strokes) == 10


def test_latest_only_drops_overtaken_jobs(qtbot):
    runner = LatestOnly("test")
    release = threading.Event()
    got = []
    runner.finished.connect(lambda token, result, error: got.append(
        (runner.is_current(token), result)))
    runner.submit(lambda report: release.wait(5) and "old")
    runner.submit(lambda report: "new")
    release.set()
    qtbot.waitUntil(lambda: not runner.busy and any(ok for ok, _ in got), timeout=5000)
    assert [r for ok, r in got if ok] == ["new"]
    runner.close()


# --- files -----------------------------------------------------------------------------


def test_big_file_opens_with_progress_and_can_be_cancelled(window, qtbot, tmp_path,
                                                           monkeypatch, no_dialogs):
    monkeypatch.setattr(mw, "BIG_FILE_BYTES", 10_000)
    big = hostile.big_ink(tmp_path / "big.json", points=60_000)
    one(window)
    before = window.canvas.ink

    window.open_ink_file(big)
    assert window.opening and window._progress.isVisible()
    button = window._progress.findChild(QPushButton)
    assert button.text() == "Cancel"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not window.opening
    qtbot.waitUntil(lambda: not window._loader.busy, timeout=20_000)
    qtbot.wait(50)
    assert window.canvas.ink is before and "cancelled" in window.statusBar().currentMessage()

    window.open_ink_file(big)
    seen = []
    window._loader.progress.connect(lambda token, f: seen.append(f))
    qtbot.waitUntil(lambda: not window.opening, timeout=30_000)
    assert window.canvas.ink.point_count == 60_000 and no_dialogs == []
    assert seen and seen == sorted(seen) and 0 < max(seen) <= 1
    window.canvas.undo()
    assert window.canvas.ink is before


def test_failed_save_keeps_the_drawing_and_says_why_once(window, tmp_path, no_dialogs):
    one(window)
    path = tmp_path / "locked.json"
    path.write_text('{"strokes": [[[0, 0]]]}')
    path.chmod(0o444)
    assert not window.save_ink_file(path)
    assert len(no_dialogs) == 1 and "read-only" in no_dialogs[0]
    assert len(window.canvas.ink.strokes) == 1
    assert load_ink(path) == Ink.from_points([[[0, 0]]])
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".ini") == [
        "locked.json"]


def test_save_to_a_full_disk_keeps_everything(window, tmp_path, no_dialogs):
    """A real full disk (a 64 kB tmpfs; needs root and mount, skipped otherwise)."""
    import os
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                                            "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        path = mnt / "digit.json"
        path.write_text('{"strokes": [[[0, 0]]]}')
        c = window.canvas
        drag(c, [(20 + (i % 300), 20 + (i // 300) * 2) for i in range(12_000)])
        assert not window.save_ink_file(path)
        assert no_dialogs == ["warning: digit.json: No space left on device"]
        assert c.ink.point_count > 5_000  # the drawing is kept
        assert load_ink(path) == Ink.from_points([[[0, 0]]])
        assert [p.name for p in mnt.iterdir()] == ["digit.json"]
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
