"""Nothing is written behind the user's back: onnxruntime's telemetry stays off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "ORT_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return env


def _files_under(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


@pytest.mark.parametrize("args", [
    ["recognize", "{ink}"],
    ["recognize", "--json", "{ink}", "{png}"],
    ["--smoke-test", "--settings", "{settings}"],
])
def test_no_file_appears_in_a_fresh_home(tmp_path, args):
    """The CLI and the GUI run with an empty HOME (and no XDG_ variables, so the cache
    would be ~/.cache) and leave it empty: no ~/.cache/Microsoft device id or database."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    ink = work / "one.json"
    ink.write_text(json.dumps({"strokes": [[[0, 0], [0, 100]]]}))
    png = work / "one.png"
    from PySide6.QtGui import QColor, QImage

    img = QImage(40, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    for y in range(5, 35):
        for x in range(18, 22):
            img.setPixelColor(x, y, QColor("black"))
    assert img.save(str(png))
    names = {"ink": ink, "png": png, "settings": work / "s.ini"}
    argv = [a.format(**names) for a in args]
    proc = subprocess.run([sys.executable, "-m", "hwr_qt", *argv], cwd=work,
                          env=_clean_env(home), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _files_under(home) == []
