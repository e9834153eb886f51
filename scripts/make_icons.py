"""Draw the hwr-qt app icon with QPainter and write every format the packages need.

    python scripts/make_icons.py [--out resources/icons]

Writes ``hwr-qt.png`` (256 px, the window icon), ``hicolor/<N>x<N>/apps/hwr-qt.png`` for
the Linux icon theme, ``hwr-qt.ico`` (Windows; PNG-compressed entries) and ``hwr-qt.icns``
(macOS). Each size is drawn at that size rather than scaled down, so the 16 px icon stays
crisp. Runs headless (Qt's offscreen platform); the output is committed, so this only needs
running again when the drawing changes.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

ROOT = Path(__file__).resolve().parent.parent
HICOLOR_SIZES = (16, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x ones share sizes).
ICNS_TYPES = ((b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"icp6", 64), (b"ic12", 64),
              (b"ic07", 128), (b"ic08", 256), (b"ic13", 256), (b"ic09", 512), (b"ic14", 512))


def digit_path() -> QPainterPath:
    """A handwritten "2" in a 256x256 design space."""
    path = QPainterPath(QPointF(76, 96))
    path.cubicTo(QPointF(84, 50), QPointF(170, 40), QPointF(178, 94))
    path.cubicTo(QPointF(184, 134), QPointF(118, 160), QPointF(74, 204))
    path.cubicTo(QPointF(112, 192), QPointF(152, 190), QPointF(190, 200))
    return path


def draw_icon(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    scale = size / 256
    p.scale(scale, scale)

    # The tile: a rounded square with a soft top-to-bottom gradient. Small icons get a
    # thinner margin so that the tile fills the pixels it has.
    margin = 8 if size >= 48 else 0.5 / scale  # half a pixel
    tile = QRectF(margin, margin, 256 - 2 * margin, 256 - 2 * margin)
    gradient = QLinearGradient(0, margin, 0, 256 - margin)
    gradient.setColorAt(0.0, QColor("#4c7cf3"))
    gradient.setColorAt(1.0, QColor("#1f3d9e"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(tile, 52, 52)

    if size >= 48:  # faint ruled lines, like a page; they only blur a tiny icon
        p.setPen(QPen(QColor(255, 255, 255, 40), 3))
        for y in (84, 148, 212):
            p.drawLine(QPointF(40, y), QPointF(216, y))

    # The digit: short round-capped segments whose width follows a pen-pressure curve,
    # thin where the stroke starts and ends, full in the middle.
    path = digit_path()
    base = 24 if size >= 48 else max(26, 1.9 / scale)  # at least ~2 px wide
    steps = 160
    points = [path.pointAtPercent(i / steps) for i in range(steps + 1)]
    for i in range(steps):
        t = (i + 0.5) / steps
        pressure = 0.55 + 0.45 * math.sin(math.pi * min(1.0, t * 1.15))
        pen = QPen(QColor("#ffffff"), base * pressure, Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.drawLine(points[i], points[i + 1])
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("PNG encoding failed")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG-compressed images (Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for n in sizes:
        blob = pngs[n]
        # width/height 0 means 256; no palette; 1 plane; 32 bits per pixel
        entries += struct.pack("<BBBBHHII", n % 256, n % 256, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns: a big-endian container of PNG elements."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[n])) + pngs[n]
                    for kind, n in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"{path} ({len(data):,} bytes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "icons",
                        help="output folder (default: resources/icons)")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841

    sizes = sorted(set(HICOLOR_SIZES) | set(ICO_SIZES) | {n for _, n in ICNS_TYPES})
    pngs = {n: png_bytes(draw_icon(n)) for n in sizes}
    for n in HICOLOR_SIZES:
        write(args.out / "hicolor" / f"{n}x{n}" / "apps" / "hwr-qt.png", pngs[n])
    write(args.out / "hwr-qt.png", pngs[256])
    write(args.out / "hwr-qt.ico", ico_bytes({n: pngs[n] for n in ICO_SIZES}))
    write(args.out / "hwr-qt.icns", icns_bytes(pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
