"""Ink or image file -> model input -> top-k: the path shared by the GUI and the CLI.

``read_ink`` reads one digit; ``read_number`` segments a drawing into characters
(``hwr_qt.segment``) and reads each, choosing between candidate splits by confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwr_qt import imagetext
from hwr_qt.imagefile import image_ink, read_image
from hwr_qt.ink import Ink, InkError, load_ink
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.raster import render_ink
from hwr_qt.recognizer import Prediction, Recognizer
from hwr_qt.segment import (
    Box,
    group_strokes,
    ink_box,
    merge_candidates,
    split_candidates,
    stroke_partitions,
)

REJECTED_LABEL = "?"
SPLIT_MARGIN = 0.1  # mean log-confidence each extra piece must gain
WIDE_CAP = 1.5  # the most that width alone may cost a reading
WIDE = 1.6  # width/height beyond which one digit is unlikely (hasty wide zeros reach ~1.5)
MIN_PIECE_HEIGHT = 0.6  # of the group's height: shorter pieces are ligatures, not digits
CROSSING_PENALTY = 1.0  # per extra stroke crossing of a cut: digits meet at one joint
# A stroke-wise parting cuts no ink (it follows the pen lifts), so its pieces get the
# split margin back: the margin guards against cuts through a digit's body.
PARTITION_MARGIN_BACK = SPLIT_MARGIN
# Per group a merge swallows. Two groups read apart score the sum of their own scores,
# each of which already paid SPLIT_MARGIN for any extra piece; 2 x SPLIT_MARGIN lets a
# merge win where the split rule would have joined the pieces (val writers: 0.0-0.3
# move numbers by +-0.2 pt; below 0.2 more single digits read as several).
MERGE_BONUS = 2 * SPLIT_MARGIN
MAX_PIECES = 40  # pieces to read per drawing before merges and partings are left out
# Images (tuned on the photo benchmark's validation writers): blur and JPEG merge
# nearby ink, so a cut meets extra runs more often, and two touching digits read as one
# are a likelier mistake than one digit read as two.
IMAGE_CROSSING_PENALTY = 0.3
IMAGE_SPLIT_MARGIN = 0.05
# An image's box includes the stroke width; 99 % of validation pen digits are narrower
# than 1.35 x their height, so wider groups are likelier two digits touching.
IMAGE_WIDE = 1.2

INK_SUFFIXES = {".json", ".ink"}
# Beyond these a drawing is no number any more (20+ digits, or a pen left on the tablet),
# and segmenting it would take longer than a user waits: it is refused with a message.
MAX_READ_STROKES = 40
MAX_READ_POINTS = 100_000


@dataclass(frozen=True)
class Reading:
    """What the recognizer read: the 28x28 input it saw and its ranked answers."""

    model_input: np.ndarray  # float32 [28, 28]
    probabilities: np.ndarray  # float32 [10], calibrated
    top_k: list[Prediction]
    not_digit: float | None = None  # the model's belief that this is no digit at all
    rejected: bool = False

    @property
    def label(self) -> str:
        """The digit, or "?" when the ink was rejected as not a digit."""
        return REJECTED_LABEL if self.rejected else self.top_k[0].label

    @property
    def confidence(self) -> float:
        return self.top_k[0].probability


def read_inputs(recognizer: Recognizer, inputs: list[np.ndarray], k: int = 3) -> list[Reading]:
    """Several model inputs in one inference call."""
    probs, reject = recognizer.predict(np.stack(inputs))
    out = []
    for i, x in enumerate(inputs):
        nd = None if reject is None else float(reject[i])
        out.append(Reading(x, probs[i], recognizer.top_k_from(probs[i], k), nd,
                           nd is not None and nd >= recognizer.reject_threshold))
    return out


def read_input(recognizer: Recognizer, model_input: np.ndarray, k: int = 3) -> Reading:
    return read_inputs(recognizer, [model_input], k)[0]


def read_ink(recognizer: Recognizer, ink: Ink, k: int = 3) -> Reading:
    return read_input(recognizer, render_ink(ink), k)


def is_ink_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in INK_SUFFIXES


@dataclass(frozen=True)
class CharReading:
    """One character of a number: its ink, its box (ink coordinates) and its reading."""

    ink: Ink
    box: Box
    reading: Reading

    @property
    def label(self) -> str:
        return self.reading.label


@dataclass(frozen=True)
class NumberReading:
    chars: list[CharReading]

    @property
    def text(self) -> str:
        return "".join(c.label for c in self.chars)

    @property
    def confidence(self) -> float:
        """Probability that every digit is right (product of per-digit confidences)."""
        if self.rejected:
            return 0.0
        return float(np.prod([c.reading.confidence for c in self.chars]))

    @property
    def rejected(self) -> bool:
        return any(c.reading.rejected for c in self.chars)


def _score(readings: list[Reading], boxes: list[Box], wide: float = WIDE) -> float:
    """Mean log-probability that each piece is the digit it was read as, times a prior
    that digits are not much wider than tall (the model reads a squashed "22" as a "2")."""
    total = 0.0
    for r, b in zip(readings, boxes, strict=True):
        p = r.confidence * (1.0 - (r.not_digit or 0.0))
        aspect = b.width / max(b.height, 1e-9)
        total += math.log(max(p, 1e-6)) - min(max(0.0, (aspect - wide) / 0.25) ** 2, WIDE_CAP)
    return total / len(readings) - SPLIT_MARGIN * (len(readings) - 1)


Option = tuple[list[Ink], list[Box], float]  # pieces, their boxes, a cost on top of _score


def _group_options(group: Ink) -> list[Option]:
    """The group read whole or cut at projection minima."""
    box = ink_box(group)
    options: list[Option] = [([group], [box], 0.0)]
    for split in split_candidates(group):
        boxes = [ink_box(p) for p in split.pieces]
        if all(b.height >= MIN_PIECE_HEIGHT * box.height for b in boxes):
            options.append((split.pieces, boxes, CROSSING_PENALTY * split.extra_crossings))
    return options


def _add_partings(groups: list[Ink], per_group: list[list[Option]], budget: int) -> None:
    """Each group's stroke-wise partings, while they add at most ``budget`` pieces."""
    for group, options in zip(groups, per_group, strict=True):
        height = options[0][1][0].height
        for split in stroke_partitions(group):
            if len(split.pieces) > budget:
                return
            boxes = [ink_box(p) for p in split.pieces]
            if all(b.height >= MIN_PIECE_HEIGHT * height for b in boxes):
                options.append((split.pieces, boxes,
                                -PARTITION_MARGIN_BACK * (len(split.pieces) - 1)))
                budget -= len(split.pieces)


def read_number(recognizer: Recognizer, ink: Ink, k: int = 3) -> NumberReading:
    """Several digits in one drawing -> per-character readings, left to right.

    Each stroke group (``group_strokes``) is read whole and, when it may hold several
    digits, as pieces (``split_candidates``, ``stroke_partitions``); the best option of a
    group scores highest by ``_score``. Neighbouring groups that may be one character
    (``merge_candidates``) are read as one too, and become one where that reading beats
    the run's separate readings by the same score: merging is splitting's mirror image.
    Every piece of every option goes through one inference call.
    """
    groups = group_strokes(ink)
    per_group = [_group_options(g) for g in groups]
    # At most MAX_PIECES pieces to read per drawing: many strokes crowded together (like
    # hatching) would otherwise multiply the merges and partings to read.
    budget = MAX_PIECES - sum(len(pieces) for options in per_group for pieces, _, _ in options)
    merges = merge_candidates(groups)[:max(budget, 0)]
    _add_partings(groups, per_group, budget - len(merges))
    order = {id(s): i for i, s in enumerate(ink.strokes)}
    merged = [Ink(tuple(sorted((s for g in groups[i:j] for s in g.strokes),
                               key=lambda s: order[id(s)]))) for i, j in merges]
    flat = [p for options in per_group for pieces, _, _ in options for p in pieces] + merged
    if not flat:
        return NumberReading([])
    readings = iter(read_inputs(recognizer, [render_ink(p) for p in flat], k))
    # Per group, its best reading (characters and score), as before merges existed.
    chosen: list[tuple[list[CharReading], float]] = []
    for options in per_group:
        best, best_score = [], -math.inf
        for pieces, boxes, cost in options:
            rs = [next(readings) for _ in pieces]
            score = _score(rs, boxes) - cost
            if score > best_score:
                best_score = score
                best = [CharReading(p, b, r) for p, b, r in zip(pieces, boxes, rs, strict=True)]
        chosen.append((best, best_score))
    # Then the best way through the groups, left to right: each step reads one group as
    # chosen above, or a mergeable run of k groups as one character. Every group counts
    # once: a merged run scores k times its reading's score, plus MERGE_BONUS per group
    # it swallows (the split margin the separate reading would have paid).
    steps: list[list[tuple[int, float, list[CharReading]]]] = [
        [(i + 1, chosen[i][1], chosen[i][0])] for i in range(len(groups))]
    for (i, j), piece in zip(merges, merged, strict=True):
        one = CharReading(piece, ink_box(piece), next(readings))
        size = j - i
        steps[i].append((j, size * _score([one.reading], [one.box]) + MERGE_BONUS * (size - 1),
                         [one]))
    total = [0.0] * (len(groups) + 1)
    best_step: list[tuple[int, list[CharReading]]] = [(0, [])] * len(groups)
    for i in range(len(groups) - 1, -1, -1):
        total[i] = -math.inf
        for j, score, chars in steps[i]:
            if score + total[j] > total[i]:
                total[i], best_step[i] = score + total[j], (j, chars)
    out: list[CharReading] = []
    i = 0
    while i < len(groups):
        i, chars = best_step[i]
        out += chars
    return NumberReading(out)


def read_image_ink(recognizer: Recognizer, ink: np.ndarray, k: int = 3) -> NumberReading:
    """An image's ink intensity (``imagefile.image_ink``) -> its characters, left to right.

    Connected components grouped into characters, wide groups also read as cut pieces,
    the options scored exactly like ink (``_score``). Boxes are in the image's pixels.
    """
    work, scale = imagetext.work_scale(ink)
    per_group = imagetext.candidates(work)
    flat = [p for options in per_group for o in options for p in o.pieces]
    if not flat:
        raise EmptyInputError("the image is blank: no ink to recognise")
    readings = iter(read_inputs(recognizer, [imagetext.model_input(p) for p in flat], k))
    chars: list[CharReading] = []
    for options in per_group:
        best: list[CharReading] = []
        best_score = -math.inf
        whole_h = options[0].pieces[0].box[3] - options[0].pieces[0].box[1]
        for o in options:
            rs = [next(readings) for _ in o.pieces]
            boxes = [Box(*(v * scale for v in p.box)) for p in o.pieces]
            if len(o.pieces) > 1 and any(p.box[3] - p.box[1] < MIN_PIECE_HEIGHT * whole_h
                                         for p in o.pieces):
                continue
            margin = (SPLIT_MARGIN - IMAGE_SPLIT_MARGIN) * (len(rs) - 1)
            score = (_score(rs, boxes, IMAGE_WIDE) + margin
                     - IMAGE_CROSSING_PENALTY * o.extra_crossings)
            if score > best_score:
                best = [CharReading(Ink(), b, r) for b, r in zip(boxes, rs, strict=True)]
                best_score = score
        chars += best
    return NumberReading(chars)


def check_readable(ink: Ink) -> None:
    """Raise InkError, with a message for the user, if the drawing is too big to read."""
    strokes, points = len(ink.strokes), ink.point_count
    if strokes > MAX_READ_STROKES:
        raise InkError(f"too much ink to read as a number ({strokes} strokes; the limit "
                       f"is {MAX_READ_STROKES})")
    if points > MAX_READ_POINTS:
        raise InkError(f"too much ink to read as a number ({points:,} points; the limit "
                       f"is {MAX_READ_POINTS:,})")


def read_file(recognizer: Recognizer, path: str | Path, k: int = 3) -> NumberReading:
    """An ink (.json/.ink) or image file, either of which may hold several digits.
    Raises InkError/ImageFileError/EmptyInputError/ModelOutputError."""
    if is_ink_file(path):
        ink = load_ink(path)
        check_readable(ink)
        number = read_number(recognizer, ink, k)
        if not number.chars:
            raise EmptyInputError("no ink to recognise")
        return number
    return read_image_ink(recognizer, image_ink(read_image(path)), k)
