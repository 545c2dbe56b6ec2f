#!/usr/bin/python3
"""Smoke test of tools/train.py: 2 QAT steps (blend, int8 activations, local + end-to-end
distillation, the detection loss, mosaic, multi-scale) on 2 generated images with generated
labels, a checkpoint, --resume for 1 more step, the fp16 export checkpoint loaded by
YOLOv8Bit.load_checkpoint and folded by the exporter; plus unit checks of the assigner/loss and
the data augmentation. Needs torch and the teacher (../shared/data/teacher); exit 77 otherwise.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile

from _setup import REPO, SKIP, TOOLS, need

TEACHER = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "teacher", "yolov8n_coco.npz"))


def make_data(root: str):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(1)
    photos = os.path.join(root, "photos")
    ci, cl = os.path.join(root, "coco", "images", "train"), os.path.join(root, "coco", "labels", "train")
    vi, vl = os.path.join(root, "coco", "images", "val"), os.path.join(root, "coco", "labels", "val")
    for d in (photos, ci, cl, vi, vl):
        os.makedirs(d)
    for i, (w, h) in enumerate(((120, 90), (80, 110))):
        img = (rng.random((h, w, 3)) * 60 + 60).astype(np.uint8)
        img[h // 4:h // 2, w // 4:w // 2] = (220, 40, 40)
        Image.fromarray(img).save(os.path.join(photos, f"p{i}.jpg"))
        for d_i, d_l in ((ci, cl), (vi, vl)):
            Image.fromarray(img).save(os.path.join(d_i, f"{i:012d}.jpg"))
            with open(os.path.join(d_l, f"{i:012d}.txt"), "w") as f:
                f.write("0 0.375 0.375 0.25 0.25\n")
    return photos, os.path.join(root, "coco")


def unit_checks() -> None:
    import numpy as np
    import torch
    from bitfalcon import train_data as TD
    from bitfalcon.train_loss import DetectionLoss, bbox_iou
    # CIoU of identical boxes is 1, IoU of disjoint is 0
    a = torch.tensor([[0.0, 0, 10, 10]])
    assert abs(float(bbox_iou(a, a, ciou=True)) - 1) < 1e-5
    assert float(bbox_iou(a, a + 20)) == 0
    # flip maps boxes consistently
    img = np.zeros((10, 20, 3), np.uint8)
    _, b = TD.hflip(img, np.array([[3, 2, 1, 5, 4]], np.float32))
    assert b.tolist() == [[3, 15, 1, 18, 4]], b
    # loss: optimising the head outputs directly drives the detection loss down and the
    # decoded box of the best anchor onto the ground truth
    torch.manual_seed(0)
    outs = [(torch.zeros(1, 64, s, s, requires_grad=True), torch.full((1, 80, s, s), -4.0, requires_grad=True))
            for s in (8, 4, 2)]
    gt = torch.tensor([[[5, 16.0, 16.0, 48.0, 48.0]]])
    mask = torch.tensor([[True]])
    dl = DetectionLoss()
    opt = torch.optim.Adam([t for o in outs for t in o], lr=0.1)
    first = None
    for _ in range(60):
        loss, comp = dl(outs, gt, mask)
        first = float(loss) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.5 * first, (float(loss), first)
    assert comp["gt_box"] < 0.2, comp
    # pseudo-labels: one confident anchor of the teacher decodes to its box (class 7 at level 0,
    # cell x 3 y 2, every side 2 grid units: (1.5, 0.5, 5.5, 4.5) * 8 px); an image where every
    # score is low gets no box
    from bitfalcon.train_loss import teacher_pseudo_boxes
    t = []
    for s in (8, 4, 2):
        box = torch.zeros(2, 64, s, s)
        cls = torch.full((2, 80, s, s), -10.0)
        t.append((box, cls))
    t[0][1][0, 7, 2, 3] = 5.0
    t[0][0][0, [2, 18, 34, 50], 2, 3] = 30.0
    p_gt, p_mask = teacher_pseudo_boxes(t, conf=0.25)
    assert p_mask.tolist() == [[True], [False]], p_mask
    assert torch.allclose(p_gt[0, 0], torch.tensor([7.0, 12.0, 4.0, 44.0, 36.0]), atol=1e-3), p_gt


def grid_step_and_ema(base, init_ck: str, tmp: str) -> None:
    """One step from init_ck with lr_grid, EMA, bf16 autocast (where the CPU has it), NHWC and
    mass-normalised class distillation: Adam's first step moves every weight by lr_grid grid
    units (|dw| = lr_grid * alpha of its channel, whatever the layer), and the exported small
    checkpoint is the EMA (decay warm-up asked for: 2/11 of the start, 9/11 of the stepped
    weights; an --init's default is no warm-up: 0.999 of the start, checked below)."""
    import torch
    lr_grid = 0.05
    out = os.path.join(tmp, "grid")
    r = subprocess.run(base[:base.index("--out")] + ["--out", out] + base[base.index("--out") + 2:] +
                       ["--max-steps", "1", "--init", init_ck, "--export-dir", os.path.join(tmp, "ck2"),
                        "--set", f"lr_grid={lr_grid}", "--set", "warmup_steps=1", "--set", "ema=0.999",
                        "--set", "ema_warmup=true", "--set", 'amp="bf16"', "--set", "channels_last=true", "--set", 'cls_norm="mass"'],
                       capture_output=True, text=True, timeout=900)
    print(r.stderr[-2000:])
    assert r.returncode == 0, r.returncode
    w0 = torch.load(init_ck)["model"]
    full = torch.load(os.path.join(out, "last.pt"))
    w1, ema_state = full["model"], full["ema"]
    assert ema_state is not None and ema_state["n"] == 1
    ratios = []
    for k in w1:
        if not k.endswith(".weight"):
            continue
        alpha = w0[k[:-len("weight")] + "w_scale"].float()
        dw = (w1[k].float() - w0[k].float()).abs().flatten(1)
        moved = dw[dw > 0] / (lr_grid * alpha[:, None].expand_as(dw)[dw > 0])
        if moved.numel():
            ratios.append(float(moved.median()))
    assert len(ratios) > 50, len(ratios)
    assert all(0.9 < q < 1.1 for q in ratios), ratios      # the same grid step in every layer
    small = torch.load(os.path.join(tmp, "ck2", "smoke.pt"))["model"]
    k = "model.0.weight"
    want = (2 / 11) * w0[k].float() + (9 / 11) * w1[k].float()
    assert torch.allclose(small[k].float(), want, rtol=2e-3, atol=1e-4)
    assert not torch.allclose(small[k].float(), w1[k].float().half().float())
    # biases stay fp32 in the small checkpoint: exactly the EMA's (fp16 rounding cost 0.002 mAP)
    biases = [b for b in small if b.endswith(".bias")]
    assert biases and all(small[b].dtype == torch.float32 for b in biases), biases[:3]
    assert all(torch.equal(small[b], ema_state["shadow"][b]) for b in biases if b in ema_state["shadow"])
    # --init from a full last.pt starts from its EMA (what was validated), not the live weights,
    # and keeps its trained int8 scales instead of recalibrating
    out2 = os.path.join(tmp, "from-full")
    r = subprocess.run(base[:base.index("--out")] + ["--out", out2] + base[base.index("--out") + 2:] +
                       ["--max-steps", "1", "--init", os.path.join(out, "last.pt"),
                        "--export-dir", os.path.join(tmp, "ck3"), "--set", "lr_grid=0", "--set", "lr=1e-12",
                        "--set", "warmup_steps=1", "--set", "ema=0.999", "--set", "osc_freeze=0.5",
                        "--set", 'terms={"model.0": 2, "model.1": 3}'],
                       capture_output=True, text=True, timeout=900)
    print(r.stderr[-2000:])
    assert r.returncode == 0, r.returncode
    assert "initialising from the EMA of a full training checkpoint" in r.stderr
    # osc_freeze: the freezer tracks the config's two multi-plane layers and its state is saved
    assert "oscillation freezing over 2 multi-plane layers" in r.stderr, r.stderr[-800:]
    acts_on = bool(full["state"].get("acts_on"))
    assert ("int8 activations on with the checkpoint's trained scales" in r.stderr) == acts_on, acts_on
    full2 = torch.load(os.path.join(out2, "last.pt"))
    start = full2["model"]
    k = "model.0.weight"
    assert torch.allclose(start[k].float(), ema_state["shadow"][k].float(), atol=1e-6)
    assert not torch.allclose(start[k].float(), w1[k].float(), atol=1e-6)
    # an --init's EMA has no warm-up: it starts at decay 0.999, so one step keeps 0.999 of the init
    assert "EMA at decay 0.999 from the first step" in r.stderr
    assert full2["ema"]["warmup"] is False and full2["ema"]["n"] == 1
    osc = full2["osc"]
    assert osc is not None and osc["steps"] == 1 and sorted(osc["frozen"]) == ["model.0", "model.1"], osc.keys()
    assert osc["q_prev"]["model.0"].shape == start["model.0.weight"].shape


def act_lsq_and_correction(base, init_ck: str, tmp: str) -> None:
    """One step of the quantization-correction phase with LSQ activation scales
    (freeze_weights, learn_act_scale): the latent weights do not move, the per-channel scales
    and biases do, every free activation scale takes Adam's first step of lr_act_scale of
    itself, and what is derived from them follows: each concat's scale is the largest of its
    inputs', each conv's in_scale is its input quantizer's. The EMA leaves activation scales
    out, so the small checkpoint carries the live ones, and the exporter folds it."""
    import torch
    out = os.path.join(tmp, "lsq")
    r = subprocess.run(base[:base.index("--out")] + ["--out", out] + base[base.index("--out") + 2:] +
                       ["--max-steps", "1", "--init", init_ck, "--export-dir", os.path.join(tmp, "ck4"),
                        "--set", "learn_act_scale=true", "--set", "lr_act_scale=0.1", "--set", "freeze_weights=true",
                        "--set", "lr_grid=0.001", "--set", "warmup_steps=1", "--set", "ema=0.999"],
                       capture_output=True, text=True, timeout=900)
    print(r.stderr[-2000:])
    assert r.returncode == 0, r.returncode
    w0 = torch.load(init_ck)["model"]
    full = torch.load(os.path.join(out, "last.pt"))
    w1 = full["model"]
    weights = [k for k in w1 if k.endswith(".weight")]
    assert weights and all(torch.equal(w1[k].float(), w0[k].float()) for k in weights)
    assert any(not torch.equal(w1[k], w0[k]) for k in w1 if k.endswith("w_scale"))
    free = [k for k in w1 if k.endswith("_q.scale")]
    rel = torch.tensor([float(w1[k]) / float(w0[k]) - 1 for k in free if float(w0[k]) > 0])
    assert len(free) > 100 and rel.numel() == len(free), (len(free), rel.numel())
    moved = rel.abs()[rel.abs() > 0]
    assert moved.numel() > 0.9 * rel.numel() and 0.09 < float(moved.median()) < 0.11, rel
    assert not any(k.endswith("_q.scale") for k in full["ema"]["shadow"])
    small = torch.load(os.path.join(tmp, "ck4", "smoke.pt"))["model"]
    assert all(float(small[k]) == float(w1[k]) for k in free)
    from bitfalcon.coco import COCO80
    from bitfalcon.export import export_model
    from bitfalcon.yolo import YOLOv8Bit
    m = YOLOv8Bit()
    m.load_checkpoint(os.path.join(tmp, "ck4", "smoke.pt"))
    stored = {k: float(v) for k, v in m.state_dict().items() if k.endswith(("in_scale", "cat.q.scale"))}
    m.set_concat_scales()
    m.set_input_scales()
    wired = {k: float(v) for k, v in m.state_dict().items() if k.endswith(("in_scale", "cat.q.scale"))}
    assert len(stored) > 60 and stored == wired, [k for k in stored if stored[k] != wired[k]][:5]
    export_model(m, COCO80, 64)


def main() -> int:
    need("numpy", "torch", "PIL")
    if not os.path.exists(TEACHER):
        print(f"SKIP: no teacher at {TEACHER}")
        return SKIP
    unit_checks()
    with tempfile.TemporaryDirectory() as tmp:
        photos, coco = make_data(tmp)
        out = os.path.join(tmp, "run")
        cfg = os.path.join(TOOLS, "train_configs", "smoke.json")
        base = [sys.executable, os.path.join(TOOLS, "train.py"), "--config", cfg, "--out", out, "--photos", photos,
                "--coco", coco, "--export-dir", os.path.join(tmp, "ck"), "--workers", "0",
                "--eval-bin", os.path.join(tmp, "no-such-binary")]
        r = subprocess.run(base + ["--max-steps", "2", "--set", "w_pseudo=0.1"], capture_output=True, text=True,
                           timeout=900)
        print(r.stderr[-3000:])
        assert r.returncode == 0, r.returncode
        assert os.path.exists(os.path.join(out, "last.pt"))
        r = subprocess.run(base + ["--max-steps", "1", "--resume", "--final-val"], capture_output=True, text=True,
                           timeout=900)
        print(r.stderr[-3000:])
        assert r.returncode == 0, r.returncode
        assert "resumed" in r.stderr
        with open(os.path.join(out, "log.csv")) as f:
            rows = list(csv.DictReader(f))
        steps = [int(r["step"]) for r in rows if r["loss"]]
        assert steps == [1, 2, 3], steps
        assert any(r["gt"] and float(r["gt"]) > 0 for r in rows), rows
        assert any(r["pseudo"] and float(r["pseudo"]) > 0 for r in rows[:2]), rows   # w_pseudo in the first run
        assert not rows[2]["pseudo"], rows
        # val detections were written (no binary: no mAP)
        assert os.listdir(os.path.join(out, "val"))
        # the fp16 checkpoint is an export checkpoint
        import torch
        from bitfalcon.coco import COCO80
        from bitfalcon.export import export_model
        from bitfalcon.yolo import YOLOv8Bit
        ck = os.path.join(tmp, "ck", "smoke.pt")
        m = YOLOv8Bit()
        m.load_checkpoint(ck)
        assert torch.load(ck)["learn_scale"] is True
        model, stats = export_model(m, COCO80, 64)
        assert len(model.outputs) == 6
        grid_step_and_ema(base, ck, tmp)
        act_lsq_and_correction(base, ck, tmp)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
