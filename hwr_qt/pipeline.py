"""Ink or image file -> model input -> top-k: the path shared by the GUI and the CLI.

``read_ink`` reads one character; ``read_number`` segments a drawing into characters
(``hwr_qt.segment``) and reads each, choosing between candidate splits by confidence.
Any ``Classifier`` reads (``hwr_qt.classifier``); a reading mode (digits, letters, all)
restricts it to the mode's labels, and in letters and everything mode a drawing of
separate letters reads as a word, with letter-shaped priors and case from context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hwr_qt import imagetext
from hwr_qt.case import decide_case
from hwr_qt.classifier import Classifier, ModelInfo, Prediction, for_mode, ranked
from hwr_qt.imagefile import image_ink, read_image
from hwr_qt.ink import Ink, InkError, load_ink
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.raster import render_ink
from hwr_qt.recognizer import ModelOutputError
from hwr_qt.segment import (
    SIDE_OVERLAP,
    Box,
    group_strokes,
    ink_box,
    meeting_runs,
    merge_candidates,
    split_candidates,
    stroke_partitions,
)
from hwr_qt.trajectory import TrajectoryModel, mix, mix_reject

REJECTED_LABEL = "?"  # how views show a rejected character; never a model's label
SPLIT_MARGIN = 0.1  # mean log-confidence each extra piece must gain
WIDE_CAP = 1.5  # the most that width alone may cost a reading
WIDE = 1.6  # width/height beyond which one digit is unlikely (hasty wide zeros reach ~1.5)
MIN_PIECE_HEIGHT = 0.6  # of the group's height: shorter pieces are ligatures, not digits
CROSSING_PENALTY = 1.0  # per extra stroke crossing of a cut: digits meet at one joint
# A stroke-wise parting cuts no ink (it follows the pen lifts), so its pieces get the
# split margin back: the margin guards against cuts through a digit's body.
PARTITION_MARGIN_BACK = SPLIT_MARGIN
# Digits: a group is also parted where its parts overlap (a hurried "1" written into the
# "3" before it), at a cost, except a lone group the model rejects with at least
# OVERLAP_PARTING_MAX_REJECT (a letter's strokes part into digit-like bars). Val writers
# (``benchmarks.pen --split val``, 2,000 numbers): numbers 95.80 -> 96.40 %, single
# digits unchanged, letters rejected 90.54 -> 90.40 % (86.9 % without the reject rule).
# Parts shorter than MIN_PIECE_HEIGHT gained 0.45 pt more on val but cost the drawn-ink
# benchmark's numbers 0.5 pt (MNIST digits traced in several strokes came apart).
PARTING_OVERLAP = 1.0
OVERLAP_PARTING_COST = 0.5
OVERLAP_PARTING_MAX_REJECT = 0.9
# Per group a merge swallows. Two groups read apart score the sum of their own scores,
# each of which already paid SPLIT_MARGIN for any extra piece; 2 x SPLIT_MARGIN lets a
# merge win where the split rule would have joined the pieces (val writers: 0.0-0.3
# move numbers by +-0.2 pt; below 0.2 more single digits read as several).
MERGE_BONUS = 2 * SPLIT_MARGIN
MAX_PIECES = 40  # pieces to read per drawing before merges and partings are left out
# Images (tuned on the photo benchmark's validation writers): two touching digits read
# as one are a likelier mistake than one digit read as two. Crossings are counted on
# solid ink (``imagetext.crossings``), so a cut through a loop costs what it does in ink.
IMAGE_CROSSING_PENALTY = CROSSING_PENALTY
IMAGE_SPLIT_MARGIN = 0.05
# Digits that touch meet at one point, side by side: a cut through a single stroke whose
# pieces both stand at least this high (of the group) pays no split margin, as a parting
# at a pen lift does in ink. A 9 cut below its loop leaves pieces of ~0.7; letters are
# exempt (H, M, N are such pairs of bars).
FULL_HEIGHT = 0.8
# On the pen's centre-line box (``imagetext.centre_box``): wider groups are likelier
# two digits touching than one (1.4 and 1.6 read fewer val numbers).
IMAGE_WIDE = 1.2
# Letters (letters and everything mode): m and w are wide by nature, so the width prior
# starts later for them; i, l, 1 (and I, j, !) are narrow, so reading a wide piece as one
# of them costs too. Digits mode keeps the digit priors above unchanged.
WIDE_LABELS = frozenset("mwMW")
# Letters are often several strokes side by side (H, K, M, N) whose parts read as letters
# too (l, t, c, n), so cutting a group costs more than in digits. Tuned on the letters
# benchmark's validation writers (``python -m benchmarks.pen.letters --split val``):
# 0.3-1.0 all help single letters, and words within noise.
# Letters whose strokes meet (``segment.meeting_runs``) become one only where that reading
# wins by this much per letter swallowed, less MERGE_BONUS: touching letters of a word
# meet too. Val writers: words 45.7 -> 46.0 % with capitals 94.4 % (0 gave 43.8 %; 0.6
# lost the capitals gained).
MEETING_COST = 0.4
LETTER_SPLIT_COST = 0.6  # val writers: single letters read as several 6.0 -> 4.0 %
WIDE_LETTER = 2.6  # width/height a hasty "m" reaches
NARROW_LABELS = frozenset("ilj1I!|")
NARROW = 0.9  # width/height beyond which an i, l or 1 is unlikely

INK_SUFFIXES = {".json", ".ink"}
# Beyond these a drawing is no number any more (20+ digits, or a pen left on the tablet),
# and segmenting it would take longer than a user waits: it is refused with a message.
MAX_READ_STROKES = 40
MAX_READ_POINTS = 100_000


@dataclass(frozen=True)
class Reading:
    """What the recognizer read: the 28x28 input it saw and its ranked answers."""

    model_input: np.ndarray  # float32 [28, 28]
    probabilities: np.ndarray  # float32 [C], calibrated, over the mode's labels
    top_k: list[Prediction]
    reject: float | None = None  # the model's belief that this is no character at all
    rejected: bool = False
    from_profile: bool = False  # answered from the user's own examples
    guided: bool = False  # the user's examples had a say (``Scores.guided``)

    @property
    def label(self) -> str:
        """The character, or "?" when the ink was rejected as none."""
        return REJECTED_LABEL if self.rejected else self.top_k[0].label

    @property
    def confidence(self) -> float:
        return self.top_k[0].probability

    @property
    def not_digit(self) -> float | None:
        """The reject score under its digits-only name (older callers)."""
        return self.reject


def read_inputs(classifier: Classifier, inputs: list[np.ndarray], k: int = 3,
                mode: str | None = None) -> list[Reading]:
    """Several model inputs in one inference call (in ``mode``: its labels only)."""
    if mode is not None:
        classifier = for_mode(classifier, mode)
    info = classifier.info
    scores = classifier.classify(np.stack(inputs))
    probs, reject, mine = scores.probabilities, scores.reject, scores.from_profile
    guided = scores.guided if scores.guided is not None else mine
    out = []
    for i, x in enumerate(inputs):
        r = None if reject is None else float(reject[i])
        out.append(Reading(x, probs[i], ranked(probs[i], info, k), r,
                           r is not None and r >= info.reject_threshold,
                           bool(mine[i]) if mine is not None else False,
                           bool(guided[i]) if guided is not None else False))
    return out


def read_input(classifier: Classifier, model_input: np.ndarray, k: int = 3,
               mode: str | None = None) -> Reading:
    return read_inputs(classifier, [model_input], k, mode)[0]


def read_ink(classifier: Classifier, ink: Ink, k: int = 3, mode: str | None = None,
             path_model: TrajectoryModel | None = None) -> Reading:
    """One character of ink; with ``path_model``, its path is read too (``with_path``)."""
    if mode is not None:
        classifier = for_mode(classifier, mode)
    return read_pieces(classifier, [ink], k, path_model)[0]


def read_pieces(classifier: Classifier, pieces: list[Ink], k: int = 3,
                path_model: TrajectoryModel | None = None) -> list[Reading]:
    """Pieces of ink, each one character, in one inference call per model."""
    readings = read_inputs(classifier, [render_ink(p) for p in pieces], k)
    labels = classifier.info.labels
    if path_model is None or not path_model.serves(labels):
        return readings
    try:
        probs, reject = path_model.scores(pieces, labels)
    except ModelOutputError:
        return readings  # a path model answering nonsense has no say; the image reads
    return with_path(readings, probs, path_model.weight, classifier.info, k, reject)


def with_path(readings: list[Reading], path: np.ndarray, weight: float, info: ModelInfo,
              k: int, path_reject: np.ndarray | None = None) -> list[Reading]:
    """The image readings joined with the path model's probabilities [N, C]
    (``trajectory.mix``) and, where both models have one, reject scores [N]
    (``trajectory.mix_reject``). A reading the user's examples had a say in
    (``Reading.guided``) stays as the profile made it: a correction must hold."""
    if len(readings) != len(path):
        raise ValueError(f"{len(readings)} readings but {len(path)} path scores")
    mixed = mix(np.stack([r.probabilities for r in readings]), path, weight)
    image_reject = [r.reject for r in readings]
    joined = None
    if path_reject is not None and all(v is not None for v in image_reject):
        joined = mix_reject(np.array(image_reject, np.float64), path_reject, weight)
    out = []
    for i, r in enumerate(readings):
        if not r.guided:
            reject = r.reject if joined is None else float(joined[i])
            r = replace(r, probabilities=mixed[i], top_k=ranked(mixed[i], info, k),
                        reject=reject,
                        rejected=reject is not None and reject >= info.reject_threshold)
        out.append(r)
    return out


def reading_mode(classifier: Classifier, mode: str | None) -> tuple[Classifier, str]:
    """The classifier restricted to ``mode`` (None: the first mode the model serves)."""
    mode = mode or classifier.info.modes[0]
    return for_mode(classifier, mode), mode


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
        """Probability that every character is right (product of their confidences)."""
        if self.rejected:
            return 0.0
        return float(np.prod([c.reading.confidence for c in self.chars]))

    @property
    def rejected(self) -> bool:
        return any(c.reading.rejected for c in self.chars)


def _aspect_cost(aspect: float, limit: float) -> float:
    return min(max(0.0, (aspect - limit) / 0.25) ** 2, WIDE_CAP)


def _score(readings: list[Reading], boxes: list[Box], wide: float = WIDE,
           letters: bool = False) -> float:
    """Mean log-probability that each piece is the character it was read as, times a
    prior that characters are not much wider than tall (the model reads a squashed "22"
    as a "2"); with ``letters``, the prior follows the label (an m is wide, an l narrow)."""
    total = 0.0
    for r, b in zip(readings, boxes, strict=True):
        p = r.confidence * (1.0 - (r.reject or 0.0))
        aspect = b.width / max(b.height, 1e-9)
        label = r.top_k[0].label
        cost = _aspect_cost(aspect, WIDE_LETTER if letters and label in WIDE_LABELS
                            else wide)
        if letters and label in NARROW_LABELS:
            cost += _aspect_cost(aspect, NARROW)
        total += math.log(max(p, 1e-6)) - cost
    return total / len(readings) - SPLIT_MARGIN * (len(readings) - 1)


class Option(NamedTuple):
    """One way to read a group: its pieces, their boxes, a cost on top of ``_score``."""

    pieces: list[Ink]
    boxes: list[Box]
    cost: float
    # A parting of overlapping strokes: only where the group read whole is not
    # confidently "no digit" (a letter's strokes part into digit-like bars).
    overlapping: bool = False


def _group_options(group: Ink) -> list[Option]:
    """The group read whole or cut at projection minima."""
    box = ink_box(group)
    options: list[Option] = [Option([group], [box], 0.0)]
    for split in split_candidates(group):
        boxes = [ink_box(p) for p in split.pieces]
        if all(b.height >= MIN_PIECE_HEIGHT * box.height for b in boxes):
            options.append(Option(split.pieces, boxes,
                                  CROSSING_PENALTY * split.extra_crossings))
    return options


def _add_partings(groups: list[Ink], per_group: list[list[Option]], budget: int,
                  letters: bool = False) -> None:
    """Each group's stroke-wise partings, while they add at most ``budget`` pieces."""
    overlap = SIDE_OVERLAP if letters else PARTING_OVERLAP
    for group, options in zip(groups, per_group, strict=True):
        height = options[0].boxes[0].height
        for split in stroke_partitions(group, overlap):
            if len(split.pieces) > budget:
                return
            boxes = [ink_box(p) for p in split.pieces]
            if all(b.height >= MIN_PIECE_HEIGHT * height for b in boxes):
                overlapping = split.overlap > SIDE_OVERLAP
                cost = OVERLAP_PARTING_COST if overlapping else 0.0
                options.append(Option(split.pieces, boxes,
                                      cost - PARTITION_MARGIN_BACK * (len(split.pieces) - 1),
                                      overlapping))
                budget -= len(split.pieces)


def read_number(classifier: Classifier, ink: Ink, k: int = 3,
                mode: str | None = None,
                path_model: TrajectoryModel | None = None) -> NumberReading:
    """Several characters in one drawing -> per-character readings, left to right.

    Each stroke group (``group_strokes``) is read whole and, when it may hold several
    digits, as pieces (``split_candidates``, ``stroke_partitions``); the best option of a
    group scores highest by ``_score``. Neighbouring groups that may be one character
    (``merge_candidates``; in letters also ``meeting_runs``, neighbours whose strokes
    meet) are read as one too, and become one where that reading beats
    the run's separate readings by the same score: merging is splitting's mirror image.
    Every piece of every option goes through one inference call. In letters and
    everything mode dots and bars join the letter they belong to, the width priors
    follow the letters and same-shape letters take their case from the word. With
    ``path_model`` every piece's reading joins the pen's path (``read_pieces``).
    """
    classifier, mode = reading_mode(classifier, mode)
    letters = mode != "digits"
    groups = group_strokes(ink, letters=letters)
    per_group = [_group_options(g) for g in groups]
    # At most MAX_PIECES pieces to read per drawing: many strokes crowded together (like
    # hatching) would otherwise multiply the merges and partings to read.
    budget = MAX_PIECES - sum(len(pieces) for options in per_group for pieces, *_ in options)
    merges = merge_candidates(groups)
    meeting: set[tuple[int, int]] = set()
    if letters:  # letters whose strokes meet may be one letter too (an H's stems and bar)
        meeting = set(meeting_runs(groups)) - set(merges)
        merges += sorted(meeting)
    merges = merges[:max(budget, 0)]
    _add_partings(groups, per_group, budget - len(merges), letters)
    order = {id(s): i for i, s in enumerate(ink.strokes)}
    merged = [Ink(tuple(sorted((s for g in groups[i:j] for s in g.strokes),
                               key=lambda s: order[id(s)]))) for i, j in merges]
    flat = [p for options in per_group for pieces, *_ in options for p in pieces] + merged
    if not flat:
        return NumberReading([])
    readings = iter(read_pieces(classifier, flat, k, path_model))
    # Per group, its best reading (characters and score), as before merges existed.
    chosen: list[tuple[list[CharReading], float]] = []
    for options in per_group:
        best, best_score = [], -math.inf
        whole_reject: float | None = None
        for pieces, boxes, cost, overlapping in options:
            rs = [next(readings) for _ in pieces]
            if whole_reject is None:  # options[0]: the group read whole
                whole_reject = rs[0].reject or 0.0
            # A lone group the model calls no digit is a letter or a scribble: its
            # overlapping strokes are not digits written into each other.
            if overlapping and len(per_group) == 1 and \
                    whole_reject >= OVERLAP_PARTING_MAX_REJECT:
                continue
            score = _score(rs, boxes, letters=letters) - cost
            if letters:
                score -= LETTER_SPLIT_COST * (len(pieces) - 1)
            if score > best_score:
                best_score = score
                best = [CharReading(p, b, r) for p, b, r in zip(pieces, boxes, rs, strict=True)]
        chosen.append((best, best_score))
    merged_reads = []
    for (i, j), piece in zip(merges, merged, strict=True):
        one = CharReading(piece, ink_box(piece), next(readings))
        bonus = MERGE_BONUS - (MEETING_COST if (i, j) in meeting else 0.0)
        merged_reads.append((i, j, _merge_value(one, j - i, bonus, letters), one))
    out = _best_path(chosen, merged_reads)
    return NumberReading(with_case(out, classifier.info) if letters else out)


def _merge_value(one: CharReading, size: int, bonus: float, letters: bool,
                 line: Box | None = None, wide: float = WIDE) -> float:
    """What reading ``size`` groups as the one character ``one`` is worth on the path:
    every group counts once, so ``size`` times its score, plus ``bonus`` (MERGE_BONUS,
    the split margin the separate readings would have paid) per group it swallows."""
    score = _score([one.reading], [line or one.box], wide, letters)
    return size * score + bonus * (size - 1)


def _best_path(chosen: list[tuple[list[CharReading], float]],
               merges: list[tuple[int, int, float, CharReading]]) -> list[CharReading]:
    """The best way through the groups, left to right: each step reads one group as
    ``chosen`` (its best characters and their score), or a run ``i:j`` of groups as the
    one merged character (``_merge_value``)."""
    n = len(chosen)
    steps: list[list[tuple[int, float, list[CharReading]]]] = [
        [(i + 1, chosen[i][1], chosen[i][0])] for i in range(n)]
    for i, j, value, one in merges:
        steps[i].append((j, value, [one]))
    total = [0.0] * (n + 1)
    best_step: list[tuple[int, list[CharReading]]] = [(0, [])] * n
    for i in range(n - 1, -1, -1):
        total[i] = -math.inf
        for j, score, chars in steps[i]:
            if score + total[j] > total[i]:
                total[i], best_step[i] = score + total[j], (j, chars)
    out: list[CharReading] = []
    i = 0
    while i < n:
        i, chars = best_step[i]
        out += chars
    return out


def with_case(chars: list[CharReading], info: ModelInfo) -> list[CharReading]:
    """The word's same-shape letters in the case their size says (``case.decide_case``):
    the chosen label moves to the top of the character's top-k."""
    labels = [c.label for c in chars]
    decided = decide_case(labels, [c.box for c in chars], info.same_shape)
    out = []
    for c, old, new in zip(chars, labels, decided, strict=True):
        if new != old:
            r = c.reading
            p = float(r.probabilities[info.labels.index(new)])
            top = [Prediction(new, p)] + [q for q in r.top_k if q.label != new]
            c = CharReading(c.ink, c.box, replace(r, top_k=top[:len(r.top_k)]))
        out.append(c)
    return out


def read_image_ink(classifier: Classifier, ink: np.ndarray, k: int = 3,
                   mode: str | None = None) -> NumberReading:
    """An image's ink intensity (``imagefile.image_ink``) -> its characters, left to right.

    Connected components grouped into characters, wide groups also read as cut pieces,
    neighbouring groups that may be one character also read merged, all scored like
    ink (``_score`` on the pen's centre-line boxes, ``_best_path``). Boxes are in the
    image's pixels.
    """
    classifier, mode = reading_mode(classifier, mode)
    letters = mode != "digits"
    work, scale = imagetext.work_scale(ink)
    lay = imagetext.layout(work, imagetext.LETTER_SPLIT_ASPECT if letters
                           else imagetext.SPLIT_ASPECT)
    flat = [p for options in lay.groups for o in options for p in o.pieces]
    flat += [m.piece for m in lay.merges]
    if not flat:
        raise EmptyInputError("the image is blank: no ink to recognise")
    readings = iter(read_inputs(classifier, [imagetext.model_input(p) for p in flat], k))

    # Boxes: the user's in image pixels; the scoring's on the pen's centre line.
    def char(p: imagetext.Piece, r: Reading) -> tuple[CharReading, Box]:
        line = Box(*imagetext.centre_box(p.box, lay.stroke))
        return CharReading(Ink(), Box(*(v * scale for v in p.box)), r), line

    def score(chars: list[tuple[CharReading, Box]]) -> float:
        return _score([c.reading for c, _ in chars], [b for _, b in chars], IMAGE_WIDE,
                      letters)

    chosen: list[tuple[list[CharReading], float]] = []
    for options in lay.groups:
        best: list[CharReading] = []
        best_score = -math.inf
        whole_h = options[0].pieces[0].box[3] - options[0].pieces[0].box[1]
        for o in options:
            read = [char(p, next(readings)) for p in o.pieces]
            if len(o.pieces) > 1 and any(p.box[3] - p.box[1] < MIN_PIECE_HEIGHT * whole_h
                                         for p in o.pieces):
                continue
            margin = (SPLIT_MARGIN - IMAGE_SPLIT_MARGIN
                      - (LETTER_SPLIT_COST if letters else 0.0)) * (len(read) - 1)
            total = score(read) + margin - IMAGE_CROSSING_PENALTY * o.extra_crossings
            if not letters and o.clean and all(
                    p.box[3] - p.box[1] >= FULL_HEIGHT * whole_h for p in o.pieces):
                total += IMAGE_SPLIT_MARGIN * (len(read) - 1)
            if total > best_score:
                best, best_score = [c for c, _ in read], total
        chosen.append((best, best_score))
    merges = []
    for m in lay.merges:
        one, line = char(m.piece, next(readings))
        merges.append((m.start, m.end, _merge_value(one, m.end - m.start, MERGE_BONUS,
                                                    letters, line, IMAGE_WIDE), one))
    out = _best_path(chosen, merges)
    return NumberReading(with_case(out, classifier.info) if letters else out)


def check_readable(ink: Ink) -> None:
    """Raise InkError, with a message for the user, if the drawing is too big to read."""
    strokes, points = len(ink.strokes), ink.point_count
    if strokes > MAX_READ_STROKES:
        raise InkError(f"too much ink to read as a number ({strokes} strokes; the limit "
                       f"is {MAX_READ_STROKES})")
    if points > MAX_READ_POINTS:
        raise InkError(f"too much ink to read as a number ({points:,} points; the limit "
                       f"is {MAX_READ_POINTS:,})")


def read_file(classifier: Classifier, path: str | Path, k: int = 3,
              mode: str | None = None,
              path_model: TrajectoryModel | None = None) -> NumberReading:
    """An ink (.json/.ink) or image file, either of which may hold several characters.
    Raises InkError/ImageFileError/EmptyInputError/ModelOutputError."""
    if is_ink_file(path):
        ink = load_ink(path)
        check_readable(ink)
        number = read_number(classifier, ink, k, mode, path_model)
        if not number.chars:
            raise EmptyInputError("no ink to recognise")
        return number
    return read_image_ink(classifier, image_ink(read_image(path)), k, mode)
