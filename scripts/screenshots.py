"""Screenshots of every state of the window, light and dark, for docs/ and for looking at.

    xvfb-run -a -s "-screen 0 1280x900x24" python scripts/screenshots.py [--out docs]

Runs the real app on the X server it is given (Xvfb in CI/docs: the xcb platform, real
fonts and styles, not the offscreen one), puts it in each state and grabs the window:
empty, a digit, a number, rejected ink, a word in Letters mode, top-k 10, an opened
photo, the "That's a …" correction of a misread digit and the answer read with the
user's handwriting after it, in the light and the dark palette (with a scratch
handwriting profile, never the user's). Digits are real pen samples of test writers
when $HWR_PEN_DIR is set, else the bundled samples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from hwr_qt.ink import Ink, Point, Stroke, load_ink  # noqa: E402
from hwr_qt.resources import default_model_path, resource_path  # noqa: E402
from hwr_qt.ui.main_window import MainWindow  # noqa: E402
from hwr_qt.ui.settings import Settings  # noqa: E402
from hwr_qt.ui.theme import dark_palette  # noqa: E402


def pen_digits() -> dict[str, Ink]:
    """One test writer's digits (the same hand for the number), else bundled samples."""
    try:
        from training.pen import DIGIT_FILES, load_pen

        data = load_pen(None, DIGIT_FILES[:1])
    except Exception:  # noqa: BLE001 - no pen data here: the bundled samples will do
        return {name[0]: load_ink(resource_path(f"samples/{name}.json"))
                for name in ("zero", "one", "four", "seven")}
    out: dict[str, Ink] = {}
    writer = data.select(split="test")[0].writer
    for s in data.select(split="test"):
        if s.writer == writer and s.label not in out:
            out[s.label] = s.ink
    return out


def pen_word() -> Ink | None:
    """A printed word of one test writer's own letters (None without pen data)."""
    try:
        import numpy as np

        from benchmarks.pen.numbers import Digit
        from benchmarks.pen.words import make_words
        from training.pen import load_pen

        data = load_pen(None, ("unipen_lower",))
    except Exception:  # noqa: BLE001 - no pen data here: no word shot
        return None
    letters = [Digit(s.label, s.writer, s.ink) for s in data.select(split="test")]
    return make_words(letters, 1, np.random.default_rng(7))[0].ink


def side_by_side(inks: list[Ink]) -> Ink:
    strokes: list[Stroke] = []
    x = 0.0
    for ink in inks:
        x0, y0, x1, y1 = ink.bounds()
        s = 100.0 / max(y1 - y0, 1e-9)
        strokes += [Stroke(tuple(Point((p.x - x0) * s + x, (p.y - y0) * s) for p in st.points))
                    for st in ink.strokes]
        x += (x1 - x0) * s + 25.0
    return Ink(tuple(strokes))


def scribble() -> Ink:
    pts = [Point(100 + 200 * (i % 2), 100 + 12 * i) for i in range(17)]
    return Ink((Stroke(tuple(pts)),))


def flagged_one() -> Ink:
    """A 7 written like a 1 with a long flag: the model reads 1 (~86 %), 7 second."""
    pts = [(-40 + 50 * i / 10, -100 - 20 * i / 10) for i in range(11)]
    pts += [(10 - 10 * i / 30, -120 + 240 * i / 30) for i in range(1, 31)]
    return Ink((Stroke(tuple(Point(x, y) for x, y in pts)),))


def make_photo(ink: Ink, path: Path) -> Path:
    """The number "photographed" as the photo benchmark does (benchmarks/photos.py)."""
    import numpy as np

    from benchmarks.photos import Photo, photograph

    look = Photo(height=110, pen=0.08, paper=(232, 222, 196), ink=(30, 35, 90),
                 light_lo=0.6, light_angle=0.5, shadow=0.6, shadow_edge=2, noise=0.02,
                 blur=0.8, jpeg=70)
    photograph(ink, look, np.random.default_rng(1)).save(str(path))
    return path


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--photo", type=Path, help="an image to open for the 'photo' shot "
                   "(default: the number, photographed as in benchmarks/photos.py)")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    app.setStyle("Fusion")  # the same look on every machine that makes the screenshots
    light = app.style().standardPalette()
    digits = pen_digits()
    number = "".join(d for d in "2047" if d in digits) or "".join(sorted(digits))
    for scheme, palette in (("light", light), ("dark", dark_palette())):
        app.setPalette(palette)
        settings = Settings(str(args.out / f".screenshots-{scheme}.ini"))
        scratch = Path(tempfile.mkdtemp(prefix="hwr-qt-shots-"))
        window = MainWindow(settings, default_model_path(), scratch / "profile.json.gz")
        window.resize(900, 620)
        window.show()

        def shot(name: str, w: MainWindow = window, s: str = scheme,
                 screen: bool = False) -> None:
            deadline = time.monotonic() + 10
            while w.reading_pending and time.monotonic() < deadline:  # a background read
                app.processEvents()
                time.sleep(0.01)
            for _ in range(5):
                app.processEvents()
                time.sleep(0.05)
            path = args.out / f"screenshot-{name}-{s}.png"
            if screen:  # the window and the dialogs over it, as the screen shows them
                g = w.frameGeometry()
                app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(),
                                               g.height()).save(str(path))
            else:
                w.grab().save(str(path))
            print(path)

        shot("empty")
        window.canvas.set_ink(digits.get("4") or next(iter(digits.values())))
        shot("digit")
        window.canvas.set_ink(side_by_side([digits[d] for d in number]))
        shot("number")
        window.canvas.set_ink(scribble())
        shot("rejected")
        window.set_top_k(10)
        window.canvas.set_ink(digits.get("7") or next(iter(digits.values())))
        shot("topk10")
        window.set_top_k(3)
        photo = args.photo or make_photo(side_by_side([digits[d] for d in number]),
                                         args.out / "photo-of-a-number.jpg")
        window.open_path(photo, ask=False)
        shot("photo")
        window.canvas.clear()
        window.canvas.set_ink(side_by_side([digits["2"], flagged_one(), digits["4"]]))
        window.statusBar().clearMessage()
        window.correct_char(1)
        shot("correct", screen=True)
        dialog = window.correct_dialog
        assert dialog is not None
        dialog.choose("7")
        shot("learned")
        word = pen_word()
        if word is not None and window.set_mode("letters"):
            window.canvas.set_ink(word)
            shot("word")
            window.set_mode("digits")
        window._mark_saved(None)  # nothing to ask about on close
        window.close()
        (args.out / f".screenshots-{scheme}.ini").unlink(missing_ok=True)
    (args.out / "photo-of-a-number.jpg").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
