"""What one epoch trains on: MNIST, real pen digits and "not a digit" ink, mixed.

Built once per run (``TrainingData.build``: load, split, trace, render the fixed pools),
then ``epoch(rng)`` draws a fresh augmented mix:

- MNIST training digits with screen-drawing augmentation, a share re-drawn as pen ink
  from their traced strokes (``training.augment``, ``training.drawn``);
- real pen digits of the training writers, each restyled ``pen_repeat`` times as another
  writer and device might have drawn it (``training.penaug.pen_restyle``);
- styled digits (slashed 0, European 1, crossed 7, open 4, straight-stemmed 9) drawn onto
  real training samples or from templates;
- class ``NOT_DIGIT``: generated scribbles/blobs/lines (``training.negatives``), real
  pen letters unlike any digit, from training writers only, and (``Recipe.pairs``) two
  training digits touching side by side: a number's segmentation offers such a pair as
  one character, and the model should doubt it rather than read it as one digit.

Every image goes through the app's own ``hwr_qt.raster`` / ``hwr_qt.preprocess``.
Validation never shares a writer with training: pen digits and letters of the 'val'
writers, and the held-out MNIST split.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from hwr_qt.ink import Ink
from hwr_qt.preprocess import normalize_batch
from hwr_qt.raster import render_ink
from training.augment import augment_batch
from training.drawn import drawn_batch, trace_all
from training.mnist import load_mnist
from training.negatives import negative_images
from training.pen import DIGIT_FILES, LETTER_FILES, UNLIKE_DIGITS, PenData, load_pen
from training.penaug import STYLES, pen_restyle, styled, touching_pair
from training.recipe import Recipe, Seeds

NOT_DIGIT = 10  # class index of "not a digit"
DIGITS = "0123456789"


def split_indices(n: int, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation split of the MNIST training set (export reuses it)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[val_size:]), np.sort(order[:val_size])


def render_all(inks: list[Ink]) -> np.ndarray:
    """float32 [N, 28, 28] model inputs, as the app renders them."""
    if not inks:
        return np.zeros((0, 28, 28), np.float32)
    return np.stack([render_ink(i) for i in inks])


def pen_digits(pen: PenData, split: str) -> tuple[list[Ink], np.ndarray]:
    samples = pen.select(split=split, sources=DIGIT_FILES, labels=DIGITS)
    return [s.ink for s in samples], np.array([int(s.label) for s in samples], np.int64)


def pen_letters(pen: PenData, split: str) -> list[Ink]:
    return [s.ink for s in pen.select(split=split, sources=LETTER_FILES, labels=UNLIKE_DIGITS)]


@dataclass
class Validation:
    """Held-out sets, scored after every epoch."""

    mnist: tuple[np.ndarray, np.ndarray]  # normalised MNIST validation split
    pen_digits: tuple[np.ndarray, np.ndarray] | None = None  # 'val' writers
    pen_letters: np.ndarray | None = None  # 'val' writers' letters: should be NOT_DIGIT


@dataclass
class TrainingData:
    recipe: Recipe
    x_mnist: np.ndarray  # uint8 [N, 28, 28], training split
    y_mnist: np.ndarray
    validation: Validation
    mnist_test: tuple[np.ndarray, np.ndarray]  # uint8 images, labels: the final evaluation
    templates: dict[int, list[np.ndarray]] = field(default_factory=dict)  # traced MNIST
    negative_pool: np.ndarray | None = None  # rendered generated non-digits
    pen_inks: list[Ink] = field(default_factory=list)  # training writers' digits
    pen_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    letter_inks: list[Ink] = field(default_factory=list)  # training writers' letters

    @classmethod
    def build(cls, recipe: Recipe, mnist_dir: str | None, pen_dir: str | None,
              log=print) -> TrainingData:
        seeds = Seeds(recipe.seed)
        mnist = load_mnist(mnist_dir)
        train_idx, val_idx = split_indices(len(mnist.x_train), recipe.val_size, seeds.split)
        if recipe.limit:
            train_idx = train_idx[:recipe.limit]
            val_idx = val_idx[:max(recipe.limit // 5, 10)]
        x_val = normalize_batch(mnist.x_train[val_idx].astype(np.float32) / 255)[..., None]
        data = cls(recipe, mnist.x_train[train_idx], mnist.y_train[train_idx].astype(np.int64),
                   Validation((x_val, mnist.y_train[val_idx].astype(np.int64))),
                   (mnist.x_test, mnist.y_test))
        if recipe.uses_pen:
            data._add_pen(pen_dir, log)
        if recipe.negatives and recipe.arch != "seed":
            t0 = time.perf_counter()
            data.negative_pool, _ = negative_images(int(recipe.negatives * 1.5), seeds.negatives)
            log(f"rendered {len(data.negative_pool):,} generated non-digits in "
                f"{time.perf_counter() - t0:.0f} s")
        if recipe.drawn > 0 and recipe.augment:
            data._trace(seeds.traced, log)
        return data

    def _add_pen(self, pen_dir: str | None, log) -> None:
        t0 = time.perf_counter()
        pen = load_pen(pen_dir)
        self.pen_inks, self.pen_labels = pen_digits(pen, "train")
        self.letter_inks = pen_letters(pen, "train")
        if self.recipe.limit:  # smoke runs: a proportionate slice
            self.pen_inks = self.pen_inks[:self.recipe.limit // 4]
            self.pen_labels = self.pen_labels[:self.recipe.limit // 4]
            self.letter_inks = self.letter_inks[:self.recipe.limit // 8]
        val_inks, val_labels = pen_digits(pen, "val")
        self.validation.pen_digits = (render_all(val_inks)[..., None], val_labels)
        self.validation.pen_letters = render_all(pen_letters(pen, "val"))[..., None]
        log(f"real pen data: {len(self.pen_inks):,} digits and {len(self.letter_inks):,} "
            f"letters from training writers; validation {len(val_inks):,} digits, "
            f"{len(self.validation.pen_letters):,} letters from other writers; dropped as "
            f"broken {pen.dropped} ({time.perf_counter() - t0:.0f} s)")

    def _trace(self, seed: int, log) -> None:
        # Trace a seeded share of the training digits once (the costly part, ~3 ms each,
        # on all cores); each epoch restyles and renders a fresh sample of them.
        t0 = time.perf_counter()
        share = min(1.0, self.recipe.drawn * 1.7)
        n = len(self.x_mnist)
        chosen = np.sort(np.random.default_rng(seed).permutation(n)[: int(n * share)])
        chunks = np.array_split(chosen, max(1, len(chosen) // 1000))
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as procs:
            traced = procs.map(trace_all, [self.x_mnist[c] for c in chunks])
            for c, t in zip(chunks, traced, strict=True):
                self.templates.update(zip(c.tolist(), t, strict=True))
        log(f"traced {len(self.templates):,} training digits into strokes in "
            f"{time.perf_counter() - t0:.0f} s")

    @property
    def classes(self) -> int:
        has_reject = self.negative_pool is not None or bool(self.letter_inks)
        return 11 if has_reject and self.recipe.arch != "seed" else 10

    def epoch_size(self) -> int:
        """Images per epoch (for the learning-rate schedule), without drawing one."""
        r = self.recipe
        if not r.augment:
            return len(self.y_mnist)
        n = len(self.y_mnist)
        if self.pen_inks:
            n += len(self.pen_inks) * r.pen_repeat + r.styles + r.pairs
        if self.negative_pool is not None:
            n += r.negatives
        if self.letter_inks:
            n += min(r.pen_letters, len(self.letter_inks))
        return n

    def clean(self) -> tuple[np.ndarray, np.ndarray]:
        """The un-augmented MNIST training split (recipes without augmentation)."""
        return normalize_batch(self.x_mnist.astype(np.float32) / 255)[..., None], self.y_mnist

    def epoch(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A freshly augmented mix, float32 [N, 28, 28, 1] and int labels."""
        r = self.recipe
        xs = [augment_batch(self.x_mnist, rng, keep=r.mnist_clean)]
        ys = [self.y_mnist]
        if self.templates:
            traced = np.array(sorted(self.templates), dtype=np.int64)
            pick = rng.choice(traced, min(len(traced), int(len(xs[0]) * r.drawn)),
                              replace=False)
            xs[0][pick] = drawn_batch([self.templates[i] for i in pick.tolist()], rng)
        if self.pen_inks and r.pen_repeat:
            order = np.tile(np.arange(len(self.pen_inks)), r.pen_repeat)
            xs.append(render_all([pen_restyle(self.pen_inks[i], rng) for i in order]))
            ys.append(self.pen_labels[order])
        if self.pen_inks and r.styles:
            xs_s, ys_s = self._styled(rng, r.styles)
            xs.append(xs_s)
            ys.append(ys_s)
        if self.pen_inks and r.pairs:
            first = rng.integers(len(self.pen_inks), size=r.pairs)
            second = rng.integers(len(self.pen_inks), size=r.pairs)
            xs.append(render_all([
                pen_restyle(touching_pair(self.pen_inks[i], self.pen_inks[j], rng), rng,
                            strength=0.7) for i, j in zip(first.tolist(), second.tolist(),
                                                          strict=True)]))
            ys.append(np.full(r.pairs, NOT_DIGIT, np.int64))
        if self.negative_pool is not None:
            pick = rng.choice(len(self.negative_pool), r.negatives, replace=False)
            xs.append(augment_batch(self.negative_pool[pick], rng, keep=0.3))
            ys.append(np.full(r.negatives, NOT_DIGIT, np.int64))
        if self.letter_inks and r.pen_letters:
            pick = rng.choice(len(self.letter_inks), min(r.pen_letters, len(self.letter_inks)),
                              replace=False)
            xs.append(render_all([pen_restyle(self.letter_inks[i], rng) for i in pick]))
            ys.append(np.full(len(pick), NOT_DIGIT, np.int64))
        return np.concatenate(xs)[..., None], np.concatenate(ys)

    def _styled(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = sorted(STYLES)
        by_label = {lab: np.flatnonzero(self.pen_labels == int(lab)) for lab in labels}
        inks, ys = [], []
        for lab in rng.choice(labels, n):
            pool = by_label[str(lab)]
            if not len(pool):
                continue
            base = self.pen_inks[int(pool[rng.integers(len(pool))])]
            inks.append(pen_restyle(styled(str(lab), base, rng), rng, strength=0.7))
            ys.append(int(lab))
        return render_all(inks), np.array(ys, np.int64)
