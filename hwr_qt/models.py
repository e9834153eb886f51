"""Which model reads which mode: digits from ``digits.onnx``, letters and everything from
``chars.onnx`` (one model, a label mask per mode; ``classifier.for_mode``). Drawn ink
is also read by its path (``trajectory.onnx``, ``chars_trajectory.onnx``:
``hwr_qt.trajectory``).

A mode whose model is not installed is unavailable with a message, never a crash; a
model chosen by the user (``--model``, File → Load Model…) reads the modes it serves.
"""

from __future__ import annotations

from pathlib import Path

from hwr_qt.classifier import MODE_NOUNS, MODES, Classifier, for_mode
from hwr_qt.recognizer import ModelError, Recognizer
from hwr_qt.resources import resource_path
from hwr_qt.trajectory import TrajectoryModel

DEFAULT_MODE = "digits"
MODEL_FILES = {"digits": "models/digits.onnx", "letters": "models/chars.onnx",
               "all": "models/chars.onnx"}
PATH_MODEL_FILE = "models/trajectory.onnx"  # digits mode's path model
# The path model of each mode (letters and everything: one characters path model).
PATH_MODEL_FILES = {"digits": PATH_MODEL_FILE, "letters": "models/chars_trajectory.onnx",
                    "all": "models/chars_trajectory.onnx"}
MODE_TITLES = {"digits": "Digits", "letters": "Letters", "all": "Everything"}


class ModeUnavailable(ModelError):
    """No model for the mode: its file is not installed, or the chosen model lacks it."""


def bundled_model_path(mode: str) -> Path:
    """The bundled model file that reads ``mode`` (it may not exist)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
    return resource_path(MODEL_FILES[mode])


def is_bundled(path: Path, mode: str) -> bool:
    """Whether ``path`` is the bundled model of ``mode`` (the path model's partner)."""
    try:
        return Path(path).resolve() == bundled_model_path(mode).resolve()
    except OSError:
        return False


def mode_available(mode: str) -> bool:
    return bundled_model_path(mode).is_file()


def describe(mode: str) -> str:
    """'letters mode (A-Z, a-z)', for messages."""
    what = {"digits": "0-9", "letters": "A-Z, a-z", "all": "0-9, A-Z, a-z"}[mode]
    return f"{mode} mode ({what})"


def served(recognizer: Recognizer, mode: str) -> Classifier:
    """``recognizer`` read in ``mode``; ModeUnavailable when it does not serve it."""
    if mode not in recognizer.info.modes:
        raise ModeUnavailable(f"model {recognizer.path.name} does not read {describe(mode)}; "
                              f"it reads {', '.join(recognizer.info.modes)}")
    return for_mode(recognizer, mode)


class ModelSet:
    """The recognizers for the modes, loaded on first use and kept (a model loads in
    ~50 ms; switching modes back and forth should not reload it)."""

    def __init__(self, chosen: Path | None = None) -> None:
        self._loaded: dict[Path, Recognizer] = {}
        self.chosen = chosen  # a user's model: used for the modes it serves
        self._path_models: dict[str, TrajectoryModel | None] = {}
        self._bundled: dict[tuple[Path, str], bool] = {}
        self.path_model_problem: str | None = None  # why a damaged path model is not used

    def path_model(self, mode: str = DEFAULT_MODE) -> TrajectoryModel | None:
        """The bundled path model of ``mode`` (loaded once), or None: not installed,
        damaged (``path_model_problem`` says why), or the mode is read by a model the user
        chose (the mix weight was chosen for the bundled pair). Ink is then read by its
        image alone. It joins only a reader whose labels it has (``columns``)."""
        reader = self.path_for(mode)
        if (reader, mode) not in self._bundled:  # asked at every pen-up: resolved once
            self._bundled[(reader, mode)] = is_bundled(reader, mode)
        if not self._bundled[(reader, mode)]:
            return None  # the user's own model reads alone: the weight is the bundled pair's
        relpath = PATH_MODEL_FILES.get(mode, PATH_MODEL_FILE)
        if relpath not in self._path_models:
            self._path_models[relpath] = None
            path = resource_path(relpath)
            if path.is_file():
                try:
                    self._path_models[relpath] = TrajectoryModel(path)
                except ModelError as e:
                    self.path_model_problem = str(e)
        return self._path_models[relpath]

    def path_for(self, mode: str) -> Path:
        if self.chosen is not None:
            chosen = self.load(self.chosen)
            if mode in chosen.info.modes:
                return self.chosen
        return bundled_model_path(mode)

    def load(self, path: Path) -> Recognizer:
        key = Path(path)
        if key not in self._loaded:
            self._loaded[key] = Recognizer(key)
        return self._loaded[key]

    def recognizer(self, mode: str) -> Recognizer:
        """The model for ``mode``. Raises ModeUnavailable (not installed) or ModelError."""
        path = self.path_for(mode)
        if not path.is_file() and path == bundled_model_path(mode):
            raise ModeUnavailable(f"{MODE_TITLES[mode]} mode is not available: its model "
                                  f"({Path(MODEL_FILES[mode]).name}) is not installed")
        return self.load(path)

    def classifier(self, mode: str) -> Classifier:
        return served(self.recognizer(mode), mode)


def noun(mode: str) -> str:
    """What the mode calls one character: digit, letter, character."""
    return MODE_NOUNS.get(mode, "character")
