"""Train a digit model: ``python -m training [--arch default|seed] [--data-dir DIR] ...``.

Reads top to bottom: load the data (``training.data``), build the model
(``training.model``), fit epoch by epoch on freshly augmented mixes, evaluate on held-out
MNIST and on real pen writers never trained on, save ``model.keras`` and
``training.json`` (recipe, seeds, per-epoch history, wall time, accuracies) into ``--out``.
Each epoch's data is prepared in a background thread while the previous epoch trains.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hwr_qt.preprocess import PREPROCESSING_VERSION, normalize_batch
from training.chardata import CHAR_LABELS, CharData
from training.data import NOT_DIGIT, TrainingData, split_indices
from training.mnist import MnistError
from training.pen import PenDataError
from training.recipe import RECIPES, Recipe, Seeds

__all__ = ["NOT_DIGIT", "Recipe", "RECIPES", "main", "split_indices", "train"]


def make_optimizer(recipe: Recipe, steps_per_epoch: int):
    import keras

    if recipe.optimizer == "adadelta":
        return keras.optimizers.Adadelta(learning_rate=recipe.learning_rate)
    total = recipe.epochs * steps_per_epoch
    warmup = min(steps_per_epoch, total // 4)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe.learning_rate / 20, decay_steps=max(total - warmup, 1),
        alpha=0.005, warmup_target=recipe.learning_rate, warmup_steps=warmup)
    return keras.optimizers.Adam(learning_rate=schedule)


def evaluate(model, data: TrainingData) -> dict[str, float]:
    """Accuracy on held-out MNIST and on the validation writers' pen digits; the share of
    their pen letters called "not a digit"."""
    v = data.validation
    out = {"mnist_val_acc": _accuracy(model, *v.mnist)}
    if v.pen_digits is not None:
        out["pen_val_acc"] = _accuracy(model, *v.pen_digits)
    if v.pen_letters is not None and len(v.pen_letters) and data.classes == 11:
        p = model.predict(v.pen_letters, batch_size=1024, verbose=0)
        out["pen_val_letters_rejected"] = round(float(np.mean(p.argmax(1) == NOT_DIGIT)), 5)
    return out


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    # Which digit, if it is one: the not-a-digit class is a separate question.
    p = model.predict(x, batch_size=1024, verbose=0)[:, :10]
    return round(float(np.mean(p.argmax(1) == y)), 5)


def train(recipe: Recipe, data_dir: str | None, out: Path, verbose: int | str = "auto",
          pen_dir: str | None = None) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from training.model import build

    started = time.perf_counter()
    seeds = Seeds(recipe.seed)
    keras.utils.set_random_seed(recipe.seed)

    # 1. Data: MNIST, real pen writers, generated non-digits; validation by writer.
    data: TrainingData | CharData = (CharData if recipe.task == "chars" else TrainingData).build(
        recipe, data_dir, pen_dir, log=lambda m: print(m, flush=True))
    scores = data.evaluate if isinstance(data, CharData) else (lambda m: evaluate(m, data))

    # 2. Model.
    model = build(recipe.arch, classes=data.classes)
    n_epoch = data.epoch_size()
    steps = int(np.ceil(n_epoch / recipe.batch_size))
    model.compile(optimizer=make_optimizer(recipe, steps),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"hwr-qt training: arch={recipe.arch}, {model.count_params():,} parameters, "
          f"{n_epoch:,} images per epoch, {recipe.epochs} "
          f"epochs, augmentation {'on' if recipe.augment else 'off'}", flush=True)

    # 3. Fit, one epoch at a time so each sees a fresh mix.
    history: list[dict] = []
    clean = None if recipe.augment else data.clean()
    with ThreadPoolExecutor(max_workers=1) as executor:
        # Child generators keep each epoch's augmentation reproducible despite the thread.
        rngs = np.random.default_rng(seeds.epochs).spawn(recipe.epochs)
        pending = executor.submit(data.epoch, rngs[0]) if recipe.augment else None
        for epoch in range(recipe.epochs):
            t0 = time.perf_counter()
            if pending is not None:
                x_epoch, y_epoch = pending.result()
                pending = (executor.submit(data.epoch, rngs[epoch + 1])
                           if epoch + 1 < recipe.epochs else None)
            else:
                assert clean is not None
                x_epoch, y_epoch = clean
            print(f"epoch {epoch + 1}/{recipe.epochs}", flush=True)
            h = model.fit(x_epoch, y_epoch, batch_size=recipe.batch_size, epochs=1,
                          verbose=verbose, shuffle=True)
            row = {k: round(float(v[-1]), 5) for k, v in h.history.items()}
            row.update(scores(model))
            row["seconds"] = round(time.perf_counter() - t0, 1)
            print("  " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
            history.append(row)

    # 4. Evaluate on MNIST test (raw, and re-normalised by the app's preprocessing).
    x_test, y_test = data.mnist_test[0].astype(np.float32) / 255, data.mnist_test[1]
    test_acc = _accuracy(model, x_test[..., None], y_test)
    test_acc_norm = _accuracy(model, normalize_batch(x_test)[..., None], y_test)
    labels = list(CHAR_LABELS) if isinstance(data, CharData) else [str(d) for d in range(10)]
    wall = time.perf_counter() - started

    # 5. Save.
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    record = {
        "recipe": asdict(recipe),
        "seeds": {k: getattr(seeds, k) for k in ("split", "epochs", "traced", "negatives")},
        "preprocessing_version": PREPROCESSING_VERSION,
        "parameters": int(model.count_params()),
        "classes": data.classes,
        "labels": labels,
        "history": history,
        "wall_time_s": round(wall, 1),
        "test_accuracy": test_acc,
        "test_accuracy_normalized": test_acc_norm,
        "validation": history[-1] if history else {},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"done in {wall / 60:.1f} min: MNIST test accuracy {test_acc:.4%} "
          f"(re-normalised {test_acc_norm:.4%}); wrote {out}/model.keras, training.json",
          flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=sorted(RECIPES), default="default",
                   help="recipe: 'default' (digits: MNIST + real pen), 'chars' (letters and "
                   "digits) or 'seed' (the original app's)")
    p.add_argument("--data-dir", help="folder with the MNIST IDX .gz files "
                   "(default: $HWR_MNIST_DIR, else a Keras download)")
    p.add_argument("--pen-dir", help="folder with the real pen *.jsonl.gz files "
                   "(default: $HWR_PEN_DIR)")
    p.add_argument("--out", type=Path, help="output folder (default: runs/ARCH)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--val-size", type=int,
                   help="MNIST training images held out for validation and calibration")
    p.add_argument("--limit", type=int, help="train on only this many images (smoke runs)")
    p.add_argument("--drawn", type=float, help="share of MNIST digits re-drawn as pen ink "
                   "each epoch (0..1)")
    p.add_argument("--negatives", type=int, help="generated non-digits per epoch")
    p.add_argument("--pen-repeat", type=int, help="restyled copies of each real pen digit "
                   "per epoch (0: no pen digits)")
    p.add_argument("--pen-letters", type=int, help="real pen letters per epoch as non-digits")
    p.add_argument("--letter-repeat", type=int, help="chars: restyled copies of each real "
                   "pen letter per epoch")
    p.add_argument("--mnist-share", type=float, help="chars: share of MNIST per epoch (0..1)")
    p.add_argument("--styles", type=int, help="styled digits per epoch (slashed 0, ...)")
    p.add_argument("--pairs", type=int, help="touching pairs of pen digits per epoch as "
                   "'not a digit'")
    p.add_argument("--mnist-clean", type=float, help="share of MNIST digits left "
                   "un-augmented each epoch (0..1)")
    aug = p.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras progress: 1 bar, 2 a line per epoch (default: bar on a terminal)")
    args = p.parse_args(argv)
    recipe = RECIPES[args.arch].with_overrides(
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, val_size=args.val_size,
        limit=args.limit, drawn=args.drawn, negatives=args.negatives,
        pen_repeat=args.pen_repeat, pen_letters=args.pen_letters, styles=args.styles,
        pairs=args.pairs,
        mnist_clean=args.mnist_clean, augment=args.augment, letter_repeat=args.letter_repeat,
        mnist_share=args.mnist_share)
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    try:
        train(recipe, args.data_dir, args.out or Path("runs") / args.arch, verbose,
              pen_dir=args.pen_dir)
    except (MnistError, PenDataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    return 0
