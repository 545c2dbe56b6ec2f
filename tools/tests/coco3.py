"""A 3-class YOLOv8n teacher for the custom-model tests: the COCO teacher with its class
branch cut to the first 3 class channels (person, bicycle, car; 64 inner channels, as
Ultralytics' c3 = max(64, nc)), under names of its own, exported to ONNX the way `yolo export`
lays it out (tools/export_onnx.py). Needs ../shared/data/teacher."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

from _setup import REPO, TOOLS

COCO_TEACHER = os.path.join(REPO, "..", "shared", "data", "teacher", "yolov8n_coco.npz")


def three_class_onnx(tmp: str, names: List[str], size: int = 320) -> Optional[str]:
    """Writes tmp/t3_src.npz and tmp/t3.onnx; the ONNX path, or None without the COCO teacher."""
    import numpy as np
    from bitfalcon.teacher import write_teacher_npz
    if not os.path.exists(COCO_TEACHER):
        return None
    d = np.load(COCO_TEACHER)
    w = {k: d[k] for k in d.files}
    for lvl in range(3):
        p = f"model.22.cv3.{lvl}"
        w[p + ".0.conv.weight"], w[p + ".0.conv.bias"] = w[p + ".0.conv.weight"][:64], w[p + ".0.conv.bias"][:64]
        w[p + ".1.conv.weight"], w[p + ".1.conv.bias"] = w[p + ".1.conv.weight"][:64, :64], w[p + ".1.conv.bias"][:64]
        w[p + ".2.weight"], w[p + ".2.bias"] = w[p + ".2.weight"][:3, :64], w[p + ".2.bias"][:3]
    src = os.path.join(tmp, "t3_src.npz")
    write_teacher_npz(src, w, {"format": "bitfalcon-teacher", "version": 1, "nc": 3, "width": 0.25, "depth": 0.33,
                               "max_channels": 1024, "reg_max": 16, "names": names, "imgsz": [size, size],
                               "stride": 32})
    onnx_path = os.path.join(tmp, "t3.onnx")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "export_onnx.py"), "--teacher", src, "--size", str(size),
                        "-o", onnx_path, "--no-check"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    if p.returncode != 0:
        raise AssertionError(f"export_onnx.py: exit {p.returncode}\n{p.stdout.decode()}")
    return onnx_path
