"""What one epoch of the character model trains on: real pen letters and digits, MNIST,
and scribbles as "not a character".

The character model reads the 62 labels of ``CHAR_LABELS`` (digits, capitals, lower
case) plus a last class, "not a character". Its epoch mix:

- real pen letters of the training writers (UNIPEN capitals and lower case, Omniglot),
  each restyled ``letter_repeat`` times as another writer or device might draw it;
- real pen digits of the training writers, restyled ``pen_repeat`` times, and styled
  digits (slashed 0, European 1, ...), so that Everything mode reads digits too;
- a share of MNIST digits with screen-drawing augmentation (``mnist_share``);
- generated scribbles, blobs and lines (never letter shapes) as "not a character".

Validation: the validation writers' pen letters and digits (``training.pen`` splits by
writer). Every image goes through the app's own ``hwr_qt.raster`` / ``preprocess``.
"""

from __future__ import annotations

import string
import time
from dataclasses import dataclass, field

import numpy as np

from hwr_qt.ink import Ink
from hwr_qt.preprocess import normalize_batch
from training.augment import augment_batch
from training.data import render_all, split_indices
from training.mnist import load_mnist
from training.negatives import KINDS, negative_images
from training.pen import DIGIT_FILES, LETTER_FILES, PenData, load_pen
from training.penaug import STYLES, pen_restyle, styled
from training.recipe import Recipe, Seeds

CHAR_LABELS = tuple(string.digits + string.ascii_uppercase + string.ascii_lowercase)
NOT_CHAR = len(CHAR_LABELS)  # class index of "not a character"
INDEX = {label: i for i, label in enumerate(CHAR_LABELS)}
# Letters one shape in both cases (and capital I / lower-case l): a lone one cannot tell
# its case; the reader decides it from its neighbours' heights.
SAME_SHAPE = (("c", "C"), ("k", "K"), ("o", "O"), ("p", "P"), ("s", "S"), ("u", "U"),
              ("v", "V"), ("w", "W"), ("x", "X"), ("y", "Y"), ("z", "Z"), ("I", "l"))
NEGATIVE_KINDS = tuple(k for k in KINDS if k != "letter")


def fold_case(labels: np.ndarray | list[int]) -> np.ndarray:
    """Class indices -> case-insensitive class ids (letters folded to lower case, and
    capital I with lower-case l: the pairs ``SAME_SHAPE`` names)."""
    folded = {}
    for i, lab in enumerate(CHAR_LABELS):
        folded[i] = INDEX[lab.lower()]
    folded[INDEX["I"]] = folded[INDEX["l"]] = INDEX["l"]
    folded[NOT_CHAR] = NOT_CHAR
    table = np.array([folded[i] for i in range(NOT_CHAR + 1)])
    return table[np.asarray(labels, np.int64)]


def pen_chars(pen: PenData, split: str, files: tuple[str, ...]) -> tuple[list[Ink], np.ndarray]:
    samples = pen.select(split=split, sources=files)
    samples = [s for s in samples if s.label in INDEX]
    return [s.ink for s in samples], np.array([INDEX[s.label] for s in samples], np.int64)


@dataclass
class CharValidation:
    letters: tuple[np.ndarray, np.ndarray]  # validation writers' pen letters
    digits: tuple[np.ndarray, np.ndarray]  # validation writers' pen digits
    negatives: np.ndarray  # held-out generated scribbles


@dataclass
class CharData:
    recipe: Recipe
    validation: CharValidation
    mnist_test: tuple[np.ndarray, np.ndarray]
    x_mnist: np.ndarray  # uint8 MNIST training split
    y_mnist: np.ndarray
    letter_inks: list[Ink] = field(default_factory=list)
    letter_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    digit_inks: list[Ink] = field(default_factory=list)
    digit_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    negative_pool: np.ndarray | None = None

    classes = NOT_CHAR + 1

    @classmethod
    def build(cls, recipe: Recipe, mnist_dir: str | None, pen_dir: str | None,
              log=print) -> CharData:
        seeds = Seeds(recipe.seed)
        t0 = time.perf_counter()
        pen = load_pen(pen_dir)
        letters, y_letters = pen_chars(pen, "train", LETTER_FILES)
        digits, y_digits = pen_chars(pen, "train", DIGIT_FILES)
        val_l, val_yl = pen_chars(pen, "val", LETTER_FILES)
        val_d, val_yd = pen_chars(pen, "val", DIGIT_FILES)
        if recipe.limit:  # smoke runs: a proportionate slice
            letters, y_letters = letters[:recipe.limit], y_letters[:recipe.limit]
            digits, y_digits = digits[:recipe.limit // 4], y_digits[:recipe.limit // 4]
            val_l, val_yl = val_l[:recipe.limit // 5], val_yl[:recipe.limit // 5]
            val_d, val_yd = val_d[:recipe.limit // 10], val_yd[:recipe.limit // 10]
        log(f"real pen data: {len(letters):,} letters and {len(digits):,} digits from "
            f"training writers; validation {len(val_l):,} letters, {len(val_d):,} digits "
            f"from other writers; dropped as broken {pen.dropped} "
            f"({time.perf_counter() - t0:.0f} s)")
        mnist = load_mnist(mnist_dir)
        train_idx, _ = split_indices(len(mnist.x_train), recipe.val_size, seeds.split)
        if recipe.limit:
            train_idx = train_idx[:recipe.limit]
        negatives, _ = negative_images(max(recipe.negatives, 10) * 2, seeds.negatives,
                                       NEGATIVE_KINDS)
        held_out, _ = negative_images(max(recipe.negatives // 4, 10), seeds.export_negatives,
                                      NEGATIVE_KINDS)
        validation = CharValidation(
            (render_all(val_l)[..., None], val_yl), (render_all(val_d)[..., None], val_yd),
            held_out[..., None])
        return cls(recipe, validation, (mnist.x_test, mnist.y_test),
                   mnist.x_train[train_idx], mnist.y_train[train_idx].astype(np.int64),
                   letters, y_letters, digits, y_digits, negatives)

    def epoch_size(self) -> int:
        r = self.recipe
        return (len(self.letter_inks) * r.letter_repeat + len(self.digit_inks) * r.pen_repeat
                + r.styles + int(len(self.y_mnist) * r.mnist_share) + r.negatives)

    def epoch(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        r = self.recipe
        order = np.tile(np.arange(len(self.letter_inks)), r.letter_repeat)
        xs = [render_all([pen_restyle(self.letter_inks[i], rng) for i in order])]
        ys = [self.letter_labels[order]]
        order = np.tile(np.arange(len(self.digit_inks)), r.pen_repeat)
        xs.append(render_all([pen_restyle(self.digit_inks[i], rng) for i in order]))
        ys.append(self.digit_labels[order])
        if r.styles:
            xs_s, ys_s = self._styled(rng, r.styles)
            xs.append(xs_s)
            ys.append(ys_s)
        n_mnist = int(len(self.y_mnist) * r.mnist_share)
        if n_mnist:
            pick = rng.choice(len(self.y_mnist), n_mnist, replace=False)
            xs.append(augment_batch(self.x_mnist[pick], rng, keep=r.mnist_clean))
            ys.append(self.y_mnist[pick])
        if self.negative_pool is not None and r.negatives:
            pick = rng.choice(len(self.negative_pool), r.negatives, replace=False)
            xs.append(augment_batch(self.negative_pool[pick], rng, keep=0.3))
            ys.append(np.full(r.negatives, NOT_CHAR, np.int64))
        return np.concatenate(xs)[..., None], np.concatenate(ys)

    def _styled(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = sorted(STYLES)
        by_label = {lab: np.flatnonzero(self.digit_labels == INDEX[lab]) for lab in labels}
        inks, ys = [], []
        for lab in rng.choice(labels, n):
            pool = by_label[str(lab)]
            if len(pool):
                base = self.digit_inks[int(pool[rng.integers(len(pool))])]
                inks.append(pen_restyle(styled(str(lab), base, rng), rng, strength=0.7))
                ys.append(INDEX[str(lab)])
        return render_all(inks), np.array(ys, np.int64)

    def evaluate(self, model) -> dict[str, float]:
        """Validation writers: letters read as letters (exact and case-insensitive),
        digits read in Everything mode, held-out scribbles called "not a character"."""
        v = self.validation
        out: dict[str, float] = {}
        x, y = v.letters
        p = model.predict(x, batch_size=1024, verbose=0)
        letters = np.array([lab.isalpha() for lab in CHAR_LABELS] + [False])
        pred = np.where(letters, p, -1).argmax(1)
        out["letters_val_acc"] = round(float(np.mean(pred == y)), 5)
        out["letters_val_acc_nocase"] = round(float(np.mean(fold_case(pred) == fold_case(y))), 5)
        x, y = v.digits
        pred = model.predict(x, batch_size=1024, verbose=0)[:, :NOT_CHAR].argmax(1)
        out["digits_val_acc_all_mode"] = round(float(np.mean(fold_case(pred) == y)), 5)
        out["negatives_val_rejected"] = round(float(np.mean(
            model.predict(v.negatives, batch_size=1024, verbose=0).argmax(1) == NOT_CHAR)), 5)
        return out

    def mnist_test_accuracy(self, model) -> float:
        """Digits mode of the character model on MNIST test (digit columns only)."""
        x = normalize_batch(self.mnist_test[0].astype(np.float32) / 255)[..., None]
        p = model.predict(x, batch_size=1024, verbose=0)[:, :10]
        return round(float(np.mean(p.argmax(1) == self.mnist_test[1])), 5)
