"""QAT helpers for the BitFalcon student (no changes to nn.py/yolo.py needed).

* `enable_blend(model)`   every BitConv2d computes w = b * (alpha * t_ste) + (1 - b) * w_fp
                          while quant_weights is on; `set_blend(model, b)` moves b in [0, 1]
                          (b = 1 is exactly nn.py's ternary path, which the exporter writes).
* `forward_features`      the YOLOv8Bit forward that also returns every layer's output.
* `calibrate_acts`        static int8 activation scales from a few batches (model's observers).
"""
from __future__ import annotations

import types
from typing import Dict, Iterable, Tuple

import torch

from .nn import BitConv2d

# the layers that have parameters (inputs: previous layer's output; 22 = Detect on 15/18/21)
TRAINABLE_LAYERS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 18, 19, 21)
NECK_OUTS = (15, 18, 21)


def _blended_effective(self: BitConv2d):
    if not self.quant_weights:
        return self.weight, self.bias
    w_t, b = type(self)._effective(self)          # nn.py's ternary path (STE, bias grid)
    blend = float(getattr(self, "blend", 1.0))
    if blend >= 1.0:
        return w_t, b
    return blend * w_t + (1.0 - blend) * self.weight, b


def enable_blend(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, BitConv2d):
            m.blend = 1.0
            m._effective = types.MethodType(_blended_effective, m)


def set_blend(model: torch.nn.Module, blend: float) -> None:
    for m in model.modules():
        if isinstance(m, BitConv2d):
            if getattr(m, "blend", None) != blend:
                m._cache_key = None
            m.blend = float(blend)


def set_learn_scale(model: torch.nn.Module, on: bool = True) -> None:
    for m in model.modules():
        if isinstance(m, BitConv2d):
            m.learn_scale = on


@torch.no_grad()
def reinit_scales(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, BitConv2d):
            m.init_scale()


def forward_features(model, x: torch.Tensor) -> Tuple[list, Dict[int, torch.Tensor]]:
    """(head outputs, {layer index: output}) with the same computation as YOLOv8Bit.forward."""
    m = model.model
    y: Dict[int, torch.Tensor] = {-1: x}
    for i in range(10):
        x = m[i](x)
        y[i] = x
    for i in range(10, 22):
        if i in model.NECK_CONCATS:
            x = m[i]([x, y[model.NECK_CONCATS[i]]])
        else:
            x = m[i](x)
        y[i] = x
    return m[22]([y[15], y[18], y[21]]), y


@torch.no_grad()
def calibrate_acts(model, batches: Iterable[torch.Tensor], percentile: float = 99.99) -> int:
    """Sets every static activation scale from the given input batches (weights as they are
    now: ternary if quant_weights). Returns the number of images seen."""
    was_training = model.training
    model.eval()
    wq = any(getattr(m, "quant_weights", False) for m in model.modules())
    model.set_quant(weights=wq, acts=False)
    model.start_calibration(percentile)
    n = 0
    for x in batches:
        model(x)
        n += x.shape[0]
    model.finish_calibration()
    model.train(was_training)
    return n


def acts_calibrated(model) -> bool:
    from .nn import act_quantizers
    return all(float(q.scale) > 0 for q in act_quantizers(model))
