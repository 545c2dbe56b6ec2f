#!/usr/bin/python3
"""BatchNorm re-estimation for a trained student: each conv's per-channel pre-activation
statistics matched to the teacher's, layer by layer in the order the network runs them.

    /usr/bin/python3 tools/bn_reestimate.py --checkpoint models/checkpoints/v8n-mt3-b.pt \\
        --images ../shared/data/photos -o /tmp/bn.pt
    /usr/bin/python3 tools/export.py --checkpoint /tmp/bn.pt --compress -o /tmp/bn.bfm

Why: BN is folded into every conv's per-channel scale and bias before training, and the
quantized weights move each channel's output mean and spread away from the teacher's (the
training issue measured 30-95% of the per-layer error of plain ternary as a per-channel
offset). Re-estimating BN on the quantized network (as Nagel et al. and the QAT detector
papers do after quantization) puts every channel back on the teacher's mean and standard
deviation. In the folded form that is, per output channel c of conv y = alpha * (W_q x) + b:

    r = std_t / std_s,   alpha' = r * alpha,   b' = r * (b - mean_s) + mean_t

The integer weights W_q do not change (the latent weight is scaled with alpha, so
round(w / alpha) is the same), the file's size does not change, and the exporter folds the
new alpha and bias into the integer affine as always. The statistics are those of the
pre-activation (the conv's output before the pre-SiLU quantizer; the head's raw logits) over
every pixel of --images photos letterboxed at --size, the student with int8 weights and
activations as the engine runs it, the teacher in fp32. Layer i is corrected on the
student's own output after layers 0..i-1 were, so each correction sees the inputs the
corrected network gives it.

--strength scales the correction (0 = none, 1 = the full match: alpha' = alpha * r^s,
b' moved the same fraction of the way); --mean-only leaves the spread (r = 1).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import _common  # noqa: F401


def _parse(argv) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True,
                    help="the student's small checkpoint (tools/train.py --export-dir, models/checkpoints/*.pt)")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--images", default=os.path.join(_common.SHARED_DATA, "photos"),
                    help="folder of photos the statistics come from (never coco/val; default: %(default)s)")
    ap.add_argument("--count", type=int, default=32,
                    help="photos, evenly spaced over the sorted folder (default %(default)s)")
    ap.add_argument("--size", type=int, default=640, help="letterbox size (default %(default)s)")
    ap.add_argument("--strength", type=float, default=1.0,
                    help="fraction of the correction applied, 0..1 (default %(default)s)")
    ap.add_argument("--mean-only", action="store_true", help="correct the per-channel means only, not the spread")
    ap.add_argument("--max-ratio", type=float, default=2.0,
                    help="clamp the spread ratio r to [1/R, R] (default %(default)s)")
    ap.add_argument("--no-head", action="store_true",
                    help="leave the six final predictors (the head's raw logits) as they are")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default %(default)s)")
    ap.add_argument("-o", "--output", required=True, help="the corrected small checkpoint to write")
    args = ap.parse_args(argv)
    if not 0.0 <= args.strength <= 1.0:
        ap.error("--strength must be in 0..1")
    if args.max_ratio < 1.0:
        ap.error("--max-ratio must be >= 1")
    if args.count < 2:
        ap.error("--count must be at least 2")
    return args


def main(argv=None) -> int:
    args = _parse(argv)
    import torch
    from bitfalcon.bn_reestimate import reestimate
    from bitfalcon.images import list_images, pick_evenly
    from bitfalcon.letterbox import letterboxed
    from bitfalcon.yolo import TEACHER_MODEL_KEYS, YOLOv8Bit, build_teacher
    torch.set_num_threads(args.threads)

    ck = torch.load(args.checkpoint, map_location="cpu")
    if not isinstance(ck, dict) or "model" not in ck:
        sys.exit(f"bn_reestimate.py: {args.checkpoint} is not a student checkpoint (no 'model')")
    if not ck.get("learn_scale"):
        sys.exit(f"bn_reestimate.py: {args.checkpoint} has no learned per-channel scales to correct")
    if ck.get("ema"):
        sys.exit(f"bn_reestimate.py: {args.checkpoint} is a full training checkpoint: pass the small "
                 "export (tools/train.py --export-dir)")
    meta = {k: v for k, v in (ck.get("config") or {}).items() if k in TEACHER_MODEL_KEYS}
    student = YOLOv8Bit(**meta)
    student.load_checkpoint(ck)
    student.set_quant(True, True)
    student.eval()
    teacher = build_teacher(args.teacher)

    files = pick_evenly(list_images(args.images), args.count)
    if len(files) < 2:
        sys.exit(f"bn_reestimate.py: fewer than 2 images in {args.images}")
    batches = [torch.cat([letterboxed(f, args.size)[0] for f in files[i:i + 8]]) for i in range(0, len(files), 8)]
    t0 = time.time()
    print(f"{len(files)} images from {args.images} at {args.size} px", flush=True)
    report = reestimate(student, teacher, batches, args.strength, args.mean_only, args.max_ratio, args.no_head)
    out = dict(ck)
    out["model"] = {k: v.to(ck["model"][k].dtype) if k in ck["model"] else v
                    for k, v in student.state_dict().items()}
    out["meta"] = {**(ck.get("meta") or {}),
                   "bn_reestimated": {"images": args.images, "count": len(files), "size": args.size,
                                      "strength": args.strength, "mean_only": args.mean_only,
                                      "layers": len(report)}}
    tmp = args.output + ".tmp"
    torch.save(out, tmp)
    os.replace(tmp, args.output)
    worst = sorted(report, key=lambda r: -r[1])[:5]
    print("largest mean offsets before correction: " + ", ".join(f"{n} {b:.3f}" for n, b, _ in worst))
    print(f"wrote {args.output} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
