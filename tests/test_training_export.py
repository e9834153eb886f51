"""A tiny end-to-end run of training and ONNX export, plus the seed architecture."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from hwr_qt.preprocess import PREPROCESSING_VERSION
from hwr_qt.recognizer import INPUT_NAME, LABELS, OUTPUT_NAME, REJECT_NAME, Recognizer

RECORD_KEYS = {"recipe", "seeds", "preprocessing_version", "parameters", "classes", "history",
               "wall_time_s", "test_accuracy", "test_accuracy_normalized", "validation",
               "machine", "finished"}
META_KEYS = {"labels", "preprocessing_version", "test_accuracy", "test_accuracy_normalized",
             "temperature", "date", "training_record_sha256", "architecture",
             "input_convention", "training_data", "sources", "hwr_qt_version"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, mnist_dir, pen_dir):
    """Train 1 epoch on 300 MNIST images, 75 real pen digits (+ non-digits: generated and
    pen letters), export it; ~1 min on two CPU cores."""
    from export.onnx_export import export
    from training.train import Recipe, train

    root = tmp_path_factory.mktemp("tiny")
    recipe = Recipe(arch="default", epochs=1, batch_size=64, negatives=60, drawn=0.3,
                    pen_repeat=1, pen_letters=30, styles=20, pairs=20, seed=3, val_size=500,
                    limit=300)
    record = train(recipe, data_dir=str(mnist_dir), out=root / "m", verbose=0,
                   pen_dir=str(pen_dir))
    onnx_path = root / "x" / "digits.onnx"
    card = export(root / "m", onnx_path, str(mnist_dir), verify_count=1000,
                  pen_dir=str(pen_dir))
    return {"root": root, "recipe": recipe, "record": record, "onnx": onnx_path, "card": card}


def test_training_outputs(tiny):
    model_dir = tiny["root"] / "m"
    assert (model_dir / "model.keras").is_file()
    record = json.loads((model_dir / "training.json").read_text())
    assert set(record) >= RECORD_KEYS
    assert record == tiny["record"]
    assert record["recipe"] == asdict(tiny["recipe"])
    assert record["preprocessing_version"] == PREPROCESSING_VERSION
    assert len(record["history"]) == 1
    assert {"accuracy", "loss", "mnist_val_acc", "pen_val_acc",
            "pen_val_letters_rejected"} <= set(record["history"][0])
    assert record["classes"] == 11
    assert record["parameters"] > 10_000
    assert 0.0 <= record["test_accuracy"] <= 1.0
    assert 0.0 <= record["test_accuracy_normalized"] <= 1.0
    # 300 images for one epoch: far from good, but clearly better than chance.
    assert record["test_accuracy"] > 0.2


def test_export_outputs(tiny):
    onnx_path = tiny["onnx"]
    assert onnx_path.is_file()
    assert not onnx_path.with_suffix(".onnx.tmp").exists()
    card_json, card_md = onnx_path.with_suffix(".json"), onnx_path.with_suffix(".md")
    card = json.loads(card_json.read_text())
    assert card == json.loads(json.dumps(tiny["card"]))
    assert card["model"] == "digits.onnx"
    assert card["size_bytes"] == onnx_path.stat().st_size
    assert card["verification"]["images"] == 1000
    assert card["verification"]["argmax_identical"] is True
    assert card["verification"]["max_abs_diff"] <= 1e-4
    confusion = np.array(card["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    rejection = card["rejection"]
    assert 0.0 < rejection["threshold"] < 1.0
    for key in ("held_out_digits_rejected", "held_out_negatives_rejected",
                "mnist_test_rejected", "pen_val_digits_rejected", "pen_val_letters_rejected"):
        assert 0.0 <= rejection[key] <= 1.0
    md = card_md.read_text()
    assert "digits.onnx" in md and "Confusion matrix" in md


def test_exported_model_loads_in_the_app(tiny, mnist_test):
    rec = Recognizer(tiny["onnx"])
    x, y = mnist_test
    probs = rec.probabilities(x[:200].astype(np.float32) / 255)
    assert probs.shape == (200, 10)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert rec.labels == LABELS
    # Trained with non-digits: the model also says how likely the ink is no digit at all.
    assert rec.has_reject
    probs2, not_digit = rec.predict(x[:200].astype(np.float32) / 255)
    np.testing.assert_array_equal(probs2, probs)
    assert not_digit.shape == (200,)
    assert ((not_digit >= 0) & (not_digit <= 1)).all()
    assert 0.0 < rec.reject_threshold < 1.0
    assert float(rec.metadata["reject_threshold"]) == pytest.approx(rec.reject_threshold)


def test_exported_metadata(tiny, mnist_test):
    rec = Recognizer(tiny["onnx"], calibrate=False)
    meta = rec.metadata
    assert set(meta) >= META_KEYS
    assert json.loads(meta["labels"]) == LABELS
    assert meta["preprocessing_version"] == PREPROCESSING_VERSION
    assert meta["architecture"] == "default"
    record_bytes = (tiny["root"] / "m" / "training.json").read_bytes()
    assert meta["training_record_sha256"] == hashlib.sha256(record_bytes).hexdigest()
    assert 0.05 <= float(meta["temperature"]) <= 20
    assert meta["date"].endswith("Z") and meta["date"][:4].isdigit()
    # The recorded accuracy is what onnxruntime actually scores on the test set...
    x, y = mnist_test
    probs = np.concatenate([rec.probabilities(x[i:i + 2000].astype(np.float32) / 255)
                            for i in range(0, len(x), 2000)])
    assert float(meta["test_accuracy"]) == pytest.approx(float((probs.argmax(1) == y).mean()),
                                                         abs=1e-6)
    # ...and agrees with Keras' own figure from training.
    assert float(meta["test_accuracy"]) == pytest.approx(tiny["record"]["test_accuracy"],
                                                         abs=0.002)


def test_exported_signature(tiny):
    import onnx

    proto = onnx.load(str(tiny["onnx"]))
    assert [i.name for i in proto.graph.input] == [INPUT_NAME]
    outputs = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim[1:]]
               for o in proto.graph.output}
    assert outputs == {OUTPUT_NAME: [10], REJECT_NAME: [1], "features": [128]}
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == [28, 28, 1]


# --- export refusals -----------------------------------------------------------------------


def test_export_refuses_empty_model_dir(tmp_path):
    from export.onnx_export import ExportError, export

    with pytest.raises(ExportError, match="training.json not found"):
        export(tmp_path, tmp_path / "out" / "digits.onnx", None)
    assert not (tmp_path / "out").exists()


def test_export_refuses_missing_model(tmp_path):
    from export.onnx_export import ExportError, export

    (tmp_path / "training.json").write_text("{}")
    with pytest.raises(ExportError, match="model.keras not found"):
        export(tmp_path, tmp_path / "digits.onnx", None)


def test_export_refuses_other_preprocessing_version(tmp_path):
    from export.onnx_export import ExportError, export

    (tmp_path / "training.json").write_text(json.dumps({"preprocessing_version": "0"}))
    (tmp_path / "model.keras").write_bytes(b"not used")
    with pytest.raises(ExportError, match="retrain"):
        export(tmp_path, tmp_path / "digits.onnx", None)
    assert not (tmp_path / "digits.onnx").exists()


def test_export_cli_rejects_small_verify_count(capsys):
    from export.onnx_export import main

    with pytest.raises(SystemExit) as e:
        main(["--verify-count", "10"])
    assert e.value.code == 2
    assert "verify-count" in capsys.readouterr().err


def test_export_cli_reports_missing_model(tmp_path, capsys):
    from export.onnx_export import main

    assert main(["--model-dir", str(tmp_path), "--out", str(tmp_path / "d.onnx")]) == 1
    assert "train first" in capsys.readouterr().err


# --- architectures and splits ------------------------------------------------------------------


def test_seed_model_layers():
    from keras import layers

    from training.model import seed_model

    model = seed_model()
    assert [tuple(t.shape) for t in model.inputs] == [(None, 28, 28, 1)]
    assert tuple(model.compute_output_shape((None, 28, 28, 1))) == (None, 10)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [layers.Conv2D, layers.MaxPooling2D, layers.Conv2D, layers.MaxPooling2D,
                     layers.Flatten, layers.Dense, layers.Dropout, layers.Dense,
                     layers.Dropout, layers.Dense]
    conv1, pool1, conv2, pool2, _, d1, drop1, d2, drop2, out = model.layers
    assert conv1.filters == 32 and tuple(conv1.kernel_size) == (5, 5)
    assert conv2.filters == 64 and tuple(conv2.kernel_size) == (3, 3)
    assert conv1.padding == conv2.padding == "valid"
    for conv in (conv1, conv2, d1, d2):
        assert conv.activation.__name__ == "relu"
    assert tuple(pool1.pool_size) == tuple(pool2.pool_size) == (2, 2)
    assert (d1.units, d2.units, out.units) == (128, 64, 10)
    assert drop1.rate == pytest.approx(0.3) and drop2.rate == pytest.approx(0.5)
    assert out.activation.__name__ == "softmax"
    # 28 -5+1-> 24 -pool-> 12 -3+1-> 10 -pool-> 5: 5*5*64 inputs to the first Dense.
    assert d1.kernel.shape == (5 * 5 * 64, 128)


def test_build_rejects_unknown_arch():
    from training.model import build

    with pytest.raises(ValueError, match="unknown architecture"):
        build("resnet")


def test_default_model_shapes():
    from training.model import build

    model = build("default")
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert model.output.shape[1] >= 10  # ten digits (plus, optionally, "not a digit")
    assert model.layers[-1].name == OUTPUT_NAME


@pytest.mark.parametrize("n, val, seed", [(60_000, 5000, 1), (100, 7, 3), (10, 0, 0),
                                          (10, 10, 5)])
def test_split_indices(n, val, seed):
    from training.train import split_indices

    train_idx, val_idx = split_indices(n, val, seed)
    again = split_indices(n, val, seed)
    np.testing.assert_array_equal(train_idx, again[0])
    np.testing.assert_array_equal(val_idx, again[1])
    assert len(val_idx) == val and len(train_idx) == n - val
    assert not np.intersect1d(train_idx, val_idx).size
    np.testing.assert_array_equal(np.union1d(train_idx, val_idx), np.arange(n))
    assert (np.diff(train_idx) > 0).all() and (np.diff(val_idx) > 0).all()


def test_split_depends_on_seed():
    from training.train import split_indices

    assert not np.array_equal(split_indices(60_000, 5000, 1)[1],
                              split_indices(60_000, 5000, 2)[1])


def test_train_reports_bad_data_dir(tmp_path):
    from training.mnist import MnistError
    from training.train import RECIPES, train

    recipe = RECIPES["seed"].with_overrides(epochs=1, batch_size=8, seed=0, val_size=10,
                                            limit=20)
    with pytest.raises(MnistError):
        train(recipe, data_dir=str(tmp_path / "missing"), out=tmp_path / "out", verbose=0)
    assert not (tmp_path / "out").exists()


def test_train_cli_reports_bad_data_dir(tmp_path, capsys):
    from training.train import main

    out = Path(tmp_path / "out")
    assert main(["--data-dir", str(tmp_path / "missing"), "--out", str(out),
                 "--epochs", "1", "--limit", "10"]) == 2
    assert "error:" in capsys.readouterr().err
    assert not out.exists()


def test_drawn_digits_are_rendered_pen_ink(mnist_test):
    from training.drawn import drawn_batch, restyle, trace_all

    images, _ = mnist_test
    templates = trace_all(images[:20])
    assert all(len(t) >= 1 for t in templates)
    a = drawn_batch(templates, np.random.default_rng(4))
    b = drawn_batch(templates, np.random.default_rng(4))
    assert a.shape == (20, 28, 28) and a.dtype == np.float32
    assert np.array_equal(a, b)  # seeded
    assert a.min() >= 0 and a.max() <= 1 and (a.reshape(20, -1).max(1) > 0.9).all()
    # The rendering resembles the source digit (same strokes, re-drawn).
    src = images[:20].reshape(20, -1).astype(np.float64)
    got = a.reshape(20, -1).astype(np.float64)
    cos = (src * got).sum(1) / np.linalg.norm(src, axis=1) / np.linalg.norm(got, axis=1)
    assert np.median(cos) > 0.6
    ink = restyle(templates[0], np.random.default_rng(0))
    assert len(ink.strokes) == len(templates[0])


def test_export_adds_features_output(tiny):
    """Issue 10: the penultimate layer is a second output, checked against Keras, and
    the final layer applied to it gives the probabilities back."""
    import onnx

    from export.features import find_head

    proto = onnx.load(str(tiny["onnx"]))
    assert [o.name for o in proto.graph.output] == [OUTPUT_NAME, REJECT_NAME, "features"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["features_output"] == "features" and meta["feature_size"] == "128"
    assert len(meta["model_id"]) == 16
    assert tiny["card"]["verification"]["features_max_rel_diff"] < 1e-4
    head = find_head(proto)
    assert head.weight.shape == (128, 11)


def test_chars_ensemble_averages_members_and_joins_their_features():
    """``export.chars.convert`` of two models: ONNX probabilities are the members' mean
    softmax renormalised over the characters, reject its last class, features both
    members' side by side; the same as Keras computes (``keras_outputs``)."""
    import keras

    from export.chars import FEATURES, PROBS, REJECT, convert, keras_outputs, run_onnx
    from training.model import build

    keras.utils.set_random_seed(5)
    models = [build("chars", classes=63) for _ in range(2)]
    members, proto = convert(models)
    x = np.random.default_rng(0).random((7, 28, 28, 1), dtype=np.float32)
    p, r, f = run_onnx(proto.SerializeToString(), x)
    p_k, f_k = keras_outputs(members, x)
    single = [m.predict(x, verbose=0) for m in models]
    assert np.allclose(p_k, (single[0] + single[1]) / 2, atol=1e-6)
    assert np.allclose(p, p_k[:, :62] / p_k[:, :62].sum(1, keepdims=True), atol=1e-5)
    assert np.allclose(r[:, 0], p_k[:, 62], atol=1e-5)
    assert f.shape == (7, 2 * 256) and np.allclose(f, f_k, atol=1e-4)
    assert {o.name for o in proto.graph.output} == {PROBS, REJECT, FEATURES}


def test_path_model_trains_exports_and_loads(tmp_path, pen_dir):
    """``training.trajectory`` then ``export.trajectory`` on a tiny recipe: the ONNX file
    matches Keras (checked by the export), says what the app needs, and reads ink."""
    from export.trajectory import export
    from hwr_qt.ink import Ink, Point, Stroke
    from hwr_qt.trajectory import FEATURES_VERSION, TrajectoryModel
    from training.trajectory import TrajectoryRecipe, train

    recipe = TrajectoryRecipe(epochs=1, repeat=1, styles=40, letters=60, pairs=20,
                              width=8, limit=400, seed=3)
    record = train(recipe, str(pen_dir), tmp_path / "run")
    assert record["labels"] == [str(d) for d in range(10)] and record["reject_class"]
    assert record["recipe"] == asdict(recipe) and len(record["history"]) == 1
    out = tmp_path / "trajectory.onnx"
    card = export(tmp_path / "run", out, str(pen_dir), image_weight=0.4)
    model = TrajectoryModel(out)
    assert model.labels == tuple(record["labels"]) and model.weight == pytest.approx(0.4)
    assert model.has_reject
    assert model.metadata["trajectory_features_version"] == FEATURES_VERSION
    assert card["verification"]["argmax_identical"]
    assert out.with_suffix(".md").read_text().startswith("# Model card: trajectory.onnx")
    one = Ink((Stroke(tuple(Point(50.0, float(y)) for y in range(0, 101, 10))),))
    p, reject = model.scores([one, one])
    assert p.shape == (2, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert reject is not None and reject.shape == (2,)
