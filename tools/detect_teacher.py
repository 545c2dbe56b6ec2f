#!/usr/bin/python3
"""fp32 teacher detections of a directory of images as JSON, for mAP with `bitfalcon eval`.

    /usr/bin/python3 tools/detect_teacher.py --images ../shared/data/coco/images/val -o teacher_val.json
    bitfalcon eval --detections teacher_val.json ...

Writes a JSON array of {"file": <DIR joined with the name>, "class": id, "name": str,
"score": float, "bbox": [x, y, w, h]} in original-image pixels (the format of
`bitfalcon detect --json`), conf 0.001, IoU 0.7, at most 100 boxes per image, one class per
anchor (the protocol of `bitfalcon eval --legacy`); --multi-label: every class >= conf per
anchor, NMS per class, at most 300 (`yolo val`, the protocol of `bitfalcon eval`). Any teacher
npz: an imported one (tools/import_onnx.py) brings its own classes, names and scale.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import _common  # noqa: F401


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True, help="directory of images (.jpg/.jpeg/.png)")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--size", type=int, default=640, help="input size (default 640)")
    ap.add_argument("--conf", type=float, default=0.001, help="score threshold (default 0.001)")
    ap.add_argument("--iou", type=float, default=0.7, help="NMS IoU (default 0.7)")
    ap.add_argument("--max-det", type=int, default=0,
                    help="boxes per image (default 100; 300 with --multi-label)")
    ap.add_argument("--multi-label", action="store_true",
                    help="multi-label candidates as yolo val / bitfalcon eval (default: one class per anchor)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (sorted by name)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("-o", "--output", required=True, help="output JSON file")
    args = ap.parse_args(argv)
    if not args.max_det:
        args.max_det = 300 if args.multi_label else 100

    import torch
    from bitfalcon.images import list_images
    from bitfalcon.teacher import run_teacher
    from bitfalcon.yolo import build_teacher, teacher_names
    torch.set_num_threads(args.threads)
    names = [os.path.basename(p) for p in list_images(args.images, exts=(".jpg", ".jpeg", ".png"))]
    if args.limit:
        names = names[:args.limit]
    model = build_teacher(args.teacher)
    class_names = teacher_names(args.teacher)
    out = []
    t0 = time.time()
    for i, n in enumerate(names):
        path = os.path.join(args.images, n)
        _, dets = run_teacher(model, path, args.size, args.conf, args.iou, args.max_det, args.multi_label)
        for d in dets:
            out.append({"file": path, "class": d.class_id, "name": class_names[d.class_id], "score": round(d.score, 6),
                        "bbox": [round(d.x0, 3), round(d.y0, 3), round(d.x1 - d.x0, 3), round(d.y1 - d.y0, 3)]})
        if (i + 1) % 10 == 0 or i + 1 == len(names):
            print(f"{i + 1}/{len(names)} images, {len(out)} detections, {time.time() - t0:.0f} s", flush=True)
    with open(args.output, "w") as f:
        json.dump(out, f, indent=0)
    print(f"wrote {args.output}: {len(out)} detections from {len(names)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
