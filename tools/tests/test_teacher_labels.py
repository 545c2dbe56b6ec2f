#!/usr/bin/python3
"""tools/teacher_labels.py: teacher detections (detect_teacher.py's JSON) become YOLO label
files normalised to the displayed frame (an EXIF orientation-6 JPEG swaps width and height),
clipped to the image, low scores and empty boxes dropped, an image without boxes gets an
empty file, and detections of files that are not in the folder are refused. PIL only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _setup import TOOLS, need


def main() -> int:
    need("PIL")
    from PIL import Image
    with tempfile.TemporaryDirectory() as tmp:
        images = os.path.join(tmp, "images")
        os.makedirs(images)
        Image.new("RGB", (200, 100), (90, 120, 150)).save(os.path.join(images, "wide.png"))
        exif = Image.Exif()
        exif[0x0112] = 6                                    # stored 200 x 100, displayed 100 x 200
        Image.new("RGB", (200, 100), (150, 90, 60)).save(os.path.join(images, "turned.jpg"), exif=exif)
        Image.new("RGB", (64, 64)).save(os.path.join(images, "empty.png"))
        dets = [
            {"file": os.path.join(images, "wide.png"), "class": 3, "score": 0.9, "bbox": [20, 10, 40, 50]},
            {"file": os.path.join(images, "wide.png"), "class": 5, "score": 0.8, "bbox": [180, -10, 40, 30]},
            {"file": os.path.join(images, "wide.png"), "class": 7, "score": 0.1, "bbox": [0, 0, 10, 10]},
            {"file": os.path.join(images, "wide.png"), "class": 1, "score": 0.9, "bbox": [250, 0, 10, 10]},
            {"file": os.path.join(images, "turned.jpg"), "class": 0, "score": 0.5, "bbox": [10, 20, 50, 100]},
        ]
        det_json = os.path.join(tmp, "t.json")
        with open(det_json, "w") as f:
            json.dump(dets, f)
        labels = os.path.join(tmp, "labels")
        cmd = [sys.executable, os.path.join(TOOLS, "teacher_labels.py"), "--detections", det_json,
               "--images", images, "--labels", labels]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "3 label files (3 boxes, 1 images without any)" in r.stdout, r.stdout

        def rows(name):
            with open(os.path.join(labels, name)) as f:
                return [[float(v) for v in line.split()] for line in f.read().splitlines()]
        wide = rows("wide.txt")
        # 40x50 at (20, 10) in 200x100; the second clipped to x 180..200, y 0..20; score 0.1
        # and the box outside the image dropped
        assert wide == [[3, 0.2, 0.35, 0.2, 0.5], [5, 0.95, 0.1, 0.1, 0.2]], wide
        turned = rows("turned.txt")                          # normalised by 100 x 200
        assert turned == [[0, 0.35, 0.35, 0.5, 0.5]], turned
        assert rows("empty.txt") == []
        assert not [n for n in os.listdir(labels) if n.startswith(".")], os.listdir(labels)

        dets.append({"file": "/elsewhere/other.jpg", "class": 0, "score": 0.9, "bbox": [0, 0, 5, 5]})
        with open(det_json, "w") as f:
            json.dump(dets, f)
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode != 0 and "1 detected files are not in" in r.stderr, (r.returncode, r.stderr)
    print("teacher_labels: normalised, clipped, EXIF-turned, empty images, foreign files refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
