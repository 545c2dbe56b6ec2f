"""Oscillation freezing for quantization-aware training (Nagel et al., "Overcoming oscillations in
quantization-aware training", ICML 2022, section 4.2).

Late in QAT a latent weight that sits near a rounding boundary keeps crossing it back and forth:
its integer flips between two grid points while the rest of the network chases the flips, and
which side an exported (or EMA-averaged) weight ends on is a coin toss. The freezer tracks, per
weight of every multi-plane layer, an exponential moving average of oscillation events (the
integer moved in the opposite direction of its previous move) and of the integer itself. Once a
weight's oscillation frequency exceeds the threshold it is frozen: its latent value is held at
the centre of the grid point nearest its integer average, q * alpha, for the rest of the run
(alpha keeps being learned), so the network adapts to a fixed value.

Only layers on the LSQ grid (`BitConv2d.lsq`: k >= 2 planes, or k = 1 with k1_lsq) are tracked; plain ternary
layers round through a threshold tied to their own weights and are left alone.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

import torch

from .nn import BitConv2d, round_half_up


class OscillationFreezer:
    """Per-weight oscillation tracking and freezing over a model's multi-plane BitConv2d layers.

    threshold: freeze a weight once its oscillation-frequency EMA exceeds this (e.g. 0.02: one
    direction change every 50 steps, sustained); momentum: the EMAs' decay per step.
    """

    def __init__(self, named_convs: Iterable[Tuple[str, BitConv2d]], threshold: float,
                 momentum: float = 0.99, state: Optional[dict] = None):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"oscillation threshold {threshold} is not in (0, 1]")
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"oscillation momentum {momentum} is not in (0, 1)")
        self.threshold = threshold
        self.momentum = momentum
        self.convs: Dict[str, BitConv2d] = {n: m for n, m in named_convs if m.lsq}
        self.q_prev: Dict[str, torch.Tensor] = {}
        self.last_dir: Dict[str, torch.Tensor] = {}
        self.freq: Dict[str, torch.Tensor] = {}
        self.q_avg: Dict[str, torch.Tensor] = {}
        self.frozen: Dict[str, torch.Tensor] = {}
        self.frozen_q: Dict[str, torch.Tensor] = {}
        self.steps = 0
        self.last_osc_rate = 0.0
        for name, m in self.convs.items():
            q = self._ints(m)
            self.q_prev[name] = q.to(torch.int8)
            self.last_dir[name] = torch.zeros_like(q, dtype=torch.int8)
            self.freq[name] = torch.zeros_like(q, dtype=torch.float32)
            self.q_avg[name] = q.float()
            self.frozen[name] = torch.zeros_like(q, dtype=torch.bool)
            self.frozen_q[name] = torch.zeros_like(q, dtype=torch.int8)
        if state:
            self.load_state(state)

    @staticmethod
    def _ints(m: BitConv2d) -> torch.Tensor:
        """The layer's integer weights, int8 (|q| <= L <= 121 for k <= 5)."""
        return m.int_weights()[0].to(torch.int8)

    @torch.no_grad()
    def step(self) -> None:
        """After each optimizer step: count oscillations, freeze the weights over the threshold,
        and put every frozen weight back on its grid point."""
        mo = self.momentum
        osc_events = 0
        tracked = 0
        for name, m in self.convs.items():
            q = self._ints(m)
            move = torch.sign(q.to(torch.int16) - self.q_prev[name].to(torch.int16)).to(torch.int8)
            osc = (move != 0) & (self.last_dir[name] != 0) & (move != self.last_dir[name])
            self.last_dir[name] = torch.where(move != 0, move, self.last_dir[name])
            self.q_prev[name] = q
            free = ~self.frozen[name]
            osc_events += int((osc & free).sum())
            tracked += int(free.sum())
            self.freq[name].mul_(mo).add_(osc.float(), alpha=1.0 - mo)
            self.q_avg[name].mul_(mo).add_(q.float(), alpha=1.0 - mo)
            new = free & (self.freq[name] > self.threshold)
            if bool(new.any()):
                self.frozen_q[name] = torch.where(new, torch.clamp(round_half_up(self.q_avg[name]), -m.levels,
                                                                   m.levels).to(torch.int8), self.frozen_q[name])
                self.frozen[name] |= new
            self.hold(m, name)
        self.steps += 1
        self.last_osc_rate = osc_events / max(tracked, 1)

    @torch.no_grad()
    def hold(self, m: BitConv2d, name: str) -> None:
        fz = self.frozen[name]
        if bool(fz.any()):
            w = self.frozen_q[name].float() * m.int_weights()[1].view(-1, 1, 1, 1)
            m.weight.copy_(torch.where(fz, w.to(m.weight.dtype), m.weight))

    @torch.no_grad()
    def apply_to_state_dict(self, sd: dict) -> dict:
        """Puts the frozen weights (at the state dict's own scales) into `sd` (e.g. the EMA
        weights the run validates and exports), so the frozen values are what ships."""
        for name, m in self.convs.items():
            fz = self.frozen[name]
            if not bool(fz.any()):
                continue
            p = name + "."
            w, s = sd[p + "weight"], sd[p + "w_scale"] if m.learn_scale else None
            alpha = (s.float().clamp_min(1e-8) if s is not None else m.int_weights()[1]).view(-1, 1, 1, 1)
            sd[p + "weight"] = torch.where(fz, (self.frozen_q[name].float() * alpha).to(w.dtype), w)
        return sd

    def frozen_fraction(self) -> float:
        n = sum(int(f.numel()) for f in self.frozen.values())
        return sum(int(f.sum()) for f in self.frozen.values()) / max(n, 1)

    def state(self) -> dict:
        return {"threshold": self.threshold, "momentum": self.momentum, "steps": self.steps,
                "q_prev": self.q_prev, "last_dir": self.last_dir, "freq": self.freq, "q_avg": self.q_avg,
                "frozen": self.frozen, "frozen_q": self.frozen_q}

    def load_state(self, st: dict) -> None:
        self.steps = int(st.get("steps", 0))
        for key in ("q_prev", "last_dir", "freq", "q_avg", "frozen", "frozen_q"):
            table: Dict[str, torch.Tensor] = getattr(self, key)
            for name, v in st.get(key, {}).items():
                if name in table and table[name].shape == v.shape:
                    table[name] = v.to(table[name].dtype).clone()


def multi_plane_convs(model: torch.nn.Module) -> List[Tuple[str, BitConv2d]]:
    """(name, conv) of every BitConv2d on the LSQ grid (k >= 2 planes, or k = 1 with k1_lsq), in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, BitConv2d) and m.lsq]
