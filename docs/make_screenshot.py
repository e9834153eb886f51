"""Regenerate docs/screenshot.png (a digit) and docs/screenshot-number.png (a number):
``python docs/make_screenshot.py`` (offscreen is fine)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from hwr_qt.ink import Ink, Point, Stroke, load_ink  # noqa: E402
from hwr_qt.resources import default_model_path, resource_path  # noqa: E402
from hwr_qt.ui.main_window import MainWindow  # noqa: E402
from hwr_qt.ui.settings import Settings  # noqa: E402


def shoot(ink: Ink, name: str, select: int = 0) -> None:
    app = QApplication.instance() or QApplication([])
    settings = Settings(str(Path(tempfile.mkdtemp()) / "shot.ini"))
    window = MainWindow(settings, default_model_path())
    window.resize(800, 540)
    window.show()
    app.processEvents()
    window.canvas.set_ink(ink)
    window.answer.select(select)
    app.processEvents()
    out = ROOT / "docs" / name
    window.grab().save(str(out))
    print(f"wrote {out}: read {window.last_number.text if window.last_number else '-'}")
    window.close()


def side_by_side(names: list[str]) -> Ink:
    strokes: list[Stroke] = []
    for i, name in enumerate(names):
        part = load_ink(resource_path(f"samples/{name}.json"))
        x0 = part.bounds()[0]
        strokes += [Stroke(tuple(Point(p.x - x0 + 150 * i, p.y) for p in s.points))
                    for s in part.strokes]
    return Ink(tuple(strokes))


def main() -> None:
    QApplication.instance() or QApplication([])
    shoot(load_ink(resource_path("samples/four.json")), "screenshot.png")
    shoot(side_by_side(["four", "one", "seven", "zero"]), "screenshot-number.png", select=2)


if __name__ == "__main__":
    main()
