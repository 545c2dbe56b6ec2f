#!/usr/bin/python3
"""k = 1 convs on the LSQ grid path (BitConv2d.k1_lsq, YOLOv8Bit.set_k1_lsq; the "k1_lsq" key
of tools/train.py): the integer weights are clamp(round_half_up(w / alpha), -1, 1), i.e. the
threshold is alpha / 2; the forward weight is q * alpha; the gradient reaches only weights inside
the grid (|w / alpha| <= 1: the clipped STE) and the scale; the initial scale is the MSE-grid one;
a checkpoint carries the switch (load_checkpoint turns it on) and the exporter writes the same q.
Off, k = 1 keeps the absmean threshold (the old checkpoints' weights do not move).
torch + numpy only; exit 77 otherwise.
"""
from __future__ import annotations

import sys

from _setup import need


def main() -> int:
    need("torch", "numpy")
    import numpy as np
    import torch
    from bitfalcon import format as bfm
    from bitfalcon.coco import COCO80
    from bitfalcon.export import export_model
    from bitfalcon.nn import BitConv2d, mse_grid_scale, round_half_up
    from bitfalcon.yolo import YOLOv8Bit

    torch.manual_seed(1)
    model = YOLOv8Bit(nc=80, terms={"model.0": 3})
    convs = {n: c for n, c in model.named_modules() if isinstance(c, BitConv2d)}
    with torch.no_grad():
        for c in convs.values():
            c.weight.normal_(0.0, (2.0 / c.weight[0].numel()) ** 0.5)
            c.bias.normal_(0.0, 0.1)
    c = convs["model.3"]                                  # a k = 1 conv
    q_off = c.int_weights()[0].clone()                   # the absmean path
    model.set_k1_lsq(True)
    assert model.config.get("k1_lsq") is True and all(m.k1_lsq for m in convs.values())
    for m in convs.values():
        m.init_scale()
        m.learn_scale = True
    assert torch.equal(c.w_scale.detach(), mse_grid_scale(c.weight.detach(), 1)), "initial scale"
    alpha = c.w_scale.detach().view(-1, 1, 1, 1)
    q, a = c.int_weights()
    want = torch.clamp(round_half_up(c.weight.detach() / alpha), -1, 1).to(torch.int32)
    assert torch.equal(q, want), "k1_lsq: q is not clamp(round(w / alpha), -1, 1)"
    assert not torch.equal(q, q_off), "k1_lsq changed nothing against the absmean threshold"

    model.set_quant(True, False)
    model.train()
    w_eff, _ = c.effective()
    assert torch.allclose(w_eff.detach(), q.float() * alpha), "forward weight is not q * alpha"
    c.weight.grad = None
    c.w_scale.grad = None
    (w_eff * torch.randn_like(w_eff)).sum().backward()
    inside = (c.weight.detach() / alpha).abs() <= 1
    g = c.weight.grad
    assert bool((g[~inside] == 0).all()), "gradient through a weight outside the grid (not clipped)"
    assert bool((g[inside] != 0).float().mean() > 0.99), "gradient missing inside the grid"
    assert c.w_scale.grad is not None and float(c.w_scale.grad.abs().sum()) > 0, "no gradient to the scale"
    n_out = int((~inside).sum())

    # a checkpoint carries the switch; the exporter writes the same q
    ck = {"model": model.state_dict(), "config": model.config, "learn_scale": True}
    again = YOLOv8Bit(nc=80)
    again.load_checkpoint(ck)
    c2 = dict(again.named_modules())["model.3"]
    assert c2.k1_lsq and c2.learn_scale and torch.equal(c2.int_weights()[0], q), "checkpoint round trip"
    again.eval()
    again.set_quant(True, False)
    again.start_calibration(99.9)
    with torch.no_grad():
        for _ in range(2):
            again(torch.rand(1, 3, 64, 64))
    again.finish_calibration()
    m, _ = export_model(again, COCO80, 64)
    m = bfm.parse(bfm.serialize(m))
    layer = next(L for L in m.layers if L.op == bfm.CONV and m.tensors[L.tensors[0]].name == "model.3.weight")
    kh, kw, _, _, ic, oc, _, k = layer.params[:8]
    got = bfm.unpack_t2_planes(m.tensor_array(layer.tensors[0]), k, kh * kw * ic)
    assert k == 1 and np.array_equal(got, q.numpy().transpose(0, 2, 3, 1).reshape(oc, -1)), "export"

    # off: the absmean path again, the weights where they were
    again.set_k1_lsq(False)
    assert "k1_lsq" not in again.config and torch.equal(c2.int_weights()[0], q_off), "switching off"
    print(f"k1_lsq: q = clamp(round(w / alpha), -1, 1) (differs from absmean), forward q * alpha, "
          f"{n_out} weights outside the grid get no gradient, the scale does; checkpoint and export carry it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
