"""YOLOv8n (width 0.25, depth 0.33, 80 classes) built from BitNet modules (torch).

Module names follow Ultralytics (`model.<i>...`), so the BN-folded teacher npz
loads with a plain key mapping: `<m>.conv.weight` -> `<m>.weight` (and `.bias`).
With `set_quant(model, False, False)` it is the fp32 teacher.

The forward pass returns the raw head logits per level: a list of
(box [B, 4*reg_max, H, W], cls [B, nc, H, W]) for strides 8, 16, 32.

Checkpoint layout (for training scripts): `torch.save({"model": model.state_dict(),
"config": model.config}, path)`; a bare state_dict is accepted too. BitConv2d keys:
`weight` (OIHW float), `bias`, `w_scale` (used only when learn_scale is set);
quantizer scales are buffers `...pre_q.scale`, `...out_q.scale`, `...add_q.scale`,
`...q.scale` (0 = uncalibrated).
"""
from __future__ import annotations

import math
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .nn import ActQuant, BitConv2d, BitFFN, BitLinear, QConcat, act_quantizers, set_quant


def _w(c: int, width: float, max_c: int = 1024) -> int:
    return int(math.ceil(min(c, max_c) * width / 8) * 8)


def _n(n: int, depth: float) -> int:
    return max(round(n * depth), 1) if n > 1 else n


class Conv(BitConv2d):
    """Ultralytics Conv = conv + (folded) BN + SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1):
        super().__init__(c1, c2, k, s, k // 2, act="silu")


class C2f(nn.Module):
    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.m = nn.ModuleList(BitFFN(self.c, shortcut) for _ in range(n))
        self.cat = QConcat()
        self.cv2 = Conv((2 + n) * self.c, c2, 1)

    def out_quant(self) -> ActQuant:
        return self.cv2.out_q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.cv1(x)
        ys = [a]
        y = a[:, self.c:]
        for m in self.m:
            y = m(y)
            ys.append(y)
        return self.cv2(self.cat(ys))


class SPPF(nn.Module):
    def __init__(self, c1: int, c2: int, k: int = 5):
        super().__init__()
        c_ = c1 // 2
        self.k = k
        self.cv1 = Conv(c1, c_, 1)
        self.cat = QConcat()
        self.cv2 = Conv(c_ * 4, c2, 1)

    def out_quant(self) -> ActQuant:
        return self.cv2.out_q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(F.max_pool2d(y[-1], self.k, 1, self.k // 2))
        return self.cv2(self.cat(y))


class Upsample(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")


class Detect(nn.Module):
    def __init__(self, nc: int, ch: Tuple[int, ...], reg_max: int = 16):
        super().__init__()
        self.nc, self.reg_max = nc, reg_max
        c2 = max(16, ch[0] // 4, reg_max * 4)
        c3 = max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), BitLinear(c2, 4 * reg_max))
                                 for x in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), BitLinear(c3, nc)) for x in ch)
        self.strides = (8, 16, 32)

    def forward(self, xs: List[torch.Tensor]) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        return [(self.cv2[i](x), self.cv3[i](x)) for i, x in enumerate(xs)]


class YOLOv8Bit(nn.Module):
    # Ultralytics' concat sources of the neck: layer -> (previous layer, skip layer)
    NECK_CONCATS = {11: 6, 14: 4, 17: 12, 20: 9}

    def __init__(self, nc: int = 80, width: float = 0.25, depth: float = 0.33, reg_max: int = 16,
                 terms: Optional[Dict[str, int]] = None, max_channels: int = 1024):
        super().__init__()
        self.config = {"nc": nc, "width": width, "depth": depth, "reg_max": reg_max}
        if max_channels != 1024:   # Ultralytics' max_channels (m: 768, l/x: 512); 1024 = n/s, not recorded
            self.config["max_channels"] = max_channels
        self.nc, self.reg_max = nc, reg_max

        def W(c: int) -> int:
            return _w(c, width, max_channels)

        def N(n: int) -> int:
            return _n(n, depth)

        layers: List[nn.Module] = [
            Conv(3, W(64), 3, 2),                       # 0  P1/2
            Conv(W(64), W(128), 3, 2),                  # 1  P2/4
            C2f(W(128), W(128), N(3), True),            # 2
            Conv(W(128), W(256), 3, 2),                 # 3  P3/8
            C2f(W(256), W(256), N(6), True),            # 4
            Conv(W(256), W(512), 3, 2),                 # 5  P4/16
            C2f(W(512), W(512), N(6), True),            # 6
            Conv(W(512), W(1024), 3, 2),                # 7  P5/32
            C2f(W(1024), W(1024), N(3), True),          # 8
            SPPF(W(1024), W(1024), 5),                  # 9
            Upsample(),                                 # 10
            QConcat(),                                  # 11 [10, 6]
            C2f(W(1024) + W(512), W(512), N(3)),        # 12
            Upsample(),                                 # 13
            QConcat(),                                  # 14 [13, 4]
            C2f(W(512) + W(256), W(256), N(3)),         # 15 (P3/8 out)
            Conv(W(256), W(256), 3, 2),                 # 16
            QConcat(),                                  # 17 [16, 12]
            C2f(W(256) + W(512), W(512), N(3)),         # 18 (P4/16 out)
            Conv(W(512), W(512), 3, 2),                 # 19
            QConcat(),                                  # 20 [19, 9]
            C2f(W(512) + W(1024), W(1024), N(3)),       # 21 (P5/32 out)
            Detect(nc, (W(256), W(512), W(1024)), reg_max),   # 22
        ]
        self.model = nn.ModuleList(layers)
        if terms:
            self.set_terms(terms)

    def set_terms(self, terms: Dict[str, int]) -> None:
        """Multi-ternary layers: {conv module name (as named_modules, e.g. "model.0"): k}; the
        others stay plain ternary. Recorded in `config` (checkpoints carry it). Does not rescale:
        call `init_scale()` on the changed layers when their weights are already loaded."""
        convs = {n: m for n, m in self.named_modules() if isinstance(m, BitConv2d)}
        for n, k in terms.items():
            if n not in convs:
                raise KeyError(f"terms: {n} is not a conv layer")
            if not 1 <= int(k) <= 5:
                raise ValueError(f"terms: {n}: k = {k} not in 1..5")
            convs[n].terms = int(k)
            convs[n]._cache_key = None
        self.config["terms"] = {n: m.terms for n, m in convs.items() if m.terms != 1}
        if not self.config["terms"]:
            del self.config["terms"]

    # -- forward --------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """x: [B, 3, S, S] RGB in [0, 1] (pixel / 255). Returns [(box, cls)] per stride."""
        m = self.model
        y: Dict[int, torch.Tensor] = {}
        for i in range(10):
            x = m[i](x)
            y[i] = x
        for i in range(10, 22):
            if i in self.NECK_CONCATS:
                x = m[i]([x, y[self.NECK_CONCATS[i]]])
            else:
                x = m[i](x)
            y[i] = x
        return m[22]([y[15], y[18], y[21]])

    # -- quantization helpers ---------------------------------------------------------------------
    def out_quant(self, i: int) -> Optional[ActQuant]:
        """The quantizer that defines the scale of layer i's output."""
        mod = self.model[i]
        if isinstance(mod, BitConv2d):
            return mod.out_q
        if isinstance(mod, (C2f, SPPF)):
            return mod.out_quant()
        if isinstance(mod, QConcat):
            return mod.q
        if isinstance(mod, Upsample):
            return self.out_quant(i - 1)
        return None

    def concat_sources(self) -> List[Tuple[QConcat, List[ActQuant]]]:
        """Each concat with the quantizers of its inputs."""
        res: List[Tuple[QConcat, List[ActQuant]]] = []
        for i, mod in enumerate(self.model):
            if isinstance(mod, C2f):
                res.append((mod.cat, [mod.cv1.out_q] + [b.out_quant() for b in mod.m]))
            elif isinstance(mod, SPPF):
                res.append((mod.cat, [mod.cv1.out_q] * 4))
            elif isinstance(mod, QConcat):
                res.append((mod, [self.out_quant(i - 1), self.out_quant(self.NECK_CONCATS[i])]))
        return res

    def start_calibration(self, percentile: float = 99.99) -> None:
        """Observers on (concat quantizers excluded: they follow their inputs)."""
        cats = {id(c.q) for c, _ in self.concat_sources()}
        for q in act_quantizers(self):
            q.enabled = False
            if id(q) not in cats:
                q.observing = True
                q.percentile = percentile
                q.samples = []

    def learnable_act_quantizers(self) -> List[ActQuant]:
        """The quantizers whose scales are free (pre-SiLU, output, residual): the concat
        quantizers are left out, they follow their inputs (set_concat_scales)."""
        cats = {id(c.q) for c, _ in self.concat_sources()}
        return [q for q in act_quantizers(self) if id(q) not in cats]

    def finish_calibration(self) -> None:
        cats = {id(c.q) for c, _ in self.concat_sources()}
        for q in act_quantizers(self):
            if id(q) not in cats:
                q.finish_calibration()
        self.set_concat_scales()
        self.set_input_scales()

    @torch.no_grad()
    def set_concat_scales(self) -> None:
        """Concat output scale = the largest input scale (that input is copied exactly)."""
        for cat, srcs in self.concat_sources():
            cat.q.scale.fill_(max(float(q.scale) for q in srcs))

    @torch.no_grad()
    def set_input_scales(self) -> None:
        """Stores in every BitConv2d the scale of its int8 input (the graph's wiring)."""
        def conv(c: BitConv2d, s_in: float) -> float:
            c.in_scale.fill_(s_in)
            return float(c.out_q.scale) if c.act == "silu" else 0.0

        def block(i: int, s_in: float) -> float:
            mod = self.model[i]
            if isinstance(mod, C2f):
                s = conv(mod.cv1, s_in)
                for b in mod.m:
                    conv(b.cv2, conv(b.cv1, s))
                    s = float(b.out_quant().scale)
                return conv(mod.cv2, float(mod.cat.q.scale))
            if isinstance(mod, SPPF):
                conv(mod.cv1, s_in)
                return conv(mod.cv2, float(mod.cat.q.scale))
            if isinstance(mod, BitConv2d):
                return conv(mod, s_in)
            q = self.out_quant(i)
            return float(q.scale)

        s = 1.0 / 255.0
        for i in range(22):
            s = block(i, s)
        det = self.model[22]
        for lvl, src in enumerate((15, 18, 21)):
            s_p = float(self.out_quant(src).scale)
            for br in (det.cv2[lvl], det.cv3[lvl]):
                conv(br[2], conv(br[1], conv(br[0], s_p)))

    def set_quant(self, weights: bool, acts: bool) -> None:
        set_quant(self, weights, acts)

    # -- weights ---------------------------------------------------------------------------------
    def load_teacher(self, npz_path: str) -> None:
        """Loads the BN-folded Ultralytics teacher npz (keys `<m>.conv.weight` / `<m>.weight`)."""
        d = np.load(npz_path)
        sd = self.state_dict()
        loaded = set()
        for k in d.files:
            if k.startswith("model.22.dfl") or k == TEACHER_META_KEY:
                continue
            nk = k.replace(".conv.weight", ".weight").replace(".conv.bias", ".bias")
            if nk not in sd:
                raise KeyError(f"teacher key {k} -> {nk} not in the model")
            if tuple(sd[nk].shape) != d[k].shape:
                raise ValueError(f"{k}: shape {d[k].shape} vs {tuple(sd[nk].shape)}")
            sd[nk] = torch.from_numpy(np.array(d[k], dtype=np.float32))
            loaded.add(nk)
        missing = [k for k, v in sd.items() if k.endswith((".weight", ".bias")) and k not in loaded]
        if missing:
            raise KeyError(f"not in the teacher: {missing[:5]}")
        self.load_state_dict(sd)
        for m in self.modules():
            if isinstance(m, BitConv2d):
                m.init_scale()

    def set_k1_lsq(self, on: bool = True) -> None:
        """Plain-ternary (k = 1) convs on the LSQ grid path (BitConv2d.k1_lsq), recorded in
        `config` so that a checkpoint and its export use the same weights. Does not rescale:
        call `init_scale()` (or retarget_terms) on k = 1 layers whose scale came from the
        absmean path."""
        for m in self.modules():
            if isinstance(m, BitConv2d):
                m.k1_lsq = bool(on)
                m._cache_key = None
        if on:
            self.config["k1_lsq"] = True
        else:
            self.config.pop("k1_lsq", None)

    def retarget_terms(self, terms: Dict[str, int]) -> List[str]:
        """Sets every conv's k to `terms` (missing = 1) and re-initialises the scale of the layers
        whose k changed. Returns their names.

        A layer with a learned scale whose k goes up keeps exactly the function it has: its
        integer weights q (at scale alpha) become 3^dk * q at scale alpha / 3^dk, which the
        finer grid holds (3^dk * L_old <= L_new), and its latent weights go onto those grid
        points, so training continues from the trained model and the new levels are there to
        use. (Re-rounding the latent weights onto the finer grid instead moved the outputs:
        0.3362 -> 0.3284 mAP for four k = 2 -> 3 layers of v8n-mt32-h.) Any other change (k down,
        or no learned scale) re-initialises the scale from the weights (least squares)."""
        convs = {n for n, m in self.named_modules() if isinstance(m, BitConv2d)}
        unknown = sorted(set(terms) - convs)
        if unknown:                      # a misspelt layer would silently stay at k = 1
            raise KeyError(f"terms: not conv layers of this model: {unknown[:5]}")
        changed = []
        exact = {}
        for n, m in self.named_modules():
            if isinstance(m, BitConv2d) and m.terms != int(terms.get(n, 1)):
                changed.append(n)
                if m.learn_scale and int(terms.get(n, 1)) > m.terms:
                    exact[n] = (m.int_weights(), 3 ** (int(terms.get(n, 1)) - m.terms))
        self.set_terms({n: int(terms.get(n, 1)) for n in changed})
        with torch.no_grad():
            for n, m in self.named_modules():
                if n not in changed:
                    continue
                if n in exact:
                    (q, alpha), factor = exact[n]
                    m.w_scale.copy_(alpha / factor)
                    m.weight.copy_((q * factor).to(m.weight.dtype) * m.w_scale.view(-1, 1, 1, 1))
                else:
                    m.init_scale()
        return changed

    def load_checkpoint(self, path) -> None:
        """A checkpoint file, or its already loaded dict (so a caller that reads its meta loads it once)."""
        ck = torch.load(path, map_location="cpu") if isinstance(path, (str, os.PathLike)) else path
        sd = ck["model"] if isinstance(ck, dict) and "model" in ck else ck
        config = ck.get("config") if isinstance(ck, dict) else None
        if isinstance(config, dict) and config.get("terms"):
            self.set_terms(config["terms"])
        if isinstance(config, dict) and config.get("k1_lsq"):
            self.set_k1_lsq(True)
        self.load_state_dict(sd)
        if isinstance(ck, dict) and ck.get("learn_scale"):
            for m in self.modules():
                if isinstance(m, BitConv2d):
                    m.learn_scale = True


# Imported teachers (tools/import_onnx.py) carry their configuration in the npz under this key:
# a 0-d unicode array holding a JSON object {"format": "bitfalcon-teacher", "version": 1,
# "nc", "width", "depth", "max_channels", "reg_max", "names": [...], "imgsz": [h, w],
# "stride", "source": {...}}. The COCO teacher npz has no such key (= COCO80 defaults).
TEACHER_META_KEY = "_bitfalcon_meta"
TEACHER_MODEL_KEYS = ("nc", "width", "depth", "reg_max", "max_channels")


def teacher_meta(npz_path: str) -> Dict:
    """The npz's metadata (empty dict for the COCO teacher npz, which has none)."""
    import json
    with np.load(npz_path) as d:
        if TEACHER_META_KEY not in d.files:
            return {}
        meta = json.loads(str(d[TEACHER_META_KEY][()]))
    if not isinstance(meta, dict) or meta.get("format") != "bitfalcon-teacher":
        raise ValueError(f"{npz_path}: {TEACHER_META_KEY} is not bitfalcon-teacher metadata")
    return meta


def teacher_names(npz_path: str) -> List[str]:
    """Class names of a teacher npz (COCO80 when it has no metadata)."""
    meta = teacher_meta(npz_path)
    if "names" in meta:
        return [str(n) for n in meta["names"]]
    from .coco import COCO80
    return list(COCO80)


def build_teacher(npz_path: str) -> YOLOv8Bit:
    """The fp32 teacher: the student graph with quantization off (nc/width/depth/... from the
    npz metadata when present, else the COCO YOLOv8n defaults)."""
    meta = teacher_meta(npz_path)
    m = YOLOv8Bit(**{k: meta[k] for k in TEACHER_MODEL_KEYS if k in meta})
    m.load_teacher(npz_path)
    m.set_quant(False, False)
    return m.eval()


def head_outputs_nhwc(outs: List[Tuple[torch.Tensor, torch.Tensor]], index: int = 0):
    """[(kind, stride, NHWC float64 numpy array, None)] of batch item `index`, box/cls per stride."""
    res = []
    for (b, c), s in zip(outs, (8, 16, 32)):
        res.append((0, s, b[index].permute(1, 2, 0).double().numpy()))
        res.append((1, s, c[index].permute(1, 2, 0).double().numpy()))
    return res
