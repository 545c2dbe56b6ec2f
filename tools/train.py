#!/usr/bin/python3
"""Quantization-aware training of the BitFalcon student (YOLOv8n, ternary weights, int8 acts).

    nice -n 10 /usr/bin/python3 tools/train.py --config tools/train_configs/v8n_qat.json
    nice -n 10 /usr/bin/python3 tools/train.py --config tools/train_configs/v8n_qat.json --resume
    torchrun --nproc_per_node 8 tools/train.py --config ...        (DDP when WORLD_SIZE > 1)

The student starts from the BN-folded fp32 teacher and is trained against the frozen teacher
on every image (photos + coco/train), with the schedule of the JSON config
(tools/train_configs/README.md): weights blended from fp into ternary (STE, learnable
per-channel scale), then purely ternary; int8 activations (static scales calibrated at that
moment, the SiLU as the engine's table) switched on after the weights settle. Losses:

  local     each block of the student fed the teacher's input, matched to the teacher's output
            (normalised MSE; the head: class/DFL distillation on the teacher's P3/P4/P5)
  e2e       end to end: class-score distillation (BCE against the teacher's sigmoid) over all
            anchors, DFL-distribution KL, feature distillation on P3/P4/P5 (and, with weight
            feat_all, on every layer output)
  gt        the YOLOv8 detection loss (task-aligned assigner, BCE, CIoU, DFL) on the labeled
            (coco/train) images of the batch
  pseudo    the same loss on the unlabeled photos of the batch, against the teacher's
            detections there (score >= pseudo_conf, NMS at pseudo_iou)

Output directory (default tools/.cache/train/<config name>): last.pt (full state, atomic,
every ckpt_minutes), log.csv, val_map.png, val/ (detections JSON). A small fp16 checkpoint
(the export format: {"model", "config", "learn_scale"}) is copied to --export-dir every
export_minutes. Validation: the student with ternary weights and int8 activations (calibrated
on photos when not trained yet) on val_images coco/val images at val_size, scored by
`bitfalcon eval --detections` (the project's COCO mAP).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import _common

# OpenMP threads that spin while waiting steal the cores on a shared machine (10x slower
# steps measured on 2 busy cores); passive waiting unless the caller chose otherwise.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULTS = {
    "name": "run",
    "seed": 0,
    "unit": "minutes",            # schedule unit: "minutes" (training time) or "images"
    "total": 60,                  # length of the schedule in that unit
    "sizes": [320], "size_weights": [1], "batch_320": 8,
    "coco_frac": 0.25, "mosaic": 0.0, "hflip": 0.5, "scale": 0.3, "translate": 0.1, "hsv": [0.015, 0.5, 0.3],
    "lr": 1e-3, "lr_final": 0.02, "warmup_steps": 30, "weight_decay": 0.0,
    "lr_mult_scale": 1.0, "lr_mult_bias": 1.0, "grad_clip": 10.0,
    "learn_scale": True, "min_scale": 1e-6,
    "terms": None,                # {conv layer name: k}: multi-ternary layers (see tools/sensitivity.py)
    "k1_lsq": False,              # k = 1 convs on the LSQ grid path (L = 1, clipped STE, threshold alpha/2)
    "blend": [0.0, 0.3],          # progress range over which weights go fp -> ternary
    "acts_at": 0.7,               # progress at which int8 activations are switched on (>1: never)
    "calib_images": 32, "calib_size": 320, "percentile": 99.99,
    "w_local": [[0.0, 1.0], [0.5, 1.0], [0.6, 0.0]],   # piecewise-linear weights over progress
    "w_e2e": [[0.0, 0.0], [0.4, 0.0], [0.5, 1.0]],
    "w_local_head": 1.0, "w_cls": 1.0, "w_dfl": 1.0, "w_feat": 1.0, "w_feat_all": 0.0, "w_gt": 0.0,
    "w_pseudo": 0.0,              # > 0: the detection loss on unlabeled images against the teacher's boxes
    "pseudo_conf": 0.25, "pseudo_iou": 0.7,   # (its detections at this score, class-aware NMS at this IoU)
    "log_every": 10, "ckpt_minutes": 5, "export_minutes": 15,
    "val_minutes": 20, "val_images": 64, "val_size": 320, "val_calib_images": 16,
    "amp": "off",                 # "bf16": forwards under bf16 autocast where the CPU/GPU has it
    "channels_last": False,       # model and input in NHWC (with bf16: 1.7x measured on AVX512-BF16)
    "cls_norm": "anchors",        # class distillation: mean over anchors, or "mass" (teacher's confident mass)
    "lr_grid": 0.0,               # > 0: weight and scale steps in grid units (x alpha per channel) at this lr
    "keep_init_acts": True,       # --init from a checkpoint trained with int8 acts: keep its scales
    "ema": 0.0,                   # > 0: EMA decay of the latent weights; validation and export use the EMA
    "ema_warmup": None,           # decay ramp (1+n)/(10+n) up to "ema"; None: only when not --init (an
                                  # init is already a trained average: a ramp would let the EMA follow the
                                  # noisy live weights for its first thousands of steps)
    "osc_freeze": 0.0,            # > 0: freeze a multi-plane weight once its oscillation frequency (EMA of
                                  # direction changes of its integer) exceeds this (Nagel et al. 2022)
    "osc_momentum": 0.99,         # decay per step of the oscillation-frequency and integer EMAs
    "learn_act_scale": False,     # int8 activation scales trained by LSQ (not the concat ones: they
                                  # follow their inputs), each step about lr_act_scale of itself
    "lr_act_scale": 1e-4,         # (a step on log s, on the lr schedule's shape)
    "freeze_weights": False,      # the quantization-correction phase: the integer weights fixed, only
                                  # the per-channel scales and biases (and act scales if learned) train
}


def cpu_has_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 in /proc/cpuinfo (bf16 autocast elsewhere is slower than fp32)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class EMA:
    """Exponential moving average of a model's floating-point parameters (latent weights,
    scales, biases); activation scales (buffers, or learned) are taken from the model as they are."""

    def __init__(self, model, decay: float, state: dict = None, warmup: bool = True):
        self.decay = decay
        self.n = 0
        self.warmup = warmup
        self.shadow = {k: v.detach().clone().float() for k, v in model.named_parameters() if self.tracks(k)}
        if state:
            self.n = int(state.get("n", 0))
            self.warmup = bool(state.get("warmup", True))
            for k, v in state["shadow"].items():
                if k in self.shadow:
                    self.shadow[k].copy_(v)

    def update(self, model) -> None:
        import torch
        self.n += 1
        d = min(self.decay, (1.0 + self.n) / (10.0 + self.n)) if self.warmup else self.decay
        with torch.no_grad():
            for k, p in model.named_parameters():
                if k in self.shadow:
                    self.shadow[k].mul_(d).add_(p.detach().float(), alpha=1.0 - d)

    @staticmethod
    def tracks(name: str) -> bool:
        """Learned activation scales (`..._q.scale`) are not averaged: the concat and input
        scales derived from them must stay consistent with the ones exported."""
        return not name.endswith("_q.scale")

    def state_dict_of(self, model) -> dict:
        """The model's state_dict with the EMA parameters in place of the live ones."""
        sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for k, v in self.shadow.items():
            sd[k] = v.clone().to(sd[k].dtype)
        return sd

    def state(self) -> dict:
        return {"n": self.n, "warmup": self.warmup, "shadow": self.shadow}


def piecewise(points, p: float) -> float:
    if isinstance(points, (int, float)):
        return float(points)
    pts = sorted(points)
    if p <= pts[0][0]:
        return float(pts[0][1])
    for (p0, v0), (p1, v1) in zip(pts, pts[1:]):
        if p <= p1:
            return float(v0 + (v1 - v0) * (p - p0) / max(p1 - p0, 1e-12))
    return float(pts[-1][1])


def blend_at(cfg, p: float) -> float:
    a, b = cfg["blend"]
    if p >= b:
        return 1.0
    if p <= a:
        return 0.0
    return (p - a) / (b - a)


def lr_at(cfg, p: float, step: int) -> float:
    warm = min(1.0, (step + 1) / max(1, cfg["warmup_steps"]))
    f = cfg["lr_final"] + (1 - cfg["lr_final"]) * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))
    return cfg["lr"] * f * warm


def atomic_save(obj, path: str) -> None:
    import torch
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def small_checkpoint(model, meta, sd=None) -> dict:
    """What tools/export.py --checkpoint reads: fp16 tensors, but the per-channel scales
    (w_scale), the biases (1-D, a few KB in all; their fp16 rounding cost 0.002 mAP at export)
    and 0-d buffers in fp32, and every multi-ternary weight whose integer level
    q = round(w / alpha) the fp16 rounding would change put on its grid point alpha * q, so
    that the file exports exactly the integer weights of the fp32 model (about 1.3% of the
    levels moved otherwise)."""
    import torch
    from bitfalcon.nn import BitConv2d, round_half_up
    sd = model.state_dict() if sd is None else sd
    out = {}
    for k, v in sd.items():
        v = v.detach().cpu()
        keep_fp32 = k.endswith("w_scale") or k.endswith(".bias") or v.dim() == 0
        out[k] = v.half() if v.is_floating_point() and not keep_fp32 else v
    for name, m in model.named_modules():
        if isinstance(m, BitConv2d) and m.lsq and m.learn_scale:
            w = sd[name + ".weight"].detach().cpu().float()
            a = sd[name + ".w_scale"].detach().cpu().float().clamp_min(1e-8).view(-1, 1, 1, 1)
            L = m.levels
            q = torch.clamp(round_half_up(w / a), -L, L)
            w16 = out[name + ".weight"]
            flipped = torch.clamp(round_half_up(w16.float() / a), -L, L) != q
            if bool(flipped.any()):
                fixed = torch.where(flipped, (q * a).half(), w16)
                assert bool((torch.clamp(round_half_up(fixed.float() / a), -L, L) == q).all()), name
                out[name + ".weight"] = fixed
    sd = out
    return {"model": sd, "config": model.config, "learn_scale": bool(meta.get("learn_scale", True)), "meta": meta}


def fmt_time(s: float) -> str:
    s = max(0, int(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ---------------------------------------------------------------------------------------------
# validation

def make_val_subset(images_dir: str, labels_dir: str, n: int, root: str):
    """Directory of symlinks to n evenly spaced val images (+ labels), for `bitfalcon eval`."""
    from bitfalcon.images import list_images, pick_evenly
    files = list_images(images_dir)
    if n:
        files = pick_evenly(files, n)
    d = os.path.join(root, f"val{len(files)}")
    di, dl = os.path.join(d, "images"), os.path.join(d, "labels")
    os.makedirs(di, exist_ok=True)
    os.makedirs(dl, exist_ok=True)
    want = {os.path.basename(f) for f in files}
    for f in os.listdir(di):
        if f not in want:
            os.remove(os.path.join(di, f))
    for f in files:
        b = os.path.basename(f)
        stem = os.path.splitext(b)[0]
        for src, dst in ((os.path.abspath(f), os.path.join(di, b)),
                         (os.path.abspath(os.path.join(labels_dir, stem + ".txt")), os.path.join(dl, stem + ".txt"))):
            if not os.path.lexists(dst) and os.path.exists(src):
                os.symlink(src, dst)
    return files, di, dl


def eval_model_from(student, acts_on: bool, calib_files, size: int, percentile: float, device, sd=None):
    """A fresh inference copy (of `sd`, default the student's own state): ternary weights, int8
    activations (calibrated here if the run has not switched them on yet)."""
    from bitfalcon.letterbox import letterboxed
    from bitfalcon.yolo import YOLOv8Bit
    from bitfalcon.train_quant import calibrate_acts, set_learn_scale
    m = YOLOv8Bit(**student.config).to(device)
    m.load_state_dict(student.state_dict() if sd is None else sd)
    set_learn_scale(m, getattr(student, "_learn_scale", True))
    m.eval()
    m.set_quant(True, False)
    if not acts_on:
        calibrate_acts(m, (letterboxed(f, size)[0].to(device) for f in calib_files), percentile)
    m.set_quant(True, True)
    return m


def run_val(model, files, size: int, out_json: str, eval_bin: str, images_dir: str, labels_dir: str, device,
            names):
    import torch
    from bitfalcon.letterbox import letterboxed
    from bitfalcon.postprocess import Level, postprocess
    dets = []
    with torch.no_grad():
        for f in files:
            x, lp = letterboxed(f, size)
            outs = model(x.to(device))
            levels = [Level(s, b[0].permute(1, 2, 0).double().cpu().numpy(),
                            c[0].permute(1, 2, 0).double().cpu().numpy())
                      for (b, c), s in zip(outs, (8, 16, 32))]
            for d in postprocess(levels, lp, 0.001, 0.7, 100, model.reg_max):
                dets.append({"file": f, "class": d.class_id, "name": names[d.class_id], "score": round(d.score, 6),
                             "bbox": [round(d.x0, 3), round(d.y0, 3), round(d.x1 - d.x0, 3), round(d.y1 - d.y0, 3)]})
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w") as fh:
        json.dump(dets, fh)
    if not eval_bin or not os.path.exists(eval_bin):
        return None
    r = subprocess.run([eval_bin, "eval", "--detections", out_json, "--images", images_dir, "--labels", labels_dir,
                        "--nc", str(len(names)), "--json"], capture_output=True, text=True)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except Exception:
        print(f"eval failed (rc {r.returncode}): {r.stderr.strip()[-500:]}", file=sys.stderr)
        return None


def plot_map(csv_path: str, png: str) -> None:
    """val mAP over images seen (top) and the training losses (bottom, log scale)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return
    xs, ys, y50 = [], [], []
    losses = {k: ([], []) for k in ("loss", "local", "local_head", "feat", "feat_all", "cls", "dfl", "gt")}
    with open(csv_path) as f:
        for row in csv.DictReader(f):
            if row.get("map"):
                xs.append(int(row["images"]))
                ys.append(float(row["map"]))
                y50.append(float(row["map50"]))
            for k, (lx, ly) in losses.items():
                if row.get(k):
                    lx.append(int(row["images"]))
                    ly.append(float(row[k]))
    if not xs and not losses["loss"][0]:
        return
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    ax.plot(xs, ys, "o-", label="mAP50-95")
    ax.plot(xs, y50, "s--", label="mAP50")
    ax.set_ylabel("val mAP (ternary + int8)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    for k, (lx, ly) in losses.items():
        if lx and max(ly) > 0:
            ax2.plot(lx, ly, label=k, lw=1)
    ax2.set_yscale("log")
    ax2.set_xlabel("training images seen")
    ax2.set_ylabel("training loss")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(png + ".tmp.png", dpi=90)
    plt.close(fig)
    os.replace(png + ".tmp.png", png)


# ---------------------------------------------------------------------------------------------

CSV_FIELDS = ["step", "images", "train_min", "wall", "size", "batch", "lr", "blend", "acts", "loss", "local",
              "local_head", "feat", "feat_all", "cls", "dfl", "gt", "gt_box", "gt_cls", "gt_dfl", "pseudo", "img_s",
              "map", "map50", "val_images", "val_size", "osc_permille", "frozen_pct"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="JSON config (tools/train_configs/*.json)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a config key")
    ap.add_argument("--out", help="output directory (default tools/.cache/train/<name>)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/last.pt when it exists")
    ap.add_argument("--init", help="start from this student checkpoint instead of the teacher")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER,
                    help="teacher npz: the COCO teacher (default: %(default)s) or one from tools/import_onnx.py, "
                         "whose classes, names and scale the student takes")
    ap.add_argument("--data", help="Ultralytics data.yaml: its train split is the labeled data, its val split "
                                   "validates (instead of --coco / --val-split)")
    ap.add_argument("--photos", default=os.path.join(_common.SHARED_DATA, "photos"),
                    help="unlabeled photo directories, comma separated ('' = none)")
    ap.add_argument("--coco", default=os.path.join(_common.SHARED_DATA, "coco"),
                    help="labeled dir (images/<split>, labels/<split>) when no --data (default: %(default)s)")
    ap.add_argument("--val-split", default="val", help="the --coco split that validates (default: %(default)s)")
    ap.add_argument("--eval-bin", default=os.path.join(_common.REPO, "build-train", "bitfalcon"),
                    help="bitfalcon binary for val mAP (default: %(default)s)")
    ap.add_argument("--export-dir", default=os.path.join(_common.REPO, "models", "checkpoints"),
                    help="where the small fp16 checkpoint goes ('' = none)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (this invocation)")
    ap.add_argument("--stop-at", help="wall clock HH:MM at which to checkpoint and stop")
    ap.add_argument("--no-val", action="store_true", help="no validation during the run")
    ap.add_argument("--final-val", action="store_true", help="validate once more at the end")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    ap.add_argument("--workers", type=int, default=0, help="data worker processes (0 = in the main process)")
    ap.add_argument("--device", default="auto", help="cpu, cuda, cuda:N (default: cuda when there is one)")
    args = ap.parse_args(argv)

    import torch
    from bitfalcon.yolo import TEACHER_MODEL_KEYS, YOLOv8Bit, build_teacher, teacher_meta, teacher_names
    from bitfalcon import datayaml
    from bitfalcon.images import list_images
    from bitfalcon.letterbox import letterboxed
    from bitfalcon import train_data as TD
    from bitfalcon.train_loss import (DetectionLoss, cls_distill, dfl_distill, feat_distill, heads_of,
                                       teacher_pseudo_boxes)
    from bitfalcon.train_quant import (NECK_OUTS, TRAINABLE_LAYERS, calibrate_acts, enable_blend, forward_features,
                                       set_blend, set_learn_scale)

    cfg = dict(DEFAULTS)
    with open(args.config) as f:
        cfg.update(json.load(f))
    for kv in args.set:
        k, v = kv.split("=", 1)
        cfg[k] = json.loads(v)
    out = args.out or os.path.join(_common.TOOLS, ".cache", "train", cfg["name"])
    os.makedirs(out, exist_ok=True)

    # -- distributed / device ----------------------------------------------------------------
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dist = None
    if args.device == "auto":
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main_rank = rank == 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(cfg["seed"])

    def log(msg: str) -> None:
        if main_rank:
            print(msg, file=sys.stderr, flush=True)

    # -- models ------------------------------------------------------------------------------
    # the student takes the teacher's classes, names and scale (an imported teacher's metadata)
    t_meta = teacher_meta(args.teacher)
    names = teacher_names(args.teacher)
    data = None
    if args.data:
        try:
            data = datayaml.read_data_yaml(args.data)
        except datayaml.DataYamlError as e:
            raise SystemExit(f"train.py: {e}")
        if len(data.names) != len(names):
            raise SystemExit(f"train.py: {args.data} has {len(data.names)} classes, the teacher {len(names)}")
        if data.names != names:
            log(f"note: {args.data} names differ from the teacher's; the teacher's are kept: {names[:5]}...")
    teacher = build_teacher(args.teacher).to(device)
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = YOLOv8Bit(**{k: t_meta[k] for k in TEACHER_MODEL_KEYS if k in t_meta}, terms=cfg.get("terms") or None)
    if cfg.get("k1_lsq"):     # before any loading: a lowered layer's new scale is its grid's
        student.set_k1_lsq(True)
    ck_path = os.path.join(out, "last.pt")
    state = {"step": 0, "images": 0, "train_seconds": 0.0, "acts_on": False, "last_val": 0.0,
             "last_ckpt_export": 0.0}
    resume = None
    if args.resume and os.path.exists(ck_path):
        resume = torch.load(ck_path, map_location="cpu")
        student.load_state_dict(resume["model"])
        state.update(resume["state"])
        log(f"resumed {ck_path}: step {state['step']}, {state['images']} images, "
            f"{state['train_seconds'] / 60:.1f} min")
    elif args.init:
        init_ck = torch.load(args.init, map_location="cpu")
        init_meta = init_ck.get("meta") or {}
        if isinstance(init_ck.get("ema"), dict) and isinstance(init_ck.get("state"), dict):
            # a full OUT/last.pt: start from its EMA (what was validated and exported), and its
            # int8 scales were trained if its activations were on
            sd = dict(init_ck["model"])
            for k, v in init_ck["ema"]["shadow"].items():
                if k in sd:
                    sd[k] = v.to(sd[k].dtype)
            init_ck = {**init_ck, "model": sd}
            init_meta = {"acts_trained": bool(init_ck["state"].get("acts_on"))}
            log("initialising from the EMA of a full training checkpoint")
        student.load_checkpoint(init_ck)
        if cfg.get("terms") is not None:            # the config's multi-ternary layers win
            changed = student.retarget_terms(cfg["terms"])
            log(f"multi-ternary layers re-scaled for this config: {changed}")
        log(f"initialised from {args.init}")
        if cfg["keep_init_acts"] and init_meta.get("acts_trained"):
            # the checkpoint was trained with these int8 scales: recalibrating would move them
            state["acts_on"] = True
            log("int8 activations on with the checkpoint's trained scales")
    else:
        student.load_teacher(args.teacher)
    student = student.to(device)
    use_bf16 = False
    if cfg["amp"] == "bf16":
        use_bf16 = (torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_bf16())
        if not use_bf16:
            log("amp bf16 asked for but this CPU has no AVX512-BF16/AMX: fp32")
    elif cfg["amp"] != "off":
        raise SystemExit(f"amp: 'off' or 'bf16', not {cfg['amp']!r}")
    channels_last = bool(cfg["channels_last"])
    if channels_last and device.type == "cpu" and not use_bf16:
        # channels_last pays only with bf16: in fp32 it measured 3.3 img/s against NCHW's 6.1
        # (issue 15's speed table, Zen 5).
        log("channels_last without bf16 is slower on CPU: NCHW")
        channels_last = False
    if channels_last:
        student = student.to(memory_format=torch.channels_last)
        teacher = teacher.to(memory_format=torch.channels_last)

    def amp():
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16)
    enable_blend(student)
    set_learn_scale(student, bool(cfg["learn_scale"]))
    student._learn_scale = bool(cfg["learn_scale"])
    student.set_quant(True, bool(state["acts_on"]))
    student.train()

    if cfg["learn_act_scale"]:
        for q in student.learnable_act_quantizers():
            q.make_learnable()
    groups = {"weight": [], "scale": [], "bias": [], "act_scale": []}
    for n, p in student.named_parameters():
        groups["act_scale" if n.endswith("_q.scale") else "scale" if n.endswith("w_scale")
               else "bias" if n.endswith("bias") else "weight"].append(p)
    if cfg["freeze_weights"]:
        for p in groups["weight"]:
            p.requires_grad_(False)
    # lr_grid: one Adam step moves a weight by about lr_grid grid units in every channel (the
    # grid steps alpha differ ~240x across layers), and a scale by lr_grid * lr_mult_scale of
    # itself (a step on log(alpha)): the optimizer's step is rescaled by alpha per channel.
    from bitfalcon.nn import BitConv2d
    grid_convs = [m for m in student.modules() if isinstance(m, BitConv2d)] if cfg["lr_grid"] > 0 else []
    grid_old = [(m.weight.detach().clone(), m.w_scale.detach().clone()) for m in grid_convs]
    if not cfg["learn_scale"]:
        for p in groups["scale"]:
            p.requires_grad_(False)
    mult = {"weight": 1.0, "scale": cfg["lr_mult_scale"], "bias": cfg["lr_mult_bias"],
            "act_scale": cfg["lr_act_scale"] / cfg["lr"]}
    act_scales = groups["act_scale"]
    act_old = [p.detach().clone() for p in act_scales]
    if grid_convs:
        mult["weight"] = cfg["lr_grid"] / cfg["lr"]
        mult["scale"] = cfg["lr_grid"] * cfg["lr_mult_scale"] / cfg["lr"]
    opt = torch.optim.AdamW([{"params": groups[k], "lr_mult": mult[k],
                              "weight_decay": cfg["weight_decay"] if k == "weight" else 0.0}
                             for k in groups if groups[k]],
                            lr=cfg["lr"], betas=(0.9, 0.999))
    if resume is not None and "optimizer" in resume:
        opt.load_state_dict(resume["optimizer"])
    ema_warmup = cfg["ema_warmup"] if cfg["ema_warmup"] is not None else not args.init
    ema = EMA(student, cfg["ema"], resume.get("ema") if resume is not None else None,
              warmup=bool(ema_warmup)) if cfg["ema"] > 0 else None
    if ema is not None and not ema.warmup:
        log(f"EMA at decay {cfg['ema']} from the first step (no warm-up ramp)")
    freezer = None
    if cfg["osc_freeze"] > 0:
        from bitfalcon.train_osc import OscillationFreezer, multi_plane_convs
        freezer = OscillationFreezer(multi_plane_convs(student), cfg["osc_freeze"], cfg["osc_momentum"],
                                     resume.get("osc") if resume is not None else None)
        log(f"oscillation freezing over {len(freezer.convs)} multi-plane layers: threshold {cfg['osc_freeze']}, "
            f"momentum {cfg['osc_momentum']}, {100 * freezer.frozen_fraction():.2f}% frozen")
    resume = None

    def live_or_ema():
        """The weights that validate and export: the EMA (if on), with the frozen weights on
        their grid points (if freezing); None = the live model as it is."""
        sd = ema.state_dict_of(student) if ema is not None else None
        if freezer is not None:
            if sd is None:
                sd = {k: v.detach().clone() for k, v in student.state_dict().items()}
            freezer.apply_to_state_dict(sd)
        return sd

    # -- data --------------------------------------------------------------------------------
    photos = []
    for d in (x for x in args.photos.split(",") if x):
        photos += [TD.Item(p, None) for p in list_images(d, recursive=True)]
    if data is not None:
        try:
            labeled = datayaml.split_items(data, "train")
        except datayaml.DataYamlError as e:
            raise SystemExit(f"train.py: {e}")
    else:
        labeled = TD.labeled_items(os.path.join(args.coco, "images", "train"),
                                   os.path.join(args.coco, "labels", "train"))
    log(f"data: {len(photos)} photos, {len(labeled)} labeled images; device {device}, world {world}")
    maker = TD.BatchMaker(photos, labeled, cfg, seed=cfg["seed"], rank=rank)
    calib_pool = [it.path for it in (photos or labeled)]
    n_calib = min(cfg["calib_images"], len(calib_pool))
    calib_files = [calib_pool[(i * len(calib_pool)) // cfg["calib_images"]] for i in range(n_calib)]
    n_vc = min(cfg["val_calib_images"], len(calib_pool))
    val_calib = [calib_pool[((2 * i + 1) * len(calib_pool)) // (2 * n_vc)] for i in range(n_vc)]
    val_imgs = os.path.join(args.coco, "images", args.val_split)
    val_lbls = os.path.join(args.coco, "labels", args.val_split)
    if data is not None:
        val_imgs, val_lbls = datayaml.val_dirs(data) or ("", "")
    do_val = main_rank and not args.no_val and os.path.isdir(val_imgs)
    if do_val:
        val_files, val_di, val_dl = make_val_subset(val_imgs, val_lbls, cfg["val_images"], os.path.join(out, "valsets"))
    det_loss = DetectionLoss(student.nc, student.reg_max)

    csv_path = os.path.join(out, "log.csv")
    if main_rank and not os.path.exists(csv_path):
        with open(csv_path, "w", newline="") as f:
            csv.writer(f).writerow(CSV_FIELDS)

    def write_row(row: dict) -> None:
        if main_rank:
            with open(csv_path, "a", newline="") as f:
                csv.writer(f).writerow([row.get(k, "") for k in CSV_FIELDS])

    def progress() -> float:
        if cfg["unit"] == "images":
            return state["images"] / float(cfg["total"])
        return state["train_seconds"] / (60.0 * cfg["total"])

    def save(final: bool = False) -> None:
        if not main_rank:
            return
        atomic_save({"model": student.state_dict(), "optimizer": opt.state_dict(), "state": dict(state), "cfg": cfg,
                     "config": student.config, "names": names, "learn_scale": bool(cfg["learn_scale"]),
                     "ema": ema.state() if ema is not None else None,
                     "osc": freezer.state() if freezer is not None else None}, ck_path)

    def export_small() -> None:
        if main_rank and args.export_dir:
            meta = {"name": cfg["name"], "step": state["step"], "images": state["images"],
                    "train_minutes": round(state["train_seconds"] / 60, 1), "acts_trained": bool(state["acts_on"]),
                    "learn_scale": bool(cfg["learn_scale"]), "ema": cfg["ema"], "names": names}
            atomic_save(small_checkpoint(student, meta, live_or_ema()),
                        os.path.join(args.export_dir, f"{cfg['name']}.pt"))

    def validate(tag: str = "") -> None:
        t0 = time.time()
        student.eval()
        m = eval_model_from(student, state["acts_on"], val_calib, cfg["val_size"], cfg["percentile"], device,
                            live_or_ema())
        res = run_val(m, val_files, cfg["val_size"], os.path.join(out, "val", f"step{state['step']:07d}.json"),
                      args.eval_bin, val_di, val_dl, device, names)
        student.train()
        if res:
            write_row({"step": state["step"], "images": state["images"],
                       "train_min": f"{state['train_seconds'] / 60:.2f}", "wall": time.strftime("%H:%M:%S"),
                       "map": f"{res['map']:.5f}", "map50": f"{res['map50']:.5f}", "val_images": res.get("images"),
                       "val_size": cfg["val_size"], "acts": int(state["acts_on"])})
            plot_map(csv_path, os.path.join(out, "val_map.png"))
            log(f"[val{tag}] step {state['step']} images {state['images']}: mAP50-95 {res['map']:.4f} "
                f"mAP50 {res['map50']:.4f} ({res.get('images')} images at {cfg['val_size']}, "
                f"{time.time() - t0:.0f} s)")
        state["last_val"] = state["train_seconds"]

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop_at = None
    if args.stop_at:
        hh, mm = (int(v) for v in args.stop_at.split(":"))
        now = time.localtime()
        stop_at = time.mktime(now[:3] + (hh, mm, 0) + now[6:])
        if stop_at < time.time():
            stop_at += 86400

    # -- loop --------------------------------------------------------------------------------
    acc: dict = {}
    n_acc = 0
    steps_here = 0
    t_last_ckpt = time.time()
    t_log = time.time()
    img_log = state["images"]
    stream = iter(TD.BatchStream(maker, state["step"], args.workers))
    log(f"training {cfg['name']}: schedule {cfg['total']} {cfg['unit']}, out {out}")
    while True:
        p = progress()
        if world > 1:
            pt = torch.tensor([p], device=device)
            dist.broadcast(pt, 0)
            p = float(pt)
        if p >= 1.0 or stop["flag"] or (args.max_steps and steps_here >= args.max_steps) or \
                (stop_at and time.time() >= stop_at):
            break
        batch = next(stream)
        t0 = time.time()
        # schedule
        blend = blend_at(cfg, p)
        set_blend(student, blend)
        if not state["acts_on"] and p >= cfg["acts_at"]:
            set_blend(student, 1.0)
            n = calibrate_acts(student, (letterboxed(f, cfg["calib_size"])[0].to(device) for f in calib_files),
                               cfg["percentile"])
            student.set_quant(True, True)
            student.train()
            state["acts_on"] = True
            log(f"int8 activations on at step {state['step']} (calibrated on {n} images)")
        lr = lr_at(cfg, p, state["step"])
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_mult"]
        wl, we = piecewise(cfg["w_local"], p), piecewise(cfg["w_e2e"], p)

        x, gt, gmask, has = TD.to_torch(batch, device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), amp():
            t_heads, t_y = forward_features(teacher, x)
        loss = x.new_zeros(())
        parts = {}
        if wl > 0:
            with amp():
                s_loc = {i: student.model[i](t_y[i - 1]) for i in TRAINABLE_LAYERS}
                s_h = student.model[22]([t_y[15], t_y[18], t_y[21]])
            l_loc = sum(feat_distill(s_loc[i], t_y[i]) for i in TRAINABLE_LAYERS) / len(TRAINABLE_LAYERS)
            l_lh = cls_distill(s_h, t_heads, cfg["cls_norm"]) + dfl_distill(s_h, t_heads)
            loss = loss + wl * (l_loc + cfg["w_local_head"] * l_lh)
            parts["local"], parts["local_head"] = float(l_loc), float(l_lh)
        if we > 0:
            with amp():
                s_heads, s_y = forward_features(student, x)
            l_feat = sum(feat_distill(s_y[i], t_y[i]) for i in NECK_OUTS) / len(NECK_OUTS)
            l_cls, l_dfl = cls_distill(s_heads, t_heads, cfg["cls_norm"]), dfl_distill(s_heads, t_heads)
            le = cfg["w_feat"] * l_feat + cfg["w_cls"] * l_cls + cfg["w_dfl"] * l_dfl
            parts.update(feat=float(l_feat), cls=float(l_cls), dfl=float(l_dfl))
            if cfg["w_feat_all"] > 0:
                l_fa = sum(feat_distill(s_y[i], t_y[i]) for i in TRAINABLE_LAYERS) / len(TRAINABLE_LAYERS)
                le = le + cfg["w_feat_all"] * l_fa
                parts["feat_all"] = float(l_fa)
            if cfg["w_gt"] > 0 and bool(has.any()):
                sel = has.nonzero().flatten()
                l_gt, comp = det_loss(heads_of(s_heads, sel), gt[sel], gmask[sel])
                le = le + cfg["w_gt"] * l_gt * (len(sel) / x.shape[0])
                parts.update(gt=float(l_gt), **comp)
            if cfg["w_pseudo"] > 0 and not bool(has.all()):
                sel = (~has).nonzero().flatten()
                p_gt, p_mask = teacher_pseudo_boxes(heads_of(t_heads, sel), cfg["pseudo_conf"], cfg["pseudo_iou"],
                                                    student.reg_max)
                l_ps, _ = det_loss(heads_of(s_heads, sel), p_gt, p_mask)
                le = le + cfg["w_pseudo"] * l_ps * (len(sel) / x.shape[0])
                parts["pseudo"] = float(l_ps)
            loss = loss + we * le
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:
            for prm in student.parameters():
                if prm.grad is not None:
                    dist.all_reduce(prm.grad)
                    prm.grad.div_(world)
        if cfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(student.parameters(), cfg["grad_clip"])
        if grid_convs:
            with torch.no_grad():
                for m, (w0, s0) in zip(grid_convs, grid_old):
                    w0.copy_(m.weight)
                    s0.copy_(m.w_scale)
        with torch.no_grad():
            for p0, prm in zip(act_old, act_scales):
                p0.copy_(prm)
        opt.step()
        if act_scales:
            with torch.no_grad():           # a relative step (on log s), then what follows from it
                for p0, prm in zip(act_old, act_scales):
                    prm.copy_(torch.clamp(p0 + (prm - p0) * p0, min=1e-8) if float(p0) > 0 else p0)
                student.set_concat_scales()
                student.set_input_scales()
        if grid_convs:
            with torch.no_grad():
                for m, (w0, s0) in zip(grid_convs, grid_old):
                    a = s0.clamp_min(cfg["min_scale"])
                    m.weight.copy_(w0 + (m.weight - w0) * a.view(-1, *([1] * (m.weight.dim() - 1))))
                    m.w_scale.copy_(s0 + (m.w_scale - s0) * a)
        if cfg["learn_scale"]:
            with torch.no_grad():           # a scale at or below 0 would be a dead channel whose
                for prm in groups["scale"]:  # bias the exporter cannot represent (alpha clamped)
                    prm.clamp_(min=cfg["min_scale"])
        if not math.isfinite(float(loss)):
            log(f"non-finite loss at step {state['step']}: {parts}; stopping without saving")
            return 3
        if freezer is not None:
            freezer.step()                  # after the scales moved: frozen weights back on q * alpha
            parts["osc_permille"] = 1000.0 * freezer.last_osc_rate   # direction changes per step
            parts["frozen_pct"] = 100.0 * freezer.frozen_fraction()
        if ema is not None:
            ema.update(student)

        dt = time.time() - t0
        state["step"] += 1
        steps_here += 1
        state["images"] += x.shape[0] * world
        state["train_seconds"] += dt
        parts["loss"] = float(loss)
        for k, v in parts.items():
            acc[k] = acc.get(k, 0.0) + v
        n_acc += 1
        if state["step"] % cfg["log_every"] == 0:
            now = time.time()
            ips = (state["images"] - img_log) / max(now - t_log, 1e-6)
            t_log, img_log = now, state["images"]
            p2 = progress()
            if cfg["unit"] == "images":
                eta = (cfg["total"] - state["images"]) / max(ips, 1e-6)
            else:
                eta = cfg["total"] * 60 - state["train_seconds"]
            row = {"step": state["step"], "images": state["images"], "train_min": f"{state['train_seconds'] / 60:.2f}",
                   "wall": time.strftime("%H:%M:%S"), "size": batch["size"], "batch": x.shape[0], "lr": f"{lr:.3g}",
                   "blend": f"{blend:.3f}", "acts": int(state["acts_on"]), "img_s": f"{ips:.2f}"}
            row.update({k: f"{v / n_acc:.5f}" for k, v in acc.items()})
            write_row(row)
            log(f"step {state['step']} {100 * p2:5.1f}% img {state['images']} {ips:.1f} img/s lr {lr:.2e} "
                f"blend {blend:.2f} acts {int(state['acts_on'])} | " +
                " ".join(f"{k} {v / n_acc:.4f}" for k, v in acc.items()) + f" | ETA {fmt_time(eta)}")
            acc, n_acc = {}, 0
        if time.time() - t_last_ckpt >= 60 * cfg["ckpt_minutes"]:
            save()
            t_last_ckpt = time.time()
        if state["train_seconds"] - state["last_ckpt_export"] >= 60 * cfg["export_minutes"]:
            state["last_ckpt_export"] = state["train_seconds"]
            export_small()
        if do_val and state["train_seconds"] - state["last_val"] >= 60 * cfg["val_minutes"]:
            validate()
    save()
    export_small()
    log(f"saved {ck_path} at step {state['step']} ({state['images']} images, {state['train_seconds'] / 60:.1f} min)")
    if do_val and args.final_val and not stop["flag"]:
        validate(" final")
        save()
    if world > 1:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
