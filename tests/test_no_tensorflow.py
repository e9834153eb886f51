"""The app never imports the training stack, and its light modules stay light.

Each check runs in a fresh interpreter, so modules imported by other tests do not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FORBIDDEN = ("tensorflow", "keras", "tf2onnx", "onnx")  # "onnx" the package: not onnxruntime


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object as its last line."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loaded(mods: list[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (top-level packages) are among the imported module names."""
    return sorted({m.split(".")[0] for m in mods} & set(names))


def test_every_app_module_imports_without_training_stack():
    result = run_python("""
        import importlib, json, pkgutil, sys
        import hwr_qt
        names = ["hwr_qt"]
        for info in pkgutil.walk_packages(hwr_qt.__path__, "hwr_qt."):
            importlib.import_module(info.name)
            names.append(info.name)
        print(json.dumps({"names": names, "modules": sorted(sys.modules)}))
    """)
    names = result["names"]
    # The discovery really walked the package (new modules are covered automatically).
    for expected in ("hwr_qt.ink", "hwr_qt.preprocess", "hwr_qt.raster", "hwr_qt.imagefile",
                     "hwr_qt.recognizer", "hwr_qt.pipeline", "hwr_qt.resources"):
        assert expected in names
    assert loaded(result["modules"], FORBIDDEN) == [], f"imported by one of {names}"


def test_recognising_uses_no_training_stack(model_path):
    result = run_python(f"""
        import json, sys
        from hwr_qt.ink import Ink
        from hwr_qt.pipeline import read_ink
        from hwr_qt.recognizer import Recognizer
        rec = Recognizer({str(model_path)!r})
        reading = read_ink(rec, Ink.from_points([[[0, 0], [10, 0], [4, 20]]]))
        print(json.dumps({{"label": reading.label, "modules": sorted(sys.modules)}}))
    """)
    assert result["label"] in [str(d) for d in range(10)]
    assert "onnxruntime" in {m.split(".")[0] for m in result["modules"]}
    assert loaded(result["modules"], FORBIDDEN) == []


@pytest.mark.parametrize("module, heavy", [
    ("hwr_qt", ("PySide6", "onnxruntime", *FORBIDDEN)),
    ("hwr_qt.ink", ("PySide6", "onnxruntime", "numpy", *FORBIDDEN)),
    ("hwr_qt.preprocess", ("PySide6", "onnxruntime", *FORBIDDEN)),
    ("hwr_qt.recognizer", ("PySide6", "onnxruntime", *FORBIDDEN)),
    ("hwr_qt.resources", ("PySide6", "onnxruntime", "numpy", *FORBIDDEN)),
])
def test_light_modules_stay_light(module, heavy):
    result = run_python(f"""
        import json, sys
        import {module}
        print(json.dumps({{"modules": sorted(sys.modules)}}))
    """)
    assert loaded(result["modules"], heavy) == []
