"""Model architectures: the seed's baseline and hwr-qt's default."""

from __future__ import annotations

import keras
from keras import layers

ARCHS = ("default", "seed", "chars")


def seed_model() -> keras.Model:
    """The seed app's network, exactly (the baseline)."""
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        layers.Conv2D(32, 5, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", name="probabilities"),
    ], name="seed")


def _conv_bn(x, filters: int, kernel: int):
    # No conv bias: BatchNorm's shift makes it redundant.
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def default_model(classes: int = 11, dense: int = 128, name: str = "hwr_default"
                  ) -> keras.Model:
    """A small BatchNorm CNN: ~280k parameters, ~30 s/epoch on 2 CPU cores.

    Class 10 is "not a digit" (generated negatives); export splits it into its own output.
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = _conv_bn(inputs, 32, 5)
    x = layers.MaxPooling2D()(x)  # 14x14
    x = _conv_bn(x, 64, 3)
    x = _conv_bn(x, 64, 3)
    x = layers.MaxPooling2D()(x)  # 7x7
    x = _conv_bn(x, 128, 3)
    x = layers.MaxPooling2D()(x)  # 3x3
    x = layers.Flatten()(x)
    x = layers.Dense(dense, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    # Named: export adds it as the model's "features" output (hwr_qt.adapt's space).
    x = layers.ReLU(name="features")(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build(arch: str, classes: int = 11) -> keras.Model:
    """``classes`` 11: the ten digits plus "not a digit"; 10: digits only."""
    if arch == "seed":
        return seed_model()
    if arch == "default":
        return default_model(classes)
    if arch == "chars":  # 62 characters + reject: a wider last layer, same convolutions
        return default_model(classes, dense=256, name="hwr_chars")
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
