"""training/mnist.py: IDX parsing and validation, gzip damage, directory and npz loading."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from training import mnist
from training.mnist import FILES, MnistError, load_mnist, load_test_set, parse_idx

# The published MNIST class counts (LeCun et al.), not read from the files under test.
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def idx3(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx1(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.uint8))


def write_split(directory: Path, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / FILES[f"{split}_images"]).write_bytes(gzip.compress(idx3(images)))
    (directory / FILES[f"{split}_labels"]).write_bytes(gzip.compress(idx1(labels)))


@pytest.fixture
def small_counts(monkeypatch):
    """Shrink the expected split sizes so tiny synthetic datasets count as complete."""
    monkeypatch.setitem(mnist.EXPECTED_COUNT, "train", 12)
    monkeypatch.setitem(mnist.EXPECTED_COUNT, "test", 7)
    return {"train": 12, "test": 7}


# --- parse_idx ------------------------------------------------------------------------


def test_parse_idx3_round_trip():
    images = np.random.default_rng(1).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    out = parse_idx(idx3(images))
    assert out.dtype == np.uint8
    assert out.shape == (5, 4, 3)
    np.testing.assert_array_equal(out, images)


def test_parse_idx1_round_trip():
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], np.uint8)
    out = parse_idx(idx1(labels))
    assert out.shape == (8,)
    np.testing.assert_array_equal(out, labels)


def test_parse_idx_empty_set_is_valid():
    assert parse_idx(idx1(np.zeros(0, np.uint8))).shape == (0,)


def test_bad_magic():
    data = struct.pack(">II", 1234, 2) + b"\x00\x01"
    with pytest.raises(MnistError, match="magic") as e:
        parse_idx(data, "foo.idx")
    assert "foo.idx" in str(e.value)


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x08", struct.pack(">I", 2049)])
def test_too_short_for_header(data):
    with pytest.raises(MnistError, match="too short"):
        parse_idx(data)


def test_truncated_idx3_header():
    data = struct.pack(">III", 2051, 1, 28)  # 12 bytes: the column count is missing
    with pytest.raises(MnistError, match="truncated IDX3 header"):
        parse_idx(data)


def test_data_shorter_than_header_says():
    data = idx3(np.zeros((3, 28, 28), np.uint8))[:-1]
    with pytest.raises(MnistError, match="header says"):
        parse_idx(data, "short")


def test_data_longer_than_header_says():
    data = idx1(np.zeros(4, np.uint8)) + b"\x00"
    with pytest.raises(MnistError, match="header says"):
        parse_idx(data)


def test_huge_header_dimensions_are_rejected_cleanly():
    # 2**22 * 2**21 * 2**21 == 2**64: must not wrap around to "0 bytes expected".
    data = struct.pack(">IIII", 2051, 2**22, 2**21, 2**21)
    with pytest.raises(MnistError, match="header says"):
        parse_idx(data)


# --- files ------------------------------------------------------------------------------


def test_gzip_and_plain_files_both_load(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    (tmp_path / FILES["test_images"]).write_bytes(gzip.compress(idx3(images)))
    (tmp_path / FILES["test_labels"]).write_bytes(idx1(labels))  # not compressed
    x, y = load_test_set(tmp_path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_missing_file_names_the_file(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    (tmp_path / FILES["test_images"]).write_bytes(gzip.compress(idx3(images)))
    with pytest.raises(MnistError, match="not found") as e:
        load_test_set(tmp_path)
    assert FILES["test_labels"] in str(e.value)


def test_truncated_gzip(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    write_split(tmp_path, "test", images, labels)
    path = tmp_path / FILES["test_images"]
    gz = path.read_bytes()
    path.write_bytes(gz[:len(gz) // 2])
    with pytest.raises(MnistError, match="truncated") as e:
        load_test_set(tmp_path)
    assert FILES["test_images"] in str(e.value)


def test_corrupt_gzip_crc(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    write_split(tmp_path, "test", images, labels)
    path = tmp_path / FILES["test_labels"]
    gz = bytearray(path.read_bytes())
    gz[-6] ^= 0x01  # flip a bit of the CRC32 trailer
    path.write_bytes(bytes(gz))
    with pytest.raises(MnistError, match="corrupt") as e:
        load_test_set(tmp_path)
    assert FILES["test_labels"] in str(e.value)


def test_corrupt_gzip_deflate_stream(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    write_split(tmp_path, "test", images, labels)
    path = tmp_path / FILES["test_images"]
    gz = bytearray(path.read_bytes())
    for i in range(12, 40):  # garble the compressed data right after the 10-byte header
        gz[i] ^= 0xFF
    path.write_bytes(bytes(gz))
    with pytest.raises(MnistError) as e:
        load_test_set(tmp_path)
    assert FILES["test_images"] in str(e.value)


def test_gzip_of_garbage_is_not_idx(tmp_path, small_counts):
    (tmp_path / FILES["test_images"]).write_bytes(gzip.compress(b"hello, not an idx file"))
    with pytest.raises(MnistError, match="magic") as e:
        load_test_set(tmp_path)
    assert FILES["test_images"] in str(e.value)


def test_wrong_count_for_split(tmp_path):
    images, labels = synthetic(5)
    write_split(tmp_path, "test", images, labels)
    with pytest.raises(MnistError, match="expected 10000"):
        load_test_set(tmp_path)


def test_images_and_labels_disagree(tmp_path, small_counts):
    images, _ = synthetic(small_counts["test"])
    _, labels = synthetic(small_counts["test"] - 1)
    write_split(tmp_path, "test", images, labels)
    with pytest.raises(MnistError, match="expected 7 images and labels"):
        load_test_set(tmp_path)


def test_wrong_image_size(tmp_path, small_counts):
    images = np.zeros((small_counts["test"], 20, 20), np.uint8)
    write_split(tmp_path, "test", images, np.zeros(small_counts["test"], np.uint8))
    with pytest.raises(MnistError, match="28x28"):
        load_test_set(tmp_path)


def test_labels_file_in_images_slot(tmp_path, small_counts):
    _, labels = synthetic(small_counts["test"])
    write_split(tmp_path, "test", np.zeros((7, 28, 28), np.uint8), labels)
    (tmp_path / FILES["test_images"]).write_bytes(gzip.compress(idx1(labels)))
    with pytest.raises(MnistError, match="28x28"):
        load_test_set(tmp_path)


def test_label_above_nine(tmp_path, small_counts):
    images, labels = synthetic(small_counts["test"])
    labels[3] = 10
    write_split(tmp_path, "test", images, labels)
    with pytest.raises(MnistError, match="label 10 outside 0..9") as e:
        load_test_set(tmp_path)
    assert FILES["test_labels"] in str(e.value)


def test_load_mnist_from_synthetic_directory(tmp_path, small_counts):
    tr = synthetic(small_counts["train"], seed=1)
    te = synthetic(small_counts["test"], seed=2)
    write_split(tmp_path, "train", *tr)
    write_split(tmp_path, "test", *te)
    data = load_mnist(tmp_path, allow_download=False)
    for got, want in zip((data.x_train, data.y_train, data.x_test, data.y_test), tr + te,
                         strict=True):
        np.testing.assert_array_equal(got, want)


def test_not_a_directory(tmp_path):
    with pytest.raises(MnistError, match="no such directory"):
        load_mnist(tmp_path / "nope", allow_download=False)


# --- environment -------------------------------------------------------------------------


def test_no_directory_and_no_download(monkeypatch):
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    with pytest.raises(MnistError) as e:
        load_mnist(None, allow_download=False)
    assert "--data-dir" in str(e.value)
    assert "HWR_MNIST_DIR" in str(e.value)


def test_env_var_is_used(tmp_path, monkeypatch, small_counts):
    write_split(tmp_path, "train", *synthetic(small_counts["train"]))
    write_split(tmp_path, "test", *synthetic(small_counts["test"]))
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    data = load_mnist(None, allow_download=False)
    assert data.x_train.shape == (12, 28, 28)
    assert data.x_test.shape == (7, 28, 28)


def test_explicit_directory_beats_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "elsewhere"))
    assert mnist.resolve_data_dir(tmp_path) == tmp_path


# --- mnist.npz ----------------------------------------------------------------------------


def write_npz(path: Path, counts: dict[str, int], **override) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    arrays = {
        "x_train": rng.integers(0, 256, (counts["train"], 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, counts["train"], dtype=np.uint8),
        "x_test": rng.integers(0, 256, (counts["test"], 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, counts["test"], dtype=np.uint8),
    }
    arrays.update(override)
    np.savez(path, **arrays)
    return arrays


def test_npz_directory(tmp_path, small_counts):
    arrays = write_npz(tmp_path / "mnist.npz", small_counts)
    data = load_mnist(tmp_path, allow_download=False)
    for key in arrays:
        np.testing.assert_array_equal(getattr(data, key), arrays[key])


def test_npz_wrong_shape(tmp_path, small_counts):
    write_npz(tmp_path / "mnist.npz", small_counts, x_test=np.zeros((7, 20, 20), np.uint8))
    with pytest.raises(MnistError, match="test split has shape") as e:
        load_mnist(tmp_path, allow_download=False)
    assert "mnist.npz" in str(e.value)


def test_npz_wrong_count(tmp_path, small_counts):
    write_npz(tmp_path / "mnist.npz", {"train": 3, "test": 7})
    with pytest.raises(MnistError, match="train split has shape"):
        load_mnist(tmp_path, allow_download=False)


@pytest.mark.parametrize("bad", [10, -1])
def test_npz_label_out_of_range(tmp_path, small_counts, bad):
    y = np.zeros(small_counts["train"], np.int64)
    y[-1] = bad
    write_npz(tmp_path / "mnist.npz", small_counts, y_train=y)
    with pytest.raises(MnistError, match="train labels outside 0..9"):
        load_mnist(tmp_path, allow_download=False)


def test_npz_missing_array(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(MnistError, match="not a usable mnist.npz"):
        load_mnist(tmp_path, allow_download=False)


@pytest.mark.parametrize("content", [b"garbage, not a zip", b"PK\x03\x04 truncated zip"])
def test_npz_damaged(tmp_path, content):
    (tmp_path / "mnist.npz").write_bytes(content)
    with pytest.raises(MnistError, match="mnist.npz"):
        load_mnist(tmp_path, allow_download=False)


def test_npz_truncated(tmp_path, small_counts):
    path = tmp_path / "mnist.npz"
    write_npz(path, small_counts)
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(MnistError, match="mnist.npz"):
        load_mnist(tmp_path, allow_download=False)


# --- the real dataset ------------------------------------------------------------------------


def test_real_mnist(mnist_dir):
    data = load_mnist(mnist_dir, allow_download=False)
    assert data.x_train.shape == (60_000, 28, 28)
    assert data.y_train.shape == (60_000,)
    assert data.x_test.shape == (10_000, 28, 28)
    assert data.y_test.shape == (10_000,)
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        assert a.dtype == np.uint8
    assert np.bincount(data.y_test, minlength=10).tolist() == TEST_COUNTS
    assert np.bincount(data.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert sum(TEST_COUNTS) == 10_000 and sum(TRAIN_COUNTS) == 60_000
    # Real digits: white ink on black, every image holds some ink and full-intensity strokes.
    assert data.x_test.max(axis=(1, 2)).min() > 100
    assert data.x_test[:, 0, :].mean() < 1  # the border is (almost) always blank


def test_real_test_set_matches_full_load(mnist_test, mnist_dir):
    x, y = mnist_test
    assert x.shape == (10_000, 28, 28) and y.shape == (10_000,)
    assert np.bincount(y, minlength=10).tolist() == TEST_COUNTS
