#!/usr/bin/python3
"""tools/bitfalcon/train_osc.py: the oscillation freezer on one multi-plane BitConv2d driven by
hand. Weights pushed back and forth across a rounding boundary get frozen on the grid point of
their integer average and stay there whatever the optimizer does; weights that drift one way, or
sit still, never freeze; the frozen values go into a state dict at that dict's own scales; the
state survives a save/load. Needs torch; exit 77 otherwise.
"""
from __future__ import annotations

import sys

from _setup import need


def main() -> int:
    need("torch")
    import torch
    from bitfalcon.nn import BitConv2d
    from bitfalcon.train_osc import OscillationFreezer, multi_plane_convs

    torch.manual_seed(0)
    conv = BitConv2d(4, 3, k=1)
    conv.terms = 2                                   # levels [-4, 4]
    conv.learn_scale = True
    plain = BitConv2d(4, 3, k=1)                     # k = 1: not tracked
    model = torch.nn.ModuleDict({"a": conv, "b": plain})
    with torch.no_grad():
        conv.w_scale.fill_(0.5)
        conv.weight.zero_()
        conv.weight[0, 0] = 0.5 * 1.49                # oscillates across the 1 | 2 boundary
        conv.weight[0, 1] = 0.5 * -2.49               # oscillates across -3 | -2
        conv.weight[1, 0] = 0.5 * 0.2                 # drifts up one level every 10 steps
        conv.weight[2, 2] = 0.5 * 3.0                 # sits still

    named = multi_plane_convs(model)
    assert [n for n, _ in named] == ["a"], named
    fz = OscillationFreezer(named, threshold=0.2, momentum=0.9)
    for step in range(60):
        with torch.no_grad():
            flip = 0.02 if step % 2 == 0 else -0.02
            if not bool(fz.frozen["a"][0, 0, 0, 0]):
                conv.weight[0, 0] += 0.5 * flip
            else:
                conv.weight[0, 0] += 0.5 * 0.3            # the optimizer keeps pushing: must not move
            if not bool(fz.frozen["a"][0, 1, 0, 0]):
                conv.weight[0, 1] -= 0.5 * flip
            else:
                conv.weight[0, 1] -= 0.5 * 0.3
            conv.weight[1, 0] += 0.5 * 0.1
        fz.step()

    frozen = fz.frozen["a"]
    assert bool(frozen[0, 0, 0, 0]) and bool(frozen[0, 1, 0, 0]), fz.freq["a"].flatten()
    assert int(frozen.sum()) == 2, frozen.flatten()
    q = fz.frozen_q["a"]
    # the integer averages of 1/2 and -3/-2 alternations round to one of the two points
    assert int(q[0, 0, 0, 0]) in (1, 2) and int(q[0, 1, 0, 0]) in (-3, -2), q.flatten()
    # held exactly on the grid point although the loop kept pushing them
    assert float(conv.weight[0, 0, 0, 0]) == 0.5 * int(q[0, 0, 0, 0]), float(conv.weight[0, 0, 0, 0])
    assert float(conv.weight[0, 1, 0, 0]) == 0.5 * int(q[0, 1, 0, 0]), float(conv.weight[0, 1, 0, 0])
    # the drifting weight moved 6 levels up (0.2 + 60 * 0.1 = 6.2 -> clamped to 4) unfrozen
    assert not bool(frozen[1, 0, 0, 0]) and abs(float(conv.weight[1, 0, 0, 0]) - 0.5 * 6.2) < 1e-5
    assert 0.0 < fz.frozen_fraction() < 0.2
    assert fz.last_osc_rate == 0.0                   # the oscillating ones are frozen: nothing left

    # into another state dict (an EMA's), at that dict's scale
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sd["a.w_scale"] = torch.full((3,), 0.25)
    sd["a.weight"][0, 0] = 123.0
    fz.apply_to_state_dict(sd)
    assert float(sd["a.weight"][0, 0, 0, 0]) == 0.25 * int(q[0, 0, 0, 0])
    assert torch.equal(sd["a.weight"][1:], conv.weight.detach()[1:])   # the rest untouched

    # save / load
    fz2 = OscillationFreezer(named, threshold=0.2, momentum=0.9, state=fz.state())
    assert torch.equal(fz2.frozen["a"], frozen) and torch.equal(fz2.frozen_q["a"], q)
    assert torch.equal(fz2.freq["a"], fz.freq["a"]) and fz2.steps == 60

    for bad in ((0.0, 0.9), (1.5, 0.9), (0.1, 1.0)):
        try:
            OscillationFreezer(named, *bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
    print("oscillation freezer: 2 oscillating weights frozen at", q[0, 0, 0, 0].item(), q[0, 1, 0, 0].item(),
          "; drifting and still weights free; state dict and save/load ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
