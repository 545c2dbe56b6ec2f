#!/usr/bin/python3
"""tools/distill.py end to end on a 3-class YOLOv8n ONNX (ctest tools.distill_custom).

    test_distill.py EXE     EXE: the bitfalcon program

The teacher: the COCO teacher cut to 3 classes under names of its own (tests/coco3.py), in
Ultralytics' ONNX layout. The data: a data.yaml over tests/data's 4 images with hand-written
labels (train = val; a smoke run, not a measurement). distill.py runs twice: 4 training images
at 128 px, then the same command with 20 images, which must resume the run (not restart it).
Checked: every stage ran; the .bfm carries the three names (`bitfalcon detect` prints only
those); the final table has the teacher and the student with mAP in [0, 1] and the file
sizes; report.json agrees with `bitfalcon eval --data` run here; the per-class table names the
classes. Exit 77 = skipped (no torch/onnx/yaml, no ../shared teacher, no program).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _setup import REPO, SKIP, TOOLS, need

NAMES = ["worker", "bike", "auto rickshaw"]
LABELS = {"astronaut": "0 0.50 0.55 0.62 0.88\n", "chelsea": "", "coffee": "", "rocket": ""}


def make_dataset(root: str) -> str:
    for split in ("train", "val"):
        os.makedirs(os.path.join(root, "images", split))
        os.makedirs(os.path.join(root, "labels", split))
        for stem, lab in LABELS.items():
            os.symlink(os.path.join(REPO, "tests", "data", stem + ".png"),
                       os.path.join(root, "images", split, stem + ".png"))
            with open(os.path.join(root, "labels", split, stem + ".txt"), "w") as f:
                f.write(lab)
    path = os.path.join(root, "data.yaml")
    with open(path, "w") as f:
        f.write("path: .\ntrain: images/train\nval: images/val\nnames:\n" +
                "".join(f"  {i}: {n}\n" for i, n in enumerate(NAMES)))
    return path


def distill(onnx: str, data: str, out: str, work: str, exe: str, images: int):
    cmd = [sys.executable, os.path.join(TOOLS, "distill.py"), "--onnx", onnx, "--data", data, "--images", str(images),
           "-o", out, "--work", work, "--size", "128", "--sens-images", "4", "--bitfalcon", exe,
           "--set", "batch_320=0.3", "--set", "calib_images=2", "--set", "val_calib_images=2",
           "--set", "val_images=4", "--set", "log_every=1", "--set", "acts_at=0.3", "--set", "amp=\"off\""]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        raise AssertionError(f"distill.py: exit {p.returncode}")
    return p.stdout, p.stderr


def main() -> int:
    need("numpy", "torch", "onnx", "yaml")
    exe = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(exe, os.X_OK):
        print("SKIP: no bitfalcon program")
        return SKIP
    from coco3 import three_class_onnx
    with tempfile.TemporaryDirectory(prefix="bf_distill_") as tmp:
        onnx = three_class_onnx(tmp, NAMES, size=128)
        if onnx is None:
            print("SKIP: ../shared/data/teacher absent")
            return SKIP
        data = make_dataset(os.path.join(tmp, "ds"))
        work, bfm = os.path.join(tmp, "work"), os.path.join(tmp, "mine.bfm")

        out, err = distill(onnx, data, bfm, work, exe, 4)
        for stage in ("[1/6] import", "[2/6] sensitivity", "[3/6] plane mix", "[4/6] training", "[5/6] export",
                      "[6/6] scoring"):
            assert stage in err, (stage, err[-3000:])
        assert "20 convs k=3, 43 k=2" in err, err[-3000:]
        with open(os.path.join(work, "config.json")) as f:
            cfg = json.load(f)
        assert cfg["sizes"] == [64, 96, 128] and cfg["unit"] == "images" and cfg["total"] == 4, cfg
        assert sum(1 for k in cfg["terms"].values() if k == 3) == 20, cfg["terms"]
        steps1 = open(os.path.join(work, "train", "log.csv")).read().splitlines()

        # the same command, longer: resumes from last.pt, skips import and sensitivity
        out, err = distill(onnx, data, bfm, work, exe, 20)
        assert "import: " in err and "is up to date" in err, err[-3000:]
        assert "resumed" in err, err[-3000:]
        steps2 = open(os.path.join(work, "train", "log.csv")).read().splitlines()
        assert len(steps2) > len(steps1) and steps2[:len(steps1)] == steps1, (steps1, steps2)

        # the table: teacher and student rows, mAP in [0, 1], file sizes
        rows = [line.split() for line in out.splitlines() if line.startswith(("teacher (fp32", "student (Bit"))]
        assert len(rows) == 2, out
        for r in rows:
            m, m50, nbytes = float(r[-3]), float(r[-2]), int(r[-1])
            assert 0.0 <= m <= m50 <= 1.0 and nbytes > 100000, r
        assert int(rows[1][-1]) == os.path.getsize(bfm), (rows, os.path.getsize(bfm))
        assert int(rows[0][-1]) == os.path.getsize(onnx)
        for n in NAMES[:1]:
            assert any(line.split()[:1] == [n] for line in out.splitlines()), out     # per-class table
        with open(os.path.join(work, "report.json")) as f:
            rep = json.load(f)
        p = subprocess.run([exe, "eval", "-m", bfm, "--data", data, "--json", "--no-table"], stdout=subprocess.PIPE,
                           text=True, check=True)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        assert abs(rep["rows"][1]["map"] - res["map"]) <= 5e-5, (rep, res)     # the table has 4 decimals
        assert rep["classes"] == NAMES

        # the model's own names
        p = subprocess.run([exe, "detect", "-m", bfm, "--conf", "0.001", "--max-det", "30",
                            os.path.join(REPO, "tests", "data", "astronaut.png")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0, p.stderr
        seen = {line.split(": ", 1)[1].rsplit(" ", 5)[0] for line in p.stdout.splitlines() if " x=" in line}
        assert seen and seen <= set(NAMES), p.stdout
        print("\n".join(line for line in err.splitlines() if line.startswith("[distill")))
        print(f"distill ok: teacher {rows[0][-3]} student {rows[1][-3]}; detect names {sorted(seen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
