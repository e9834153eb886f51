"""Several characters in one image: connected components, grouped and split like ink.

The image's ink (``paper.ink_from_gray``) is cut into 8-connected components. As with
strokes (``hwr_qt.segment``), components whose horizontal extents overlap form one
character (a "5" whose flag does not touch, a stroke broken by a faint pen), specks are
dropped, and a group wide enough to hold touching digits is also cut at the thinnest
columns; neighbouring groups that may be one character (an open "4" whose stem stands
apart) are also offered merged (``segment.merge_candidates``' rule). Geometry is judged
on the pen's centre line (``centre_box``: the box less the measured stroke width), so a
thick pen's digits are as wide as drawn ones, and a cut's crossings count solid strokes
only. ``pipeline.read_image_ink``, with the ink path's scoring, picks the reading. Each
character is cut out with its own components only (neighbours masked), has strokes
thinner than the canvas pen widened (``paper.widen_thin_strokes``) and goes through
``preprocess.normalize_image``. Boxes are in the image's pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from hwr_qt.paper import SOLID, stroke_width, widen_thin_strokes
from hwr_qt.preprocess import normalize_image, resize
from hwr_qt.segment import MAX_MERGE, MERGE_GAP, PARTIAL

WORK_SIDE = 640  # longer side for segmentation: big photos are shrunk (area average)
OVERLAP = 0.25  # of the narrower extent: x-overlap that makes one character
MIN_WIDTH = 0.08  # of the line height: a "1" counts as at least this wide
SPECK_SIDE = 0.03  # of the image's shorter side: smaller blobs are grain, not strokes
NOISE_AREA = 0.02  # of the largest component's area: smaller blobs far away are noise
FAINT = 0.4  # of the strongest big component's mean ink: paler blobs are not pen strokes
SPECK = 0.25  # of the line height: groups smaller in both directions are specks
EDGE_SPAN = 0.8  # of the image side: a band along an edge is lighting, not ink ...
EDGE_SOLID = 0.75  # ... when it is this solid (area / box area)
MAX_PARTS = 6  # a group of more components is not tried as component partitions
# Centre-line width / height above which a group may hold several digits: a "1"
# touching a digit is barely wider than tall (val numbers: 1.0 -> 0.8 +0.6 pt).
SPLIT_ASPECT = 0.8
LETTER_SPLIT_ASPECT = 1.0  # letters as before: H, N, U are about as wide as tall
MINIMA = 5  # thinnest columns tried as cuts between touching digits
DIGIT_ASPECT = 0.6  # typical digit width / height, to guess how many are touching
# A merged run may be wider than segment.MERGE_ASPECT: an open "4" (L and stem apart) is
# as wide as tall; the scoring, not the rule, then decides.
MERGE_ASPECT = 1.0


@dataclass(frozen=True)
class Component:
    label: int
    x0: int
    y0: int
    x1: int  # end-exclusive
    y1: int
    area: int


def label_components(mask: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    """8-connected components of a boolean image: (labels 0 = background, components).

    Run-length union-find: each row's runs join the overlapping (diagonals included)
    runs of the row above, so the work is per run, not per pixel, in plain Python.
    """
    h, w = mask.shape
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    runs: list[tuple[int, int, int, int]] = []  # (row, start, end, run id)
    prev: list[tuple[int, int, int]] = []
    padded = np.zeros(w + 2, np.int8)
    for y in range(h):
        padded[1:-1] = mask[y]
        edges = np.flatnonzero(np.diff(padded))
        cur = []
        k = 0
        for s, e in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            rid = len(parent)
            parent.append(rid)
            # Runs above that touch [s-1, e] (8-connectivity).
            while k < len(prev) and prev[k][1] < s:
                k += 1
            j = max(k - 1, 0)
            while j < len(prev) and prev[j][0] <= e:
                if prev[j][1] >= s:
                    ra, rb = find(prev[j][2]), find(rid)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
                j += 1
            cur.append((s, e, rid))
            runs.append((y, s, e, rid))
        prev = cur
    labels = np.zeros((h, w), np.int32)
    roots: dict[int, int] = {}
    boxes: dict[int, list[int]] = {}
    for y, s, e, rid in runs:
        r = find(rid)
        lab = roots.setdefault(r, len(roots) + 1)
        labels[y, s:e] = lab
        b = boxes.get(lab)
        if b is None:
            boxes[lab] = [s, y, e, y + 1, e - s]
        else:
            b[0], b[1], b[2], b[3] = min(b[0], s), min(b[1], y), max(b[2], e), y + 1
            b[4] += e - s
    comps = [Component(lab, *b) for lab, b in sorted(boxes.items())]
    return labels, comps


@dataclass
class Group:
    labels: list[int]
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def merged(self, other: Group) -> Group:
        return Group(self.labels + other.labels, min(self.x0, other.x0),
                     min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))


def _overlaps(a: Group, b: Group, min_w: float) -> bool:
    def ext(g: Group) -> tuple[float, float]:
        if g.width >= min_w:
            return g.x0, g.x1
        c = (g.x0 + g.x1) / 2
        return c - min_w / 2, c + min_w / 2

    (a0, a1), (b0, b1) = ext(a), ext(b)
    return min(a1, b1) - max(a0, b0) >= OVERLAP * min(a1 - a0, b1 - b0)


def group_components(comps: list[Component], strength: dict[int, float] | None = None
                     ) -> list[Group]:
    """Components -> characters, left to right (noise and specks dropped).

    ``strength`` (label -> mean ink) drops faint blobs: what is left of a shadow's edge
    or a paper fold is much paler than the pen's strokes.
    """
    if not comps:
        return []
    biggest = max(c.area for c in comps)
    kept = [c for c in comps if c.area >= NOISE_AREA * biggest]
    if strength:
        strong = max(strength[c.label] for c in kept if c.area >= 0.25 * biggest)
        kept = [c for c in kept if strength[c.label] >= FAINT * strong]
    height = max(c.y1 - c.y0 for c in kept)
    groups = [Group([c.label], c.x0, c.y0, c.x1, c.y1) for c in kept]
    merged = True
    while merged:  # merge until stable: a merge can make a group overlap a third one
        merged = False
        groups.sort(key=lambda g: g.x0)
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlaps(groups[i], groups[j], MIN_WIDTH * height):
                    groups[i] = groups[i].merged(groups.pop(j))
                    merged = True
                    break
            if merged:
                break
    line = max(g.height for g in groups)
    return [g for g in groups if g.height >= SPECK * line or g.width >= SPECK * line]


def drop_edge_bands(comps: list[Component], h: int, w: int) -> list[Component]:
    """Leave out solid bands along the image's edge: a shadow or the table beyond the
    paper, too narrow for the paper estimate to tell from a thick stroke. A band runs
    along most of a side, touches it, and is almost solid; a pen stroke is none of
    these. A lone component is kept whatever it looks like (a tightly cropped "1")."""
    if len(comps) < 2:
        return comps

    def band(c: Component) -> bool:
        bw, bh = c.x1 - c.x0, c.y1 - c.y0
        solid = c.area >= EDGE_SOLID * bw * bh
        vertical = (c.x0 == 0 or c.x1 == w) and bh >= EDGE_SPAN * h
        horizontal = (c.y0 == 0 or c.y1 == h) and bw >= EDGE_SPAN * w
        return solid and (vertical or horizontal)

    kept = [c for c in comps if not band(c)]
    return kept or comps


def _minima(profile: np.ndarray, lo: int, hi: int, count: int) -> list[int]:
    """Up to ``count`` lowest local minima of ``profile[lo:hi]``, as indices."""
    idx = [i for i in range(max(lo, 1), min(hi, len(profile) - 1))
           if profile[i] <= profile[i - 1] and profile[i] <= profile[i + 1]]
    idx.sort(key=lambda i: float(profile[i]))
    out: list[int] = []
    for i in idx:
        if all(abs(i - j) > 2 for j in out):
            out.append(i)
        if len(out) == count:
            break
    return out


def cut_sets(ink: np.ndarray, stroke: float = 0.0, split_aspect: float = SPLIT_ASPECT,
             max_digits: int = 6) -> list[list[int]]:
    """Column cuts (relative to ``ink``'s left edge) that may separate touching digits.
    The shape is judged on the pen's centre line (``stroke`` less each way)."""
    h, w = ink.shape
    if h <= stroke or (w - stroke) / (h - stroke) < split_aspect:
        return []
    profile = np.convolve(ink.sum(axis=0), np.ones(3) / 3, mode="same")
    minima = sorted(_minima(profile, int(w * 0.12), int(w * 0.88), MINIMA))
    sets = [[c] for c in minima]
    # Two or three touching digits: every pair (triple) of thin columns far enough apart.
    for k in (2, 3):
        if w / h >= (k + 0.2) * DIGIT_ASPECT:
            sets += [list(cs) for cs in combinations(minima, k)
                     if all(b - a >= 0.3 * h for a, b in zip(cs, cs[1:], strict=False))]
    guess = w / (DIGIT_ASPECT * h)
    # Pen digits vary in width (a "1" is a line, a "0" may be round): a range of counts.
    for n in range(max(3, int(guess * 0.6)), min(max_digits, int(np.ceil(guess)) + 1) + 1):
        if not 3 <= n <= max_digits:
            continue
        cuts = []
        for k in range(1, n):
            centre = k * w / n
            lo = max(int(centre - w / n * 0.5), 1)
            hi = min(int(centre + w / n * 0.5) + 1, w - 1)
            cuts.append(lo + int(np.argmin(profile[lo:hi])))
        sets.append(cuts)
    return sets


def crossings(ink: np.ndarray, col: int, width: float = 1.0) -> int:
    """Strokes a vertical cut at ``col`` goes through: runs of solid ink (half the
    peak) at least half a stroke ``width`` long. The pale halo of blur and JPEG, and
    grain, would otherwise count as strokes of their own, and a cut through one joint
    would look like a cut through a loop."""
    solid = ink[:, col] >= SOLID * max(float(ink.max()), 1e-6)
    c = np.concatenate([[0], solid.astype(np.int8), [0]])
    d = np.diff(c)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return int(np.count_nonzero(ends - starts >= max(1.0, 0.5 * width)))


@dataclass(frozen=True)
class Piece:
    """One candidate character: its ink (cropped, neighbours masked), its box."""

    ink: np.ndarray
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in work pixels, end-exclusive


def _crop(ink: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> Piece | None:
    """The tight piece of ink inside the given columns and rows, or None if empty."""
    part = ink[y0:y1, x0:x1]
    rows = np.flatnonzero(part.any(axis=1))
    cols = np.flatnonzero(part.any(axis=0))
    if rows.size == 0:
        return None
    t, b, lft, r = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Piece(part[t:b, lft:r], (x0 + lft, y0 + t, x0 + r, y0 + b))


@dataclass(frozen=True)
class Option:
    pieces: list[Piece]
    extra_crossings: int
    # Each cut meets one stroke and leaves each piece in one piece: how touching digits
    # come apart (a cut through one digit mostly leaves a loose end on one side).
    clean: bool = False


@dataclass(frozen=True)
class Merge:
    """Neighbouring groups ``start:end`` read as one character (an open "4" whose stem
    stands apart from its L, a "5" whose flag floats away)."""

    start: int
    end: int
    piece: Piece


@dataclass(frozen=True)
class Layout:
    groups: list[list[Option]]  # per character group, left to right: whole, then splits
    merges: list[Merge]
    stroke: float  # typical stroke width, work pixels


def centre_box(box: tuple[int, int, int, int], stroke: float
               ) -> tuple[float, float, float, float]:
    """The box of the pen's centre line: the ink's box less half a stroke on each side.
    With it, a drawing's geometric rules (gaps, width priors) hold for images whatever
    the pen's width; a dot keeps a tiny box, never a negative one."""
    x0, y0, x1, y1 = box
    dx = min(stroke, 0.9 * (x1 - x0)) / 2
    dy = min(stroke, 0.9 * (y1 - y0)) / 2
    return x0 + dx, y0 + dy, x1 - dx, y1 - dy


def candidates(ink: np.ndarray) -> list[list[Option]]:
    """For each character group, left to right: the whole group, then its splits."""
    return layout(ink).groups


def layout(ink: np.ndarray, split_aspect: float = SPLIT_ASPECT) -> Layout:
    """The character groups with their splits, and the runs of groups that may merge."""
    labels, comps = label_components(ink > 0)
    # Grain that survived the noise floor (in a dark shadow, say) is a few pixels: no
    # character is that small next to its image (24 px tall in a 640 px photo is 4 %).
    speck = max(4.0, SPECK_SIDE * min(ink.shape))
    comps = [c for c in comps if max(c.x1 - c.x0, c.y1 - c.y0) >= speck]
    comps = drop_edge_bands(comps, *ink.shape)
    sums = np.bincount(labels.ravel(), weights=ink.ravel())
    strength = {c.label: float(sums[c.label]) / c.area for c in comps}
    groups = group_components(comps, strength)
    kept = np.isin(labels, [lab for g in groups for lab in g.labels])
    stroke = stroke_width(kept & (ink >= SOLID * max(float(ink.max()), 1e-6)))
    out, wholes = [], []
    for g in groups:
        own = np.where(np.isin(labels[g.y0:g.y1, g.x0:g.x1], g.labels),
                       ink[g.y0:g.y1, g.x0:g.x1], 0.0).astype(np.float32)
        whole = _crop(own, 0, g.width, 0, g.height)
        if whole is None:
            continue
        options = [Option([_shift(whole, g)], 0)]
        # Digits written close together overlap in x without touching (a "5"'s flag over
        # the "9" before it): also read the group as its components split left | right.
        region = labels[g.y0:g.y1, g.x0:g.x1]
        centres = sorted(g.labels, key=lambda lab: float(np.mean(
            np.flatnonzero((region == lab).any(axis=0)))))
        for cut in range(1, min(len(centres), MAX_PARTS)):
            parts = [centres[:cut], centres[cut:]]
            pieces = [_crop(np.where(np.isin(region, part), own, 0.0).astype(np.float32),
                            0, g.width, 0, g.height) for part in parts]
            if all(p is not None for p in pieces):
                options.append(Option([_shift(p, g) for p in pieces if p is not None], 0))
        for cuts in cut_sets(own, stroke, split_aspect):
            edges = [0, *cuts, g.width]
            pieces = [_crop(own, a, b, 0, g.height) for a, b in zip(edges, edges[1:],
                                                                    strict=False)]
            if any(p is None for p in pieces):
                continue
            extra = sum(max(0, crossings(own, c, stroke) - 1) for c in cuts)
            clean = extra == 0 and all(_one_piece(p.ink, speck) for p in pieces
                                       if p is not None)
            options.append(Option([_shift(p, g) for p in pieces if p is not None], extra,
                                  clean))
        out.append(options)
        wholes.append(g)
    return Layout(out, _merges(ink, labels, wholes, stroke), stroke)


def _merges(ink: np.ndarray, labels: np.ndarray, groups: list[Group], stroke: float
            ) -> list[Merge]:
    """``segment.merge_candidates``' rule on the groups' centre-line boxes: runs of up
    to MAX_MERGE neighbours, close together, no wider than a digit, one of them a part
    (shorter than PARTIAL of the run). Components overlapping in x are grouped already;
    these are the parts of a character that stand apart."""
    boxes = [centre_box((g.x0, g.y0, g.x1, g.y1), stroke) for g in groups]
    out = []
    for i in range(len(groups)):
        run = list(boxes[i])
        for j in range(i + 1, min(i + MAX_MERGE, len(groups))):
            b = boxes[j]
            if b[0] - run[2] > MERGE_GAP * max(run[3] - run[1], b[3] - b[1]):
                break
            run = [min(run[0], b[0]), min(run[1], b[1]), max(run[2], b[2]),
                   max(run[3], b[3])]
            h = run[3] - run[1]
            if run[2] - run[0] <= MERGE_ASPECT * h and any(
                    c[3] - c[1] < PARTIAL * h for c in boxes[i:j + 1]):
                g = functools.reduce(Group.merged, groups[i:j + 1])
                own = np.where(np.isin(labels[g.y0:g.y1, g.x0:g.x1], g.labels),
                               ink[g.y0:g.y1, g.x0:g.x1], 0.0).astype(np.float32)
                piece = _crop(own, 0, g.width, 0, g.height)
                if piece is not None:
                    out.append(Merge(i, j + 1, _shift(piece, g)))
    return out


def _one_piece(ink: np.ndarray, speck: float) -> bool:
    """Whether the ink is one connected component, crumbs smaller than ``speck`` aside."""
    _, comps = label_components(ink > 0)
    return sum(max(c.x1 - c.x0, c.y1 - c.y0) >= speck for c in comps) == 1


def _shift(p: Piece, g: Group) -> Piece:
    x0, y0, x1, y1 = p.box
    return Piece(p.ink, (x0 + g.x0, y0 + g.y0, x1 + g.x0, y1 + g.y0))


def work_scale(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """The ink at segmentation size and the factor back to the image's pixels."""
    h, w = ink.shape
    s = max(h, w) / WORK_SIDE
    if s <= 1.0:
        return ink, 1.0
    small = resize(ink, max(1, round(h / s)), max(1, round(w / s)))
    return small, max(h, w) / max(small.shape)


def model_input(piece: Piece) -> np.ndarray:
    return normalize_image(widen_thin_strokes(piece.ink))
