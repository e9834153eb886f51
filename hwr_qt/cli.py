"""``hwr-qt recognize PATH...``: read the characters in ink, image and folder arguments.

Ink (.json/.ink) and images (PNG/JPEG/BMP/...) may hold a whole number ("2026") or, in
letters and everything mode (``--mode``), a word of separate letters ("Hello"): it is
segmented into characters and ``--json`` gives the ``text`` plus a ``characters`` list
with each character's box (digits mode: also under its old name, ``digits``). A folder
reads the ink and image files in it (sorted by name; ``--recursive`` goes into
subfolders); ``-`` reads one ink document from standard input.

Exit status: 0 all files read, 1 some file failed (the others are still read), 2 usage
or model error. Every failure is one line on stderr (or a JSON ``error`` object).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hwr_qt.classifier import MODES, Classifier
from hwr_qt.imagefile import ImageFileError
from hwr_qt.ink import MAX_FILE_BYTES, InkError, parse_ink
from hwr_qt.models import DEFAULT_MODE, ModelSet, is_bundled, noun, served
from hwr_qt.pipeline import (
    INK_SUFFIXES,
    NumberReading,
    check_readable,
    is_ink_file,
    read_file,
    read_number,
)
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.recognizer import ModelError, ModelOutputError, Prediction, Recognizer
from hwr_qt.trajectory import TrajectoryModel

PROG = "hwr-qt recognize"
COMMANDS = ("recognize", "recognise")  # both spellings, as the hwr-qt entry point accepts
MAX_TOP_K = 10
STDIN = "-"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
# What one bad file may raise; anything else is a bug and should show its traceback.
FILE_ERRORS = (InkError, ImageFileError, EmptyInputError, ModelOutputError, OSError,
               ValueError, MemoryError)

_app: object | None = None  # the Qt application, once created; kept so it stays alive

EPILOG = """\
what is read:
  ink     .json/.ink: {"strokes": [[[x, y] or [x, y, pressure], ...], ...]}, y downward,
          any units; several characters are read left to right (a number, a word)
  images  PNG, JPEG, BMP, GIF, TIFF, WebP: photos and scans of paper too (uneven light,
          tinted paper, dark or light ink); several characters are read left to right
  FOLDER  its ink and image files, sorted by name (--recursive: subfolders too)
  -       one ink document from standard input

modes (--mode):
  digits  0-9 (the default): numbers
  letters A-Z and a-z: separate letters read as a word ("Hello"); same-shape letters
          (c/C, o/O, s/S ...) take their case from their height in the word
  all     digits and letters ("A4", "x2")

output: one line per file, "FILE: TEXT (confidence)  top-K: ..." for one character,
"FILE: TEXT (confidence)  digits: ..." for several (letters/all: "characters: ...");
"?" marks ink that is no character of the mode.
exit status: 0 all read, 1 some file could not be read (the rest still are), 2 usage or
model error (including a mode whose model is not installed).

examples:
  hwr-qt recognize digit.png drawing.json --top-k 5
  hwr-qt recognize --mode letters word.json
  hwr-qt recognize scans/ --recursive --json
  cat drawing.json | hwr-qt recognize -
"""


def _top_k(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not 1 <= k <= MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_TOP_K}, got {k}")
    return k


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read handwritten characters (a digit or a whole number; with "
        "--mode letters or all, letters and words too) in ink files, images, folders of "
        "them, or ink on standard input. Everything runs on this machine; nothing is "
        "sent anywhere.")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="an ink or image file, a folder, or - for standard input")
    p.add_argument("--top-k", type=_top_k, default=3, metavar="K",
                   help=f"show the K best answers per character, 1..{MAX_TOP_K} (default 3)")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="read folders' subfolders too")
    p.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                   help=f"what to read: digits, letters or all (default {DEFAULT_MODE})")
    # issue 10: read with the user's examples (the CLI uses none unless told to).
    p.add_argument("--profile", metavar="PATH",
                   help="read with this handwriting profile (made by hwr-qt learn)")
    p.add_argument("--model", metavar="PATH",
                   help="ONNX model (default: the bundled one for the mode)")
    p.add_argument("--image-only", action="store_true",
                   help="read drawn ink by its image alone, without the bundled path "
                   "model (stroke order and direction; a --model always reads alone)")
    return p


def is_readable_kind(path: Path) -> bool:
    return path.suffix.lower() in INK_SUFFIXES | IMAGE_SUFFIXES


def folder_files(folder: Path, recursive: bool) -> list[Path]:
    """The ink and image files in a folder, sorted by path; hidden ones skipped."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and is_readable_kind(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def expand(names: list[str], recursive: bool) -> Iterator[tuple[str, str | None]]:
    """(name, None) for each input to read, or (name, problem) for one that cannot be."""
    for name in names:
        if name == STDIN:
            yield name, None
            continue
        path = Path(name)
        if path.is_dir():
            files = folder_files(path, recursive)
            if not files:
                yield name, ("is a folder with no ink or image files" +
                             ("" if recursive else " (--recursive reads its subfolders)"))
            for f in files:
                yield str(f), None
        elif not path.exists():
            yield name, "no such file"
        elif not path.is_file():
            yield name, "not a regular file"
        else:
            yield name, None
def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    if isinstance(e, MemoryError):
        return "out of memory"
    return text.splitlines()[0] if text else type(e).__name__


def _ensure_qt_app() -> None:
    """Create a Qt application before the first image is read.

    The accepted formats decode without one (SVG, which aborts Qt without one, is
    refused by hwr_qt.imagefile), but a plugin may still want one. A QApplication rather
    than a QGuiApplication, so that widgets still work if the CLI runs
    inside the GUI's process (or a test session). Offscreen when Linux has no display.
    """
    global _app
    if _app:
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([PROG])


@contextmanager
def _quiet_qt() -> Iterator[None]:
    """Drop Qt's warnings (e.g. "qt.gui.imageio.jpeg: Invalid JPEG ...") so that a bad
    file gives our one-line error only; fatal messages still reach the default handler."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def shown_name(name: str) -> str:
    """A file name as text that any UTF-8 output takes: bytes that are not UTF-8 (kept
    by Python as lone surrogates) are shown as \\xNN rather than ending the output."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _read(classifier: Classifier, name: str, k: int,
          path_model: TrajectoryModel | None = None) -> NumberReading:
    if name == STDIN:
        ink = parse_ink(sys.stdin.buffer.read(MAX_FILE_BYTES + 1))
        check_readable(ink)
        number = read_number(classifier, ink, k, path_model=path_model)
        if not number.chars:
            raise EmptyInputError("no ink to recognise")
        return number
    if not is_ink_file(name):
        _ensure_qt_app()
    return read_file(classifier, name, k, path_model=path_model)


def load_classifier(model: str | None, mode: str) -> Classifier:
    """The model for ``mode`` (the chosen one, else the bundled one), read in ``mode``.
    Raises ModelError with the user's message."""
    if model:
        return served(Recognizer(model), mode)
    return ModelSet().classifier(mode)


def main(argv: list[str]) -> int:
    """``argv`` is what follows the program name, starting with ``recognize``."""
    parser = _parser()
    try:
        if not argv or argv[0] not in COMMANDS:
            parser.error("expected the 'recognize' command")
        args = parser.parse_args(argv[1:])
    except SystemExit as e:  # argparse exits on --help (0) and usage errors (2)
        return e.code if isinstance(e.code, int) else 2
    if args.files.count(STDIN) > 1:
        print(f"{PROG}: error: '-' (standard input) may be given once", file=sys.stderr)
        return 2
    try:
        # Recognizer runs the model on the batch sizes we send: a model that cannot run
        # fails here once, as a model error, not once per file.
        classifier = load_classifier(args.model, args.mode)
        if args.profile:  # issue 10: raises a ModelError when it cannot be used
            from hwr_qt.learn_cli import with_profile

            classifier = with_profile(classifier, args.profile)
    except ModelError as e:
        print(f"hwr-qt: error: {_one_line(e)}", file=sys.stderr)
        return 2
    path_model = None
    # A model of one's own reads alone (the mix weight was chosen for the bundled pair).
    if not args.image_only and (not args.model or is_bundled(Path(args.model), args.mode)):
        models = ModelSet()
        path_model = models.path_model(args.mode)
        if models.path_model_problem:  # damaged: say so once; the image model still reads
            print(f"hwr-qt: warning: {_one_line(ModelError(models.path_model_problem))}; "
                  "reading by image alone", file=sys.stderr)

    failed = False
    with _quiet_qt():
        for name, problem in expand(args.files, args.recursive):
            shown = shown_name(name)
            try:
                if problem:
                    raise OSError(problem)
                number = _read(classifier, name, args.top_k, path_model)
            except FILE_ERRORS as e:
                failed = True
                if args.json:
                    print(json.dumps({"file": shown, "error": _one_line(e)}), flush=True)
                else:
                    print(f"hwr-qt: {shown}: {_one_line(e)}", file=sys.stderr, flush=True)
                continue
            print(_json_line(shown, number, args.mode) if args.json
                  else _text_line(shown, number, args.top_k, args.mode), flush=True)
    return 1 if failed else 0


def _rows(top_k: list[Prediction]) -> list[dict[str, Any]]:
    return [{"label": p.label, "p": round(p.probability, 6)} for p in top_k]


def _json_line(name: str, number: NumberReading, mode: str = DEFAULT_MODE) -> str:
    first = number.chars[0].reading
    obj: dict[str, Any] = {"file": name, "mode": mode, "label": number.text,
                           "text": number.text, "confidence": round(number.confidence, 6)}
    if len(number.chars) == 1:
        obj["top_k"] = _rows(first.top_k)
        obj["rejected"] = first.rejected

    def score(v: float | None) -> float | None:
        return None if v is None else round(v, 6)

    obj["characters"] = [{"label": c.label, "rejected": c.reading.rejected,
                          "reject": score(c.reading.reject),
                          "box": [round(v, 2) for v in (c.box.x0, c.box.y0, c.box.x1,
                                                        c.box.y1)],
                          "top_k": _rows(c.reading.top_k)} for c in number.chars]
    if mode == "digits":
        # The list's name before letters existed, with its reject score's old name.
        obj["digits"] = [{**{k: v for k, v in c.items() if k != "reject"},
                          "not_digit": c["reject"]} for c in obj["characters"]]
    return json.dumps(obj, allow_nan=False)  # outputs are checked finite; JSON has no NaN


def _text_line(name: str, number: NumberReading, k: int, mode: str = DEFAULT_MODE) -> str:
    if len(number.chars) == 1:
        r = number.chars[0].reading
        best = ", ".join(f"{p.label} {p.probability:.1%}" for p in r.top_k)
        verdict = f"not a {noun(mode)}" if r.rejected else f"{r.confidence:.1%}"
        return f"{name}: {r.label} ({verdict})  top-{k}: {best}"
    chars = ", ".join(f"{c.label} {c.reading.confidence:.1%}" for c in number.chars)
    kind = "digits" if mode == "digits" else "characters"
    return f"{name}: {number.text} ({number.confidence:.1%})  {kind}: {chars}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
