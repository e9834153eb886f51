"""The path model in the benchmarks: the bundled one of the mode by default, as the app
reads drawn ink (``hwr_qt.trajectory``); ``--image-only`` measures the image model alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from hwr_qt.models import PATH_MODEL_FILES
from hwr_qt.resources import resource_path
from hwr_qt.trajectory import TrajectoryModel


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--path-model", type=Path, default=None,
                    help="path model for drawn ink (default: the bundled one, if installed)")
    ap.add_argument("--image-only", action="store_true",
                    help="read ink by its image alone (no path model)")


def load(args: argparse.Namespace, mode: str = "digits") -> TrajectoryModel | None:
    """The path model the arguments ask for (default: the bundled one of ``mode``);
    ModelError if a chosen one cannot load."""
    if args.image_only:
        return None
    path = args.path_model or resource_path(PATH_MODEL_FILES[mode])
    if args.path_model is None and not path.is_file():
        return None
    return TrajectoryModel(path)
