"""Start-up: platform checks, the smoke test, the error hook, the entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from hwr_qt import app
from hwr_qt.ui.main_window import MainWindow
from hwr_qt.ui.settings import Settings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_display_is_explained(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert "no display" in app.platform_problem()


def test_missing_xcb_cursor_is_explained(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(app, "has_library", lambda name: False)
    assert "libxcb-cursor0" in app.platform_problem()
    monkeypatch.setattr(app, "has_library", lambda name: True)
    assert app.platform_problem() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux library names")
def test_has_library_uses_the_dynamic_loader():
    assert app.has_library("libc.so.6")
    assert not app.has_library("libdefinitely-not-here.so.42")


def test_explicit_platform_skips_the_checks(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.platform_problem() is None


def test_gui_refuses_to_start_without_display(monkeypatch, capsys):
    monkeypatch.setattr(app, "platform_problem", lambda: "no display found")
    assert app.run_gui([]) == 1
    assert capsys.readouterr().err.strip() == "hwr-qt: error: no display found"


def test_excepthook_keeps_the_window_and_tells_the_user(qtbot, tmp_path, model_path,
                                                        monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda p, title, text: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    w = MainWindow(Settings(str(tmp_path / "s.ini")), model_path)
    qtbot.addWidget(w)
    w.show()
    app.install_excepthook(w)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert shown and "RuntimeError: boom" in shown[0] and "drawing is kept" in shown[0]
    assert w.isVisible()


@pytest.mark.parametrize("args, code, expect", [
    (["--smoke-test"], 0, "read as 7"),
    (["--smoke-test", "--model", "missing.onnx"], 2, "FAILED"),
    (["--version"], 0, "hwr-qt "),
])
def test_entry_point_subprocess(args, code, expect, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "hwr_qt", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120,
                          input="")
    assert proc.returncode == code, proc.stderr
    assert expect in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
