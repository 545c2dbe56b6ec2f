"""BatchNorm re-estimation of a quantized student against its teacher (tools/bn_reestimate.py):
each conv's per-channel pre-activation mean and std set to the teacher's, in run order, by its
per-channel scale and bias alone (the integer weights do not change)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Dict, List, Tuple

if TYPE_CHECKING:
    import torch


class _StopForward(Exception):
    """Raised by a hook to end a forward pass once the layer it watches has run."""


def pre_activation(conv):
    """The module whose forward input (silu convs: the pre-SiLU quantizer) or output (raw
    head predictors) is the conv's pre-activation, and which of the two it is."""
    return (conv.pre_q, "input") if conv.act == "silu" else (conv, "output")


def channel_stats(y) -> Tuple["torch.Tensor", int]:
    """([sum, sum of squares] per channel in float64, values per channel) of an NCHW tensor."""
    import torch
    y = y.detach().double()
    return torch.stack([y.sum((0, 2, 3)), (y * y).sum((0, 2, 3))]), y.numel() // y.shape[1]


def run_order(model, x) -> List[str]:
    """The conv layers' names in the order the forward pass runs them (C2f registers cv2
    before its bottlenecks but runs it after them)."""
    import torch
    from bitfalcon.nn import BitConv2d
    order: List[str] = []
    handles = [m.register_forward_hook(lambda mod, i, o, n=n: order.append(n))
               for n, m in model.named_modules() if isinstance(m, BitConv2d)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return order


def collect(model, batches, names: List[str], stop_after: str = "") -> Dict[str, Tuple["torch.Tensor", "torch.Tensor"]]:
    """Per-channel (mean, std) of each named conv's pre-activation over all batches. With
    `stop_after`, each forward pass ends once that layer has run."""
    import torch
    mods = dict(model.named_modules())
    acc: Dict[str, list] = {n: [None, 0] for n in names}

    def hook(n: str, kind: str):
        def f(mod, inputs, output):
            s, cnt = channel_stats(inputs[0] if kind == "input" else output)
            acc[n][0] = s if acc[n][0] is None else acc[n][0] + s
            acc[n][1] += cnt
            if n == stop_after:
                raise _StopForward()
        return f

    handles = []
    for n in names:
        m, kind = pre_activation(mods[n])
        handles.append(m.register_forward_hook(hook(n, kind)))
    try:
        with torch.no_grad():
            for x in batches:
                try:
                    model(x)
                except _StopForward:
                    pass
    finally:
        for h in handles:
            h.remove()
    out = {}
    for n, (s, cnt) in acc.items():
        mean = s[0] / cnt
        var = (s[1] / cnt - mean * mean).clamp_min(0.0)
        out[n] = (mean.float(), var.sqrt().float())
    return out


def correct(conv, s_mean, s_std, t_mean, t_std, strength: float, mean_only: bool, max_ratio: float) -> float:
    """Applies the folded-BN correction to one conv in place; returns the mean |r - 1|."""
    import torch
    with torch.no_grad():
        if mean_only:
            r = torch.ones_like(s_std)
        else:
            r = torch.where(s_std > 1e-6, t_std / s_std.clamp_min(1e-6), torch.ones_like(s_std))
            r = r.clamp(1.0 / max_ratio, max_ratio)
        r = r ** strength
        # the bias moves the same fraction of the way: b' = b + s * (r_full (b - m_s) + m_t - b),
        # written with the damped r so that s = 1 is exactly r (b - m_s) + m_t
        target = r * (conv.bias - s_mean) + t_mean
        new_bias = conv.bias + strength * (target - conv.bias)
        conv.weight.mul_(r.view(-1, 1, 1, 1))          # latent weight and scale together: q unchanged
        conv.w_scale.mul_(r)
        conv.bias.copy_(new_bias)
    return float((r - 1).abs().mean())


def reestimate(student, teacher, batches, strength: float = 1.0, mean_only: bool = False, max_ratio: float = 2.0,
               no_head: bool = False, log=print) -> List[Tuple[str, float, float]]:
    """Corrects every conv of `student` (in place, in run order) so that its pre-activation's
    per-channel mean and std over `batches` are the teacher's. Each conv's weights are first
    put on their grid points (q * alpha: what the exporter writes, so the checkpoint's fp16
    weights round back to the same q). Returns (layer, mean offset in teacher stds before,
    mean |r - 1|) per layer."""
    import torch
    from bitfalcon.nn import BitConv2d
    convs = {n: m for n, m in student.named_modules() if isinstance(m, BitConv2d)}
    with torch.no_grad():
        for m in convs.values():
            q, alpha = m.int_weights()
            m.weight.copy_(q.to(m.weight.dtype) * alpha.view(-1, 1, 1, 1))
            m.w_scale.copy_(alpha)
    order = run_order(student, batches[0][:1])
    if no_head:
        order = [n for n in order if convs[n].act == "silu"]
    t0 = time.time()
    log(f"teacher statistics over {len(batches)} batches, {len(order)} layers", flush=True)
    t_stats = collect(teacher, batches, order)
    report = []
    for i, n in enumerate(order):
        (s_mean, s_std), = collect(student, batches, [n], stop_after=n).values()
        t_mean, t_std = t_stats[n]
        before = float(((s_mean - t_mean).abs() / t_std.clamp_min(1e-6)).mean())
        dr = correct(convs[n], s_mean, s_std, t_mean, t_std, strength, mean_only, max_ratio)
        report.append((n, before, dr))
        log(f"  [{i + 1}/{len(order)}] {n}: mean offset {before:.3f} teacher stds, |r - 1| {dr:.3f}, "
            f"{time.time() - t0:.0f} s", flush=True)
    return report
