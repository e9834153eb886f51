"""Find bundled resources (the model, its card, icons) wherever the app runs from.

Order: a PyInstaller bundle (``sys._MEIPASS/resources``), an installed wheel
(``hwr_qt/_resources`` inside the package), a source checkout (``<repo>/resources``).
"""

from __future__ import annotations

import sys
from pathlib import Path

MODEL_RELPATH = "models/digits.onnx"


def resource_roots() -> list[Path]:
    here = Path(__file__).resolve().parent
    roots = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.append(Path(frozen) / "resources")
    roots += [here / "_resources", here.parent / "resources"]
    return roots


def resource_path(relpath: str) -> Path:
    """The first existing ``relpath`` among the roots, else the most likely location."""
    roots = resource_roots()
    for root in roots:
        candidate = root / relpath
        if candidate.exists():
            return candidate
    return roots[-1] / relpath


def default_model_path() -> Path:
    return resource_path(MODEL_RELPATH)
