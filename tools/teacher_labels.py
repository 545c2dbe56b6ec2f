#!/usr/bin/python3
"""The teacher's detections (tools/detect_teacher.py JSON) as YOLO label files: pseudo-labels
that let `bitfalcon eval` score how well a student agrees with its teacher on photos that are
not coco/val.

    /usr/bin/python3 tools/detect_teacher.py --images PHOTOS --conf 0.25 -o teacher.json
    /usr/bin/python3 tools/teacher_labels.py --detections teacher.json --images PHOTOS --labels LABELS
    bitfalcon eval -m student.bfm --images PHOTOS --labels LABELS --size 640 --legacy

Why: coco/val has 128 images, and two checkpoints of one run a few hundred steps apart
differ there by up to 0.007 mAP, more than most changes being compared. Choosing between
checkpoints or recipes on coco/val would also be tuning on it. A few hundred held-out photos
(never trained on) scored against the teacher's boxes give a second, independent reading of
the same question: is the student closer to the teacher. Boxes scoring under --min-score are
dropped; an image with none gets an empty label file (no objects).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from typing import Dict, List



def yolo_lines(dets: List[dict], width: int, height: int, min_score: float) -> List[str]:
    """One "class cx cy w h" line (normalised to the image) per detection scoring >= min_score,
    clipped to the image; boxes that clip to nothing are dropped."""
    out = []
    for d in dets:
        if d["score"] < min_score:
            continue
        x, y, w, h = d["bbox"]
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(float(width), x + w), min(float(height), y + h)
        if x1 - x0 <= 0.5 or y1 - y0 <= 0.5:
            continue
        out.append(f"{d['class']} {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
                   f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detections", required=True, help="JSON of tools/detect_teacher.py over --images")
    ap.add_argument("--images", required=True, help="the directory the detections were made on")
    ap.add_argument("--labels", required=True, help="output directory of NAME.txt label files")
    ap.add_argument("--min-score", type=float, default=0.25,
                    help="keep teacher boxes scoring at least this (default %(default)s)")
    args = ap.parse_args(argv)

    from PIL import Image

    from bitfalcon.images import list_images
    with open(args.detections) as f:
        dets = json.load(f)
    by_name: Dict[str, List[dict]] = defaultdict(list)
    for d in dets:
        by_name[os.path.basename(d["file"])].append(d)
    os.makedirs(args.labels, exist_ok=True)
    names = [os.path.basename(p) for p in list_images(args.images, exts=(".jpg", ".jpeg", ".png"))]
    unknown = set(by_name) - set(names)
    if unknown:
        raise SystemExit(f"teacher_labels.py: {len(unknown)} detected files are not in {args.images}, "
                         f"e.g. {sorted(unknown)[0]}")
    boxes = 0
    for n in names:
        with Image.open(os.path.join(args.images, n)) as im:
            width, height = im.size
            # boxes are in the displayed frame: JPEGs in their EXIF orientation (as the
            # program and the teacher load them); 5-8 turn the picture a quarter
            if im.format == "JPEG" and im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
        lines = yolo_lines(by_name.get(n, []), width, height, args.min_score)
        boxes += len(lines)
        tmp = os.path.join(args.labels, f".{os.path.splitext(n)[0]}.txt.tmp")
        with open(tmp, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(tmp, os.path.join(args.labels, os.path.splitext(n)[0] + ".txt"))
    print(f"wrote {len(names)} label files ({boxes} boxes, {sum(1 for n in names if not by_name.get(n))} "
          f"images without any) to {args.labels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
