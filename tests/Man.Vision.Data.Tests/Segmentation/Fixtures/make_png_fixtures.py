#!/usr/bin/python3
"""Writes the PNG fixtures of PngCodecTests (run with Debian's /usr/bin/python3; needs PIL and numpy).

Every image holds value(x, y) = (7*x + 13*y) % M for the M given below, so the test can recompute it.
PIL writes the palette / grey / 16-bit variants; the Adam7-interlaced one is written here by hand (PIL cannot
write interlaced PNGs) and checked by reading it back with PIL.
"""
import struct
import zlib

import numpy as np
from PIL import Image

W, H = 37, 23


def values(m):
    y, x = np.mgrid[0:H, 0:W]
    return ((7 * x + 13 * y) % m).astype(np.int64)


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_interlaced_palette(path, idx, palette):
    """8-bit palette PNG, Adam7, row filter Paeth on every row (a stress test for the unfiltering)."""
    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

    raw = bytearray()
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    for sx, sy, dx, dy in passes:
        sub = idx[sy::dy, sx::dx]
        if sub.size == 0:
            continue
        prev = np.zeros(sub.shape[1], dtype=np.int64)
        for row in sub:
            raw.append(4)
            for i, v in enumerate(row):
                a = row[i - 1] if i > 0 else 0
                c = prev[i - 1] if i > 0 else 0
                raw.append((int(v) - paeth(int(a), int(prev[i]), int(c))) & 0xFF)
            prev = row
    ihdr = struct.pack(">IIBBBBB", idx.shape[1], idx.shape[0], 8, 3, 0, 0, 1)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"PLTE", bytes(palette)) + \
        chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    pal = []
    for i in range(256):
        pal += [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256]

    v21 = values(21)
    im = Image.fromarray(v21.astype(np.uint8), mode="P")
    im.putpalette(pal)
    im.save("palette8.png")

    v16 = values(16)
    im = Image.fromarray(v16.astype(np.uint8), mode="P")
    im.putpalette(pal[:48])
    im.save("palette4.png", bits=4)

    v2 = values(2)
    Image.fromarray((v2 * 255).astype(np.uint8), mode="L").convert("1").save("gray1.png")

    v1000 = values(1000)
    Image.fromarray(v1000.astype(np.uint16)).save("gray16.png")

    write_interlaced_palette("palette8_adam7.png", v21, pal)
    back = np.array(Image.open("palette8_adam7.png"))
    assert (back == v21).all(), "PIL reads the hand-written interlaced PNG differently"

    for name in ["palette8.png", "palette4.png", "gray1.png", "gray16.png", "palette8_adam7.png"]:
        im = Image.open(name)
        print(name, im.mode, im.size, im.info.get("interlace", 0))


if __name__ == "__main__":
    main()
