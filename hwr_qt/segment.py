"""Split a drawing into characters, left to right.

Strokes belong to one character when their horizontal extents overlap (compared with
the writing's slant undone) or when one ends on the other's middle (the crossbar of a
"4" meeting its upright): a "4", "5" or "7" drawn in two strokes, in any order, is one
character. Specks and flags (the detached top bar of a "5") join their nearest
neighbour. A group wide enough to hold several touching digits, or digits drawn in one
stroke, gets ``split_candidates``: cuts where the ink is thinnest in x (vertical
projection); a group of several strokes also gets ``stroke_partitions``: its strokes
parted into side-by-side sets (digits written touching or overlapping a little). The
other way round, ``merge_candidates`` names runs of neighbouring groups that may be
one character (an open 4 whose stem stands apart from its L, a 5 whose flag floats
away), and in letters ``meeting_runs`` names neighbours whose strokes cross or touch
(an H whose bar meets one stem on its way to the other). ``hwr_qt.pipeline.read_number``
lets the recognizer pick among all of them.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from hwr_qt.ink import Ink, Point, Stroke

OVERLAP = 0.25  # of the narrower box: x-overlap needed to belong together
MIN_WIDTH = 0.08  # of the line height: a "1" is treated as at least this wide
SPECK = 0.3  # of the line height: smaller groups are specks, not characters
FLAG = 0.2  # of the line height: flatter strokes in the upper half are flags (a "5")
ATTACH = 0.4  # of the line height: how far a speck or flag may be from its character
DESLANT = True  # compare boxes with the writing's slant undone
MAX_STROKES = 300
TOUCH = 0.06  # of the line height: an end this close to another stroke joins it (a "4")
SPLIT_ASPECT = 1.0  # width / height above which a group may hold several digits ("10")
DIGIT_ASPECT = 0.6  # typical digit width / height, to guess how many are touching
# Of the narrower part: digits side by side overlap at most this in x. Looser reads
# more touching numbers and more letters (H, k, N) as digits (val writers: 0.35 gave
# numbers +0.2 pt, letters rejected -0.3 pt; 0.5 +0.5 pt and -1.0 pt).
SIDE_OVERLAP = 0.25
MAX_PARTITION_STROKES = 6  # groups with more strokes are not parted stroke-wise (cost)
MAX_PARTS = 3  # digits a group may be parted into (at most 15 ways of 6 strokes)
MAX_MERGE = 3  # neighbouring groups that may form one character
MERGE_GAP = 0.15  # of the run's height: groups further apart are separate characters
PARTIAL = 0.7  # of the run's height: a merge needs a group shorter than this (a part)
MERGE_ASPECT = 0.8  # width / height: a wider run is several digits, not one
# Letters: a bar (the cross of a t or f) is a flat stroke at most this long, of the
# line height; it and the dots of i and j join the letter they cross or stand over,
# before boxes are compared, so a long t-bar reaching the next letter joins no other.
BAR_LENGTH = 0.9
# Letters: neighbouring groups whose strokes cross, or where one ends on the other
# anywhere (its ends too: the strokes of an N meet corner to corner), may be one letter
# (``meeting_runs``). Val writers: capitals read as several letters 3.3 -> 2.3 %, words
# unchanged; 0.1 gave capitals 1.7 % but cost 2.4 points of words (letters that touch).
LETTER_TOUCH = 0.06
# A bar (an H's, drawn fast) often stops short of the stem it aims at: bars reach this far
# (val writers: capitals 93.9 -> 94.4 % with the pipeline's MEETING_COST).
BAR_TOUCH = 0.18


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def union(self, other: Box) -> Box:
        return Box(min(self.x0, other.x0), min(self.y0, other.y0),
                   max(self.x1, other.x1), max(self.y1, other.y1))


def ink_box(ink: Ink) -> Box:
    return Box(*ink.bounds())


def _widened(b: Box, min_w: float) -> tuple[float, float]:
    """x-extent of a box, widened about its centre to at least ``min_w``."""
    if b.width >= min_w:
        return b.x0, b.x1
    c = (b.x0 + b.x1) / 2
    return c - min_w / 2, c + min_w / 2


def _belong_together(a: Box, b: Box, min_w: float) -> bool:
    (a0, a1), (b0, b1) = _widened(a, min_w), _widened(b, min_w)
    overlap = min(a1, b1) - max(a0, b0)
    return overlap >= OVERLAP * min(a1 - a0, b1 - b0)


def estimate_slant(ink: Ink) -> float:
    """The writing's slant dx/dy (positive: leaning right), from its steep segments."""
    slopes, weights = [], []
    for s in ink.strokes:
        for a, b in zip(s.points, s.points[1:], strict=False):
            dx, dy = b.x - a.x, b.y - a.y
            # Near-vertical strokes only (within 20 degrees): the diagonal of a 7 or a 4
            # is part of the digit's shape, not the writer's slant.
            if dy != 0 and abs(dx) < 0.36 * abs(dy):
                slopes.append(dx / dy)
                weights.append(math.hypot(dx, dy))
    if not slopes or sum(weights) <= 0:
        return 0.0
    order = np.argsort(slopes)
    cum = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(slopes)[order][np.searchsorted(cum, cum[-1] / 2)])
    return float(np.clip(-median, -0.6, 0.6))  # y grows down: a "/" lean has dx/dy < 0


def _deslanted_box(stroke: Stroke, slant: float, y_mid: float) -> Box:
    xs = [p.x + slant * (p.y - y_mid) for p in stroke.points]
    ys = [p.y for p in stroke.points]
    return Box(min(xs), min(ys), max(xs), max(ys))


def group_strokes(ink: Ink, letters: bool = False) -> list[Ink]:
    """Characters of the drawing as separate Inks, ordered left to right.

    Boxes are compared after undoing the writing's slant: in slanted handwriting the
    boxes of neighbouring upright digits overlap, those of deslanted ones do not. With
    ``letters``, dots and bars (``letter_marks``) are set aside first and then join the
    letter they belong to.
    """
    if ink.is_empty:
        return []
    if len(ink.strokes) > MAX_STROKES:
        return [ink]  # no number has this many strokes; keep the cost bounded
    line = ink_box(ink)
    height = max(line.height, 1e-9)
    min_w = MIN_WIDTH * height
    slant, y_mid = (estimate_slant(ink) if DESLANT else 0.0), (line.y0 + line.y1) / 2
    boxes = [_deslanted_box(s, slant, y_mid) for s in ink.strokes]
    marks = set(letter_marks(boxes, height) if letters else [])
    groups: list[tuple[list[int], Box]] = [([i], b) for i, b in enumerate(boxes)]
    touch = _touching_pairs(ink, TOUCH * height)
    merged = True
    while merged:  # merge until stable: a merge widens a box, which may reach another
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                # Marks join by touching (the bar of an H, an A) but not by overlap.
                if (not (_only(groups[i][0], marks) or _only(groups[j][0], marks))
                        and _belong_together(groups[i][1], groups[j][1], min_w)) or any(
                        (a, b) in touch for a in groups[i][0] for b in groups[j][0]):
                    groups[i] = (groups[i][0] + groups[j][0], groups[i][1].union(groups[j][1]))
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    if marks:
        loose = [g for g in groups if _only(g[0], marks)]
        rest = [g for g in groups if not _only(g[0], marks)]
        groups = _attach_marks(ink, rest, loose, height) if rest else groups
    groups = _absorb_specks(groups, height, line.y0)
    groups.sort(key=lambda g: (g[1].x0 + g[1].x1) / 2)
    return [ink.subset(sorted(idx)) for idx, _ in groups]


def letter_marks(boxes: list[Box], height: float) -> list[int]:
    """Strokes that are a letter's dot (a speck) or bar (flat and short), by index."""
    return [i for i, b in enumerate(boxes)
            if max(b.width, b.height) < SPECK * height
            or (b.height < FLAG * height and b.width < BAR_LENGTH * height)]


def _crossings_at(stroke: Stroke, y: float, x0: float, x1: float) -> list[float]:
    """Where the stroke crosses the horizontal line y between x0 and x1."""
    out = []
    for a, b in zip(stroke.points, stroke.points[1:], strict=False):
        if (a.y - y) * (b.y - y) <= 0 and a.y != b.y:
            x = a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y)
            if x0 <= x <= x1:
                out.append(x)
    return out


def _only(idx: list[int], marks: set[int]) -> bool:
    return all(i in marks for i in idx)


def _attach_marks(ink: Ink, groups: list[tuple[list[int], Box]],
                  loose: list[tuple[list[int], Box]], height: float
                  ) -> list[tuple[list[int], Box]]:
    """Each dot or bar joins the letter whose stroke it crosses nearest its middle (a
    t's bar), else the one it overlaps most in x (an i's dot), else the nearest within
    ``ATTACH``; one that belongs to none stays on its own."""
    out = [(list(idx), box) for idx, box in groups]
    for mark, b in loose:
        raw = functools.reduce(Box.union, (Box(*ink.strokes[i].bounds()) for i in mark))
        mid_y, mid_x = (raw.y0 + raw.y1) / 2, (raw.x0 + raw.x1) / 2
        best, best_key = -1, (math.inf, math.inf)
        for k, (idx, box) in enumerate(out[:len(groups)]):
            hits = [x for i in idx
                    for x in _crossings_at(ink.strokes[i], mid_y, raw.x0, raw.x1)]
            # Crossed (nearest to the bar's middle) beats overlapped beats merely near.
            overlap = min(b.x1, box.x1) - max(b.x0, box.x0)
            gap = max(box.x0 - b.x1, b.x0 - box.x1, 0.0)
            key = ((0, min(abs(x - mid_x) for x in hits)) if hits
                   else (1, -overlap) if overlap > 0 else (2, gap))
            if key < best_key and (hits or overlap > 0 or gap <= ATTACH * height):
                best, best_key = k, key
        if best < 0:
            out.append((mark, b))
        else:
            out[best] = (out[best][0] + mark, out[best][1].union(b))
    return out


def _touching_pairs(ink: Ink, reach: float) -> set[tuple[int, int]]:
    """Stroke pairs where one stroke's end lies within ``reach`` of the other's middle.

    The crossbar of a "4" ending on its upright, or a "5"'s flag on its body, is joined
    this way even when their boxes barely overlap.
    """
    pts = [np.array([(p.x, p.y) for p in s.points]) for s in ink.strokes]
    lo = np.array([p.min(axis=0) for p in pts]) - reach
    hi = np.array([p.max(axis=0) for p in pts]) + reach
    pairs: set[tuple[int, int]] = set()
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            if i == j or (lo[i] > hi[j]).any() or (lo[j] > hi[i]).any():
                continue
            # An end of a meeting b away from b's own ends: a T or L junction. Two digits
            # whose ends merely come close (a "1" beside a "7") do not count.
            b_ends = b[[0, -1]]
            for e in a[[0, -1]]:
                d, q = _nearest(e, b)
                if d <= reach and np.hypot(*(b_ends - q).T).min() > reach:
                    pairs.update({(i, j), (j, i)})
                    break
    return pairs


MEET_POINTS = 256  # of each stroke, for the crossing test: bounds its n*m cost


def _cross(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether polylines ``a`` and ``b`` properly cross (any segment of one the other's)."""
    a0, da, b0, db = a[:-1], np.diff(a, axis=0), b[:-1], np.diff(b, axis=0)

    def side(o: np.ndarray, d: np.ndarray, p: np.ndarray) -> np.ndarray:
        # Sign of d x (p - o) for every segment (o, d) (rows) and point p (columns).
        signs: np.ndarray = np.sign(d[:, None, 0] * (p[None, :, 1] - o[:, None, 1])
                                    - d[:, None, 1] * (p[None, :, 0] - o[:, None, 0]))
        return signs

    b_straddles_a = side(a0, da, b0) * side(a0, da, b0 + db) < 0
    a_straddles_b = (side(b0, db, a0) * side(b0, db, a0 + da) < 0).T
    return bool((b_straddles_a & a_straddles_b).any())


def _projections(p: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points ``p`` [n,2] and each segment of the polyline ``line`` [m,2]: the
    distance [n,k] and the nearest point on the segment [n,k,2] (on its segments, not only
    its points: a sparse digitiser's straight stroke has few)."""
    if len(line) == 1:
        q = np.broadcast_to(line[0], (len(p), 1, 2))
    else:
        a, d = line[:-1], np.diff(line, axis=0)
        rel = p[:, None, :] - a[None, :, :]
        t = np.clip((rel * d).sum(axis=2) / np.maximum((d * d).sum(axis=1), 1e-12), 0, 1)
        q = a[None, :, :] + t[..., None] * d[None, :, :]
    return np.hypot(*(q - p[:, None, :]).transpose(2, 0, 1)), q


def _nearest(p: np.ndarray, line: np.ndarray) -> tuple[float, np.ndarray]:
    """Distance from point ``p`` to the polyline ``line``, and the nearest point on it."""
    dist, q = _projections(p[None, :], line)
    k = int(np.argmin(dist[0]))
    return float(dist[0, k]), q[0, k]


def _thinned(points: np.ndarray) -> np.ndarray:
    step = -(-len(points) // MEET_POINTS)
    return points if step == 1 else np.vstack([points[::step], points[-1:]])


def strokes_meet(a: Stroke, b: Stroke, reach: float) -> bool:
    """Whether the strokes cross, or come within ``reach`` of each other anywhere: an end
    on the other stroke, or a corner (the point of a K's "<" at its stem)."""
    pa = np.array([(p.x, p.y) for p in a.points], dtype=float)
    pb = np.array([(p.x, p.y) for p in b.points], dtype=float)
    if (pa.min(axis=0) - reach > pb.max(axis=0)).any() or (
            pb.min(axis=0) - reach > pa.max(axis=0)).any():
        return False
    ta, tb = _thinned(pa), _thinned(pb)
    if min(_projections(ta, tb)[0].min(), _projections(tb, ta)[0].min()) <= reach:
        return True
    return len(pa) > 1 and len(pb) > 1 and _cross(ta, tb)


def _absorb_specks(groups: list[tuple[list[int], Box]], height: float, top: float
                   ) -> list[tuple[list[int], Box]]:
    """Pieces that cannot be a digit on their own join the nearest character.

    Specks (a dot, a short tick) and flags (a flat stroke in the upper half of the line,
    like the top bar of a "5" drawn apart from its body) go to the character whose box
    is horizontally nearest, if it is close enough.
    """
    speck = SPECK * height

    def is_piece(b: Box) -> bool:
        flag = b.height < FLAG * height and (b.y0 + b.y1) / 2 < top + height / 2
        return max(b.width, b.height) < speck or flag

    big = [g for g in groups if not is_piece(g[1])]
    if not big:
        return groups
    out = list(big)
    for idx, box in groups:
        if not is_piece(box):
            continue
        gaps = [max(b.x0 - box.x1, box.x0 - b.x1, 0.0) for _, b in out]
        k = int(np.argmin(gaps))
        if gaps[k] <= ATTACH * height:
            out[k] = (out[k][0] + idx, out[k][1].union(box))
        else:
            out.append((idx, box))
    return out


def column_profile(ink: Ink, x0: float, x1: float, bins: int) -> np.ndarray:
    """Ink length per vertical column: the vertical projection of the strokes."""
    profile = np.zeros(bins)
    width = max(x1 - x0, 1e-9)
    for s in ink.strokes:
        xs = np.array([p.x for p in s.points])
        ys = np.array([p.y for p in s.points])
        if len(xs) == 1:
            profile[min(int((xs[0] - x0) / width * bins), bins - 1)] += 1e-3
            continue
        seg = np.hypot(np.diff(xs), np.diff(ys))
        steps = np.maximum(np.ceil(seg / (width / bins / 2)), 1).astype(int)
        for xa, xb, length, n in zip(xs[:-1], xs[1:], seg, steps, strict=True):
            t = (np.arange(n) + 0.5) / n
            cols = np.clip(((xa + (xb - xa) * t - x0) / width * bins).astype(int), 0, bins - 1)
            np.add.at(profile, cols, length / n)
    return profile


def cut_strokes(ink: Ink, cuts: list[float]) -> list[Ink]:
    """Split the ink at vertical lines x = cut, cutting segments that cross them."""
    edges = [-math.inf, *sorted(cuts), math.inf]
    parts: list[list[Stroke]] = [[] for _ in range(len(edges) - 1)]

    def piece(x: float) -> int:
        for k in range(len(edges) - 1):
            if x < edges[k + 1]:
                return k
        return len(edges) - 2

    for s in ink.strokes:
        current: list[Point] = [s.points[0]]
        part = piece(s.points[0].x)
        for a, b in zip(s.points, s.points[1:], strict=False):
            target = piece(b.x)
            while target != part:
                # Cross the next cut line between a and b, closing the piece there.
                step = 1 if target > part else -1
                cx = edges[part + 1] if step == 1 else edges[part]
                t = (cx - a.x) / (b.x - a.x) if b.x != a.x else 0.0
                mid = Point(cx, a.y + (b.y - a.y) * t, a.pressure + (b.pressure - a.pressure) * t,
                            a.t + (b.t - a.t) * t)
                current.append(mid)
                parts[part].append(Stroke(tuple(current)))
                part += step
                current = [mid]
            current.append(b)
        parts[part].append(Stroke(tuple(current)))
    return [Ink(tuple(p)) for p in parts if p]


def _local_minima(profile: np.ndarray, lo: int, hi: int, count: int) -> list[int]:
    """Up to ``count`` lowest local minima of profile[lo:hi], lowest first."""
    idx = [i for i in range(max(lo, 1), min(hi, len(profile) - 1))
           if profile[i] <= profile[i - 1] and profile[i] <= profile[i + 1]]
    idx.sort(key=lambda i: profile[i])
    chosen: list[int] = []
    for i in idx:  # skip minima on the same flat valley
        if all(abs(i - j) > 3 for j in chosen):
            chosen.append(i)
        if len(chosen) == count:
            break
    return chosen


def crossings(ink: Ink, x: float) -> int:
    """How many times the strokes cross the vertical line at ``x``."""
    n = 0
    for s in ink.strokes:
        side = np.sign([p.x - x for p in s.points])
        side = side[side != 0]  # a point on the line is neither side
        n += int(np.count_nonzero(side[1:] != side[:-1]))
    return n


@dataclass(frozen=True)
class Split:
    pieces: list[Ink]
    extra_crossings: int  # beyond one per cut: a cut through a loop's body, not a joint
    overlap: float = 0.0  # stroke partitions: the most neighbouring parts' x-extents share


def split_candidates(group: Ink, max_digits: int = 6) -> list[Split]:
    """Ways to read a wide group as 2..n digits, cut where the projection is thinnest.

    Two-digit candidates try the three deepest valleys anywhere but the edges (a "1"
    touching a "0" meets it at a third of the width); more digits cut near evenly spaced
    positions. Returns [] for a group that is not wide enough to hold two digits.
    """
    box = ink_box(group)
    if box.height <= 0 or box.width / box.height < SPLIT_ASPECT:
        return []
    bins = 120
    profile = np.convolve(column_profile(group, box.x0, box.x1, bins),
                          np.ones(3) / 3, mode="same")
    def to_x(col: int) -> float:
        return box.x0 + (col + 0.5) / bins * box.width

    cut_sets = [[to_x(c)] for c in _local_minima(profile, int(bins * 0.12),
                                                 int(bins * 0.88), 3)]
    guess = box.width / (DIGIT_ASPECT * box.height)
    for n in sorted({math.floor(guess), math.ceil(guess), round(guess) + 1}):
        if not 3 <= n <= max_digits:
            continue
        cuts = []
        for k in range(1, n):
            centre = k * bins / n
            lo = max(int(centre - bins / n * 0.5), 1)
            hi = min(int(centre + bins / n * 0.5) + 1, bins - 1)
            cuts.append(to_x(lo + int(np.argmin(profile[lo:hi]))))
        cut_sets.append(cuts)
    out = []
    for cuts in cut_sets:
        pieces = cut_strokes(group, cuts)
        if len(pieces) == len(cuts) + 1:
            extra = sum(max(0, crossings(group, c) - 1) for c in cuts)
            out.append(Split(pieces, extra))
    return out


def _x_overlap(a: Box, b: Box, min_w: float) -> float:
    """Overlap of the x-extents as a share of the narrower one, taken as at least
    ``min_w`` wide: a "1" just touching its neighbour does not overlap it, while a
    narrow box standing well inside the other (the stem of a "4" within its
    crossbar) overlaps it fully."""
    narrow, wide = sorted((a, b), key=lambda x: x.width)
    centre = (narrow.x0 + narrow.x1) / 2
    if min(centre - wide.x0, wide.x1 - centre) > min_w / 2:
        return 1.0
    return (min(a.x1, b.x1) - max(a.x0, b.x0)) / max(narrow.width, min_w)


def stroke_partitions(group: Ink, max_overlap: float = SIDE_OVERLAP) -> list[Split]:
    """Ways to read a group of several strokes as 2..``MAX_PARTS`` digits, stroke-wise.

    Strokes are ordered by the centre of their boxes and cut into runs; neighbouring
    runs must stand side by side (x-overlap at most ``max_overlap`` of the narrower),
    as two digits do even when written touching. The parts of one digit
    (the L and the stem of a "4", a "5" and its flag) overlap more and are not parted
    at the default; a larger ``max_overlap`` also offers them, for the scoring to judge
    (a hurried "1" written into the "3" before it).
    """
    n = len(group.strokes)
    if not 2 <= n <= MAX_PARTITION_STROKES:
        return []
    line = ink_box(group)
    # Plain boxes: undoing the slant changed nothing on the validation writers.
    boxes = [Box(*s.bounds()) for s in group.strokes]
    order = sorted(range(n), key=lambda i: boxes[i].x0 + boxes[i].x1)
    min_w = MIN_WIDTH * max(line.height, 1e-9)
    out = []
    for parts in range(2, min(MAX_PARTS, n) + 1):
        for cuts in itertools.combinations(range(1, n), parts - 1):
            runs = [order[a:b] for a, b in zip((0, *cuts), (*cuts, n), strict=True)]
            rboxes = [functools.reduce(Box.union, (boxes[i] for i in r)) for r in runs]
            overlap = max(_x_overlap(a, b, min_w)
                          for a, b in zip(rboxes, rboxes[1:], strict=False))
            if overlap <= max_overlap:
                out.append(Split([group.subset(sorted(r)) for r in runs], 0, overlap))
    return out


def merge_candidates(groups: list[Ink]) -> list[tuple[int, int]]:
    """Runs ``groups[i:j]`` (2..``MAX_MERGE`` neighbours, left to right) that may be one
    character: each group close to the next (gap under ``MERGE_GAP`` of the run's
    height), the run no wider than a digit (``MERGE_ASPECT``) and at least one group a
    part, shorter than ``PARTIAL`` of the run's height (the L of an open "4", a
    floating flag). Digits standing side by side ("41", "11") are each about as tall
    as the pair, and a pair is wider than one digit: they never become one.
    """
    boxes = [ink_box(g) for g in groups]
    out = []
    for i in range(len(groups)):
        run = boxes[i]
        for j in range(i + 1, min(i + MAX_MERGE, len(groups))):
            if boxes[j].x0 - run.x1 > MERGE_GAP * max(run.height, boxes[j].height):
                break
            run = run.union(boxes[j])
            if run.width <= MERGE_ASPECT * run.height and any(
                    b.height < PARTIAL * run.height for b in boxes[i:j + 1]):
                out.append((i, j + 1))
    return out


def meeting_runs(groups: list[Ink]) -> list[tuple[int, int]]:
    """Letters: runs ``groups[i:j]`` (2..``MAX_MERGE`` neighbours) where each group's ink
    crosses or touches the next one's (``strokes_meet``): the stems and bar of an H, the
    two strokes of an N or a K, or two letters written touching; the recogniser decides
    which (``hwr_qt.pipeline.read_number``)."""
    if len(groups) < 2:
        return []
    height = ink_box(Ink(tuple(s for g in groups for s in g.strokes))).height
    reach = LETTER_TOUCH * max(height, 1e-9)
    bars = {id(s) for g in groups for s in g.strokes  # flat and short, as letter_marks
            if (b := Box(*s.bounds())).height < FLAG * height and b.width < BAR_LENGTH * height}
    meets = [any(strokes_meet(sa, sb, BAR_TOUCH * height if bars & {id(sa), id(sb)}
                              else reach) for sa in a.strokes for sb in b.strokes)
             for a, b in zip(groups, groups[1:], strict=False)]
    out = []
    for i in range(len(meets)):
        j = i
        while j < len(meets) and meets[j] and j - i + 2 <= MAX_MERGE:
            out.append((i, j + 2))
            j += 1
    return out
