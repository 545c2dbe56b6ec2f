#!/usr/bin/python3
"""Your YOLOv8 into a BitFalcon model in one command: import, plane mix, QAT, export, score.

    /usr/bin/python3 tools/distill.py --onnx best.onnx --data my.yaml --photos ~/photos \\
        --minutes 120 -o models/mine.bfm

Stages (each writes into --work, default tools/.cache/distill/<name of -o>; running the same
command again continues where it stopped, a larger --minutes / --images trains on):

  1 import       tools/import_onnx.py: the ONNX of `yolo export format=onnx` -> teacher npz,
                 checked against the ONNX graph's own outputs (its classes, names, scale)
  2 sensitivity  tools/sensitivity.py on that teacher: each conv alone ternarized
  3 plane mix    the --k3 most sensitive convs get 3 balanced-ternary planes (27 levels),
                 the others 2 (9 levels): the shipped COCO model's mix (20 of 63)
  4 train        tools/train.py with tools/train_configs/distill.json (the training issue's
                 recipe: end-to-end distillation from the teacher on the data.yaml train split
                 and the photos, the YOLOv8 loss on the labeled images, EMA, int8 activations
                 from 25% on; sizes S/2, 3S/4, S at 1:1:2), resumable (last.pt every 4 min)
  5 export       tools/export.py: the EMA weights -> the .bfm (-o), with the teacher's names
  6 score        `bitfalcon eval` on the data.yaml val split at S: the student (the program's
                 per-class table) and the fp32 teacher (tools/detect_teacher.py --multi-label,
                 scored by the same `bitfalcon eval --detections`)

It ends with a teacher-vs-student table (mAP50-95, mAP50, file bytes), also written to
WORK/report.json. Progress: each stage says what it does; training prints steps with an ETA.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional

import _common

PY = sys.executable or "/usr/bin/python3"


def say(msg: str) -> None:
    print(f"[distill {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd: List[str], what: str, capture: bool = False) -> str:
    """Runs a stage's command; its progress goes to our stderr. A failure stops the flow."""
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None, text=True)
    if p.returncode != 0:
        raise SystemExit(f"distill.py: {what} failed (exit {p.returncode}): {' '.join(cmd)}")
    say(f"{what}: done in {time.time() - t0:.0f} s")
    return p.stdout if capture else ""


def fresh(out: str, *inputs: str) -> bool:
    """out exists and is newer than every input: the stage can be skipped."""
    return os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(i) for i in inputs if i)


def plane_mix(sens: Dict, n_k3: int) -> Dict[str, int]:
    """{conv: k}: the n_k3 convs of highest sensitivity (class KL x 1000 + 10 x box error, as
    docs/training.md ranks them) get k = 3, the others k = 2; the head's 1x1 predictors
    (BitLinear, not in the ranking) stay as the engine takes them."""
    rows = sorted(sens["layers"], key=lambda r: -(r["cls_kl"] + 10.0 * r["box_err"]))
    return {r["layer"]: (3 if i < n_k3 else 2) for i, r in enumerate(rows)}


def link_images(files: List[str], d: str) -> str:
    """A folder of symlinks (the tools that take one folder): sensitivity and calibration."""
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for i, f in enumerate(files):
        os.symlink(os.path.abspath(f), os.path.join(d, f"{i:05d}{os.path.splitext(f)[1].lower()}"))
    return d


def eval_json(out: str) -> Dict:
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit("distill.py: `bitfalcon eval --json` printed no result")


def table_all_row(out: str) -> Dict:
    """mAP of the `all` row of `bitfalcon eval`'s per-class table (Class Images Instances P R
    mAP50 mAP50-95)."""
    for line in out.splitlines():
        f = line.split()
        if f[:1] == ["all"] and len(f) == 7:
            return {"images": int(f[1]), "map50": float(f[5]), "map": float(f[6])}
    raise SystemExit("distill.py: `bitfalcon eval` printed no 'all' row")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="YOLOv8 detect ONNX (`yolo export format=onnx`)")
    ap.add_argument("--data", required=True, help="Ultralytics data.yaml (train: QAT labels; val: scoring)")
    ap.add_argument("--photos", default="", help="unlabeled photo folders for distillation, comma separated")
    length = ap.add_mutually_exclusive_group(required=True)
    length.add_argument("--minutes", type=float, help="training length in training minutes")
    length.add_argument("--images", type=int, help="training length in images seen")
    ap.add_argument("-o", "--output", required=True, help="the BitFalcon model to write (.bfm)")
    ap.add_argument("--work", help="work folder (default tools/.cache/distill/<name of -o>)")
    ap.add_argument("--size", type=int, help="input size trained for and scored at (default: the ONNX's imgsz, "
                                             "else 640)")
    ap.add_argument("--k3", type=int, default=20, help="convs with 3 planes, the most sensitive (default 20)")
    ap.add_argument("--sens-images", type=int, default=16, help="images for the sensitivity ranking (default 16)")
    ap.add_argument("--config", default=os.path.join(_common.TOOLS, "train_configs", "distill.json"),
                    help="training recipe (default: %(default)s)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a recipe key")
    ap.add_argument("--bitfalcon", default=os.path.join(_common.REPO, "build", "bitfalcon"),
                    help="the bitfalcon program for scoring (default: %(default)s)")
    ap.add_argument("--no-score", action="store_true", help="stop after the export (no eval)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--device", default="auto", help="training device: cpu, cuda (default: cuda when present)")
    args = ap.parse_args(argv)

    from bitfalcon import datayaml
    from bitfalcon.images import list_images
    try:
        data = datayaml.read_data_yaml(args.data)
        train_items = datayaml.split_items(data, "train")
    except datayaml.DataYamlError as e:
        raise SystemExit(f"distill.py: {e}")
    val = datayaml.val_dirs(data)
    if not args.no_score and val is None:
        raise SystemExit(f"distill.py: {args.data}: val: must be one folder of images to score on "
                         "(or pass --no-score)")
    if not args.no_score and not os.access(args.bitfalcon, os.X_OK):
        raise SystemExit(f"distill.py: {args.bitfalcon}: no bitfalcon program (build it, or --bitfalcon PATH)")
    name = os.path.splitext(os.path.basename(args.output))[0]
    work = os.path.abspath(args.work or os.path.join(_common.TOOLS, ".cache", "distill", name))
    os.makedirs(work, exist_ok=True)
    say(f"work folder {work}; {len(train_items)} labeled training images, {len(data.names)} classes")
    t_start = time.time()

    # 1 import -------------------------------------------------------------------------------
    teacher = os.path.join(work, "teacher.npz")
    if fresh(teacher, args.onnx):
        say(f"[1/6] import: {teacher} is up to date")
    else:
        say(f"[1/6] import {args.onnx}")
        run([PY, os.path.join(_common.TOOLS, "import_onnx.py"), args.onnx, "-o", teacher], "import")
    from bitfalcon.yolo import teacher_meta
    meta = teacher_meta(teacher)
    if meta.get("nc") != len(data.names):
        raise SystemExit(f"distill.py: the model has {meta.get('nc')} classes, {args.data} {len(data.names)}")
    size = args.size or max(meta.get("imgsz") or [640])
    if size % 32 or not 64 <= size <= 1280:
        raise SystemExit(f"distill.py: --size {size}: a multiple of 32 in 64..1280")

    photos: List[str] = []
    for d in (x for x in args.photos.split(",") if x):
        if not os.path.isdir(d):
            raise SystemExit(f"distill.py: --photos {d}: no such folder")
        photos += list_images(d, recursive=True)
    pool = photos + [it.path for it in train_items]

    # 2 sensitivity ----------------------------------------------------------------------------
    sens_path = os.path.join(work, "sensitivity.json")
    if fresh(sens_path, teacher):
        say(f"[2/6] sensitivity: {sens_path} is up to date")
    else:
        n = min(args.sens_images, len(pool))
        imgs = link_images([pool[(i * len(pool)) // n] for i in range(n)], os.path.join(work, "sens_images"))
        say(f"[2/6] sensitivity of every conv on {n} images at {min(size, 320)}")
        run([PY, os.path.join(_common.TOOLS, "sensitivity.py"), "--teacher", teacher, "--images", imgs,
             "--n", str(n), "--size", str(min(size, 320)), "--threads", str(args.threads), "-o", sens_path],
            "sensitivity")
    with open(sens_path) as f:
        sens = json.load(f)

    # 3 plane mix + the run's config -----------------------------------------------------------
    terms = plane_mix(sens, args.k3)
    with open(args.config) as f:
        cfg = json.load(f)
    cfg.update({"name": name, "terms": terms, "val_size": size, "calib_size": min(size, 480),
                "sizes": [max(64, size // 2 // 32 * 32), max(64, size * 3 // 4 // 32 * 32), size]})
    if args.minutes is not None:
        cfg.update({"unit": "minutes", "total": args.minutes})
    else:
        cfg.update({"unit": "images", "total": args.images})
    for kv in args.set:
        k, v = kv.split("=", 1)
        cfg[k] = json.loads(v)
    cfg_path = os.path.join(work, "config.json")
    with open(cfg_path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=1)
    os.replace(cfg_path + ".tmp", cfg_path)
    n3 = sum(1 for k in terms.values() if k == 3)
    say(f"[3/6] plane mix: {n3} convs k=3, {len(terms) - n3} k=2 ({cfg_path})")

    # 4 train ----------------------------------------------------------------------------------
    train_out = os.path.join(work, "train")
    say(f"[4/6] training {cfg['total']} {cfg['unit']} (resumes {train_out}/last.pt when present)")
    cmd = [PY, os.path.join(_common.TOOLS, "train.py"), "--config", cfg_path, "--teacher", teacher,
           "--data", args.data, "--photos", args.photos, "--out", train_out, "--export-dir", work, "--resume",
           "--threads", str(args.threads), "--device", args.device]
    if args.no_score or not os.access(args.bitfalcon, os.X_OK):
        cmd.append("--no-val")
    else:
        cmd += ["--eval-bin", args.bitfalcon]
    run(cmd, "training")

    # 5 export ---------------------------------------------------------------------------------
    calib = link_images(pool[:: max(1, len(pool) // 32)][:32], os.path.join(work, "calib_images"))
    say(f"[5/6] export -> {args.output}")
    run([PY, os.path.join(_common.TOOLS, "export.py"), "--teacher", teacher, "--checkpoint",
         os.path.join(train_out, "last.pt"), "--calib", calib, "--size", str(size), "-o", args.output], "export")
    if args.no_score:
        say(f"done in {(time.time() - t_start) / 60:.1f} min: {args.output}")
        return 0

    # 6 score ----------------------------------------------------------------------------------
    val_images, val_labels = val
    say(f"[6/6] scoring the student and the teacher on {val_images} at {size}")
    out = run([args.bitfalcon, "eval", "-m", args.output, "--data", args.data, "--size", str(size)],
              "student eval", capture=True)
    print(out.rstrip())              # the per-class table
    student = table_all_row(out)
    t_dets = os.path.join(work, "teacher_val.json")
    run([PY, os.path.join(_common.TOOLS, "detect_teacher.py"), "--teacher", teacher, "--images", val_images,
         "--size", str(size), "--multi-label", "--threads", str(args.threads), "-o", t_dets], "teacher detections")
    teacher_res = eval_json(run([args.bitfalcon, "eval", "--detections", t_dets, "--data", args.data, "--json",
                                 "--no-table"], "teacher eval", capture=True))
    rows = [("teacher (fp32 ONNX)", teacher_res, os.path.getsize(args.onnx)),
            ("student (BitFalcon)", student, os.path.getsize(args.output))]
    report = {"images": student.get("images"), "size": size, "classes": data.names,
              "minutes": round((time.time() - t_start) / 60, 1),
              "rows": [{"model": m, "map": r["map"], "map50": r["map50"], "bytes": b} for m, r, b in rows]}
    with open(os.path.join(work, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"\n{student.get('images')} val images at {size}, {len(data.names)} classes:")
    print(f"{'model':22s} {'mAP50-95':>9s} {'mAP50':>7s} {'bytes':>10s}")
    for m, r, b in rows:
        print(f"{m:22s} {r['map']:9.4f} {r['map50']:7.4f} {b:10d}")
    print(f"student / teacher mAP50-95: {student['map'] / max(teacher_res['map'], 1e-9):.1%}; "
          f"{(time.time() - t_start) / 60:.1f} min in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
