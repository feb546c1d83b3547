"""Just enough PNG decoding (8-bit RGB/RGBA, not interlaced, as Chromium writes) to count a screenshot's colours."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path

_CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        corner = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF


def colour_counts(path: Path, *, step: int = 2) -> Counter[tuple[int, int, int]]:
    """How many pixels (every `step`-th row and column) have each RGB colour."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in _CHANNELS and interlace == 0, "unsupported PNG layout"
    bpp = _CHANNELS[colour_type]
    raw, stride = zlib.decompress(idat), width * bpp
    prev, counts = bytes(stride), Counter[tuple[int, int, int]]()
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prev, bpp)
        prev = bytes(line)
        if y % step == 0:
            counts.update(tuple(line[x : x + 3]) for x in range(0, stride, bpp * step))  # type: ignore[misc]
    return counts
