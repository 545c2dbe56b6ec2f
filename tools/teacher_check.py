#!/usr/bin/python3
"""Runs the fp32 teacher (the student graph with quantization off) on images and prints
its detections like ../shared/data/teacher/README.md.

    /usr/bin/python3 tools/teacher_check.py ../shared/data/samples/bus.jpg ../shared/data/samples/zidane.jpg
    /usr/bin/python3 tools/teacher_check.py --expect-teacher-readme      # the ctest

Exit codes: 0 ok, 1 detections differ from the README (with --expect-teacher-readme),
77 skipped (torch or ../shared missing).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from typing import Dict, List, Tuple

import _common  # noqa: F401  (sys.path)

SKIP = 77

# The README's detections: class name, score, [x0, y0, x1, y1] in original pixels.
README: Dict[str, List[Tuple[str, float, Tuple[float, float, float, float]]]] = {
    "bus.jpg": [
        ("person", 0.891, (670.0, 380.4, 810.0, 879.1)),
        ("person", 0.889, (221.7, 407.7, 343.2, 855.8)),
        ("person", 0.883, (50.8, 396.9, 244.4, 905.3)),
        ("bus", 0.850, (33.2, 229.8, 798.0, 767.6)),
        ("person", 0.433, (0.5, 550.4, 57.8, 868.0)),
    ],
    "zidane.jpg": [
        ("person", 0.832, (110.7, 197.0, 1112.8, 710.9)),
        ("person", 0.826, (749.2, 42.2, 1143.9, 709.7)),
        ("tie", 0.289, (436.3, 437.4, 523.6, 714.4)),
    ],
}


def format_dets(name: str, img, dets, names: List[str]) -> str:
    h, w = img.shape[:2]
    cnt = Counter(names[d.class_id] for d in dets)
    lines = [f"{name} {w}x{h}: " + ", ".join(f"{v} {k}" for k, v in cnt.items())]
    wid = max([len(names[d.class_id]) for d in dets] + [1])
    for d in dets:
        box = f"[{d.x0:6.1f}, {d.y0:6.1f}, {d.x1:6.1f}, {d.y1:6.1f}]"
        lines.append(f"   {names[d.class_id]:<{wid}s} {d.score:.3f} {box}")
    return "\n".join(lines)


def compare_readme(name: str, dets, names: List[str], score_tol: float, box_tol: float) -> List[str]:
    """Problems found comparing with the README (empty = match). Greedy matching by class+IoU."""
    want = README[name]
    got = [(names[d.class_id], d.score, (d.x0, d.y0, d.x1, d.y1)) for d in dets]
    problems = []
    if len(got) != len(want):
        problems.append(f"{name}: {len(got)} detections, README has {len(want)}")
    used = set()
    for cls, sc, box in want:
        best, bi = None, -1
        for j, (gc, gs, gb) in enumerate(got):
            if j in used or gc != cls:
                continue
            err = max(abs(a - b) for a, b in zip(box, gb))
            if best is None or err < best:
                best, bi = err, j
        if bi < 0:
            problems.append(f"{name}: README {cls} {sc:.3f} {box} not found")
            continue
        used.add(bi)
        gs = got[bi][1]
        if abs(gs - sc) > score_tol or best > box_tol:
            problems.append(f"{name}: {cls} README {sc:.3f} {box} vs got {gs:.3f} "
                            f"[{', '.join(f'{v:.1f}' for v in got[bi][2])}] (box err {best:.1f} px)")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*", help="image files (default with --expect-teacher-readme: bus.jpg zidane.jpg)")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--size", type=int, default=640, help="letterbox size (default 640)")
    ap.add_argument("--conf", type=float, default=0.25, help="score threshold (default 0.25)")
    ap.add_argument("--iou", type=float, default=0.7, help="NMS IoU (default 0.7)")
    ap.add_argument("--expect-teacher-readme", action="store_true",
                    help="compare bus.jpg/zidane.jpg with the teacher README; exit 1 on a difference")
    ap.add_argument("--score-tol", type=float, default=0.01, help="score tolerance (default 0.01)")
    ap.add_argument("--box-tol", type=float, default=3.0, help="box corner tolerance in px (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args(argv)
    try:
        import torch
        from bitfalcon.teacher import run_teacher     # numpy
    except ImportError as e:
        print(f"SKIP: {e}")
        return SKIP
    torch.set_num_threads(args.threads)
    images = list(args.images)
    if args.expect_teacher_readme and not images:
        images = [os.path.join(_common.SHARED_DATA, "samples", n) for n in ("bus.jpg", "zidane.jpg")]
    if not os.path.exists(args.teacher) or not all(os.path.exists(p) for p in images):
        print(f"SKIP: teacher or images missing ({args.teacher})")
        return SKIP if args.expect_teacher_readme else 2
    if not images:
        ap.error("no images")
    from bitfalcon.coco import COCO80
    from bitfalcon.yolo import build_teacher
    model = build_teacher(args.teacher)
    problems = []
    for p in images:
        img, dets = run_teacher(model, p, args.size, args.conf, args.iou)
        name = os.path.basename(p)
        print(format_dets(name, img, dets, COCO80))
        if args.expect_teacher_readme and name in README:
            problems += compare_readme(name, dets, COCO80, args.score_tol, args.box_tol)
    if args.expect_teacher_readme:
        if problems:
            print("MISMATCH with the teacher README:\n  " + "\n  ".join(problems))
            return 1
        print(f"OK: matches the teacher README (score tol {args.score_tol}, box tol {args.box_tol} px)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
