"""MNIST loading from the four IDX ``.gz`` files (or a Keras ``mnist.npz``), validated.

numpy only, so tests and the export check can read MNIST without TensorFlow.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "HWR_MNIST_DIR"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
EXPECTED_COUNT = {"train": 60_000, "test": 10_000}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


class MnistError(Exception):
    """The dataset is missing or damaged; the message says which file and how."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray  # uint8 [60000, 28, 28]
    y_train: np.ndarray  # uint8 [60000]
    x_test: np.ndarray
    y_test: np.ndarray


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            raw = f.read()
        return gzip.decompress(raw) if head == b"\x1f\x8b" else raw
    except FileNotFoundError:
        raise MnistError(f"{path}: file not found") from None
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise MnistError(f"{path.name}: corrupt or truncated gzip data ({e})") from None


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse an uncompressed IDX1/IDX3 uint8 file, checking magic number and length."""
    if len(data) < 8:
        raise MnistError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    magic, count = struct.unpack(">II", data[:8])
    if magic == LABEL_MAGIC:
        shape: tuple[int, ...] = (count,)
        offset = 8
    elif magic == IMAGE_MAGIC:
        if len(data) < 16:
            raise MnistError(f"{name}: truncated IDX3 header")
        rows, cols = struct.unpack(">II", data[8:16])
        shape, offset = (count, rows, cols), 16
    else:
        raise MnistError(f"{name}: bad magic number {magic} (expected {IMAGE_MAGIC} or "
                         f"{LABEL_MAGIC}); not an MNIST IDX file")
    expected = math.prod(shape)  # Python ints: np.prod wraps around at 2**64
    if len(data) - offset != expected:
        raise MnistError(f"{name}: holds {len(data) - offset} bytes of data, header says "
                         f"{expected} (file truncated or corrupt)")
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


def _load_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lbl_name = FILES[f"{split}_images"], FILES[f"{split}_labels"]
    images = parse_idx(_read_bytes(directory / img_name), img_name)
    labels = parse_idx(_read_bytes(directory / lbl_name), lbl_name)
    n = EXPECTED_COUNT[split]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise MnistError(f"{img_name}: expected 28x28 images, got {images.shape[1:]}")
    if len(images) != n or len(labels) != n:
        raise MnistError(f"{split} split: expected {n} images and labels, found "
                         f"{len(images)} and {len(labels)}")
    if labels.max() > 9:
        raise MnistError(f"{lbl_name}: label {int(labels.max())} outside 0..9")
    return images, labels


def _load_npz(path: Path) -> Mnist:
    try:
        with np.load(path) as z:
            data = Mnist(z["x_train"], z["y_train"], z["x_test"], z["y_test"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise MnistError(f"{path.name}: not a usable mnist.npz ({e})") from None
    for x, y, split in ((data.x_train, data.y_train, "train"), (data.x_test, data.y_test, "test")):
        if x.shape != (EXPECTED_COUNT[split], 28, 28) or y.shape != (EXPECTED_COUNT[split],):
            raise MnistError(f"{path.name}: {split} split has shape {x.shape}/{y.shape}")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise MnistError(f"{path.name}: {split} labels outside 0..9")
    return data


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The explicit directory, else $HWR_MNIST_DIR, else None."""
    if data_dir:
        return Path(data_dir)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


def load_mnist(data_dir: str | os.PathLike | None = None, *, allow_download: bool = True) -> Mnist:
    """Load MNIST from ``data_dir`` / $HWR_MNIST_DIR, or (online only) via Keras."""
    directory = resolve_data_dir(data_dir)
    if directory is not None:
        if not directory.is_dir():
            raise MnistError(f"{directory}: no such directory")
        if (directory / "mnist.npz").is_file() and not (directory / FILES["test_images"]).exists():
            return _load_npz(directory / "mnist.npz")
        x_train, y_train = _load_split(directory, "train")
        x_test, y_test = _load_split(directory, "test")
        return Mnist(x_train, y_train, x_test, y_test)
    if not allow_download:
        raise MnistError(f"no MNIST directory given: pass --data-dir or set {ENV_VAR}")
    try:
        from keras.datasets import mnist  # convenience when online

        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as e:  # noqa: BLE001 - any download failure means the same to the user
        raise MnistError(f"MNIST download failed ({type(e).__name__}); point --data-dir or "
                         f"{ENV_VAR} at a folder with the four IDX .gz files") from None
    return Mnist(x_train, y_train, x_test, y_test)


def load_test_set(data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Only the 10k test split (fast; used by export checks and tests)."""
    directory = resolve_data_dir(data_dir)
    if directory is None:
        data = load_mnist(None)
        return data.x_test, data.y_test
    return _load_split(directory, "test")
