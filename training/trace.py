"""MNIST image -> vector ink: binarise, thin (Zhang–Suen), trace the skeleton into strokes.

The image is enlarged (``UPSAMPLE``x, linear) and lightly blurred before thresholding so
the skeleton follows the stroke's centre line instead of the 28x28 pixel staircase; the
traced points are mapped back to the original pixel grid (x right, y down, pixel centres
at integer coordinates). Pure numpy + scipy.ndimage; no Qt. Training draws "pen" digits
from these strokes (``training.drawn``); the drawn-ink benchmark draws its test digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.preprocess import resize

UPSAMPLE = 3
THRESHOLD = 0.4  # fraction of 255 (of the peak for faint images) that counts as ink
MIN_COVERAGE = 0.8  # share of the ink's intensity the mask must hold (else lower the level)
SPUR_LENGTH = 2.0  # original pixels: branches from a junction to an end shorter than this go
BRIDGE_LENGTH = 3.0  # original pixels: junctions closer than this are one crossing
MIN_COMPONENT = 1.5  # original pixels: isolated bits shorter than this are specks, not ink
SMOOTH_WINDOW = 5  # upsampled pixels (~1.7 original px) of moving average
STEP = 0.5  # original pixels between resampled points
MAX_TURN_DEG = 110.0  # at a junction, smooth continuations (turning less) are paired first
BLOB_RADIUS = 2.2  # original px: ink this far inside the outline is a filled loop...
BLOB_RELATIVE = 1.6  # ...if also this many times the digit's typical stroke half-width
BLOB_MAX_SIZE = 10.5  # original px: and compact (a thick bar is a bold stroke, not a blob)
BLOB_MIN_FILL = 0.2  # core area / its bbox side squared: round cores only

# Neighbour offsets (drow, dcol) in Zhang–Suen order P2..P9: N, NE, E, SE, S, SW, W, NW.
_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def binarize(img: np.ndarray, threshold: float = THRESHOLD,
             upsample: int = UPSAMPLE) -> np.ndarray:
    """uint8/float image (0..255) -> boolean ink mask at ``upsample`` x the resolution."""
    a = np.asarray(img, dtype=np.float64)
    peak = float(a.max()) if a.size else 0.0
    if not peak > 0.0:
        return np.zeros((a.shape[0] * upsample, a.shape[1] * upsample), bool)
    if upsample > 1:
        a = resize(a, a.shape[0] * upsample, a.shape[1] * upsample).astype(np.float64)
        a = ndimage.gaussian_filter(a, sigma=0.5 * upsample)
    # Faint or hair-thin digits lose whole strokes at the usual level (the blur lowers a
    # 1-px line's peak): lower it until the mask holds most of the ink.
    total = float(a.sum())
    for level in (threshold, threshold * 0.6, threshold * 0.35):
        mask = a > level * min(255.0, peak)
        if float(a[mask].sum()) >= MIN_COVERAGE * total:
            break
    return mask


def zhang_suen(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide skeleton of a boolean mask (Zhang & Suen 1984), vectorised per pass."""
    img = np.pad(np.asarray(mask, dtype=np.uint8), 1)
    h, w = img.shape
    while True:
        changed = False
        for sub in (0, 1):
            core = img[1:-1, 1:-1]
            p = [img[1 + dr:h - 1 + dr, 1 + dc:w - 1 + dc] for dr, dc in _RING]
            p2, p3, p4, p5, p6, p7, p8, p9 = p
            b = sum(x.astype(np.int16) for x in p)
            seq = p + [p2]
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.int16) for i in range(8))
            kill = (core == 1) & (b >= 2) & (b <= 6) & (a == 1)
            if sub == 0:
                kill &= ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                kill &= ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            if kill.any():
                core[kill] = 0  # a view into img: updates in place
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def punch_blobs(mask: np.ndarray, upsample: int = UPSAMPLE) -> np.ndarray:
    """Make a hole in compact filled blobs so thinning turns them into small loops.

    A writer who closes a small loop with a thick pen (the head of a "9", the belly of a
    "6") leaves a solid blob whose skeleton is a short line; punching its core keeps the
    loop, which is what a person draws on a screen.
    """
    dt = ndimage.distance_transform_edt(mask) / upsample
    if not dt.any():
        return mask
    typical = float(np.median(dt[zhang_suen(mask)])) if mask.any() else 0.0
    core = dt > max(BLOB_RADIUS, BLOB_RELATIVE * typical)
    labels, n = ndimage.label(core)
    if n == 0:
        return mask
    out = mask.copy()
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        side = max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
        region = labels[sl] == i
        if 1.0 <= side / upsample <= BLOB_MAX_SIZE and \
                region.sum() >= BLOB_MIN_FILL * side**2:
            out[sl][region] = False
    return out


def _adjacency(skel: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Pixel graph of a skeleton. A diagonal link is dropped when the two pixels also share a
    4-neighbour, so staircases left by thinning don't become little triangles (false
    junctions)."""
    pts = list(zip(*np.nonzero(skel), strict=True))
    on = set(pts)
    adj: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for r, c in pts:
        nbrs = []
        for dr, dc in _RING:
            q = (r + dr, c + dc)
            if q not in on:
                continue
            if dr and dc and ((r + dr, c) in on or (r, c + dc) in on):
                continue
            nbrs.append(q)
        adj[(r, c)] = nbrs
    return adj


@dataclass
class _Segment:
    path: list[tuple[int, int]]  # (row, col) pixels, node pixel to node pixel
    a: int  # node id at path[0] (-1: closed loop)
    b: int  # node id at path[-1]

    def length(self) -> float:
        p = np.asarray(self.path, dtype=np.float64)
        return float(np.hypot(*np.diff(p, axis=0).T).sum()) if len(p) > 1 else 0.0


def _segments(skel: np.ndarray) -> tuple[list[_Segment], dict[int, str]]:
    """Split the skeleton graph into segments between nodes (ends, junction clusters).

    Junction pixels (3+ links) touching each other form one node, so a thick crossing that
    thins into a small blob of junction pixels is a single crossing. Returns the segments
    and each node's kind ('end', 'junction' or 'dot').
    """
    adj = _adjacency(skel)
    deg = {p: len(n) for p, n in adj.items()}
    node_of: dict[tuple[int, int], int] = {}
    kind: dict[int, str] = {}
    jmask = np.zeros(skel.shape, bool)
    for p, d in deg.items():
        if d >= 3:
            jmask[p] = True
    labels, nj = ndimage.label(jmask, structure=np.ones((3, 3), int))
    for p in deg:
        if jmask[p]:
            node_of[p] = int(labels[p]) - 1
    for i in range(nj):
        kind[i] = "junction"
    nid = nj
    for p, d in deg.items():
        if d <= 1:
            node_of[p] = nid
            kind[nid] = "end" if d == 1 else "dot"
            nid += 1

    segs: list[_Segment] = []
    used: set[frozenset] = set()  # undirected pixel links already walked
    for start, n0 in node_of.items():
        if kind[n0] == "dot":
            segs.append(_Segment([start], n0, n0))
            continue
        for nxt in adj[start]:
            if node_of.get(nxt) == n0 or frozenset((start, nxt)) in used:
                continue  # links inside a junction cluster are not segments
            path = [start, nxt]
            used.add(frozenset((start, nxt)))
            prev, cur = start, nxt
            while cur not in node_of:
                step = [q for q in adj[cur] if q != prev]
                if not step:
                    break
                prev, cur = cur, step[0]
                used.add(frozenset((prev, cur)))
                path.append(cur)
            segs.append(_Segment(path, n0, node_of.get(cur, -1)))
    # Whatever is left is made of 2-link pixels only: closed loops such as a clean "0".
    seen = {p for s in segs for p in s.path}
    for p in adj:
        if p in seen:
            continue
        path, prev, cur = [p], None, p
        while True:
            step = [q for q in adj[cur] if q != prev and q not in path[1:]]
            if not step or step[0] == p:
                break
            prev, cur = cur, step[0]
            path.append(cur)
        seen.update(path)
        segs.append(_Segment(path + [p], -1, -1))
    return segs, kind


def _contract(segs: list[_Segment], kind: dict[int, str], bridge: float) -> list[_Segment]:
    """Merge junctions joined by a short segment into one node: thinning splits an "X"
    crossing (the middle of an "8", the bar of a "7" or "4") into two "T"s."""
    parent = {n: n for n in kind}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    keep = []
    for s in segs:
        if kind.get(s.a) == "junction" and kind.get(s.b) == "junction" \
                and s.length() < bridge:
            parent[find(s.a)] = find(s.b)
        else:
            keep.append(s)
    for s in keep:
        if s.a >= 0:
            s.a, s.b = find(s.a), find(s.b)
    return keep


def _prune(segs: list[_Segment], kind: dict[int, str], spur: float,
           min_len: float) -> list[_Segment]:
    """Drop short spurs (end -> junction) and specks, but never the last piece of ink."""
    counts: dict[int, int] = {}
    for s in segs:
        for n in (s.a, s.b):
            counts[n] = counts.get(n, 0) + 1
    keep: list[_Segment] = []
    for s in segs:
        kinds = {kind.get(s.a), kind.get(s.b)}
        is_spur = kinds == {"end", "junction"}
        # A spur only goes if its junction keeps at least two other branches; otherwise it
        # is a real end of a short stroke, e.g. the tip of a "4".
        junction = s.a if kind.get(s.a) == "junction" else s.b
        if is_spur and s.length() < spur and counts.get(junction, 0) >= 3:
            counts[junction] -= 1
            continue
        isolated = s.a == -1 or kinds <= {"end", "dot"}
        if isolated and s.length() < min_len:
            continue
        keep.append(s)
    if not keep and segs:
        keep = [max(segs, key=_Segment.length)]
    return keep


def _end_direction(path: np.ndarray, reach: float) -> np.ndarray:
    """Unit vector from path[0] into the path, averaged over ``reach`` pixels of arc."""
    d = np.hypot(*np.diff(path, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(d)])
    j = int(np.searchsorted(cum, reach))
    v = path[min(j, len(path) - 1)] - path[0]
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.zeros(2)


def _chain(segs: list[_Segment], reach: float) -> list[tuple[np.ndarray, bool]]:
    """Join segments through junctions where the line goes on smoothly (smallest turn first),
    so a "4" or an "8" becomes one or two strokes, not five. Returns (points, closed)."""
    paths = [np.asarray(s.path, dtype=np.float64) for s in segs]
    ends_at: dict[int, list[tuple[int, int]]] = {}  # node -> [(segment, 0=start | 1=end)]
    for i, s in enumerate(segs):
        if s.a >= 0 and len(s.path) > 1:
            ends_at.setdefault(s.a, []).append((i, 0))
            ends_at.setdefault(s.b, []).append((i, 1))
    partner: dict[tuple[int, int], tuple[int, int]] = {}
    cos_limit = -math.cos(math.radians(MAX_TURN_DEG))
    for ends in ends_at.values():
        if len(ends) < 2:
            continue
        dirs = {}
        for i, e in ends:
            p = paths[i] if e == 0 else paths[i][::-1]
            dirs[(i, e)] = _end_direction(p, reach)
        pairs = []
        for x in range(len(ends)):
            for y in range(x + 1, len(ends)):
                if ends[x][0] == ends[y][0]:
                    continue  # both ends of one loop: it closes by itself
                # Opposite directions (cos -1) mean going straight through the junction.
                pairs.append((float(dirs[ends[x]] @ dirs[ends[y]]), ends[x], ends[y]))
        pairs.sort(key=lambda t: t[0])
        # First the smooth continuations; then any two ends still free at this node are
        # joined anyway (a sharp corner is still one pen movement), so at most one stroke
        # starts or ends here: as few strokes as the skeleton allows.
        smooth = [t for t in pairs if t[0] <= cos_limit]
        for _, u, v in smooth + pairs:
            if u not in partner and v not in partner:
                partner[u], partner[v] = v, u

    out: list[tuple[np.ndarray, bool]] = []
    done: set[int] = set()

    def walk(i: int, e: int) -> tuple[list[np.ndarray], bool]:
        """Follow segments from segment i entered at end e until a free end or back home."""
        pieces, start = [], (i, e)
        while True:
            done.add(i)
            pieces.append(paths[i] if e == 0 else paths[i][::-1])
            far = (i, 1 - e)
            nxt = partner.get(far)
            if nxt is None:
                return pieces, False
            if nxt == start:
                return pieces, True
            if nxt[0] in done:
                return pieces, False
            i, e = nxt

    # Open chains start at free ends; what is left afterwards are closed loops.
    order = sorted(range(len(segs)), key=lambda k: len(segs[k].path), reverse=True)
    for i in order:
        for e in (0, 1):
            if i not in done and (i, e) not in partner:
                pieces, closed = walk(i, e)
                out.append((np.concatenate(pieces), closed))
    for i in order:
        if i not in done:
            s = segs[i]
            if s.a == -1:  # a traced loop
                done.add(i)
                out.append((paths[i], True))
            else:
                pieces, closed = walk(i, 0)
                out.append((np.concatenate(pieces), closed))
    return out


def _splice_loops(chains: list[tuple[np.ndarray, bool]],
                  reach: float) -> list[tuple[np.ndarray, bool]]:
    """Draw a closed loop as part of a stroke it touches (within ``reach``): the tail and
    loop of a "6", or a "0" whose overlapping ends made a second small loop, are one pen
    movement, not a loop plus a separate line."""
    chains = list(chains)
    merged = True
    while merged:
        merged = False
        for ci, (loop, closed) in enumerate(chains):
            if not closed:
                continue
            best = None
            for ai, (other, _) in enumerate(chains):
                if ai == ci:
                    continue
                d = np.hypot(*(other[:, None, :] - loop[None, :, :]).transpose(2, 0, 1))
                i, k = np.unravel_index(int(np.argmin(d)), d.shape)
                if d[i, k] <= reach and (best is None or d[i, k] < best[0]):
                    best = (float(d[i, k]), ai, int(i), int(k))
            if best is None:
                continue
            _, ai, i, k = best
            other, other_closed = chains[ai]
            core = loop[:-1] if np.array_equal(loop[0], loop[-1]) else loop
            ring = np.concatenate([np.roll(core, -k, axis=0), core[k:k + 1]])
            chains[ai] = (np.concatenate([other[:i + 1], ring, other[i:]]), other_closed)
            del chains[ci]
            merged = True
            break
    return chains


def _smooth_resample(p: np.ndarray, closed: bool, window: int, step: float) -> np.ndarray:
    """Moving average (ends pinned for open lines), then points every ``step`` of arc."""
    if len(p) >= 3 and window > 1:
        k = np.ones(window) / window
        half = window // 2
        if closed:
            core = p[:-1] if np.array_equal(p[0], p[-1]) else p
            ext = np.concatenate([core[-half:], core, core[:half]])
            sm = np.stack([np.convolve(ext[:, j], k, mode="valid") for j in (0, 1)], 1)
            p = np.concatenate([sm, sm[:1]])
        else:
            ext = np.concatenate([np.repeat(p[:1], half, 0), p, np.repeat(p[-1:], half, 0)])
            p = np.stack([np.convolve(ext[:, j], k, mode="valid") for j in (0, 1)], 1)
    return resample_polyline(p, step)


def resample_polyline(points: np.ndarray, step: float, phase: float = 0.0) -> np.ndarray:
    """(x, y) points every ``step`` of arc length from ``phase`` on, both ends kept."""
    p = points[:, :2]
    d = np.hypot(*np.diff(p, axis=0).T) if len(p) > 1 else np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(d)])
    if cum[-1] <= 0:
        return p[:1].copy()
    s = np.unique(np.concatenate([[0.0], np.arange(phase, cum[-1], step), [cum[-1]]]))
    return np.stack([np.interp(s, cum, p[:, 0]), np.interp(s, cum, p[:, 1])], 1)


def _orient(p: np.ndarray, closed: bool) -> np.ndarray:
    """Draw the way people do: open strokes from their upper(-left) end; loops from the top,
    anticlockwise on screen (as a "0" or an "o" is usually written)."""
    if not closed:
        # Score = y - 0.5x: the upper end wins, ties go to the left one.
        return p if p[0, 1] - 0.5 * p[0, 0] <= p[-1, 1] - 0.5 * p[-1, 0] else p[::-1]
    core = p[:-1] if len(p) > 1 and np.array_equal(p[0], p[-1]) else p
    x, y = core[:, 0], core[:, 1]
    area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    if area > 0:  # positive shoelace with y down = clockwise on screen
        core = core[::-1]
    top = int(np.argmin(core[:, 1]))
    core = np.roll(core, -top, axis=0)
    return np.concatenate([core, core[:1]])


def skeleton_strokes(img: np.ndarray, *, threshold: float = THRESHOLD,
                     upsample: int = UPSAMPLE, spur: float = SPUR_LENGTH,
                     step: float = STEP) -> list[np.ndarray]:
    """Strokes of a white-on-black digit image as (n, 2) float arrays of (x, y) in the
    image's pixel units; empty if the image has no ink."""
    skel = zhang_suen(punch_blobs(binarize(img, threshold, upsample), upsample))
    if not skel.any():
        return []
    segs, kind = _segments(skel)
    segs = _contract(segs, kind, BRIDGE_LENGTH * upsample)
    segs = _prune(segs, kind, spur * upsample, MIN_COMPONENT * upsample)
    chains = _splice_loops(_chain(segs, reach=2.0 * upsample), reach=2.0 * upsample)
    strokes = []
    for rc, closed in chains:
        xy = (rc[:, ::-1] + 0.5) / upsample - 0.5  # (row, col) upsampled -> (x, y) original
        keep = np.ones(len(xy), bool)
        keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)
        xy = _smooth_resample(xy[keep], closed, SMOOTH_WINDOW, step)
        strokes.append(_orient(xy, closed and len(xy) > 2))
    # Writing order: top to bottom, then left to right, by where each stroke starts.
    strokes.sort(key=lambda s: (round(float(s[0, 1]) / 4), float(s[0, 0])))
    return strokes


def array_points(a: np.ndarray) -> tuple[Point, ...]:
    """(n, 2) or (n, 3+: x, y, pressure) array -> Points (pressure 1 when absent).

    Built from one ``tolist()`` with ``Point._make``: training makes millions of points
    per epoch, and the namedtuple constructor called per point was a tenth of its time."""
    n = len(a)
    cols = [a[:, :2], a[:, 2:3] if a.shape[1] >= 3 else np.ones((n, 1)), np.zeros((n, 1))]
    return tuple(map(Point._make, np.column_stack(cols).astype(np.float64).tolist()))


def arrays_to_ink(strokes: list[np.ndarray]) -> Ink:
    """(n, 2) or (n, 3: x, y, pressure) arrays -> Ink (empty arrays are skipped)."""
    return Ink(tuple(Stroke(array_points(s)) for s in strokes if len(s)))


def ink_to_arrays(ink: Ink) -> list[np.ndarray]:
    """Ink -> list of (n, 3) float arrays of (x, y, pressure)."""
    return [np.array([(p.x, p.y, p.pressure) for p in s.points], dtype=np.float64)
            for s in ink.strokes]


def centroid_dot(img: np.ndarray) -> np.ndarray:
    """Fallback for an image whose skeleton is empty: a single point at its ink centroid."""
    a = np.asarray(img, dtype=np.float64)
    total = float(a.sum())
    if total > 0:
        ys, xs = np.indices(a.shape)
        return np.array([[float((xs * a).sum() / total), float((ys * a).sum() / total)]])
    return np.array([[(a.shape[1] - 1) / 2, (a.shape[0] - 1) / 2]])


def image_to_ink(img: np.ndarray, **kwargs: float) -> Ink:
    """Never empty: an image without a usable skeleton becomes a dot at its centroid."""
    strokes = skeleton_strokes(img, **kwargs)
    return arrays_to_ink(strokes or [centroid_dot(img)])
