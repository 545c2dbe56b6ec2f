#!/usr/bin/python3
"""YOLOv8Bit.retarget_terms (tools/bitfalcon/yolo.py): raising a trained layer's k keeps its
function exactly (the integer weights become 3^dk * q at alpha / 3^dk), so a run that gives a
few layers more planes starts from the trained model; lowering k re-initialises the scale.
A random student (no teacher needed) with ternary weights on; torch only, exit 77 otherwise.
"""
from __future__ import annotations

import sys

from _setup import need


def main() -> int:
    need("torch")
    import torch
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit

    start = {"model.0": 2, "model.1": 2, "model.2.cv1": 3, "model.22.cv3.0.2": 2}

    def random_student():
        """The same random student every call: learned scales, ternary weights on."""
        torch.manual_seed(0)
        model = YOLOv8Bit(nc=80, terms=start)
        layers = {n: c for n, c in model.named_modules() if isinstance(c, BitConv2d)}
        for c in layers.values():
            c.init_scale()
            c.learn_scale = True
        model.set_quant(True, False)
        model.eval()
        return model, layers

    m, convs = random_student()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        before = m(x)
    q_before = {n: convs[n].int_weights()[0].clone() for n in start}

    up = dict(start, **{"model.0": 3, "model.1": 4, "model.3": 2})   # +1, +2 planes; k = 1 -> 2
    down = {"model.2.cv1": 2}                                        # 3 -> 2
    changed = m.retarget_terms({**up, **down})
    assert sorted(changed) == ["model.0", "model.1", "model.2.cv1", "model.3"], changed
    assert convs["model.0"].terms == 3 and convs["model.1"].terms == 4 and convs["model.2.cv1"].terms == 2
    q0, q1 = convs["model.0"].int_weights()[0], convs["model.1"].int_weights()[0]
    assert torch.equal(q0, 3 * q_before["model.0"]), "model.0: k 2 -> 3 is not 3 * q"
    assert torch.equal(q1, 9 * q_before["model.1"]), "model.1: k 2 -> 4 is not 9 * q"
    assert int(q1.abs().max()) <= convs["model.1"].levels

    # lowering k re-initialises: the layer's scale is the least-squares one of its new grid
    c2 = convs["model.2.cv1"]
    want = c2.w_scale.detach().clone()
    c2.init_scale()
    assert torch.equal(c2.w_scale.detach(), want), "model.2.cv1 (3 -> 2) was not re-initialised"

    # the outputs: the same random model again, only the raises applied
    m3, _ = random_student()
    with torch.no_grad():
        again = m3(x)
    for (b0, c0), (b1, c1) in zip(before, again):               # the same seed: the same model
        assert torch.equal(b0, b1) and torch.equal(c0, c1)
    m3.retarget_terms({**start, "model.0": 3, "model.1": 4})
    m3.set_quant(True, False)
    with torch.no_grad():
        after = m3(x)
    worst = 0.0
    for (b0, c0), (b1, c1) in zip(before, after):
        for t0, t1 in ((b0, b1), (c0, c1)):
            worst = max(worst, float((t0 - t1).abs().max() / (t0.abs().max() + 1e-12)))
    assert worst < 1e-4, f"raising k changed the outputs by {worst:.3g} (relative)"
    print(f"retarget_terms: k 2 -> 3 and 2 -> 4 keep q (3q, 9q) and the outputs (worst relative "
          f"change {worst:.2g}); lowering k re-initialises")
    return 0


if __name__ == "__main__":
    sys.exit(main())
