"""Training recipes and the seeds derived from one number.

A recipe is everything that decides what a run learns; ``training.json`` records it, and
the export reads it back (validation split, seeds), so a model is reproducible from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Recipe:
    task: str = "digits"  # "digits" (training.data) or "chars" (training.chardata)
    arch: str = "default"
    epochs: int = 24
    batch_size: int = 128
    optimizer: str = "adam"  # "adam" (cosine decay with warm-up) or "adadelta"
    learning_rate: float = 2e-3
    augment: bool = True  # screen-drawing augmentation of MNIST (training.augment)
    mnist_clean: float = 0.15  # share of MNIST digits left un-augmented each epoch
    negatives: int = 6000  # generated non-digits per epoch, class "not a digit"
    drawn: float = 0.3  # share of MNIST digits re-drawn as pen ink each epoch
    pen_repeat: int = 3  # restyled copies of each real pen training digit per epoch
    pen_letters: int = 6000  # real pen letters (unlike digits) per epoch as "not a digit"
    styles: int = 2500  # styled digits (slashed 0, European 1, ...) per epoch
    pairs: int = 0  # two training digits touching side by side, per epoch, as "not a digit"
    letter_repeat: int = 0  # chars: restyled copies of each real pen training letter
    mnist_share: float = 1.0  # chars: share of the MNIST training split drawn each epoch
    seed: int = 1
    val_size: int = 5000  # MNIST training images held out for validation and calibration
    limit: int | None = None  # train on only this many MNIST images (smoke runs)

    @property
    def uses_pen(self) -> bool:
        return self.pen_repeat > 0 or self.pen_letters > 0 or self.styles > 0

    def with_overrides(self, **changes: object) -> Recipe:
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


RECIPES = {
    # The seed app's recipe, with Keras 2's Adadelta rate made explicit (Keras 3's default
    # of 0.001 reaches only ~49 % after 10 epochs). MNIST only, no augmentation.
    "seed": Recipe(arch="seed", epochs=10, optimizer="adadelta", learning_rate=1.0,
                   augment=False, negatives=0, drawn=0.0, pen_repeat=0, pen_letters=0,
                   styles=0),
    # MNIST plus real pen digits from training writers, pen letters and generated ink as
    # "not a digit".
    "default": Recipe(),
    # Letters and digits (62 labels) plus "not a character": real pen letters and digits
    # of the training writers, a fifth of MNIST, generated scribbles.
    "chars": Recipe(task="chars", arch="chars", epochs=16, letter_repeat=2, pen_repeat=2,
                    styles=1000, mnist_share=0.2, negatives=4000, drawn=0.0, pen_letters=0),
}


@dataclass(frozen=True)
class Seeds:
    """Every random stream of a run, named, all derived from ``Recipe.seed``."""

    base: int

    @property
    def split(self) -> int:  # MNIST train/validation split (export repeats it)
        return self.base

    @property
    def epochs(self) -> int:  # per-epoch augmentation (one child generator per epoch)
        return self.base + 1

    @property
    def traced(self) -> int:  # which MNIST digits are traced into strokes
        return self.base + 2

    @property
    def negatives(self) -> int:  # the pool of generated non-digits
        return self.base + 1_000

    @property
    def export_negatives(self) -> int:  # export's held-out non-digits: never trained on
        return self.base + 1_001

    @property
    def export_augment(self) -> int:
        return self.base + 7

    @property
    def export_drawn(self) -> int:
        return self.base + 8
