#!/usr/bin/python3
"""Builds the ternary student, calibrates its int8 activation scales and writes the `.bfm`.

    /usr/bin/python3 tools/export.py --teacher ../shared/data/teacher/yolov8n_coco.npz \
        --calib ../shared/data/photos --calib-images 128 -o models/bitfalcon-v8n.bfm

The student is ternarized from the teacher (per-output-channel absmean threshold,
least-squares scale), or loaded from `--checkpoint` (a state_dict or {"model": state_dict}
of tools/bitfalcon/yolo.YOLOv8Bit). Calibration runs the ternary-weight network in float on
`--calib-images` photos (evenly spaced over the sorted file list, letterboxed with the
integer letterbox at `--size`) and sets every per-tensor scale (pre-SiLU, post-SiLU,
residual add) to mean-over-images(percentile of |x|) / 127; concat outputs take the largest
scale of their inputs. `--no-calibrate` keeps the checkpoint's scales.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import _common  # noqa: F401


def calibrate(model, files, size: int, percentile: float, log=print) -> None:
    import torch
    from bitfalcon.letterbox import letterboxed
    model.set_quant(weights=True, acts=False)
    model.start_calibration(percentile)
    t0 = time.time()
    with torch.no_grad():
        for i, f in enumerate(files):
            model(letterboxed(f, size)[0])
            if (i + 1) % 16 == 0 or i + 1 == len(files):
                log(f"  calibration {i + 1}/{len(files)} images, {time.time() - t0:.0f} s", flush=True)
    model.finish_calibration()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--checkpoint", help="trained student checkpoint (instead of ternarizing the teacher)")
    ap.add_argument("--calib", default=os.path.join(_common.SHARED_DATA, "photos"),
                    help="directory of calibration images (default: %(default)s)")
    ap.add_argument("--calib-images", type=int, default=128, help="number of calibration images (default 128)")
    ap.add_argument("--percentile", type=float, default=99.99, help="robust max percentile of |x| (default 99.99)")
    ap.add_argument("--size", type=int, default=640,
                    help="calibration letterbox size and the file's default input size")
    ap.add_argument("--no-calibrate", action="store_true",
                    help="keep the checkpoint's activation scales (the default for a checkpoint trained with "
                         "int8 activations)")
    ap.add_argument("--calibrate", action="store_true",
                    help="recalibrate the activation scales even when the checkpoint trained them")
    ap.add_argument("--live", action="store_true",
                    help="for a full training checkpoint (last.pt) with an EMA: export the live weights, not the EMA")
    ap.add_argument("--terms", metavar="CONFIG",
                    help="a train config (JSON) whose \"terms\" set each conv's plane count k (missing = 1): "
                         "the checkpoint's weights are projected onto that mix before export, without "
                         "retraining (a layer whose k goes down gets a least-squares scale; one whose k goes "
                         "up keeps its function exactly; the config's \"k1_lsq\" is applied too). "
                         "For the plane-mix table of docs/training.md")
    ap.add_argument("--save-checkpoint", help="also save the calibrated student as a torch checkpoint")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--compress", action="store_true",
                    help="write the model as one zstd frame (level 19; docs/model-format.md, \"Compressed "
                         "models\"): the same network in about 0.45-0.65 of the bytes; needs python3-zstandard")
    ap.add_argument("-o", "--output", default=os.path.join(_common.REPO, "models", "bitfalcon-v8n.bfm"),
                    help="the .bfm model to write (default: %(default)s)")
    args = ap.parse_args(argv)

    import torch
    from bitfalcon import format as bfm
    from bitfalcon.coco import COCO80
    from bitfalcon.export import export_model
    from bitfalcon.images import list_images, pick_evenly
    from bitfalcon.yolo import TEACHER_MODEL_KEYS, YOLOv8Bit, teacher_meta, teacher_names
    torch.set_num_threads(args.threads)

    # an imported teacher (tools/import_onnx.py) brings its classes, names and scale; a
    # checkpoint of tools/train.py carries the student's configuration and the names it was
    # trained with (older checkpoints: the teacher's names when the class count matches)
    ck = torch.load(args.checkpoint, map_location="cpu") if args.checkpoint else None
    if ck is not None:
        meta = {k: v for k, v in (ck.get("config") or {}).items() if k in TEACHER_MODEL_KEYS}
        names = ck.get("names") or (ck.get("meta") or {}).get("names")
        if not names:
            names = teacher_names(args.teacher) if os.path.exists(args.teacher) else list(COCO80)
    else:
        meta = teacher_meta(args.teacher)
        names = teacher_names(args.teacher)
    model = YOLOv8Bit(**{k: meta[k] for k in TEACHER_MODEL_KEYS if k in meta})
    if len(names) != model.nc:
        ap.error(f"{len(names)} class names (from {args.teacher}) for a {model.nc}-class model: "
                 "pass the teacher the checkpoint was trained from (--teacher)")
    acts_trained = False
    if ck is not None:
        print(f"loading checkpoint {args.checkpoint}")
        model.load_checkpoint(ck)
        acts_trained = bool((ck.get("meta") or {}).get("acts_trained") or (ck.get("state") or {}).get("acts_on"))
        if ck.get("ema") and not args.live:             # a full last.pt of tools/train.py
            sd = model.state_dict()
            sd.update({k: v.to(sd[k].dtype) for k, v in ck["ema"]["shadow"].items()})
            model.load_state_dict(sd)
            print(f"using the EMA weights ({ck['ema']['n']} updates)")
        del ck
    else:
        print(f"ternarizing the teacher {args.teacher}")
        model.load_teacher(args.teacher)
    if args.terms:
        try:
            with open(args.terms) as f:
                mix = json.load(f)
            terms = mix.get("terms") if isinstance(mix, dict) else None
        except (OSError, ValueError) as e:
            ap.error(f"--terms {args.terms}: {e}")
        if not isinstance(terms, dict) or not all(isinstance(v, int) for v in terms.values()):
            ap.error(f"--terms {args.terms}: no \"terms\" object of layer -> k in 1..5")
        if mix.get("k1_lsq"):                   # the config's k = 1 path, before lowered layers get scales
            model.set_k1_lsq(True)
        try:                                    # retarget_terms checks the names and the k
            changed = model.retarget_terms(terms)
        except KeyError as e:
            ap.error(f"--terms {args.terms}: no such layers in this model: {e}")
        except ValueError as e:
            ap.error(f"--terms {args.terms}: {e} (each k in 1..5)")
        print(f"projected {len(changed)} layers onto the plane mix of {args.terms}")
    model.eval()
    if args.calibrate and args.no_calibrate:
        ap.error("--calibrate and --no-calibrate exclude each other")
    if acts_trained and not args.calibrate:
        print("keeping the activation scales the checkpoint was trained with")
    if not args.no_calibrate and (args.calibrate or not acts_trained):
        files = pick_evenly(list_images(args.calib), args.calib_images)
        if not files:
            ap.error(f"no images in {args.calib}")
        print(f"calibrating on {len(files)} images from {args.calib} at {args.size} px, "
              f"percentile {args.percentile}")
        calibrate(model, files, args.size, args.percentile)
    if args.save_checkpoint:
        torch.save({"model": model.state_dict(), "config": model.config}, args.save_checkpoint)
        print(f"saved {args.save_checkpoint}")
    m, stats = export_model(model, names, args.size)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    n = bfm.write_model(m, args.output, compressed=args.compress)
    bfm.read_model(args.output)                # round trip through the reader's checks (inflated if compressed)
    n_w = sum(t.nbytes for t in m.tensors if t.dtype == bfm.T2)
    print(f"wrote {args.output}: {n} bytes{' zstd-compressed' if args.compress else ''} "
          f"({n / 2**20:.2f} MiB; ternary weights {n_w} bytes inflated), "
          f"{len(m.tensors)} tensors, {len(m.values)} values, {len(m.layers)} layers, {len(m.outputs)} outputs")
    if stats["bias_clamped"] or stats["mult_small"]:
        print(f"note: {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
