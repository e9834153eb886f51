"""Hostile inputs, generated on the fly: broken ONNX models, decompression and recursion
bombs, files the OS refuses. Shared by ``tests/test_hostile.py`` (small sizes) and
``benchmarks/bench_hostile.py`` (the sizes from issue 12). Nothing here is committed data.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

# --- tiny ONNX models ------------------------------------------------------------------


def onnx_model(path: Path, kind: str, *, labels: list[str] | None = None,
               metadata: dict[str, str] | None = None) -> Path:
    """A digit model with the app's signature that misbehaves in one way.

    ``ok``: softmax of a fixed random projection (a valid, if useless, model);
    ``batch1``: the same with a fixed batch of 1 (``[1,28,28,1]``);
    ``nan``: valid on a blank input, NaN as soon as there is ink;
    ``logits``: no softmax (raw scores, e.g. 15.387 shown as "1538.7 %");
    ``wrong-rows``: probabilities for only the first image of a batch ([1,10] for N images).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    batch: int | str = 1 if kind == "batch1" else "N"
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 28, 28, 1])
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, 10])
    w = np.random.default_rng(0).normal(0, 0.1, (784, 10)).astype(np.float32)
    if kind == "logits":
        w = np.abs(w) * 2  # large positive scores for any ink
    inits = [numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"),
             numpy_helper.from_array(w, "w")]
    nodes = [helper.make_node("Reshape", ["image", "flat"], ["x"]),
             helper.make_node("MatMul", ["x", "w"], ["scores"])]
    if kind == "logits":
        nodes.append(helper.make_node("Identity", ["scores"], ["probabilities"]))
    elif kind == "nan":
        # sqrt(-max(x)): 0 for a blank input, NaN for any ink.
        nodes += [helper.make_node("Softmax", ["scores"], ["p"], axis=1),
                  helper.make_node("ReduceMax", ["x"], ["m"], keepdims=1),
                  helper.make_node("Neg", ["m"], ["negm"]),
                  helper.make_node("Sqrt", ["negm"], ["bad"]),
                  helper.make_node("Add", ["p", "bad"], ["probabilities"])]
    elif kind == "wrong-rows":
        inits.append(numpy_helper.from_array(np.array([0], np.int64), "zero"))
        nodes += [helper.make_node("Softmax", ["scores"], ["p"], axis=1),
                  helper.make_node("Gather", ["p", "zero"], ["probabilities"], axis=0)]
    else:
        nodes.append(helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1))
    graph = helper.make_graph(nodes, kind, [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"preprocessing_version": "1"}
    if labels is not None:
        import json

        meta["labels"] = json.dumps(labels)
    meta.update(metadata or {})
    helper.set_model_props(model, meta)
    onnx.save(model, str(path))
    return path


# --- image bombs -----------------------------------------------------------------------


def svg_use_bomb(path: Path, levels: int = 10, fan_out: int = 10) -> Path:
    """A ~2 KB SVG whose nested <use> elements draw fan_out**levels rectangles."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" '
             'xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100"><defs>',
             '<rect id="l0" width="1" height="1"/>']
    for lv in range(1, levels + 1):
        uses = "".join(f'<use xlink:href="#l{lv - 1}"/>' for _ in range(fan_out))
        parts.append(f'<g id="l{lv}">{uses}</g>')
    parts.append(f'</defs><use xlink:href="#l{levels}"/></svg>')
    path.write_text("".join(parts))
    return path


def svgz_bomb(path: Path, megabytes: int = 1000) -> Path:
    """A gzip-compressed SVG: ``megabytes`` MB of rectangles in a file ~1000x smaller."""
    element = b'<rect x="1" y="1" width="2" height="2"/>' * 2500  # 100 kB
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000">')
        for _ in range(megabytes * 10):
            f.write(element)
        f.write(b"</svg>")
    return path


def png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    c = zlib.crc32(kind + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", c)


def png_bad_crc(path: Path) -> Path:
    """An 8x8 PNG whose image data fails its checksum: libpng complains on stderr."""
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    raw = b"".join(b"\0" + bytes([255] * 8) for _ in range(8))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", zlib.compress(raw), crc=1) + png_chunk(b"IEND", b""))
    return path


def png_pixel_bomb(path: Path, side: int = 30_000) -> Path:
    """A valid, tiny PNG of ``side`` x ``side`` 1-bit pixels: a few hundred kB that decode
    to ``side**2`` bytes or more."""
    row = b"\0" + b"\0" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b""))
    return path


def gif_bytes(pixels: np.ndarray) -> bytes:
    """A minimal GIF89a of a 0/1 image (black/white palette) - Qt reads GIF but cannot
    write it. LZW with a clear code every few pixels keeps the code width at 3 bits."""
    h, w = pixels.shape
    header = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHHB", 0, 0, w, h, 0)
    clear, end, bits = 4, 5, 3  # min code size 2: codes 0-3 colours, 4 clear, 5 end
    codes: list[int] = []
    for i, v in enumerate(pixels.ravel().astype(int)):
        if i % 2 == 0:
            codes.append(clear)  # resets the table before it grows past 3-bit codes
        codes.append(int(v))
    codes.append(end)
    acc = nbits = 0
    out = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += bits
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    blocks = b"".join(bytes([len(out[i:i + 255])]) + bytes(out[i:i + 255])
                      for i in range(0, len(out), 255))
    return header + image + b"\x02" + blocks + b"\x00;"


# --- ink -------------------------------------------------------------------------------


def big_ink(path: Path, points: int = 1_000_000, strokes: int = 1) -> Path:
    """An ink file of ``points`` points (a zigzag), written without building it in memory."""
    per = points // strokes
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"strokes": [')
        for s in range(strokes):
            f.write(("," if s else "") + "[")
            f.write(",".join(f"[{i % 1000},{(i // 1000) * 3 + s}]" for i in range(per)))
            f.write("]")
        f.write("]}")
    return path
