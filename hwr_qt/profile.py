"""The user's handwriting profile: the characters they corrected, kept on their machine.

Each example keeps the ink itself (so a new model can re-embed it), the label, the time
and the id of the model whose features are cached beside it. The file is gzip'd JSON::

    {"format": "hwr-qt-profile", "version": 1,
     "examples": [{"label": "7", "time": 1795690000.0, "model_id": "47fa792fb3b62d14",
                   "strokes": [[[x, y], ...], ...], "features": "<base64 float16>",
                   "margin": 1.25}, ...]}

``margin`` (optional; absent in older files and for "not a character") is how sure the
model was against the label when the example was embedded (``hwr_qt.adapt``).

It is written atomically (a temporary file, then a rename: a crash mid-write leaves the
old file), capped at ``MAX_EXAMPLES`` (the oldest go first) and a damaged file is moved
aside (``profile.json.gz.damaged-<time>``) with a one-line message, never an exception.
Examples cached for another model are re-embedded from their ink when the caller can
(``reembed``) and otherwise set aside: kept in the file, unused, and reported.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hwr_qt.ink import Ink, InkError

FORMAT = "hwr-qt-profile"
VERSION = 1
MAX_EXAMPLES = 2000
MAX_FILE_BYTES = 64 * 1024 * 1024  # far beyond 2,000 examples: anything bigger is not ours
FILE_NAME = "profile.json.gz"
IMAGE_SIDE = 28
DECIMALS = 2  # of ink coordinates (the ink's own units; pen tablets give integers)


class ProfileError(Exception):
    """A profile file that cannot be read or written; the message is for the user."""


@dataclass(frozen=True)
class Example:
    ink: Ink  # empty for a character learned from an image file
    label: str
    time: float  # seconds since the epoch
    model_id: str  # the model whose features are cached
    features: np.ndarray | None  # float32 [D], or None when not embedded yet
    # uint8 [28, 28]: the model input of an image file's character (no ink to re-render).
    image: np.ndarray | None = None
    margin: float | None = None  # the model's margin against the label (hwr_qt.adapt)


def default_profile_path() -> Path:
    """The GUI's profile: the per-user application data folder (Qt's AppDataLocation).
    The CLI never uses it (batch runs stay reproducible): it takes --profile PATH."""
    from PySide6.QtCore import QStandardPaths

    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder) / FILE_NAME


def _encode_features(f: np.ndarray | None) -> str | None:
    if f is None:
        return None
    return base64.b64encode(np.asarray(f, "<f2").tobytes()).decode("ascii")


def _decode_features(text: object) -> np.ndarray | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("features must be base64 text")
    f = np.frombuffer(base64.b64decode(text, validate=True), "<f2").astype(np.float32)
    if not np.isfinite(f).all():
        raise ValueError("features are not finite")
    return f


def _ink_json(ink: Ink) -> list[list[list[float]]]:
    return [[[round(v, DECIMALS) for v in p] for p in s]
            for s in ink.to_json()["strokes"]]


def _example_json(e: Example) -> dict[str, Any]:
    d = {"label": e.label, "time": round(e.time, 3), "model_id": e.model_id,
         "strokes": _ink_json(e.ink), "features": _encode_features(e.features)}
    if e.margin is not None:
        d["margin"] = round(e.margin, 3)
    if e.image is not None:
        d["image"] = base64.b64encode(e.image.astype(np.uint8).tobytes()).decode("ascii")
    return d


def _decode_image(text: object) -> np.ndarray | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("image must be base64 text")
    raw = base64.b64decode(text, validate=True)
    if len(raw) != IMAGE_SIDE * IMAGE_SIDE:
        raise ValueError("image is not 28 x 28")
    img: np.ndarray = np.frombuffer(raw, np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE).copy()
    return img


def _example_from(d: object) -> Example:
    if not isinstance(d, dict):
        raise ValueError("an example is not an object")
    label, t, model_id = d.get("label"), d.get("time"), d.get("model_id", "")
    if not isinstance(label, str) or not 0 < len(label) <= 8:
        raise ValueError(f"bad label {label!r}")
    if not isinstance(t, int | float) or not isinstance(model_id, str):
        raise ValueError("bad time or model id")
    strokes = d.get("strokes")
    ink = Ink() if strokes == [] else Ink.from_json({"strokes": strokes})  # [] : an image
    image = _decode_image(d.get("image"))
    if ink.is_empty and image is None:
        raise ValueError("neither ink nor image")
    margin = d.get("margin")
    if margin is not None and (not isinstance(margin, int | float)
                               or not 0 <= margin < float("inf")):
        raise ValueError(f"bad margin {margin!r}")
    return Example(ink, label, float(t), model_id, _decode_features(d.get("features")),
                   image, None if margin is None else float(margin))


class Profile:
    """The examples in memory, and the file they live in (None: not saved anywhere).

    ``revision`` grows with every change, so that an ``AdaptedClassifier`` knows when to
    rebuild. Nothing is written until ``save()``.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 max_examples: int = MAX_EXAMPLES) -> None:
        self.path = None if path is None else Path(path)
        self.max_examples = max_examples
        self.examples: list[Example] = []
        self.revision = 0
        # id(example) -> (example, its JSON): examples never change, so a save encodes
        # only the new ones (the ink's JSON is most of a save's time).
        self._encoded: dict[int, tuple[Example, bytes]] = {}

    def __len__(self) -> int:
        return len(self.examples)

    # --- reading ------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str],
             max_examples: int = MAX_EXAMPLES) -> tuple[Profile, str | None]:
        """(the profile, a one-line message or None). A missing file is an empty profile;
        a damaged one is moved aside (``.damaged-<time>``) and the profile starts empty."""
        profile = cls(path, max_examples)
        p = Path(path)
        if not p.exists():
            return profile, None
        try:
            profile.examples = read_examples(p)[-max_examples:]
        except ProfileError as e:
            aside = p.with_name(f"{p.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                p.replace(aside)
            except OSError:
                return profile, f"handwriting profile {p} is damaged ({e}); starting afresh"
            return profile, (f"handwriting profile {p.name} was damaged ({e}): moved aside "
                             f"to {aside.name}, starting afresh")
        return profile, None

    def _embedded(self, model_id: str) -> list[Example]:
        use = [e for e in self.examples if e.model_id == model_id and e.features is not None]
        sizes = {len(e.features) for e in use if e.features is not None}
        return use if len(sizes) == 1 else []  # one model, one size: else a damaged cache

    def features_for(self, model_id: str) -> tuple[np.ndarray, list[str]]:
        """([M, D] features, labels) of the examples embedded by ``model_id``."""
        use = self._embedded(model_id)
        if not use:
            return np.zeros((0, 0), np.float32), []
        return np.stack([e.features for e in use if e.features is not None]), \
            [e.label for e in use]

    def margins_for(self, model_id: str) -> list[float | None]:
        """The margins of the examples ``features_for`` gives, in the same order."""
        return [e.margin for e in self._embedded(model_id)]

    def set_aside(self, model_id: str) -> int:
        """How many examples cannot be used with ``model_id`` (made with another model
        and not re-embedded)."""
        return sum(1 for e in self.examples if e.model_id != model_id or e.features is None)

    def reembed(self, model_id: str,
                embed: Callable[[Example], np.ndarray | tuple[np.ndarray, float | None]],
                which: Callable[[Example], bool] | None = None) -> tuple[int, int]:
        """Re-embed the examples of other models from their ink (or image) with ``embed``
        (the new model's features, or features and margin), only those ``which``
        accepts when given. (re-embedded, failed); failed ones stay set aside."""
        done = failed = 0
        for i, e in enumerate(self.examples):
            if e.model_id == model_id and e.features is not None:
                continue
            if which is not None and not which(e):
                continue
            try:
                got = embed(e)
                f, margin = got if isinstance(got, tuple) else (got, None)
                f = np.asarray(f, np.float32).reshape(-1)
            except (InkError, ValueError, ArithmeticError):
                failed += 1
                continue
            self.examples[i] = replace(e, model_id=model_id, features=f, margin=margin)
            done += 1
        if done:
            self.revision += 1
        return done, failed

    # --- changing -----------------------------------------------------------------
    def add_example(self, ink: object, label: str, features: np.ndarray | None,
                    model_id: str, when: float | None = None,
                    image: np.ndarray | None = None, margin: float | None = None) -> Example:
        """Add one corrected character (the oldest go beyond the cap). ``image``: the
        model input [28, 28] in 0..1, kept only when there is no ink (an image file)."""
        if not isinstance(ink, Ink):
            raise TypeError("ink must be an hwr_qt.ink.Ink")
        img = None if image is None or not ink.is_empty else \
            np.clip(np.round(np.asarray(image, np.float32) * 255), 0, 255).astype(np.uint8)
        e = Example(ink, label, time.time() if when is None else when, model_id,
                    None if features is None else np.asarray(features, np.float32).copy(),
                    img, margin)
        self.examples.append(e)
        del self.examples[:max(0, len(self.examples) - self.max_examples)]
        self.revision += 1
        return e

    def remove(self, index: int) -> Example:
        e = self.examples.pop(index)
        self.revision += 1
        return e

    def clear(self) -> None:
        """Forget the user's handwriting (the file too, at the next save)."""
        self.examples.clear()
        self.revision += 1

    # --- files --------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically to ``path`` (default: the profile's own file)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ProfileError("the profile has no file to save to")
        write_encoded(target, self.encoded())
        return target

    def encoded(self, examples: list[Example] | None = None) -> list[bytes]:
        """Each example's JSON (of ``examples``, a snapshot of ``self.examples``; default:
        the examples now), for ``write_encoded``. One thread at a time."""
        out = []
        for e in self.examples if examples is None else examples:
            hit = self._encoded.get(id(e))
            if hit is None or hit[0] is not e:
                hit = (e, json.dumps(_example_json(e), separators=(",", ":")).encode())
                self._encoded[id(e)] = hit
            out.append(hit[1])
        if len(self._encoded) > 2 * len(self.examples) + 16:  # forget removed examples
            live = {id(e) for e in self.examples}
            self._encoded = {k: v for k, v in self._encoded.items() if k in live}
        return out

    def export(self, path: str | os.PathLike[str]) -> Path:
        return self.save(path)

    def import_(self, path: str | os.PathLike[str]) -> int:
        """Add the examples of another profile file (oldest first, then capped).
        Returns how many were added; ProfileError for a file that is not a profile."""
        got = read_examples(Path(path))
        known = {(e.label, e.time) for e in self.examples}
        new = [e for e in got if (e.label, e.time) not in known]
        self.examples = sorted(self.examples + new, key=lambda e: e.time)
        del self.examples[:max(0, len(self.examples) - self.max_examples)]
        self.revision += 1
        return len(new)


def read_examples(path: Path) -> list[Example]:
    """The examples of a profile file; ProfileError (one line) when it is not one."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ProfileError("too big to be a profile")
        raw = path.read_bytes()
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        data = json.loads(text)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise ProfileError(f"cannot read it: {e}") from None
    except (ValueError, RecursionError):
        raise ProfileError("not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProfileError("not an hwr-qt handwriting profile")
    if data.get("version") != VERSION:
        raise ProfileError(f"profile version {data.get('version')!r}, this app reads "
                           f"{VERSION}")
    items = data.get("examples")
    if not isinstance(items, list):
        raise ProfileError("no list of examples")
    out = []
    for n, d in enumerate(items, 1):
        try:
            out.append(_example_from(d))
        except (ValueError, InkError, TypeError) as e:
            raise ProfileError(f"example {n}: {e}") from None
    return out


def write_examples(path: Path, examples: list[Example]) -> None:
    """gzip'd JSON via a temporary file in the same folder, then an atomic rename."""
    write_encoded(path, [json.dumps(_example_json(e), separators=(",", ":")).encode()
                         for e in examples])


def write_encoded(path: Path, examples: list[bytes]) -> None:
    """``write_examples`` of already encoded examples (``Profile.encoded``). Safe on a
    worker thread: it touches nothing but its arguments and the file."""
    head = json.dumps({"format": FORMAT, "version": VERSION}, separators=(",", ":"))
    text = b"".join([head[:-1].encode(), b',"examples":[', b",".join(examples), b"]}"])
    blob = gzip.compress(text, compresslevel=6, mtime=0)  # 9 is 2x slower, 1 % smaller
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):  # nothing to clean when the folder is missing
            tmp.unlink(missing_ok=True)
        raise ProfileError(f"cannot save the handwriting profile {path}: "
                           f"{e.strerror or e}") from None
