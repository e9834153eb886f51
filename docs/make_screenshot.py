"""Regenerate docs/screenshot.png: ``python docs/make_screenshot.py`` (offscreen is fine)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from hwr_qt.ink import load_ink  # noqa: E402
from hwr_qt.resources import default_model_path, resource_path  # noqa: E402
from hwr_qt.ui.main_window import MainWindow  # noqa: E402
from hwr_qt.ui.settings import Settings  # noqa: E402


def main() -> None:
    app = QApplication.instance() or QApplication([])
    settings = Settings(str(Path(tempfile.mkdtemp()) / "shot.ini"))
    window = MainWindow(settings, default_model_path())
    window.resize(800, 540)
    window.show()
    app.processEvents()
    window.canvas.set_ink(load_ink(resource_path(sys.argv[1] if len(sys.argv) > 1
                                                 else "samples/four.json")))
    app.processEvents()
    out = ROOT / "docs" / "screenshot.png"
    window.grab().save(str(out))
    print(f"wrote {out}: read {window.last_number.text if window.last_number else '-'}")


if __name__ == "__main__":
    main()
