"""Real pen-drawn characters (``$HWR_PEN_DIR/*.jsonl.gz``), validated, split by writer.

Each line of a file is one character as a pen drew it::

    {"label": "8", "writer": "pendigits/train-12", "set": "train", "strokes": [[[x, y], ...]]}

Points are in the source's own units, y downward (like the app's ink files), so a sample
becomes an ``hwr_qt.ink.Ink`` as it is and is rendered by the app's own ``raster`` path,
exactly as the canvas renders a drawing.

Splits are by writer, never by sample: a test writer is never seen in training or tuning.
pendigits keeps its own 30/14 writer split (a fifth of its training writers validate);
every other writer is assigned by a hash of its id, so the same writer (a UNIPEN session
that wrote digits and letters) lands in the same split in every file, on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hwr_qt.ink import Ink, InkError

ENV_VAR = "HWR_PEN_DIR"
DIGIT_FILES = ("pendigits", "uji_digits", "unipen_digits")
LETTER_FILES = ("unipen_upper", "unipen_lower", "omniglot_latin")
SPLITS = ("train", "val", "test")
TEST_SHARE, VAL_SHARE = 0.25, 0.15  # of the writers of a source without its own split
PENDIGITS_VAL_SHARE = 0.2  # of pendigits' own training writers
# Letters whose shapes are unlike any digit: "not a digit" examples for the digit model
# and the rejection benchmark (o/O, l/I, s/S, z/Z, g/q, b, B, G, D, T... look like digits).
UNLIKE_DIGITS = frozenset("ACEFHKMNRVWXYacefhkmnrvwxy")
MAX_ASPECT = 3.0  # width/height beyond which a "character" is a word or a scribble
MIN_POINTS = 3


class PenDataError(Exception):
    """The pen data is missing or damaged; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class PenSample:
    label: str
    writer: str  # unique across sources ("pendigits/train-12", "unipen/apa/app0032")
    source: str  # file stem: "pendigits", "uji_digits", ...
    split: str  # "train" | "val" | "test", by writer
    ink: Ink


@dataclass
class PenData:
    samples: list[PenSample]
    dropped: dict[str, int]  # file stem -> plainly broken samples left out

    def select(self, *, split: str | None = None, sources: Iterable[str] | None = None,
               labels: Iterable[str] | None = None) -> list[PenSample]:
        src = None if sources is None else set(sources)
        lab = None if labels is None else set(labels)
        return [s for s in self.samples
                if (split is None or s.split == split)
                and (src is None or s.source in src)
                and (lab is None or s.label in lab)]

    def summary(self) -> dict[str, dict[str, int]]:
        """{source: {split: count}} (for model cards and logs)."""
        out: dict[str, Counter[str]] = {}
        for s in self.samples:
            out.setdefault(s.source, Counter())[s.split] += 1
        return {k: dict(v) for k, v in sorted(out.items())}


def _bucket(writer: str) -> float:
    """A fixed number in [0, 1) per writer id (sha256: the same on every machine)."""
    return int.from_bytes(hashlib.sha256(writer.encode()).digest()[:8], "big") / 2**64


def writer_split(writer: str, source_set: str) -> str:
    """The split of a writer. ``source_set`` is the record's own ``set`` field."""
    if source_set == "test":
        return "test"
    if source_set == "train":
        return "val" if _bucket(writer) < PENDIGITS_VAL_SHARE else "train"
    b = _bucket(writer)
    return "test" if b < TEST_SHARE else "val" if b < TEST_SHARE + VAL_SHARE else "train"


def pen_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The argument, else $HWR_PEN_DIR; raises PenDataError when neither exists."""
    raw = path if path is not None else os.environ.get(ENV_VAR)
    if not raw:
        raise PenDataError(f"no pen data folder: pass one or set {ENV_VAR}")
    p = Path(raw)
    if not p.is_dir():
        raise PenDataError(f"pen data folder not found: {p}")
    return p


def parse_record(line: str, where: str) -> tuple[str, str, str, Ink]:
    """(label, writer, set, ink) of one JSON line; PenDataError naming ``where``."""
    try:
        rec = json.loads(line)
    except ValueError as e:
        raise PenDataError(f"{where}: not JSON ({e.msg})") from None
    if not isinstance(rec, dict):
        raise PenDataError(f"{where}: expected a JSON object")
    label, writer, src_set = rec.get("label"), rec.get("writer"), rec.get("set", "all")
    if not isinstance(label, str) or len(label) != 1 or not label.isalnum():
        raise PenDataError(f"{where}: 'label' must be one letter or digit, got {label!r}")
    if not isinstance(writer, str) or not writer:
        raise PenDataError(f"{where}: 'writer' must be a non-empty string")
    if src_set not in ("train", "test", "all"):
        raise PenDataError(f"{where}: 'set' must be train, test or all, got {src_set!r}")
    try:
        ink = Ink.from_json({"strokes": rec.get("strokes")})
    except InkError as e:
        raise PenDataError(f"{where}: {e}") from None
    return label, writer, src_set, ink


def is_plausible(ink: Ink) -> bool:
    """False for what is plainly broken: a word under one label, a tap, a flat line."""
    if ink.point_count < MIN_POINTS:
        return False
    x0, y0, x1, y1 = ink.bounds()
    w, h = x1 - x0, y1 - y0
    return h > 0 and w / h <= MAX_ASPECT


def load_file(path: Path) -> tuple[list[PenSample], int]:
    """Samples of one ``.jsonl.gz`` file and the number dropped as plainly broken."""
    source = path.name.removesuffix(".jsonl.gz")
    samples, dropped = [], 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                label, writer, src_set, ink = parse_record(line, f"{path.name}:{n}")
                if not is_plausible(ink):
                    dropped += 1
                    continue
                samples.append(PenSample(label, writer, source, writer_split(writer, src_set),
                                         ink))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise PenDataError(f"{path.name}: cannot read ({e})") from None
    return samples, dropped


def load_pen(path: str | os.PathLike[str] | None = None,
             files: Iterable[str] = DIGIT_FILES + LETTER_FILES) -> PenData:
    """The named files (stems) of the pen folder; every one must exist."""
    root = pen_dir(path)
    samples: list[PenSample] = []
    dropped: dict[str, int] = {}
    for stem in files:
        p = root / f"{stem}.jsonl.gz"
        if not p.is_file():
            raise PenDataError(f"missing pen data file: {p}")
        got, dropped[stem] = load_file(p)
        samples += got
    return PenData(samples, dropped)
