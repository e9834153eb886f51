"""Image files -> the 28x28 model input, via QImage and ``preprocess``.

Formats come from an allow-list checked on the file's first bytes (never its name, never
Qt's own sniffing, which would also hand SVG, SVGZ and a dozen rarer formats to their
plugins): PNG, JPEG, BMP, GIF, TIFF and WebP. Each is decoded by Qt under a cap on file
size, pixels and memory; the decoders' own chatter on stderr is caught and, when useful,
becomes the reason in our one-line error.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage, QImageReader

from hwr_qt.paper import ink_from_gray, widen_thin_strokes
from hwr_qt.preprocess import normalize_image
from hwr_qt.raster import qimage_to_array

MAX_PIXELS = 50_000_000
MAX_FILE_BYTES = 64 * 1024 * 1024  # far beyond any photo of a digit
ALLOCATION_LIMIT_MB = 256  # what Qt may allocate to decode one image (50 MP x 4 bytes)
ACCEPTED = "PNG, JPEG, BMP, GIF, TIFF, WebP"


class ImageFileError(ValueError):
    """An image that cannot be used; the message is one line for the user."""


def sniff_format(head: bytes) -> str | None:
    """The Qt format name of an accepted image, from its magic bytes; None otherwise."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"BM") and len(head) >= 14:
        return "bmp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    return None


def _refused_kind(head: bytes) -> str:
    text = head.lstrip()[:256].lower()
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data, e.g. SVGZ"
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text:
        return "an SVG drawing"
    return ""


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, or an ImageFileError saying plainly why not."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ImageFileError(f"cannot read {path.name}: it is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageFileError(f"cannot read {path.name}: not a regular file")
        if st.st_size == 0:
            raise ImageFileError("the file is empty")
        if st.st_size > limit:
            raise ImageFileError(f"file too large ({st.st_size / 2**20:.0f} MB; limit "
                                 f"{limit // 2**20} MB)")
        with open(path, "rb") as f:
            return f.read(limit + 1)[:limit]
    except FileNotFoundError:
        raise ImageFileError(f"cannot read {path.name}: no such file") from None
    except OSError as e:  # permission denied, I/O error, name too long, ...
        raise ImageFileError(f"cannot read {path.name}: {(e.strerror or str(e)).lower()}"
                             ) from None


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Collect what C libraries (libpng, libjpeg, libtiff) print on file descriptor 2
    meanwhile, instead of letting it reach the user's terminal."""
    lines: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (e.g. a windowed app on Windows)
        yield lines
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines += sink.read(4096).decode("utf-8", "replace").splitlines()


def _decode(reader: QImageReader, fmt: str, max_pixels: int) -> tuple[QImage, str]:
    """(image, reason it is null): the pixel limit checked on the header first."""
    reader.setDecideFormatFromContent(False)
    reader.setAllocationLimit(ALLOCATION_LIMIT_MB)
    with captured_stderr() as chatter:
        if not reader.canRead():
            raise ImageFileError(f"not a readable image (damaged {fmt.upper()})")
        size: QSize = reader.size()
        if size.isValid() and size.width() * size.height() > max_pixels:
            raise ImageFileError(f"image too large ({size.width()}x{size.height()}; limit "
                                 f"{max_pixels / 1_000_000:g} megapixels)")
        image = reader.read()
    detail = next((line.split(":", 1)[1].strip() for line in chatter
                   if line.startswith("lib") and ":" in line), reader.errorString())
    return image, detail


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS,
               max_bytes: int = MAX_FILE_BYTES) -> QImage:
    path = Path(path)
    data = read_bytes(path, max_bytes)
    fmt = sniff_format(data[:16])
    if fmt is None:
        kind = _refused_kind(data[:512])
        raise ImageFileError(f"not a readable image ({kind or 'unknown or damaged format'};"
                             f" accepted: {ACCEPTED})")
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, fmt.encode())
    try:
        image, error = _decode(reader, fmt, max_pixels)
    finally:
        # The TIFF plugin touches its device when its handler is destroyed: detach it
        # while the buffer lives (Python may free the buffer first and crash Qt).
        reader.setDevice(None)  # type: ignore[arg-type]  # None detaches; stubs lack it
    if image.isNull():
        raise ImageFileError(f"cannot decode image: {error}")
    if image.width() * image.height() > max_pixels:  # a header that understated the size
        raise ImageFileError(f"image too large ({image.width()}x{image.height()})")
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
    return normalize_image(widen_thin_strokes(image_ink(read_image(path))))
