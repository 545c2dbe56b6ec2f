"""BitNet building blocks for the student (torch).

* `ActQuant`   per-tensor symmetric int8 fake quantizer with a static scale and a
               calibration observer (robust max: mean over images of a high percentile of |x|).
* `BitConv2d`  ternary convolution: per-output-channel absmean threshold, per-channel
               scale (least-squares from the weights, or a learnable parameter),
               straight-through estimator, `quant_weights = False` runs full precision.
               Optional SiLU emulated exactly as the engine's int8 table when the
               activation quantizers are on.
  With `terms = k > 1` the layer is multi-ternary (seed 004): W = alpha * q with q an integer
               in [-L, L], L = (3^k - 1) / 2, i.e. q = sum_i 3^i T_i with ternary T_i (balanced
               ternary digits); the engine runs k ternary kernels and sums them with weights 3^i.
               Trained LSQ-style: q = clamp(round(w / alpha)), STE on the rounding, gradient to alpha.
* `BitLinear`  the per-location linear of the detect head (a 1x1 BitConv2d, raw output).
* `BitFFN`     the C2f bottleneck: BitConv 3x3 -> SiLU -> BitConv 3x3 -> SiLU (+ residual).

Quantization is switched per model with `set_quant(model, weights=..., acts=...)`.
Rounding is round-half-up (floor(x + 0.5)), as the engine's `rshift_round`.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

QMIN, QMAX = -128, 127


def round_half_up(x: torch.Tensor) -> torch.Tensor:
    return torch.floor(x + 0.5)


def fake_quant(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """q = clamp(round(x / s)) * s with a straight-through gradient inside the range."""
    lo, hi = QMIN * scale, QMAX * scale
    xc = torch.maximum(torch.minimum(x, hi), lo)
    q = torch.clamp(round_half_up(xc / scale), QMIN, QMAX) * scale
    return xc + (q - xc).detach()


def lsq_quant(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The values of fake_quant(x, scale); gradients: x as fake_quant's (1 inside the range, 0
    outside), scale as LSQ's (round(v) - v inside, the clip level outside, v = x / scale),
    times LSQ's 1 / sqrt(elements per image x QMAX): a sum over a whole feature map would
    otherwise dwarf every weight's gradient (and take the global gradient clip)."""
    g = 1.0 / (float(x[0].numel()) * QMAX) ** 0.5
    scale = scale * g + (scale - scale * g).detach()     # the value of scale, its gradient x g
    v = torch.clamp(x / scale, QMIN, QMAX)
    return (v + (round_half_up(v) - v).detach()) * scale


class ActQuant(nn.Module):
    """Static per-tensor symmetric int8 fake quantizer (zero point 0).

    `scale` is a buffer (0 = not calibrated: identity). While `observing`, every
    forward records, per batch item, the `percentile` of |x| and the max |x|.
    `finish_calibration()` sets scale = mean(per-image percentile) / 127.
    """

    def __init__(self, percentile: float = 99.99):
        super().__init__()
        self.register_buffer("scale", torch.zeros(()))
        self.enabled = False
        self.observing = False
        self.percentile = percentile
        self.samples: List[float] = []
        self.max_seen = 0.0

    def extra_repr(self) -> str:
        return f"scale={float(self.scale):.6g}, enabled={self.enabled}"

    @torch.no_grad()
    def observe(self, x: torch.Tensor) -> None:
        flat = x.detach().abs().reshape(x.shape[0], -1).float()
        n = flat.shape[1]
        k = max(1, int(round(n * (1.0 - self.percentile / 100.0))))
        top = torch.topk(flat, k, dim=1).values        # [B, k]
        self.samples.extend(top[:, -1].tolist())
        self.max_seen = max(self.max_seen, float(top[:, 0].max()))

    def finish_calibration(self) -> None:
        if self.samples:
            v = sum(self.samples) / len(self.samples)
            self.scale.fill_(max(v, 1e-8) / QMAX)
        self.samples = []
        self.observing = False

    def make_learnable(self) -> None:
        """The scale becomes a parameter trained by LSQ (Esser et al. 2020): the forward is
        the same grid, and the scale gets the gradient of round(v) * s at v = x / s (the
        rounding error inside the range, the clip level outside). Same state_dict key."""
        if not isinstance(self.scale, nn.Parameter):
            self.scale = nn.Parameter(self.scale.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.observing:
            self.observe(x)
        if self.enabled and float(self.scale) > 0:
            # fp32 whatever the autocast dtype: the grid must be the engine's exactly
            if isinstance(self.scale, nn.Parameter) and self.scale.requires_grad and torch.is_grad_enabled():
                return lsq_quant(x.float(), self.scale)
            return fake_quant(x.float(), self.scale)
        return x


def ternarize(w: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel absmean ternarization of OIHW weights.

    Returns (t, gamma): t in {-1, 0, +1} (|w| > gamma / 2 keeps the sign), gamma = mean |w|
    per output channel (the threshold scale). No gradient."""
    with torch.no_grad():
        gamma = w.abs().mean(dim=(1, 2, 3)).clamp_min(1e-12)
        t = torch.sign(w) * (w.abs() > 0.5 * gamma[:, None, None, None]).to(w.dtype)
    return t, gamma


def ls_scale(w: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Least-squares per-channel scale for w ~ alpha * t: alpha = sum(|w| |t|) / sum(|t|)."""
    num = (w.abs() * t.abs()).sum(dim=(1, 2, 3))
    den = t.abs().sum(dim=(1, 2, 3)).clamp_min(1.0)
    return num / den


def mse_grid_scale(w: torch.Tensor, levels: int, steps: int = 64) -> torch.Tensor:
    """Per-output-channel scale s minimising |w - s * clamp(round(w / s), -L, L)|^2, searched over
    s = max|w| * f / L for f in (0, 1] (no gradient)."""
    with torch.no_grad():
        wf = w.reshape(w.shape[0], -1).double()
        amax = wf.abs().max(dim=1).values.clamp_min(1e-12)
        best_s, best_e = None, None
        for f in torch.linspace(1.0 / steps, 1.0, steps, dtype=torch.float64):
            s = amax * f / levels
            e = ((torch.clamp(torch.floor(wf / s[:, None] + 0.5), -levels, levels) * s[:, None] - wf) ** 2).sum(dim=1)
            if best_e is None:
                best_s, best_e = s, e
            else:
                better = e < best_e
                best_s = torch.where(better, s, best_s)
                best_e = torch.where(better, e, best_e)
        return best_s.to(w.dtype)


class BitConv2d(nn.Module):
    """Ternary conv (OIHW weight + bias, BatchNorm already folded in).

    act: "silu" (pre-activation quantizer, SiLU, output quantizer),
         "none" (raw output, the head's BitLinear; no output quantizer).
    `quant_weights`: ternary (True) or full precision (False).
    `learn_scale`: use the `w_scale` parameter (init by `init_scale()`) instead of the LS scale
    recomputed from the current weights.
    """

    def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1, pad: Optional[int] = None,
                 act: str = "silu"):
        super().__init__()
        assert act in ("silu", "none")
        self.c_in, self.c_out, self.k, self.stride = c_in, c_out, k, stride
        self.pad = k // 2 if pad is None else pad
        self.act = act
        self.weight = nn.Parameter(torch.zeros(c_out, c_in, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.w_scale = nn.Parameter(torch.ones(c_out))
        # scale of this conv's int8 input (set by the model after calibration; 0 = unknown).
        # With activation quantization on, the bias is rounded to the accumulator grid
        # s_in * alpha exactly as the exporter does.
        self.register_buffer("in_scale", torch.zeros(()))
        self.quant_weights = False
        self.learn_scale = False
        self.terms = 1                                  # k of the multi-ternary decomposition
        # k = 1 on the LSQ grid path (L = 1: clipped STE, threshold alpha / 2, MSE-grid initial
        # scale) instead of the absmean threshold with an unclipped STE; YOLOv8Bit.set_k1_lsq
        self.k1_lsq = False
        self.quant_bias = False
        if act == "silu":
            self.pre_q = ActQuant()
            self.out_q = ActQuant()

    def extra_repr(self) -> str:
        return (f"{self.c_in}, {self.c_out}, k={self.k}, stride={self.stride}, pad={self.pad}, "
                f"act={self.act}, quant_weights={self.quant_weights}")

    @property
    def lsq(self) -> bool:
        """Quantized on the [-L, L] grid with the LSQ gradient (every k > 1; k = 1 with k1_lsq)."""
        return self.terms > 1 or self.k1_lsq

    @property
    def levels(self) -> int:
        """L: the integer weights are in [-L, L] (1 for plain ternary)."""
        return (3 ** self.terms - 1) // 2

    @torch.no_grad()
    def init_scale(self) -> None:
        """Sets the learnable scale to the least-squares scale of the current weights
        (on the grid path: the per-channel scale with the least squared error on [-L, L])."""
        if not self.lsq:
            t, _ = ternarize(self.weight)
            self.w_scale.copy_(ls_scale(self.weight, t))
        else:
            self.w_scale.copy_(mse_grid_scale(self.weight, self.levels))

    def int_weights(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(q int32 OIHW in [-L, L], alpha [out_c] float): what the exporter writes
        (for k = 1 off the grid path the same as `ternary()`)."""
        if not self.lsq:
            t, alpha = self.ternary()
            return t.to(torch.int32), alpha
        with torch.no_grad():
            alpha = self._grid_scale()
            q = torch.clamp(round_half_up(self.weight / alpha[:, None, None, None]), -self.levels, self.levels)
        return q.to(torch.int32), alpha.detach().clone()

    def _grid_scale(self) -> torch.Tensor:
        if self.learn_scale:
            return self.w_scale.clamp_min(1e-8)
        return mse_grid_scale(self.weight.detach(), self.levels)

    def ternary(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(t int8 OIHW in {-1,0,1}, alpha [out_c] float): what the exporter writes."""
        t, alpha = self.ternary_scale()
        return t.to(torch.int8), alpha.detach().clone()

    def ternary_scale(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(t float OIHW in {-1,0,1}, alpha [out_c]) without gradient through t."""
        t, _ = ternarize(self.weight)
        alpha = self.w_scale if self.learn_scale else ls_scale(self.weight, t)
        return t, alpha.clamp_min(1e-8)

    def _effective(self) -> Tuple[torch.Tensor, torch.Tensor]:
        if not self.quant_weights:
            return self.weight, self.bias
        if not self.lsq:
            t, gamma = ternarize(self.weight)
            alpha = (self.w_scale if self.learn_scale else ls_scale(self.weight, t)).clamp_min(1e-8)
            wn = self.weight / gamma[:, None, None, None]
            t_ste = wn + (t - wn).detach()               # straight-through estimator
            w = t_ste * alpha[:, None, None, None]
        else:                                            # LSQ: gradient to w inside the grid and to alpha
            alpha = self._grid_scale()
            v = torch.clamp(self.weight / alpha[:, None, None, None], -self.levels, self.levels)
            w = (v + (round_half_up(v) - v).detach()) * alpha[:, None, None, None]
        b = self.bias
        if self.quant_bias and float(self.in_scale) > 0:
            unit = self.in_scale * alpha                 # one accumulator step in real units
            bq = (torch.floor(b.detach().double() / unit.detach().double() + 0.5) * unit.detach().double()).float()
            b = b + (bq - b).detach()
        return w, b

    def effective(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The (weight, bias) the forward pass uses: full precision, or ternary * alpha with
        the bias on the accumulator grid (when activation quantization is on)."""
        if torch.is_grad_enabled():
            return self._effective()
        # inference: cache until the parameters or the switches change
        key = (self.weight._version, self.bias._version, self.w_scale._version, self.in_scale._version,
               self.weight.data_ptr(), self.quant_weights, self.quant_bias, self.learn_scale, self.terms, self.k1_lsq)
        if getattr(self, "_cache_key", None) != key:
            self._cache = self._effective()
            self._cache_key = key
        return self._cache

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.effective()
        y = F.conv2d(x, w, b, self.stride, self.pad)
        if self.act == "silu":
            # with the quantizers on this is exactly the engine's table:
            # out = clamp(round(silu(p * s_pre) / s_out)) for the int8 pre-activation p
            # (fp32 here under bf16 autocast: the table emulation is not bf16-exact)
            y = self.out_q(F.silu(self.pre_q(y.float())))
        return y


class BitLinear(BitConv2d):
    """Per-location linear layer (1x1 ternary conv) with raw (int32 in the engine) output."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, k=1, stride=1, pad=0, act="none")


class BitFFN(nn.Module):
    """C2f bottleneck: BitConv 3x3 (SiLU) -> BitConv 3x3 (SiLU), plus the input when shortcut."""

    def __init__(self, c: int, shortcut: bool = True):
        super().__init__()
        self.cv1 = BitConv2d(c, c, 3)
        self.cv2 = BitConv2d(c, c, 3)
        self.shortcut = shortcut
        if shortcut:
            self.add_q = ActQuant()

    def out_quant(self) -> ActQuant:
        return self.add_q if self.shortcut else self.cv2.out_q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return self.add_q(x + y) if self.shortcut else y


class QConcat(nn.Module):
    """Channel concat re-quantized to one output scale (set from the inputs' scales by
    the model: the largest of them, so that input is an exact copy)."""

    def __init__(self):
        super().__init__()
        self.q = ActQuant()

    def forward(self, xs: List[torch.Tensor]) -> torch.Tensor:
        return self.q(torch.cat(xs, dim=1))


def act_quantizers(model: nn.Module) -> List[ActQuant]:
    return [m for m in model.modules() if isinstance(m, ActQuant)]


def set_quant(model: nn.Module, weights: bool, acts: bool) -> None:
    """Switches ternary weights and int8 activation fake-quant on or off everywhere."""
    for m in model.modules():
        if isinstance(m, BitConv2d):
            m.quant_weights = weights
            m.quant_bias = acts
        if isinstance(m, ActQuant):
            m.enabled = acts
