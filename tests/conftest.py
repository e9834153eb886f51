"""Shared fixtures. GUI tests run on Qt's offscreen platform; no screen is needed."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from hwr_qt.resources import default_model_path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _data_dir(env: str, probe: str, require: str, what: str) -> Path:
    """$env if it holds ``probe``, else a skip with the reason (a failure when the
    ``require`` variable is 1, as in CI)."""
    raw = os.environ.get(env)
    path = Path(raw) if raw else None
    if path is None or not (path / probe).is_file():
        reason = f"{what} not found: set {env} to the folder with its files (now {raw!r})"
        if os.environ.get(require) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """$HWR_MNIST_DIR: the four MNIST IDX .gz files."""
    return _data_dir("HWR_MNIST_DIR", "t10k-images-idx3-ubyte.gz", "HWR_REQUIRE_MNIST", "MNIST")


@pytest.fixture(scope="session")
def pen_dir() -> Path:
    """$HWR_PEN_DIR: the real pen *.jsonl.gz files."""
    return _data_dir("HWR_PEN_DIR", "pendigits.jsonl.gz", "HWR_REQUIRE_PEN", "real pen data")


@pytest.fixture(scope="session")
def pen_data(pen_dir):
    """All real pen samples (loaded once per test session)."""
    from training.pen import load_pen

    return load_pen(pen_dir)


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = default_model_path()
    assert path.is_file(), f"the bundled model is missing: {path}"
    return path


@pytest.fixture(scope="session")
def recognizer(model_path):
    from hwr_qt.recognizer import Recognizer

    return Recognizer(model_path)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    """(images uint8 [10000,28,28], labels) of the MNIST test split."""
    from training.mnist import load_test_set

    return load_test_set(mnist_dir)


@pytest.fixture(autouse=True)
def _no_unsaved_prompt(request, monkeypatch):
    """Closing a window with a drawing asks whether to save it (a modal box): tests that
    do not test that prompt answer "Discard"; tests marked ``unsaved_prompt`` get the
    real one."""
    if "unsaved_prompt" in request.keywords:
        return
    from PySide6.QtWidgets import QMessageBox

    from hwr_qt.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_unsaved",
                        lambda self: QMessageBox.StandardButton.Discard)


@pytest.fixture(autouse=True)
def _own_profile(tmp_path_factory, monkeypatch):
    """The GUI reads the user's handwriting profile from their data folder: tests get a
    fresh one of their own, never the real user's."""
    from hwr_qt import profile

    folder = tmp_path_factory.mktemp("profile")
    monkeypatch.setattr(profile, "default_profile_path", lambda: folder / profile.FILE_NAME)
    yield
    # A correction's profile write runs on a worker thread: let it end inside its test,
    # before the test's widgets (whose signal it may emit) are torn down.
    import sys

    if "hwr_qt.ui.learning" in sys.modules:
        sys.modules["hwr_qt.ui.learning"].flush_saves()
