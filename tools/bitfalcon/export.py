"""Folds a calibrated student (`yolo.YOLOv8Bit`) into a `.bfm` model (integer bias,
mult/shift, SiLU tables) exactly per docs/model-format.md. Used by tools/export.py."""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from . import format as bfm
from .nn import BitConv2d, BitFFN
from .yolo import C2f, SPPF, YOLOv8Bit

INPUT_SCALE = 1.0 / 255.0
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(m: float) -> Tuple[int, int]:
    """(mult, shift) with mult * 2^-shift ~ m, mult in [2^30, 2^31) when possible,
    shift in [0, 62] (mult smaller when m < 2^-32 would need shift > 62)."""
    if not (m > 0 and math.isfinite(m)):
        return 0, 0
    frac, e = math.frexp(m)            # m = frac * 2^e, frac in [0.5, 1)
    shift = 31 - e
    mult = int(round(frac * (1 << 31)))
    if mult == 1 << 31:
        mult //= 2
        shift -= 1
    if shift > 62:
        mult = int(round(m * 2.0 ** 62))
        shift = 62
    if shift < 0:
        raise ValueError(f"multiplier {m} too large (>= 2^31)")
    return mult, shift


def round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def silu_table(s_pre: float, s_out: float) -> np.ndarray:
    p = np.arange(-128, 128, dtype=np.float64) * s_pre
    silu = p / (1.0 + np.exp(-p))
    return np.clip(round_half_up(silu / s_out), -128, 127).astype(np.int8)


class Exporter:
    """Emits layers in execution order; keeps each value's float scale."""

    def __init__(self, model: YOLOv8Bit, input_size: int = 640, names: Sequence[str] = ()):
        self.net = model
        self.names = {id(mod): n for n, mod in model.named_modules()}
        self.m = bfm.Model(num_classes=model.nc, reg_max=model.reg_max, default_input_size=input_size)
        self.m.values.append(bfm.Value(3, 1, -128, INPUT_SCALE, bfm.I8, bfm.NONE))
        self.scale: List[float] = [INPUT_SCALE]
        self.stats: Dict[str, int] = {"bias_clamped": 0, "mult_small": 0}
        self.m.add_tensor("meta.class_names", bfm.U8,
                          np.frombuffer("".join(n + "\n" for n in names).encode("ascii"), dtype=np.uint8))

    # -- values and layers ----------------------------------------------------------------------
    def _value(self, channels: int, stride: int, scale: float, dtype: int = bfm.I8) -> int:
        self.m.values.append(bfm.Value(channels, stride, 0, float(np.float32(scale)), dtype, len(self.m.layers)))
        self.scale.append(scale)
        return len(self.m.values) - 1

    def _layer(self, op: int, inputs: List[int], out: int, params: Sequence[int], tensors: Sequence[int] = ()) -> int:
        p = [int(v) for v in params] + [0] * (16 - len(params))
        self.m.layers.append(bfm.Layer(op, list(inputs), out, p, list(tensors)))
        return out

    # -- ops -------------------------------------------------------------------------------------
    def conv(self, mod: BitConv2d, vin: int, raw: bool = False) -> int:
        name = self.names[id(mod)]
        vi = self.m.values[vin]
        s_in, zp = self.scale[vin], vi.zero_point
        # integer weights q in [-L, L] (k = 1: the ternary t), written as k balanced-ternary planes
        terms, levels = int(mod.terms), int(mod.levels)
        q, alpha = mod.int_weights()
        q = q.numpy().astype(np.int64)                       # OIHW
        oc, ic, kh, kw = q.shape
        qk = q.transpose(0, 2, 3, 1).reshape(oc, kh * kw * ic)   # k = (ky*kw + kx)*ic + c
        K = qk.shape[1]
        alpha = alpha.double().numpy()
        alpha = np.where(alpha > 0, alpha, 1e-8)
        beta = mod.bias.detach().double().numpy()
        d = s_in * alpha                                     # real value of one accumulator unit
        bias = round_half_up(beta / d) - zp * qk.sum(axis=1).astype(np.float64)
        lim = INT32_MAX - 128 * K * levels                   # |acc| <= |bias| + 128 K L
        if np.any(np.abs(bias) > lim):
            self.stats["bias_clamped"] += int(np.sum(np.abs(bias) > lim))
            bias = np.clip(bias, -lim, lim)
        ti = [self.m.add_tensor(name + ".weight", bfm.T2, bfm.pack_t2_planes(qk, terms)),
              self.m.add_tensor(name + ".bias", bfm.I32, bias.astype(np.int64))]
        stride = vi.stride * mod.stride
        if raw:
            ti += [bfm.NONE, bfm.NONE, bfm.NONE,          # raw: no requant, no SiLU table
                   self.m.add_tensor(name + ".dequant", bfm.F32, d.astype(np.float32))]
            out = self._value(oc, stride, 1.0, bfm.I32)
            act = bfm.ACT_RAW
        else:
            s_pre, s_out = float(mod.pre_q.scale), float(mod.out_q.scale)
            if not (s_pre > 0 and s_out > 0):
                raise ValueError(f"{name}: activation scales not calibrated")
            ms = [quantize_multiplier(float(v) / s_pre) for v in d]
            self.stats["mult_small"] += sum(1 for mu, _ in ms if mu < (1 << 30))
            ti += [self.m.add_tensor(name + ".mult", bfm.I32, np.array([a for a, _ in ms], np.int64)),
                   self.m.add_tensor(name + ".shift", bfm.I32, np.array([b for _, b in ms], np.int64)),
                   self.m.add_tensor(name + ".silu", bfm.I8, silu_table(s_pre, s_out))]
            out = self._value(oc, stride, s_out)
            act = bfm.ACT_SILU
        return self._layer(bfm.CONV, [vin], out, [kh, kw, mod.stride, mod.pad, ic, oc, act, terms], ti)

    def add(self, a: int, b: int, s_out: float) -> int:
        ma, mb = self.scale[a] / s_out, self.scale[b] / s_out
        _, shift = quantize_multiplier(max(ma, mb))
        mult_a, mult_b = int(round(ma * 2.0 ** shift)), int(round(mb * 2.0 ** shift))
        assert max(mult_a, mult_b) <= INT32_MAX
        v = self.m.values[a]
        out = self._value(v.channels, v.stride, s_out)
        return self._layer(bfm.ADD, [a, b], out, [mult_a, mult_b, shift])

    def concat(self, ins: List[int], s_out: float) -> int:
        params: List[int] = []
        for v in ins:
            if self.scale[v] == s_out:
                params += [1, 0]                    # exact copy
            else:
                params += list(quantize_multiplier(self.scale[v] / s_out))
        out = self._value(sum(self.m.values[v].channels for v in ins), self.m.values[ins[0]].stride, s_out)
        return self._layer(bfm.CONCAT, ins, out, params)

    def slice(self, vin: int, first: int, count: int) -> int:
        out = self._value(count, self.m.values[vin].stride, self.scale[vin])
        return self._layer(bfm.SLICE, [vin], out, [first, count])

    def maxpool(self, vin: int, k: int, s: int, p: int) -> int:
        v = self.m.values[vin]
        out = self._value(v.channels, v.stride * s, self.scale[vin])
        return self._layer(bfm.MAXPOOL, [vin], out, [k, s, p])

    def upsample(self, vin: int, f: int = 2) -> int:
        v = self.m.values[vin]
        out = self._value(v.channels, v.stride // f, self.scale[vin])
        return self._layer(bfm.UPSAMPLE, [vin], out, [f])

    # -- blocks ----------------------------------------------------------------------------------
    def ffn(self, b: BitFFN, vin: int) -> int:
        h = self.conv(b.cv2, self.conv(b.cv1, vin))
        return self.add(vin, h, float(b.add_q.scale)) if b.shortcut else h

    def c2f(self, mod: C2f, vin: int) -> int:
        a = self.conv(mod.cv1, vin)
        outs = [a]                                   # the two halves of cv1 = cv1's output itself
        y = self.slice(a, mod.c, mod.c)
        for b in mod.m:
            y = self.ffn(b, y)
            outs.append(y)
        return self.conv(mod.cv2, self.concat(outs, float(mod.cat.q.scale)))

    def sppf(self, mod: SPPF, vin: int) -> int:
        a = self.conv(mod.cv1, vin)
        ys = [a]
        for _ in range(3):
            ys.append(self.maxpool(ys[-1], mod.k, 1, mod.k // 2))
        return self.conv(mod.cv2, self.concat(ys, float(mod.cat.q.scale)))

    def block(self, i: int, vin: int) -> int:
        mod = self.net.model[i]
        if isinstance(mod, C2f):
            return self.c2f(mod, vin)
        if isinstance(mod, SPPF):
            return self.sppf(mod, vin)
        return self.conv(mod, vin)

    def build(self) -> bfm.Model:
        net = self.net
        y: Dict[int, int] = {}
        v = 0
        for i in range(10):
            v = y[i] = self.block(i, v)
        for i in range(10, 22):
            mod = net.model[i]
            if i in net.NECK_CONCATS:
                v = self.concat([v, y[net.NECK_CONCATS[i]]], float(mod.q.scale))
            elif i in (10, 13):
                v = self.upsample(v, 2)
            else:
                v = self.block(i, v)
            y[i] = v
        det = net.model[22]
        for lvl, src in enumerate((15, 18, 21)):
            stride = 8 << lvl
            for kind, branch in ((bfm.KIND_BOX, det.cv2[lvl]), (bfm.KIND_CLASS, det.cv3[lvl])):
                h = self.conv(branch[1], self.conv(branch[0], y[src]))
                o = self.conv(branch[2], h, raw=True)
                dq = self.m.layers[-1].tensors[5]
                self.m.outputs.append(bfm.Output(o, kind, stride, dq))
        bfm.validate(self.m)
        return self.m


def export_model(model: YOLOv8Bit, names: Sequence[str], input_size: int = 640) -> Tuple[bfm.Model, Dict[str, int]]:
    with torch.no_grad():
        ex = Exporter(model, input_size, names)
        m = ex.build()
    return m, ex.stats
