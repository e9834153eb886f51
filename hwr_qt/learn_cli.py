"""``hwr-qt learn --profile PATH --label L FILE...``: teach the user's handwriting.

Each file (ink .json/.ink or an image) holds one character, an example of L as the user
writes it; it is added to the profile file at PATH (created when missing). ``hwr-qt
recognize --profile PATH ...`` then reads with it (``with_profile``); without
``--profile`` the command line uses no profile, so batch runs stay reproducible.

Exit status: 0 all learned, 1 some file could not be read (the others are still
learned), 2 usage, label, model or profile error. Every failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hwr_qt.adapt import NOT_A_CHARACTER, AdaptedClassifier, AdaptError, adapted
from hwr_qt.classifier import Classifier, ModeClassifier
from hwr_qt.imagefile import ImageFileError
from hwr_qt.ink import Ink, InkError, load_ink
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.profile import Profile, ProfileError
from hwr_qt.recognizer import ModelError, Recognizer

PROG = "hwr-qt learn"
FILE_ERRORS = (InkError, ImageFileError, EmptyInputError, OSError, ValueError, MemoryError)


class ProfileUnusable(ModelError):
    """--profile given but it cannot be used; the message is for the user."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="Add handwritten characters (one per file: ink or image) "
        "to a handwriting profile as examples of LABEL, so that `hwr-qt recognize "
        "--profile PATH` reads this handwriting better. Everything stays on this machine.")
    p.add_argument("files", nargs="+", metavar="FILE", help="an ink or image file")
    p.add_argument("--profile", required=True, metavar="PATH",
                   help="the profile file (created when missing)")
    p.add_argument("--label", required=True, metavar="L",
                   help=f"what the files hold: one of the model's labels, or "
                   f"'{NOT_A_CHARACTER}' for ink that is no character")
    p.add_argument("--model", metavar="PATH", help="ONNX model (default: the bundled one)")
    return p


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def model_input(path: Path) -> tuple[np.ndarray, Ink]:
    """(the model input [28, 28], the ink: empty for an image) of a one-character file."""
    from hwr_qt.pipeline import check_readable, is_ink_file
    from hwr_qt.raster import render_ink

    if is_ink_file(path):
        ink = load_ink(path)
        check_readable(ink)
        return render_ink(ink), ink
    from hwr_qt.cli import _ensure_qt_app
    from hwr_qt.imagefile import image_to_input

    _ensure_qt_app()
    return image_to_input(path), Ink()


def load_profile(path: str) -> Profile:
    """The profile at ``path``; a damaged one is moved aside with a message on stderr."""
    profile, message = Profile.load(path)
    if message:
        print(f"hwr-qt: {message}", file=sys.stderr)
    return profile


def with_profile(classifier: Classifier, path: str) -> Classifier:
    """``hwr-qt recognize --profile PATH``: ``classifier`` reading with the profile.
    Examples made with another model are re-read from their ink (nothing is written)."""
    if not Path(path).is_file():
        raise ProfileUnusable(f"no handwriting profile at {path} (hwr-qt learn makes one)")
    profile = load_profile(path)  # a damaged one: a message, then no examples
    result = adapted(classifier, profile)
    inner = result.inner if isinstance(result, ModeClassifier) else result
    if isinstance(inner, AdaptedClassifier):
        if not inner.can_learn:
            raise ProfileUnusable("this model cannot read with a profile (it has no "
                                  "features output)")
        message = inner.reembed_profile()
        if message:
            print(f"hwr-qt: {message}", file=sys.stderr)
    return result


def main(argv: list[str]) -> int:
    """``argv`` is what follows the program name, starting with ``learn``."""
    parser = _parser()
    try:
        if not argv or argv[0] != "learn":
            parser.error("expected the 'learn' command")
        args = parser.parse_args(argv[1:])
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    try:
        from hwr_qt.resources import default_model_path

        base = Recognizer(args.model or str(default_model_path()))
    except ModelError as e:
        print(f"hwr-qt: error: {_one_line(e)}", file=sys.stderr)
        return 2
    profile = load_profile(args.profile)
    learner = AdaptedClassifier(base, profile)
    try:
        if not learner.can_learn:
            raise AdaptError("this model cannot learn (it has no features output)")
        learner.check_label(args.label)
    except AdaptError as e:
        labels = " ".join(base.info.labels)
        print(f"hwr-qt: error: {_one_line(e)} (labels: {labels}, or '{NOT_A_CHARACTER}' "
              "for no character)", file=sys.stderr)
        return 2
    message = learner.reembed_profile()
    if message:
        print(f"hwr-qt: {message}", file=sys.stderr)
    failed = learned = 0
    for name in args.files:
        try:
            image, ink = model_input(Path(name))
            learner.learn(image, ink, args.label)
            learned += 1
        except FILE_ERRORS as e:
            failed += 1
            print(f"hwr-qt: {name}: {_one_line(e)}", file=sys.stderr, flush=True)
    if learned:
        try:
            profile.save()
        except ProfileError as e:
            print(f"hwr-qt: error: {_one_line(e)}", file=sys.stderr)
            return 2
    print(f"learned {learned} example{'s' if learned != 1 else ''} of '{args.label}'; "
          f"the profile {args.profile} holds {len(profile)}")
    return 1 if failed else 0
