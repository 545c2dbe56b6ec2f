#!/usr/bin/python3
"""numpy-only integer reference of a `.bfm` model (the oracle for the C engine).

    /usr/bin/python3 tools/simulate.py -m models/bitfalcon-v8n.bfm --size 320 tests/data/*.png --boxes
    /usr/bin/python3 tools/simulate.py -m MODEL IMAGES --dump DIR      # DIR/<stem>.<size>.out<i>.i32
    /usr/bin/python3 tools/simulate.py -m MODEL IMAGES --compare DIR   # check the C engine's dumps

Images are decoded with PIL and letterboxed with the exact integer letterbox; every op
follows docs/model-format.md. Dumps are raw int32 little-endian NHWC, one file per output
(output-table order). --compare exits 1 on any differing element, 2 on a missing file.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from bitfalcon import format as bfm
from bitfalcon.intsim import IntEngine
from bitfalcon.letterbox import letterbox, load_rgb, network_input
from bitfalcon.postprocess import postprocess


def dump_name(d: str, image: str, size: int, index: int) -> str:
    stem = os.path.splitext(os.path.basename(image))[0]
    return os.path.join(d, f"{stem}.{size}.out{index}.i32")


def compare(expected: np.ndarray, path: str, label: str, show: int = 10) -> int:
    """0 equal, 1 differ, 2 missing/wrong size."""
    if not os.path.exists(path):
        print(f"MISSING {path}")
        return 2
    got = np.fromfile(path, dtype="<i4")
    if got.size != expected.size:
        print(f"SIZE {path}: {got.size} elements, expected {expected.size} {expected.shape}")
        return 2
    exp = expected.reshape(-1)
    bad = np.nonzero(exp != got)[0]
    if bad.size == 0:
        print(f"ok {label}")
        return 0
    print(f"DIFF {label}: {bad.size} of {exp.size} elements differ")
    h, w, c = expected.shape
    for i in bad[:show]:
        y, rem = divmod(int(i), w * c)
        x, ch = divmod(rem, c)
        print(f"   index {i} (y {y} x {x} c {ch}): expected {exp[i]} got {got[i]}")
    return 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", required=True, help=".bfm model file")
    ap.add_argument("--size", type=int, default=0, help="input size, multiple of 32 (default: the model's)")
    ap.add_argument("images", nargs="+", help="image files (JPEG/PNG/BMP) to run")
    ap.add_argument("--dump", metavar="DIR", help="write each head output to DIR/<stem>.<size>.out<i>.i32")
    ap.add_argument("--compare", metavar="DIR", help="compare with the C engine's dumps in DIR")
    ap.add_argument("--boxes", action="store_true", help="print decoded detections")
    ap.add_argument("--conf", type=float, default=0.25, help="score threshold for --boxes (default 0.25)")
    ap.add_argument("--iou", type=float, default=0.7, help="NMS IoU for --boxes (default 0.7)")
    ap.add_argument("--max-det", type=int, default=300, help="most boxes per image for --boxes (default 300)")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="do not print the per-image timing and head statistics")
    args = ap.parse_args(argv)

    model = bfm.read_model(args.model)
    size = args.size or model.default_input_size
    if size % 32:
        ap.error("--size must be a multiple of 32")
    names = model.class_names()
    eng = IntEngine(model)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    status = 0
    for path in args.images:
        img = load_rgb(path)
        canvas, lp = letterbox(img, size)
        t0 = time.time()
        res = eng.run(network_input(canvas))
        dt = time.time() - t0
        if not args.quiet:
            print(f"{path}: {img.shape[1]}x{img.shape[0]} -> {size}, integer forward {dt:.2f} s")
        for i, (o, q) in enumerate(res):
            if not args.quiet:
                print(f"   out{i} kind {o.kind} stride {o.stride} {q.shape[0]}x{q.shape[1]}x{q.shape[2]} "
                      f"min {q.min()} max {q.max()} sum {int(q.astype(np.int64).sum())}")
            if args.dump:
                q.astype("<i4").tofile(dump_name(args.dump, path, size, i))
            if args.compare:
                status = max(status, compare(q, dump_name(args.compare, path, size, i),
                                             f"{os.path.basename(path)} {size} out{i}"))
        if args.boxes:
            dets = postprocess(eng.levels(res), lp, args.conf, args.iou, args.max_det, model.reg_max)
            print(f"   {len(dets)} detections (conf {args.conf})")
            for d in dets:
                print(f"   {names[d.class_id]:<14s} {d.score:.4f} [{d.x0:7.1f}, {d.y0:7.1f}, {d.x1:7.1f}, {d.y1:7.1f}]")
    if args.compare:
        print("all outputs identical" if status == 0 else ("MISMATCH" if status == 1 else "MISSING FILES"))
    return status


if __name__ == "__main__":
    sys.exit(main())
