#!/usr/bin/python3
"""BatchNorm re-estimation (tools/bitfalcon/bn_reestimate.py, tools/bn_reestimate.py) on a
random-weight YOLOv8n: its fp32 copy is the teacher, the student the same weights at k = 2 with
calibrated int8 activations. After `reestimate` every conv's integer weights are unchanged, the
first conv's per-channel pre-activation mean and std are the teacher's, the later convs' offsets
from the teacher shrink, strength 0 changes nothing and --mean-only keeps the scales.
torch + numpy only (no ../shared); exit 77 otherwise.
"""
from __future__ import annotations

import copy
import sys

from _setup import need


def smooth_images(torch, n: int, size: int):
    """Image-like inputs in [0, 1]: low-frequency noise, upsampled."""
    x = torch.rand(n, 3, size // 8, size // 8)
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def main() -> int:
    need("torch", "numpy")
    import torch
    from bitfalcon.bn_reestimate import collect, reestimate, run_order
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit

    torch.manual_seed(3)
    torch.set_num_threads(1)
    teacher = YOLOv8Bit(nc=80)
    with torch.no_grad():
        for c in teacher.modules():
            if isinstance(c, BitConv2d):
                c.weight.normal_(0.0, (2.0 / c.weight[0].numel()) ** 0.5)
                c.bias.normal_(0.0, 0.2)
    teacher.set_quant(False, False)
    teacher.eval()
    base = copy.deepcopy(teacher)
    names = [n for n, c in base.named_modules() if isinstance(c, BitConv2d)]
    base.set_terms({n: 2 for n in names})
    for c in base.modules():
        if isinstance(c, BitConv2d):
            c.init_scale()
            c.learn_scale = True
    batches = [smooth_images(torch, 2, 64) for _ in range(2)]
    base.set_quant(True, False)
    base.start_calibration()
    with torch.no_grad():
        for x in batches:
            base(x)
    base.finish_calibration()
    base.set_quant(True, True)
    base.eval()

    order = run_order(base, batches[0][:1])
    assert len(order) == len(names) == 63 and order[0] == "model.0", order[:3]
    assert order.index("model.2.m.0.cv2") < order.index("model.2.cv2"), "C2f's cv2 runs after its bottleneck"
    t_stats = collect(teacher, batches, order)

    def offsets(model):
        s = collect(model, batches, order)
        return {n: float(((s[n][0] - t_stats[n][0]).abs() / t_stats[n][1].clamp_min(1e-6)).mean()) for n in order}

    before = offsets(base)
    student = copy.deepcopy(base)
    q_before = {n: c.int_weights()[0].clone() for n, c in student.named_modules() if isinstance(c, BitConv2d)}
    report = reestimate(student, teacher, batches, log=lambda *a, **k: None)
    assert [r[0] for r in report] == order
    assert abs(report[0][1] - before["model.0"]) < 1e-5, (report[0][1], before["model.0"])
    convs = {n: c for n, c in student.named_modules() if isinstance(c, BitConv2d)}
    for n, c in convs.items():
        assert torch.equal(c.int_weights()[0], q_before[n]), f"{n}: the integer weights moved"

    s0 = collect(student, batches, ["model.0"])["model.0"]
    t0 = t_stats["model.0"]
    mean_err = float(((s0[0] - t0[0]).abs() / t0[1]).max())
    std_err = float((s0[1] / t0[1] - 1).abs().max())
    assert mean_err < 0.02 and std_err < 0.02, f"model.0 after: mean off {mean_err:.4f} std, std off {std_err:.4f}"
    after = offsets(student)
    med_b = sorted(before.values())[len(order) // 2]
    med_a = sorted(after.values())[len(order) // 2]
    assert med_a < 0.5 * med_b, f"median offset {med_b:.3f} -> {med_a:.3f}: not halved"
    print(f"mean offsets (teacher stds), median over 63 convs: {med_b:.3f} before, {med_a:.3f} after; "
          f"model.0 after: mean {mean_err:.4f}, std {std_err:.4f}")

    still = copy.deepcopy(base)
    reestimate(still, teacher, batches, strength=0.0, log=lambda *a, **k: None)
    for (n, c), (_, b) in zip(((n, c) for n, c in still.named_modules() if isinstance(c, BitConv2d)),
                              ((n, c) for n, c in base.named_modules() if isinstance(c, BitConv2d))):
        q, a = c.int_weights()
        qb, ab = b.int_weights()
        assert torch.equal(q, qb) and torch.allclose(a, ab) and torch.allclose(c.bias, b.bias), f"strength 0 moved {n}"

    means = copy.deepcopy(base)
    reestimate(means, teacher, batches, mean_only=True, no_head=True, log=lambda *a, **k: None)
    heads = [n for n in order if convs[n].act == "none"]
    assert len(heads) == 6
    for (n, c), (_, b) in zip(((n, c) for n, c in means.named_modules() if isinstance(c, BitConv2d)),
                              ((n, c) for n, c in base.named_modules() if isinstance(c, BitConv2d))):
        assert torch.allclose(c.int_weights()[1], b.int_weights()[1]), f"--mean-only changed the scale of {n}"
        if n in heads:
            assert torch.equal(c.bias, b.bias), f"--no-head changed {n}"
    m0 = collect(means, batches, ["model.0"])["model.0"]
    assert float(((m0[0] - t0[0]).abs() / t0[1]).max()) < 0.02, "--mean-only: model.0's mean not the teacher's"
    print("bn_reestimate: integer weights kept, statistics matched, strength 0 and --mean-only --no-head as said")
    return 0


if __name__ == "__main__":
    sys.exit(main())
