"""Start the GUI: ``hwr-qt [FILE] [--model PATH] [--smoke-test]``."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from hwr_qt.ui.main_window import MainWindow

from hwr_qt import __version__
from hwr_qt.resources import default_model_path, resource_path

SMOKE_SAMPLE = ("samples/seven.json", "7")


def has_library(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` as Qt will (a bundle's copy included:
    ``ctypes.util.find_library`` only searches the system)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def platform_problem() -> str | None:
    """Why Qt would abort on this Linux desktop, said plainly, before Qt gets to abort."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return ("no display found (DISPLAY/WAYLAND_DISPLAY unset); on a headless machine "
                "use QT_QPA_PLATFORM=offscreen, or use 'hwr-qt recognize FILE'")
    if not os.environ.get("WAYLAND_DISPLAY") and not has_library("libxcb-cursor.so.0"):
        return ("Qt's X11 plugin needs libxcb-cursor0: install it (Debian/Ubuntu: "
                "sudo apt install libxcb-cursor0; Fedora: sudo dnf install xcb-util-cursor)")
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hwr-qt", description="Draw digits, letters or words and watch them being "
        "recognised (Mode menu, Ctrl+1/2/3). "
        "Use 'hwr-qt recognize PATH...' to read ink, image files and folders from the "
        "command line (see 'hwr-qt recognize --help'). Nothing leaves this computer.")
    p.add_argument("file", nargs="?", type=Path, metavar="FILE",
                   help="an ink (.json/.ink) or image file to open")
    p.add_argument("--model", type=Path, help="ONNX model (default: the bundled one)")
    p.add_argument("--settings", help="settings file (default: the user's hwr-qt.ini)")
    p.add_argument("--profile", type=Path, metavar="PATH",
                   help="handwriting profile: the characters you corrected (default: "
                   "profile.json.gz in the user's hwr-qt data folder)")
    p.add_argument("--smoke-test", action="store_true",
                   help="open the window, recognise a built-in sample, print it and exit")
    p.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--version", action="version", version=f"hwr-qt {__version__}")
    return p.parse_args(argv)


def run_gui(argv: list[str]) -> int:
    args = parse_args(argv)
    problem = platform_problem()
    if problem:
        print(f"hwr-qt: error: {problem}", file=sys.stderr)
        return 1

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from hwr_qt.ui.main_window import MainWindow
    from hwr_qt.ui.settings import Settings
    from hwr_qt.ui.theme import follow_system_scheme

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    follow_system_scheme(app)
    app.setApplicationName("hwr-qt")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hwr-qt")
    icon = resource_path("icons/hwr-qt.png")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    model_path = args.model or default_model_path()
    if args.smoke_test or args.quit_after_show:
        # Unattended: a model error must be a message and an exit code, not a modal
        # dialog waiting for a click that never comes.
        from hwr_qt.recognizer import ModelError, Recognizer

        try:
            Recognizer(model_path)
        except ModelError as e:
            print(f"smoke test: FAILED, {e}", file=sys.stderr)
            return 2
    settings_path, profile_path = args.settings, args.profile
    if args.smoke_test:
        # A smoke test must neither read nor change the user's settings or handwriting.
        scratch = Path(tempfile.mkdtemp(prefix="hwr-qt-"))
        settings_path = settings_path or str(scratch / "smoke.ini")
        profile_path = profile_path or scratch / "profile.json.gz"
    window = MainWindow(Settings(settings_path), model_path, profile_path)
    install_excepthook(window)
    window.show()
    if args.file is not None:
        window.open_path(args.file, ask=False)
    if args.smoke_test:
        return smoke_test(app, window)
    if args.quit_after_show:
        app.processEvents()
        return 0 if window.recognizer is not None else 2
    return app.exec()


def install_excepthook(window: MainWindow) -> None:
    """A bug in a slot must not vanish into a terminal nobody watches, nor kill the app
    and the drawing with it: log the traceback and tell the user in one line."""
    import traceback

    from PySide6.QtWidgets import QMessageBox

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        traceback.print_exception(kind, value, tb)
        if issubclass(kind, KeyboardInterrupt):
            window.close()
            return
        QMessageBox.warning(window, "hwr-qt: unexpected error",
                            f"{kind.__name__}: {value}\n\nYour drawing is kept. Details were "
                            "printed to the terminal; please report them.")

    sys.excepthook = hook


def smoke_test(app: QApplication, window: MainWindow) -> int:
    app.processEvents()
    if window.recognizer is None:
        print("smoke test: FAILED, the model did not load", file=sys.stderr)
        return 2
    name, expected = SMOKE_SAMPLE
    window.open_path(resource_path(name), ask=False)  # opened, so closing asks nothing
    app.processEvents()
    reading = window.last_reading
    ok = reading is not None and reading.label == expected
    got = f"{reading.label} ({reading.confidence:.1%})" if reading else "nothing"
    print(f"smoke test: window shown ({window.width()}x{window.height()}), model "
          f"{window.recognizer.path.name} loaded, sample {name} (a {expected}) read as {got}: "
          f"{'OK' if ok else 'FAILED'}")
    window.close()
    return 0 if ok else 1
