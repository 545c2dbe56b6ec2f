"""numpy integer reference of a `.bfm` model: every op exactly as docs/model-format.md.

    eng = IntEngine(read_model(path))
    outs = eng.run(network_input(canvas))     # list of (Output entry, int32 [H, W, C])

Convolutions use im2col and a float matmul. That is exact: every partial sum is an
integer whose magnitude is at most K * 128 * L (checked below 2^24 for float32, else
float64 is used), and the bias is added in int64 afterwards.

A multi-ternary conv (n_terms k > 1) stores k balanced-ternary planes T_i; the engine runs
one ternary GEMM per plane and sums them with weights 3^i. Here the planes are folded into
the integer weights q = sum_i 3^i T_i in [-L, L], L = (3^k - 1) / 2, once, and the conv is
acc = bias + sum q * x: the same integers (the sum is exact either way).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from . import format as bfm


def clamp8(v: np.ndarray) -> np.ndarray:
    return np.clip(v, -128, 127)


def rshift_round(v: np.ndarray, s) -> np.ndarray:
    """(v + 2^(s-1)) >> s for s > 0, v for s = 0 (int64, arithmetic shift). s scalar or array."""
    v = np.asarray(v, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    rnd = np.where(s > 0, np.left_shift(np.int64(1), np.maximum(s - 1, 0)), 0)
    return np.right_shift(v + rnd, s)


def requant(acc: np.ndarray, mult, shift) -> np.ndarray:
    return clamp8(rshift_round(np.asarray(acc, dtype=np.int64) * np.asarray(mult, dtype=np.int64), shift))


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, pad: int, pad_value: int) -> Tuple[np.ndarray, int, int]:
    """x [H, W, C] -> [Ho*Wo, kh*kw*C] in the order (ky, kx, ic); outside taps read pad_value."""
    h, w, c = x.shape
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    if pad:
        xp = np.full((h + 2 * pad, w + 2 * pad, c), pad_value, dtype=x.dtype)
        xp[pad:pad + h, pad:pad + w] = x
    else:
        xp = x
    if kh == 1 and kw == 1:
        return xp[::stride, ::stride][:ho, :wo].reshape(ho * wo, c), ho, wo
    cols = np.empty((ho, wo, kh, kw, c), dtype=x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, ky, kx, :] = xp[ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
    return cols.reshape(ho * wo, kh * kw * c), ho, wo


def maxpool(x: np.ndarray, k: int, stride: int, pad: int) -> np.ndarray:
    """Max pool; taps outside the image are ignored."""
    h, w, c = x.shape
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    xp = np.full((h + 2 * pad, w + 2 * pad, c), -32768, dtype=np.int32)
    xp[pad:pad + h, pad:pad + w] = x
    out = np.full((ho, wo, c), -32768, dtype=np.int32)
    for ky in range(k):
        for kx in range(k):
            np.maximum(out, xp[ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride], out=out)
    return out.astype(np.int8)


class IntEngine:
    """Runs a parsed model on int8 NHWC inputs (batch 1), bit-exact to the contract."""

    def __init__(self, model: bfm.Model):
        self.model = model
        self._w: Dict[int, np.ndarray] = {}
        for li, L in enumerate(model.layers):
            if L.op == bfm.CONV:
                kh, kw, _, _, ic, oc, _, nterms = L.params[:8]
                k = kh * kw * ic
                q = bfm.unpack_t2_planes(model.tensor_array(L.tensors[0]), nterms, k)   # [out_c, K]
                dt = np.float32 if k * 128 * bfm.term_levels(nterms) < (1 << 24) else np.float64
                self._w[li] = np.ascontiguousarray(q.T.astype(dt))     # [K, out_c]

    def conv(self, li: int, x: np.ndarray, zp: int) -> np.ndarray:
        m, L = self.model, self.model.layers[li]
        kh, kw, s, pad, ic, oc, act = L.params[:7]
        wt = self._w[li]
        cols, ho, wo = im2col(x, kh, kw, s, pad, zp)
        acc = np.rint(cols.astype(wt.dtype) @ wt).astype(np.int64)
        acc += m.tensor_array(L.tensors[1]).astype(np.int64)
        if act == bfm.ACT_RAW:
            return acc.astype(np.int32).reshape(ho, wo, oc)
        p = requant(acc, m.tensor_array(L.tensors[2]), m.tensor_array(L.tensors[3]))
        if act == bfm.ACT_SILU:
            p = m.tensor_array(L.tensors[4]).astype(np.int64)[p + 128]
        return p.astype(np.int8).reshape(ho, wo, oc)

    def run(self, x: np.ndarray, keep_values: bool = False):
        """x: int8 [S, S, 3] (pixel - 128). Returns [(Output, int32 [H, W, C])] in output-table
        order; with keep_values, also the list of every value's array."""
        m = self.model
        vals: List[Optional[np.ndarray]] = [None] * len(m.values)
        vals[0] = np.asarray(x, dtype=np.int8)
        # free values once their last consumer ran (memory), unless kept
        last_use = {}
        for li, L in enumerate(m.layers):
            for v in L.inputs:
                last_use[v] = li
        outs = {o.value for o in m.outputs}
        for li, L in enumerate(m.layers):
            ins = [vals[v] for v in L.inputs]
            P = L.params
            if L.op == bfm.CONV:
                y = self.conv(li, ins[0], m.values[L.inputs[0]].zero_point)
            elif L.op == bfm.ADD:
                a, b = (t.astype(np.int64) for t in ins)
                y = clamp8(rshift_round(a * P[0] + b * P[1], P[2])).astype(np.int8)
            elif L.op == bfm.CONCAT:
                y = np.concatenate([clamp8(rshift_round(t.astype(np.int64) * P[2 * j], P[2 * j + 1])).astype(np.int8)
                                    for j, t in enumerate(ins)], axis=2)
            elif L.op == bfm.SLICE:
                y = np.ascontiguousarray(ins[0][:, :, P[0]:P[0] + P[1]])
            elif L.op == bfm.MAXPOOL:
                y = maxpool(ins[0], P[0], P[1], P[2])
            elif L.op == bfm.UPSAMPLE:
                f = P[0]
                y = np.repeat(np.repeat(ins[0], f, axis=0), f, axis=1)
            else:
                raise bfm.FormatError(f"unknown op {L.op}")
            vals[L.output] = y
            if not keep_values:
                for v in L.inputs:
                    if last_use.get(v) == li and v not in outs and v != 0:
                        vals[v] = None
        res = [(o, vals[o.value]) for o in m.outputs]
        return (res, vals) if keep_values else res

    def levels(self, results) -> list:
        """Float Levels for postprocess from run()'s results."""
        from .postprocess import levels_from_int
        m = self.model
        return levels_from_int([(o.kind, o.stride, q, m.tensor_array(o.dequant)) for o, q in results])
