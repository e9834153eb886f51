"""Train a digit model: ``python -m training [--arch default|seed] [--data-dir DIR] ...``.

Writes ``model.keras`` and ``training.json`` (recipe, seed, epochs, wall time, accuracy)
into ``--out``. Each epoch sees freshly augmented digits, prepared in a background thread
while the previous epoch trains, and normalised by the app's own ``hwr_qt.preprocess``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hwr_qt.preprocess import PREPROCESSING_VERSION, normalize_batch
from training.augment import augment_batch
from training.drawn import drawn_batch, trace_all
from training.mnist import MnistError, load_mnist
from training.negatives import negative_images

NOT_DIGIT = 10  # class index of generated non-digits
NEGATIVE_POOL_SEED = 1_000  # export draws its held-out negatives from another seed


@dataclass
class Recipe:
    arch: str
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    augment: bool
    negatives: int  # generated non-digits per epoch, as class 10 (0: a plain 10-class model)
    drawn: float  # share of digits each epoch re-drawn as pen ink from their traced strokes
    seed: int
    val_size: int
    limit: int | None


RECIPES = {
    # The seed's recipe, with Keras 2's Adadelta rate made explicit (Keras 3's default
    # of 0.001 reaches only ~49 % after 10 epochs).
    "seed": dict(epochs=10, batch_size=128, optimizer="adadelta", learning_rate=1.0,
                 augment=False, negatives=0, drawn=0.0),
    "default": dict(epochs=24, batch_size=128, optimizer="adam", learning_rate=2e-3,
                    augment=True, negatives=8000, drawn=0.3),
}


def split_indices(n: int, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation split of the MNIST training set (export reuses it)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[val_size:]), np.sort(order[:val_size])


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


def train(recipe: Recipe, data_dir: str | None, out: Path, verbose: int | str = "auto") -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from training.model import build

    started = time.perf_counter()
    keras.utils.set_random_seed(recipe.seed)
    data = load_mnist(data_dir)
    train_idx, val_idx = split_indices(len(data.x_train), recipe.val_size, recipe.seed)
    if recipe.limit:
        train_idx = train_idx[:recipe.limit]
        val_idx = val_idx[:max(recipe.limit // 5, 10)]
    x_train_u8, y_train = data.x_train[train_idx], data.y_train[train_idx]
    x_val = normalize_batch(data.x_train[val_idx].astype(np.float32) / 255)[..., None]
    y_val = data.y_train[val_idx]
    # Without augmentation every epoch sees the same normalised digits: compute them once.
    clean = (None if recipe.augment
             else normalize_batch(x_train_u8.astype(np.float32) / 255)[..., None])

    negatives = recipe.negatives if recipe.arch != "seed" else 0
    negatives = min(negatives, len(train_idx) // 6)  # keep digits the large majority
    pool = None
    if negatives:
        t0 = time.perf_counter()
        pool, _ = negative_images(int(negatives * 1.5), recipe.seed + NEGATIVE_POOL_SEED)
        print(f"rendered {len(pool):,} negative drawings in {time.perf_counter() - t0:.0f} s",
              flush=True)
    templates: dict[int, list] = {}
    if recipe.drawn > 0 and recipe.augment:
        # Trace a seeded share of the training digits once (the costly part, ~3 ms each,
        # on all cores); each epoch restyles and renders a fresh sample of them.
        t0 = time.perf_counter()
        share = min(1.0, recipe.drawn * 1.7)
        chosen = np.sort(np.random.default_rng(recipe.seed + 2).permutation(
            len(train_idx))[: int(len(train_idx) * share)])
        chunks = np.array_split(chosen, max(1, len(chosen) // 1000))
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as procs:
            traced = procs.map(trace_all, [x_train_u8[c] for c in chunks])
            for c, t in zip(chunks, traced, strict=True):
                templates.update(zip(c.tolist(), t, strict=True))
        print(f"traced {len(templates):,} training digits into strokes in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    traced_idx = np.array(sorted(templates), dtype=np.int64)
    model = build(recipe.arch, negatives=bool(negatives))
    steps = int(np.ceil(len(train_idx) / recipe.batch_size))
    model.compile(optimizer=make_optimizer(recipe, steps),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"hwr-qt training: arch={recipe.arch}, {model.count_params():,} parameters, "
          f"{len(train_idx):,} train / {len(val_idx):,} validation images, "
          f"{recipe.epochs} epochs, augmentation {'on' if recipe.augment else 'off'}",
          flush=True)

    rng = np.random.default_rng(recipe.seed + 1)

    def epoch_data(epoch_rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = augment_batch(x_train_u8, epoch_rng)
        if len(traced_idx):
            pick = epoch_rng.choice(traced_idx, int(len(x) * recipe.drawn), replace=False)
            x[pick] = drawn_batch([templates[i] for i in pick.tolist()], epoch_rng)
        if pool is None:
            return x[..., None], y_train
        pick = epoch_rng.choice(len(pool), negatives, replace=False)
        x_neg = augment_batch(pool[pick], epoch_rng, keep=0.3)
        y = np.concatenate([y_train, np.full(negatives, NOT_DIGIT, y_train.dtype)])
        return np.concatenate([x, x_neg])[..., None], y

    history: list[dict] = []
    with ThreadPoolExecutor(max_workers=1) as executor:
        # Child generators keep each epoch's augmentation reproducible despite the thread.
        rngs = rng.spawn(recipe.epochs)
        pending = executor.submit(epoch_data, rngs[0]) if recipe.augment else None
        for epoch in range(recipe.epochs):
            t0 = time.perf_counter()
            if pending is not None:
                x_epoch, y_epoch = pending.result()
                pending = (executor.submit(epoch_data, rngs[epoch + 1])
                           if epoch + 1 < recipe.epochs else None)
            else:
                x_epoch, y_epoch = clean, y_train
            print(f"epoch {epoch + 1}/{recipe.epochs}", flush=True)
            h = model.fit(x_epoch, y_epoch, batch_size=recipe.batch_size, epochs=1,
                          validation_data=(x_val, y_val), verbose=verbose, shuffle=True)
            row = {k: round(float(v[-1]), 5) for k, v in h.history.items()}
            row["seconds"] = round(time.perf_counter() - t0, 1)
            history.append(row)

    x_test = data.x_test.astype(np.float32)[..., None] / 255
    # Accuracy over the ten digits (the not-digit output is a separate question).
    test_acc = float(np.mean(model.predict(x_test, batch_size=512, verbose=0)[:, :10]
                             .argmax(1) == data.y_test))
    x_test_norm = normalize_batch(data.x_test.astype(np.float32) / 255)[..., None]
    test_acc_norm = float(np.mean(model.predict(x_test_norm, batch_size=512, verbose=0)[:, :10]
                                  .argmax(1) == data.y_test))
    wall = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    record = {
        "recipe": asdict(recipe),
        "preprocessing_version": PREPROCESSING_VERSION,
        "parameters": int(model.count_params()),
        "history": history,
        "wall_time_s": round(wall, 1),
        "test_accuracy": test_acc,
        "test_accuracy_normalized": test_acc_norm,
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
    p.add_argument("--arch", choices=sorted(RECIPES), default="default")
    p.add_argument("--data-dir", help="folder with the MNIST IDX .gz files "
                   "(default: $HWR_MNIST_DIR, else a Keras download)")
    p.add_argument("--out", type=Path, help="output folder (default: runs/ARCH)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--val-size", type=int, default=5000,
                   help="training images held out for validation and calibration")
    p.add_argument("--limit", type=int, help="train on only this many images (smoke runs)")
    p.add_argument("--drawn", type=float, help="share of digits re-drawn as pen ink each "
                   "epoch (0..1)")
    p.add_argument("--negatives", type=int, help="generated non-digits per epoch "
                   "(class 'not a digit'; 0 for a plain 10-class model)")
    aug = p.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras progress: 1 bar, 2 a line per epoch (default: bar on a terminal)")
    args = p.parse_args(argv)
    base = RECIPES[args.arch]
    recipe = Recipe(
        arch=args.arch,
        epochs=args.epochs or base["epochs"],
        batch_size=args.batch_size or base["batch_size"],
        optimizer=base["optimizer"],
        learning_rate=base["learning_rate"],
        augment=base["augment"] if args.augment is None else args.augment,
        negatives=base["negatives"] if args.negatives is None else args.negatives,
        drawn=base["drawn"] if args.drawn is None else args.drawn,
        seed=args.seed,
        val_size=args.val_size,
        limit=args.limit,
    )
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    try:
        train(recipe, args.data_dir, args.out or Path("runs") / args.arch, verbose)
    except MnistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    return 0
