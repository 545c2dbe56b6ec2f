#!/usr/bin/python3
"""letterbox.py reproduces tests/data/letterbox_expected.txt, and the integer formula agrees
with a direct per-pixel evaluation of the doc on a small random image."""
from __future__ import annotations

import os
import sys

from _setup import REPO, need

need("numpy", "PIL")
import numpy as np  # noqa: E402

from bitfalcon.letterbox import letterbox, letterbox_params, load_rgb  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bitfalcon.fnv import fnv1a64  # noqa: E402


def doc_pixel(p: np.ndarray, S: int, X: int, Y: int) -> np.ndarray:
    """The doc's definition, one destination pixel at a time, in python ints."""
    h, w = p.shape[:2]
    lp = letterbox_params(w, h, S)
    x, y = X - lp.left, Y - lp.top
    if not (0 <= x < lp.nw and 0 <= y < lp.nh):
        return np.array([114, 114, 114])

    def tap(i, n_src, n_dst):
        num = (2 * i + 1) * n_src - n_dst
        f = num * 2048 // (2 * n_dst) if num > 0 else 0
        i0 = min(f >> 11, n_src - 1)
        return i0, min(i0 + 1, n_src - 1), f & 2047

    x0, x1, ax = tap(x, w, lp.nw)
    y0, y1, ay = tap(y, h, lp.nh)
    out = []
    for c in range(3):
        top = int(p[y0, x0, c]) * (2048 - ax) + int(p[y0, x1, c]) * ax
        bot = int(p[y1, x0, c]) * (2048 - ax) + int(p[y1, x1, c]) * ax
        out.append((top * (2048 - ay) + bot * ay + (1 << 21)) >> 22)
    return np.array(out)


def main() -> int:
    rng = np.random.default_rng(7)
    for (h, w, S) in ((17, 29, 32), (40, 9, 64), (5, 5, 32), (64, 64, 32), (1, 50, 32)):
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        out, _ = letterbox(img, S)
        for Y in range(S):
            for X in range(S):
                assert np.array_equal(out[Y, X], doc_pixel(img, S, X, Y)), (h, w, S, X, Y)
    print("letterbox matches the doc's per-pixel definition")

    # JPEGs load in their EXIF orientation (as the C program, src/io/orient.c), exif=False as
    # stored; orientation 6 = turned 90 degrees clockwise to display: W x H becomes H x W
    import io
    import tempfile
    from PIL import Image
    stored = rng.integers(0, 256, size=(24, 40, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(buf.getvalue())
        f.flush()
        raw, shown = load_rgb(f.name, exif=False), load_rgb(f.name)
    assert raw.shape == (24, 40, 3) and shown.shape == (40, 24, 3), (raw.shape, shown.shape)
    assert np.array_equal(shown, np.rot90(raw, k=-1)), "orientation 6 is not a clockwise turn"
    print("EXIF orientation 6 JPEG loads turned (40x24), --no-exif-like exif=False as stored")

    path = os.path.join(REPO, "tests", "data", "letterbox_expected.txt")
    if not os.path.exists(path):
        print(f"SKIP: {path} missing")
        return 77
    n = 0
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        stem, size, left, top, nw, nh, h = line.split()
        img = load_rgb(os.path.join(REPO, "tests", "data", stem + ".png"))
        out, lp = letterbox(img, int(size))
        got = (lp.left, lp.top, lp.nw, lp.nh, f"{fnv1a64(out.tobytes()):016x}")
        want = (int(left), int(top), int(nw), int(nh), h)
        assert got == want, f"{stem} {size}: got {got}, want {want}"
        n += 1
    assert n > 0
    print(f"letterbox fixture OK ({n} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
