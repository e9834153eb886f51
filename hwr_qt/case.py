"""Upper or lower case for letters that are one shape in both (c/C, o/O, s/S, I/l ...).

Shape cannot tell them apart; their size in the word can. Letters whose case is certain
(an "a", an "H", a digit) give the word's baseline, x-height and cap height; a c whose
top stands near the x-height is lower case, near the cap height upper case. Where both
cases are equally tall (k/K, I/l) the certain neighbours' case decides ("Il" in "Ill" is
lower case, in "IT" upper).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hwr_qt.segment import Box

ASCENDERS = set("bdfhklt")  # lower case as tall as capitals
DESCENDERS = set("gjpqy")  # lower case that hang below the baseline, top at x-height
# Capitals stand about 1.4-1.5 x-heights tall in print and in pen writing; 1.2 is about
# the geometric middle, so a letter is upper case when it is taller than this.
TALL_RATIO = 1.2


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _tall(label: str) -> bool:
    """Reaches the cap height: capitals, digits, ascenders."""
    return label.isupper() or label.isdigit() or label in ASCENDERS


def decide_case(labels: Sequence[str], boxes: Sequence[Box],
                same_shape: Sequence[Sequence[str]]) -> list[str]:
    """The word's labels with each same-shape letter's case chosen by its size against
    the letters around it (boxes in drawing coordinates, y downward). Letters without a
    twin, rejected characters ("?") and a lone letter are returned as they are."""
    group_of = {x: tuple(g) for g in same_shape for x in g}
    out = list(labels)
    if len(labels) < 2 or not any(lab in group_of for lab in labels):
        return out
    sure = [i for i, lab in enumerate(labels) if lab not in group_of and lab.isalnum()]
    # The baseline: where letters that do not descend end.
    on_line = [boxes[i].y1 for i in sure if labels[i] not in DESCENDERS]
    baseline = _median(on_line) or _median([b.y1 for b in boxes])
    assert baseline is not None
    above = [baseline - b.y0 for b in boxes]  # how far each letter reaches up
    x_height = _median([above[i] for i in sure if not _tall(labels[i])])
    cap = _median([above[i] for i in sure if _tall(labels[i])])
    lower_sure = [labels[i] for i in sure if labels[i].isalpha() and labels[i].islower()]
    upper_sure = [labels[i] for i in sure if labels[i].isalpha() and labels[i].isupper()]
    unsure = [i for i, lab in enumerate(labels) if lab in group_of]
    for i in unsure:
        group = group_of[labels[i]]
        upper: bool | None
        if all(_tall(x) for x in group):  # I/l, k/K: as tall in both cases
            upper = False if lower_sure else (True if upper_sure else None)
        else:
            upper = _is_tall(above[i], x_height, cap,
                             [above[j] for j in unsure if j != i])
        if upper is not None:
            out[i] = next((x for x in group if x.isupper() == upper), labels[i])
    return out


def _is_tall(h: float, x_height: float | None, cap: float | None,
             others: list[float]) -> bool | None:
    """Whether a letter reaching ``h`` above the baseline is a capital; None: no telling."""
    # Heights are measured up from an estimated baseline: in real words a letter can end
    # above it (a raised or tiny letter) and reach "negative" heights; those tell nothing.
    if h <= 0:
        return None
    x_height = x_height if x_height and x_height > 0 else None
    cap = cap if cap and cap > 0 else None
    others = [o for o in others if o > 0]
    if x_height and cap and cap > x_height:
        return abs(math.log(h / cap)) < abs(math.log(h / x_height))
    if x_height:
        return h > TALL_RATIO * x_height
    if cap:
        return h * TALL_RATIO > cap
    # Only same-shape letters ("Sox", "ox"): a clear step in height tells.
    tallest, shortest = max([h, *others]), min([h, *others])
    if tallest <= TALL_RATIO * shortest:
        return None
    return h > math.sqrt(tallest * shortest)
