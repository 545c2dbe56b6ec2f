#!/usr/bin/python3
"""The shipped model and the committed fixtures agree: the integer reference (intsim.py) on
tests/data/*.png reproduces every line of tests/data/heads_expected.txt (hash, sum, min, max),
and the decoded boxes reproduce tests/data/boxes_expected.txt."""
from __future__ import annotations

import os
import sys

from _setup import REPO, need

need("numpy", "PIL")
import numpy as np  # noqa: E402

from bitfalcon import format as bfm  # noqa: E402
from bitfalcon.intsim import IntEngine  # noqa: E402
from bitfalcon.letterbox import letterbox, load_rgb, network_input  # noqa: E402
from bitfalcon.postprocess import postprocess  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bitfalcon.fnv import fnv1a64  # noqa: E402


def main() -> int:
    model_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "models", "bitfalcon-v8n.bfm")
    data = os.path.join(REPO, "tests", "data")
    heads = os.path.join(data, "heads_expected.txt")
    boxes = os.path.join(data, "boxes_expected.txt")
    if not (os.path.exists(model_path) and os.path.exists(heads) and os.path.exists(boxes)):
        print("SKIP: model or fixtures missing")
        return 77
    model = bfm.read_model(model_path)
    eng = IntEngine(model)
    want = {}
    for line in open(heads):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        want[(f[0], int(f[1]), int(f[2]))] = f[3:]
    conf, iou, want_boxes = None, None, {}
    for line in open(boxes):
        if line.startswith("# conf"):
            f = line.split()
            conf, iou = float(f[2]), float(f[4])
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        want_boxes.setdefault((f[0], int(f[1])), []).append((int(f[2]), *map(float, f[3:])))
    assert conf is not None
    runs = sorted({(k[0], k[1]) for k in want})
    for stem, size in runs:
        canvas, lp = letterbox(load_rgb(os.path.join(data, stem + ".png")), size)
        res = eng.run(network_input(canvas))
        for i, (o, q) in enumerate(res):
            h, w, c = q.shape
            got = [str(o.kind), str(o.stride), str(h), str(w), str(c),
                   f"{fnv1a64(np.ascontiguousarray(q, dtype='<i4').tobytes()):016x}",
                   str(int(q.astype(np.int64).sum())), str(int(q.min())), str(int(q.max()))]
            assert got == want[(stem, size, i)], f"{stem} {size} out{i}: {got} != {want[(stem, size, i)]}"
        dets = sorted(postprocess(eng.levels(res), lp, conf, iou), key=lambda d: -d.score)
        wb = want_boxes.get((stem, size), [])
        assert len(dets) == len(wb), f"{stem} {size}: {len(dets)} boxes, fixture {len(wb)}"
        for d, b in zip(dets, wb):
            assert d.class_id == b[0] and abs(d.score - b[1]) < 2e-6, (d, b)
            assert np.allclose([d.x0, d.y0, d.x1, d.y1], b[2:], atol=2e-4), (d, b)
        print(f"ok {stem} {size}: {len(res)} head outputs, {len(dets)} boxes")
    print("fixtures OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
