"""Image files (PNG/JPEG/BMP/...) -> the 28x28 model input, via QImage and ``preprocess``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader

from hwr_qt.paper import ink_from_gray
from hwr_qt.preprocess import normalize_image
from hwr_qt.raster import qimage_to_array

MAX_PIXELS = 50_000_000


class ImageFileError(ValueError):
    """An image that cannot be used; the message is one line for the user."""


def read_image(path: str | Path) -> QImage:
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"cannot read {path.name}: no such file")
    if path.stat().st_size == 0:
        raise ImageFileError("the file is empty")
    reader = QImageReader(str(path))
    if not reader.canRead():
        raise ImageFileError("not a readable image (unknown or damaged format)")
    size: QSize = reader.size()
    if size.isValid() and size.width() * size.height() > MAX_PIXELS:
        raise ImageFileError(f"image too large ({size.width()}x{size.height()}; limit "
                             f"{MAX_PIXELS // 1_000_000} megapixels)")
    image = reader.read()
    if image.isNull():
        raise ImageFileError(f"cannot decode image: {reader.errorString()}")
    return image


def image_ink(image: QImage) -> np.ndarray:
    """White-on-black ink intensity 0..1, whatever the colours, polarity and lighting.

    A transparent background uses alpha as the ink. Otherwise ``paper.ink_from_gray``
    evens out the light (gradients, tinted paper, a shadow) and removes the grain.
    """
    if image.hasAlphaChannel():
        argb = image.convertToFormat(QImage.Format.Format_ARGB32)
        h, w = argb.height(), argb.width()
        buf = np.frombuffer(argb.constBits(), np.uint8, count=argb.bytesPerLine() * h)
        alpha = buf.reshape(h, argb.bytesPerLine())[:, : w * 4].reshape(h, w, 4)[..., 3]
        if alpha.min() < 250:  # real transparency, not an opaque image with alpha
            return alpha.astype(np.float32) / 255.0
    return ink_from_gray(qimage_to_array(image))


def image_to_input(path: str | Path) -> np.ndarray:
    """An image file holding one character -> float32 [28, 28] model input."""
    return normalize_image(image_ink(read_image(path)))
