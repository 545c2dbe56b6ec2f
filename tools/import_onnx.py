#!/usr/bin/python3
"""Imports an Ultralytics YOLOv8 detect ONNX export as a BitFalcon teacher npz.

    /usr/bin/python3 tools/import_onnx.py MODEL.onnx -o TEACHER.npz
    /usr/bin/python3 tools/detect_teacher.py --teacher TEACHER.npz --images DIR -o dets.json

Input: what `yolo export format=onnx` writes for a YOLOv8 detector (opsets 11-17, fixed
or dynamic input, BatchNorm folded by the export; an unfolded BatchNormalization after a
conv is folded here), or tools/export_onnx.py's file. The graph is matched structurally
from `images` forward: stem conv, C2f (Split / Slice halves, bottlenecks with or without
the residual Add), SPPF (3 chained 5x5 max pools), nearest 2x Resize, the neck's concats
with Ultralytics' sources (11: [10, 6], 14: [13, 4], 17: [16, 12], 20: [19, 9]) and the
Detect head's two branches per level (conv 3x3, conv 3x3, conv 1x1; 4*16 box channels and
nc class channels). SiLU is Sigmoid + Mul. Node names are not relied on. A graph that does
not fit (YOLOv5's 6x6 stem, YOLO11's C2PSA / depthwise head, segmentation or pose outputs,
a modified neck, a quantized export) is refused with the name of the node that does not fit.

Metadata (metadata_props): `names` (Ultralytics' dict literal, or a list / JSON), `imgsz`,
`stride`. The scale is read off the weights: width = channels of the stem / 64,
max_channels from layer 7, depth from the bottleneck counts (n/s: 0.33, m: 0.67, l/x: 1.0).

Output npz, the layout tools/bitfalcon/yolo.py `load_teacher` reads (the COCO teacher's):
    model.<i>...conv.weight / .conv.bias   every Conv (BN folded), OIHW float32
    model.22.cv{2,3}.<l>.2.weight / .bias  the head's 1x1 predictors
    model.22.dfl.conv.weight               arange(16) [1, 16, 1, 1]
    _bitfalcon_meta                        0-d unicode array, JSON: {"format":
        "bitfalcon-teacher", "version": 1, "nc", "width", "depth", "max_channels",
        "reg_max", "names": [...], "imgsz": [h, w], "stride", "source": {"file",
        "opset", "producer", "dynamic"}, "verify": {"size", "max_abs_box_px",
        "max_abs_score"}}
`build_teacher(npz)` builds the network from that metadata.

Verification (unless --no-verify): the ONNX graph is run by a small numpy evaluator of the
ops these exports use, on a letterboxed sample image (--verify-image, at the fixed input
size, else imgsz, else 640), and the imported network (the project's PyTorch YOLOv8Bit,
quantization off, plus Ultralytics' DFL / dist2bbox decode) on the same input. The max abs
differences of boxes (px) and scores are printed; above --box-tol / --score-tol the import
fails (exit 1) and no npz is written. Exit 2: the graph does not map.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

import _common  # noqa: F401
from bitfalcon.teacher import state_dict_to_teacher, write_teacher_npz

NECK_CONCATS = {11: (10, 6), 14: (13, 4), 17: (16, 12), 20: (19, 9)}
DEPTHS = {1: 0.33, 2: 0.67, 3: 1.0}     # bottlenecks in layer 2 (N(3)) -> Ultralytics depth


class MapError(Exception):
    """The graph does not map onto YOLOv8 (message names the node)."""


# ---------------------------------------------------------------------------------------------
# ONNX graph helpers
# ---------------------------------------------------------------------------------------------
def _attrs(node) -> Dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _nd(node) -> str:
    return f"node {node.name or '(unnamed)'} ({node.op_type})"


class Graph:
    def __init__(self, model):
        from onnx import numpy_helper
        self.model = model
        g = model.graph
        self.const: Dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.producer = {}
        self.consumers: Dict[str, List] = {}
        for n in g.node:
            for o in n.output:
                self.producer[o] = n
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(n)
            if n.op_type == "Constant":
                a = _attrs(n)
                if "value" in a:
                    self.const[n.output[0]] = numpy_helper.to_array(a["value"])
        self.opset = max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [0])

    def users(self, t: str, skip_identity: bool = True) -> List:
        """Consumers of t, looking through Identity and float Casts."""
        res = []
        for n in self.consumers.get(t, []):
            if skip_identity and (n.op_type == "Identity" or (n.op_type == "Cast" and _attrs(n).get("to") == 1)):
                res.extend(self.users(n.output[0]))
            else:
                res.append(n)
        return res

    def base(self, t: str) -> str:
        """t with Identity / float Cast producers looked through."""
        while t in self.producer:
            p = self.producer[t]
            if p.op_type == "Identity" or (p.op_type == "Cast" and _attrs(p).get("to") == 1):
                t = p.input[0]
            else:
                break
        return t

    def constant(self, t: str, what: str, node) -> np.ndarray:
        t0 = self.base(t)
        if t0 not in self.const:
            raise MapError(f"{_nd(node)}: {what} {t} is not a constant")
        return self.const[t0]


class Matcher:
    """Walks the graph from the input along YOLOv8's structure; collects weights by module name."""

    def __init__(self, g: Graph):
        self.g = g
        self.weights: Dict[str, np.ndarray] = {}
        self.channels: Dict[str, int] = {}

    # a tensor's channel count as matched so far (set by convs, concats, slices)
    def ch(self, t: str) -> int:
        return self.channels[self.g.base(t)]

    def set_ch(self, t: str, c: int) -> None:
        self.channels[self.g.base(t)] = c

    def conv(self, t: str, k: int, s: int, name: str, act: bool = True, c_out: Optional[int] = None,
             where: str = "", node=None) -> str:
        """The Conv (+ SiLU) consuming t with kernel k, stride s; stores its weights under name."""
        g = self.g
        cands = [n for n in g.users(t) if n.op_type in ("Conv", "ConvInteger", "QLinearConv")]
        for n in cands:
            if n.op_type != "Conv":
                raise MapError(f"{_nd(n)}: a quantized conv; import the fp32 export (yolo export format=onnx)")
        fit = []
        for n in cands:
            w = g.constant(n.input[1], "weight", n)
            a = _attrs(n)
            if w.ndim == 4 and w.shape[2] == w.shape[3] == k and list(a.get("strides", [1, 1])) == [s, s] \
                    and (c_out is None or w.shape[0] == c_out) and (node is None or n is node):
                fit.append(n)
        what = f"{name} ({where + ': ' if where else ''}conv {k}x{k} stride {s}" + \
            (f", {c_out} channels" if c_out else "") + ")"
        if len(fit) != 1:
            if not cands:
                users = g.users(t)
                raise MapError(f"{name}: expected {what} after {self._src(t)}; found " +
                               (", ".join(_nd(u) for u in users) or "no consumer"))
            if not fit:
                n = cands[0]
                w = g.constant(n.input[1], "weight", n)
                a = _attrs(n)
                raise MapError(f"{_nd(n)}: expected {what}, got weight {list(w.shape)} stride "
                               f"{list(a.get('strides', [1, 1]))}")
            raise MapError(f"{name}: {len(fit)} convs fit {what} after {self._src(t)}: "
                           + ", ".join(_nd(n) for n in fit))
        n = fit[0]
        a = _attrs(n)
        w = g.constant(n.input[1], "weight", n).astype(np.float32)
        b = g.constant(n.input[2], "bias", n).astype(np.float32) if len(n.input) > 2 and n.input[2] \
            else np.zeros(w.shape[0], np.float32)
        if a.get("group", 1) != 1:
            raise MapError(f"{_nd(n)}: grouped/depthwise conv (group {a['group']}): not YOLOv8 (YOLO11's head?)")
        if list(a.get("dilations", [1, 1])) != [1, 1]:
            raise MapError(f"{_nd(n)}: dilated conv")
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or pads != [k // 2] * 4:
            raise MapError(f"{_nd(n)}: padding {pads} {a.get('auto_pad', '')}, expected {k // 2}")
        if w.shape[1] != self.ch(t):
            raise MapError(f"{_nd(n)}: {w.shape[1]} input channels, {self._src(t)} has {self.ch(t)}")
        out = n.output[0]
        users = g.users(out)
        if len(users) == 1 and users[0].op_type == "BatchNormalization":
            bn = users[0]
            eps = _attrs(bn).get("epsilon", 1e-5)
            gam, bet, mu, var = (g.constant(bn.input[i], "BN parameter", bn).astype(np.float64) for i in range(1, 5))
            f = gam / np.sqrt(var + eps)
            w = (w * f[:, None, None, None]).astype(np.float32)
            b = ((b - mu) * f + bet).astype(np.float32)
            out = bn.output[0]
            users = g.users(out)
        key = name + ".conv" if act else name   # Ultralytics: Conv.conv; the head's last 1x1 is a bare Conv2d
        self.weights[key + ".weight"] = w
        self.weights[key + ".bias"] = b
        self.set_ch(out, w.shape[0])
        if not act:
            return out
        sig = [u for u in users if u.op_type == "Sigmoid"]
        if len(sig) != 1:
            raise MapError(f"{_nd(n)}: expected SiLU (Sigmoid + Mul) after {name}; found "
                           + (", ".join(_nd(u) for u in users) or "no consumer"))
        muls = [u for u in users if u.op_type == "Mul" and
                {g.base(i) for i in u.input} == {g.base(out), g.base(sig[0].output[0])}]
        muls += [u for u in g.users(sig[0].output[0]) if u.op_type == "Mul" and u not in muls and
                 {g.base(i) for i in u.input} == {g.base(out), g.base(sig[0].output[0])}]
        if len(muls) != 1 or len(users) != 2:
            raise MapError(f"{_nd(sig[0])}: expected x * sigmoid(x) (SiLU) after {name}, and nothing else using "
                           f"the conv's output")
        y = muls[0].output[0]
        self.set_ch(y, w.shape[0])
        return y

    def _src(self, t: str) -> str:
        p = self.g.producer.get(self.g.base(t))
        return _nd(p) if p is not None else f"input {t}"

    def one(self, t: str, op: str, name: str) -> "object":
        us = [u for u in self.g.users(t) if u.op_type == op]
        if len(us) != 1:
            found = ", ".join(_nd(u) for u in self.g.users(t)) or "no consumer"
            raise MapError(f"{name}: expected one {op} after {self._src(t)}; found {found}")
        return us[0]

    def halves(self, a: str, name: str) -> Tuple[Optional[str], str]:
        """The channel halves of C2f's cv1 output a: (first or None, second)."""
        g, c2 = self.g, self.ch(a)
        c = c2 // 2
        first, second = None, None
        for u in g.users(a):
            if u.op_type == "Split":
                at = _attrs(u)
                axis = at.get("axis", 0)
                split = at.get("split")
                if split is None and len(u.input) > 1 and u.input[1]:
                    split = g.constant(u.input[1], "split", u).tolist()
                if axis != 1 or len(u.output) != 2 or (split is not None and list(split) != [c, c]):
                    raise MapError(f"{_nd(u)}: C2f split of {name}.cv1 must be 2 halves on the channels")
                first, second = u.output[0], u.output[1]
            elif u.op_type == "Slice":
                if g.opset < 10 or len(u.input) < 3:
                    raise MapError(f"{_nd(u)}: Slice with attributes (opset < 10) not supported")
                st = int(g.constant(u.input[1], "starts", u).reshape(-1)[0])
                en = int(g.constant(u.input[2], "ends", u).reshape(-1)[0])
                ax = int(g.constant(u.input[3], "axes", u).reshape(-1)[0]) if len(u.input) > 3 and u.input[3] else 0
                sp = int(g.constant(u.input[4], "steps", u).reshape(-1)[0]) if len(u.input) > 4 and u.input[4] else 1
                en = min(en, c2)
                if ax not in (1, -3) or sp != 1:
                    raise MapError(f"{_nd(u)}: C2f slice of {name}.cv1 not on the channels")
                if (st, en) == (0, c):
                    first = u.output[0]
                elif (st, en) == (c, c2):
                    second = u.output[0]
                else:
                    raise MapError(f"{_nd(u)}: C2f slice [{st}:{en}] of {name}.cv1 ({c2} channels) is not a half")
        if second is None:
            raise MapError(f"{name}: no channel split of {self._src(a)} (C2f expected)")
        self.set_ch(second, c)
        if first is not None:
            self.set_ch(first, c)
        return first, second

    def c2f(self, x: str, name: str, shortcut: bool) -> str:
        g = self.g
        a = self.conv(x, 1, 1, name + ".cv1", where="C2f")
        first, t = self.halves(a, name)
        c = self.ch(t)
        parts = [t]
        n = 0
        while True:
            convs = [u for u in g.users(t) if u.op_type == "Conv"]
            if not convs:
                break
            h = self.conv(t, 3, 1, f"{name}.m.{n}.cv1", c_out=c, where="bottleneck")
            y = self.conv(h, 3, 1, f"{name}.m.{n}.cv2", c_out=c, where="bottleneck")
            adds = [u for u in g.users(y) if u.op_type == "Add"]
            if shortcut:
                if len(adds) != 1 or {g.base(i) for i in adds[0].input} != {g.base(t), g.base(y)}:
                    raise MapError(f"{name}.m.{n}: expected the bottleneck's residual Add after {self._src(y)}")
                y = adds[0].output[0]
                self.set_ch(y, c)
            elif adds:
                raise MapError(f"{_nd(adds[0])}: a residual Add in {name}, whose YOLOv8 C2f has none")
            t = y
            parts.append(t)
            n += 1
            if n > 12:
                raise MapError(f"{name}: more than 12 bottlenecks")
        if n == 0:
            raise MapError(f"{name}: C2f without bottlenecks after {self._src(t)}")
        cat = self.one(t, "Concat", name + " (C2f concat)")
        ins = [g.base(i) for i in cat.input]
        want_a = [g.base(a)] + [g.base(p) for p in parts[1:]]
        want_s = ([g.base(first)] if first else []) + [g.base(p) for p in parts]
        if _attrs(cat).get("axis") not in (1, -3) or (ins != want_a and ins != want_s):
            raise MapError(f"{_nd(cat)}: C2f concat of {name} must be [cv1 halves, bottleneck outputs] on the channels")
        self.set_ch(cat.output[0], c * (2 + n))
        self.depth_counts.append(n)
        return self.conv(cat.output[0], 1, 1, name + ".cv2", where="C2f")

    def sppf(self, x: str, name: str) -> str:
        g = self.g
        t = self.conv(x, 1, 1, name + ".cv1", where="SPPF")
        pools = [t]
        for i in range(3):
            p = self.one(pools[-1], "MaxPool", f"{name} (SPPF pool {i + 1})")
            a = _attrs(p)
            if list(a.get("kernel_shape", [])) != [5, 5] or list(a.get("strides", [1, 1])) != [1, 1] \
                    or list(a.get("pads", [0] * 4)) != [2] * 4:
                raise MapError(f"{_nd(p)}: SPPF max pool must be 5x5 stride 1 pad 2")
            self.set_ch(p.output[0], self.ch(t))
            pools.append(p.output[0])
        cat = self.one(pools[-1], "Concat", name + " (SPPF concat)")
        if [g.base(i) for i in cat.input] != [g.base(p) for p in pools]:
            raise MapError(f"{_nd(cat)}: SPPF concat must be [cv1, pool1, pool2, pool3]")
        self.set_ch(cat.output[0], 4 * self.ch(t))
        return self.conv(cat.output[0], 1, 1, name + ".cv2", where="SPPF")

    def upsample(self, x: str, name: str) -> str:
        g = self.g
        r = self.one(x, "Resize", name + " (nearest 2x upsample)")
        a = _attrs(r)
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "nearest":
            raise MapError(f"{_nd(r)}: upsample mode {mode}, expected nearest")
        scales = None
        if len(r.input) > 2 and r.input[2]:
            scales = g.constant(r.input[2], "scales", r)
        if scales is not None and scales.size:
            if scales.reshape(-1).tolist()[-2:] != [2.0, 2.0]:
                raise MapError(f"{_nd(r)}: upsample scales {scales.tolist()}, expected 2x")
        self.set_ch(r.output[0], self.ch(x))
        return r.output[0]

    def concat(self, prev: str, skip: str, name: str) -> str:
        g = self.g
        cat = self.one(prev, "Concat", name + " (neck concat)")
        if [g.base(i) for i in cat.input] != [g.base(prev), g.base(skip)] or _attrs(cat).get("axis") not in (1, -3):
            raise MapError(f"{_nd(cat)}: neck concat {name} must be [{self._src(prev)}, {self._src(skip)}] "
                           f"on the channels (a modified neck?)")
        self.set_ch(cat.output[0], self.ch(prev) + self.ch(skip))
        return cat.output[0]

    def head(self, ys: Sequence[str]) -> int:
        """Detect: per level two branches; returns nc. Box branch = 64 outputs reaching the Softmax."""
        g = self.g
        nc = None
        for lvl, y in enumerate(ys):
            branches = []
            for n in [u for u in g.users(y) if u.op_type == "Conv"]:
                w = g.constant(n.input[1], "weight", n)
                if list(_attrs(n).get("strides", [1, 1])) == [1, 1]:
                    branches.append((n, w.shape[0]))
            if len(branches) != 2:
                raise MapError(f"model.22 level {lvl}: expected 2 head branches (box, class) on {self._src(y)}; "
                               f"found {len(branches)} stride-1 convs: " + ", ".join(_nd(b) for b, _ in branches))
            outs = []
            for bi, (n, c) in enumerate(branches):
                tmp = f"_branch{bi}"
                h = self.conv(y, 3, 1, tmp + ".0", c_out=c, where="Detect", node=n)
                h = self.conv(h, 3, 1, tmp + ".1", where="Detect")
                o = self.conv(h, 1, 1, tmp + ".2", act=False, where="Detect")
                outs.append((o, {k: self.weights.pop(k) for k in [kk for kk in self.weights if kk.startswith(tmp)]}))
            kinds = [self._head_kind(o) for o, _ in outs]
            if sorted(kinds) != ["box", "cls"]:
                raise MapError(f"model.22 level {lvl}: cannot tell the box branch from the class branch "
                               f"({self._src(outs[0][0])}: {kinds[0]}, {self._src(outs[1][0])}: {kinds[1]})")
            for (o, ws), kind in zip(outs, kinds):
                cv = "cv2" if kind == "box" else "cv3"
                for k, v in ws.items():
                    sub = k.split(".", 1)[1]   # "0.weight"
                    key = f"model.22.{cv}.{lvl}.{sub}"
                    self.weights[key] = v
                c = ws[[k for k in ws if k.endswith(".2.weight")][0]].shape[0]
                if kind == "box" and c != 64:
                    raise MapError(f"{self._src(o)}: box predictor has {c} channels, expected 64 (reg_max 16)")
                if kind == "cls":
                    if nc is not None and c != nc:
                        raise MapError(f"{self._src(o)}: {c} classes, level 0 has {nc}")
                    nc = c
        return int(nc)

    def _head_kind(self, t: str) -> str:
        """'box' when the first Softmax/Sigmoid reached from t is a Softmax (DFL), 'cls' for a Sigmoid;
        a concat joining both branches (Ultralytics' per-level cat(box, cls)) decides by its order."""
        g = self.g
        us = g.users(t)
        if len(us) == 1 and us[0].op_type == "Concat" and len(us[0].input) == 2:
            ins = [g.base(i) for i in us[0].input]
            if g.base(t) in ins and all(i in g.producer and g.producer[i].op_type == "Conv" for i in ins):
                return "box" if ins.index(g.base(t)) == 0 else "cls"
        seen, front = set(), [t]
        while front:
            nxt = []
            for x in front:
                for u in g.users(x):
                    if u.op_type == "Softmax":
                        return "box"
                    if u.op_type == "Sigmoid":
                        return "cls"
                    if id(u) not in seen:
                        seen.add(id(u))
                        nxt.extend(u.output)
            front = nxt
        return "unknown"

    def run(self) -> Dict:
        g = self.g
        m = g.model
        inputs = [i for i in m.graph.input if i.name not in g.const]
        if len(inputs) != 1:
            raise MapError(f"expected one image input, found {[i.name for i in inputs]}")
        if len(m.graph.output) != 1:
            raise MapError(f"output {m.graph.output[1].name}: expected one output (output0 [1, 4+nc, N]); "
                           f"{len(m.graph.output)} outputs (a segmentation or pose model?)")
        for n in m.graph.node:
            if n.op_type in ("ConvInteger", "QLinearConv", "DequantizeLinear", "QuantizeLinear",
                             "DynamicQuantizeLinear", "MatMulInteger"):
                raise MapError(f"{_nd(n)}: a quantized export; import the fp32 export (yolo export format=onnx)")
        x = inputs[0].name
        dims = inputs[0].type.tensor_type.shape.dim
        if len(dims) != 4 or (dims[1].dim_value not in (0, 3)):
            raise MapError(f"input {x}: expected [B, 3, H, W]")
        self.set_ch(x, 3)
        self.depth_counts: List[int] = []
        y: Dict[int, str] = {}
        t = x
        t = y[0] = self.conv(t, 3, 2, "model.0", where="stem")
        t = y[1] = self.conv(t, 3, 2, "model.1")
        t = y[2] = self.c2f(t, "model.2", True)
        t = y[3] = self.conv(t, 3, 2, "model.3")
        t = y[4] = self.c2f(t, "model.4", True)
        t = y[5] = self.conv(t, 3, 2, "model.5")
        t = y[6] = self.c2f(t, "model.6", True)
        t = y[7] = self.conv(t, 3, 2, "model.7")
        t = y[8] = self.c2f(t, "model.8", True)
        t = y[9] = self.sppf(t, "model.9")
        t = y[10] = self.upsample(t, "model.10")
        t = y[11] = self.concat(t, y[6], "model.11")
        t = y[12] = self.c2f(t, "model.12", False)
        t = y[13] = self.upsample(t, "model.13")
        t = y[14] = self.concat(t, y[4], "model.14")
        t = y[15] = self.c2f(t, "model.15", False)
        t = y[16] = self.conv(t, 3, 2, "model.16")
        t = y[17] = self.concat(t, y[12], "model.17")
        t = y[18] = self.c2f(t, "model.18", False)
        t = y[19] = self.conv(t, 3, 2, "model.19")
        t = y[20] = self.concat(t, y[9], "model.20")
        t = y[21] = self.c2f(t, "model.21", False)
        nc = self.head([y[15], y[18], y[21]])
        c0 = self.weights["model.0.conv.weight"].shape[0]
        c7 = self.weights["model.7.conv.weight"].shape[0]
        width = c0 / 64.0
        max_channels = int(round(c7 / width))
        if self.depth_counts[0] not in DEPTHS:
            raise MapError(f"model.2: {self.depth_counts[0]} bottlenecks: no YOLOv8 depth")
        depth = DEPTHS[self.depth_counts[0]]
        return {"nc": nc, "width": width, "depth": depth, "max_channels": max_channels, "reg_max": 16}


def map_graph(model) -> Tuple[Dict[str, np.ndarray], Dict]:
    """(npz weights in the teacher layout, config) or MapError."""
    mt = Matcher(Graph(model))
    cfg = mt.run()
    w = dict(mt.weights)
    w["model.22.dfl.conv.weight"] = np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1)
    return w, cfg


# ---------------------------------------------------------------------------------------------
# metadata
# ---------------------------------------------------------------------------------------------
def read_metadata(model) -> Dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def parse_names(s: str, nc: int) -> List[str]:
    try:
        v = ast.literal_eval(s)
    except (ValueError, SyntaxError):
        try:
            v = json.loads(s)
        except ValueError:
            raise MapError(f"metadata names: cannot parse {s[:80]!r}")
    if isinstance(v, dict):
        try:
            items = sorted((int(k), str(n)) for k, n in v.items())
        except (TypeError, ValueError):
            raise MapError("metadata names: keys must be class ids")
        if [k for k, _ in items] != list(range(len(items))):
            raise MapError("metadata names: ids must be 0..nc-1")
        names = [n for _, n in items]
    elif isinstance(v, (list, tuple)):
        names = [str(n) for n in v]
    else:
        raise MapError("metadata names: neither a dict nor a list")
    if len(names) != nc:
        raise MapError(f"metadata names: {len(names)} names for a head with {nc} classes")
    for n in names:
        if not n or "\n" in n or not n.isprintable():
            raise MapError(f"metadata names: bad name {n!r}")
    return names


def parse_imgsz(s: Optional[str]) -> Optional[List[int]]:
    if not s:
        return None
    v = ast.literal_eval(s)
    if isinstance(v, int):
        v = [v, v]
    if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(i, int) and i > 0 for i in v)):
        raise MapError(f"metadata imgsz: {s!r}")
    return [int(v[0]), int(v[1])]


# ---------------------------------------------------------------------------------------------
# numpy evaluator of the ops YOLOv8 exports use
# ---------------------------------------------------------------------------------------------
def _conv2d(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], stride: int, pad: int) -> np.ndarray:
    n, c, h, wd = x.shape
    o, ci, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    ho = (h + 2 * pad - k) // stride + 1
    wo = (wd + 2 * pad - k) // stride + 1
    if k == 1 and stride == 1:
        y = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], xp, optimize=True)
    else:
        cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
        for i in range(k):
            for j in range(k):
                cols[:, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
        y = (w.reshape(o, -1) @ cols.reshape(n, c * k * k, ho * wo)).reshape(n, o, ho, wo)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y.astype(np.float32)


def _maxpool(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    ho = (x.shape[2] + 2 * p - k) // s + 1
    wo = (x.shape[3] + 2 * p - k) // s + 1
    y = np.full(x.shape[:2] + (ho, wo), -np.inf, dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            y = np.maximum(y, xp[:, :, i:i + s * ho:s, j:j + s * wo:s])
    return y


ONNX_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def evaluate(model, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Runs the graph in numpy (float32); supports the ops of Ultralytics / torch YOLOv8 exports."""
    from onnx import numpy_helper
    g = model.graph
    env: Dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    env.update(feeds)
    env[""] = None
    for n in g.node:
        a = _attrs(n)
        i = [env[t] if t else None for t in n.input]
        op = n.op_type
        try:
            if op == "Constant":
                out = [numpy_helper.to_array(a["value"])]
            elif op == "Conv":
                if a.get("group", 1) != 1:
                    raise NotImplementedError("group conv")
                out = [_conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1])[0],
                               a.get("pads", [0] * 4)[0])]
            elif op == "BatchNormalization":
                sc = i[1] / np.sqrt(i[4] + a.get("epsilon", 1e-5))
                out = [(i[0] - i[3].reshape(1, -1, 1, 1)) * sc.reshape(1, -1, 1, 1) + i[2].reshape(1, -1, 1, 1)]
            elif op == "Sigmoid":
                out = [(1.0 / (1.0 + np.exp(-i[0].astype(np.float64)))).astype(i[0].dtype)]
            elif op in ("Mul", "Add", "Sub", "Div", "Pow", "Equal", "Less", "Greater"):
                f = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Pow": np.power,
                     "Equal": np.equal, "Less": np.less, "Greater": np.greater}.get(op)
                if op == "Div":
                    out = [np.floor_divide(i[0], i[1]) if np.issubdtype(i[0].dtype, np.integer) else i[0] / i[1]]
                else:
                    out = [f(i[0], i[1])]
                if op not in ("Equal", "Less", "Greater"):
                    out = [np.asarray(out[0]).astype(i[0].dtype)]
            elif op == "Where":
                out = [np.where(i[0], i[1], i[2])]
            elif op == "Identity":
                out = [i[0]]
            elif op == "Cast":
                out = [i[0].astype(ONNX_DTYPES[a["to"]])]
            elif op == "Concat":
                out = [np.concatenate([t for t in i], axis=a["axis"])]
            elif op == "Split":
                axis = a.get("axis", 0)
                split = a.get("split")
                if split is None and len(i) > 1 and i[1] is not None:
                    split = i[1].tolist()
                if split is None:
                    nout = len(n.output)
                    split = [i[0].shape[axis] // nout] * nout
                out = np.split(i[0], np.cumsum(split)[:-1], axis=axis)
            elif op == "Slice":
                x = i[0]
                starts, ends = i[1].tolist(), i[2].tolist()
                axes = i[3].tolist() if len(i) > 3 and i[3] is not None else list(range(len(starts)))
                steps = i[4].tolist() if len(i) > 4 and i[4] is not None else [1] * len(starts)
                sl = [slice(None)] * x.ndim
                for s0, e0, ax, st in zip(starts, ends, axes, steps):
                    dim = x.shape[ax]
                    s0 = max(min(s0 + dim if s0 < 0 else s0, dim), 0)
                    e0 = max(min(e0 + dim if e0 < 0 else e0, dim), -1 if st < 0 else 0)
                    sl[ax] = slice(s0, e0 if e0 >= 0 else None, st)
                out = [x[tuple(sl)]]
            elif op == "MaxPool":
                out = [_maxpool(i[0], a["kernel_shape"][0], a.get("strides", [1, 1])[0], a.get("pads", [0] * 4)[0])]
            elif op == "Resize":
                x = i[0]
                if len(i) > 2 and i[2] is not None and i[2].size:
                    sc = i[2]
                else:
                    sc = np.asarray(i[3], np.float64) / np.asarray(x.shape, np.float64)
                if list(sc[:2]) != [1, 1] or sc[2] != int(sc[2]) or sc[3] != int(sc[3]):
                    raise NotImplementedError(f"resize scales {sc}")
                out = [x.repeat(int(sc[2]), 2).repeat(int(sc[3]), 3)]
            elif op == "Reshape":
                shape = [int(v) for v in i[1]]
                shape = [i[0].shape[k] if v == 0 else v for k, v in enumerate(shape)]
                out = [i[0].reshape(shape)]
            elif op == "Flatten":
                ax = a.get("axis", 1)
                out = [i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)]
            elif op == "Transpose":
                out = [np.transpose(i[0], a.get("perm"))]
            elif op == "Softmax":
                ax = a.get("axis", -1 if model_opset(model) >= 13 else 1)
                if model_opset(model) < 13:
                    sh = i[0].shape
                    x2 = i[0].reshape(int(np.prod(sh[:ax])), -1)
                    e = np.exp(x2 - x2.max(1, keepdims=True))
                    out = [(e / e.sum(1, keepdims=True)).reshape(sh)]
                else:
                    e = np.exp(i[0] - i[0].max(ax, keepdims=True))
                    out = [e / e.sum(ax, keepdims=True)]
            elif op == "ReduceSum":
                axes = a.get("axes")
                if axes is None and len(i) > 1 and i[1] is not None:
                    axes = i[1].tolist()
                out = [i[0].sum(axis=tuple(axes) if axes is not None else None, keepdims=bool(a.get("keepdims", 1)))]
            elif op == "Shape":
                out = [np.asarray(i[0].shape, np.int64)]
            elif op == "Gather":
                out = [np.take(i[0], i[1], axis=a.get("axis", 0))]
            elif op == "Unsqueeze":
                axes = a.get("axes")
                if axes is None:
                    axes = i[1].tolist()
                y = i[0]
                for ax in sorted(ax if ax >= 0 else ax + y.ndim + len(axes) for ax in axes):
                    y = np.expand_dims(y, ax)
                out = [y]
            elif op == "Squeeze":
                axes = a.get("axes")
                if axes is None and len(i) > 1 and i[1] is not None:
                    axes = i[1].tolist()
                out = [np.squeeze(i[0], axis=tuple(axes) if axes is not None else None)]
            elif op == "Range":
                out = [np.arange(i[0], i[1], i[2]).astype(i[0].dtype)]
            elif op == "Expand":
                out = [i[0] * np.ones([int(v) for v in i[1]], dtype=i[0].dtype)]
            elif op == "Tile":
                out = [np.tile(i[0], [int(v) for v in i[1]])]
            elif op == "ConstantOfShape":
                v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
                out = [np.full([int(s) for s in i[0]], v.reshape(-1)[0], dtype=v.dtype)]
            elif op == "MatMul":
                out = [np.matmul(i[0], i[1])]
            else:
                raise NotImplementedError(f"op {op}")
        except NotImplementedError as e:
            raise MapError(f"{_nd(n)}: the numpy evaluator does not support {e}")
        for o, v in zip(n.output, out):
            env[o] = np.asarray(v)
    return {o.name: env[o.name] for o in g.output}


def model_opset(model) -> int:
    return max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [0])


# ---------------------------------------------------------------------------------------------
# verification (the npz writer is bitfalcon/teacher.py)
# ---------------------------------------------------------------------------------------------
def verify(onnx_model, npz_path: str, image: str, size: Tuple[int, int], threads: int) -> Tuple[float, float, float]:
    """(max abs box diff px, max abs score diff, best score) of the imported network vs the graph."""
    import torch
    from bitfalcon.letterbox import letterbox, load_rgb
    from bitfalcon.onnx_export import build_wrapper
    torch.set_num_threads(threads)
    if size[0] != size[1]:
        raise MapError(f"imgsz {size}: only square inputs are verified")
    canvas, _ = letterbox(load_rgb(image), size[0])
    x = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
    name = [i.name for i in onnx_model.graph.input if i.name not in {t.name for t in onnx_model.graph.initializer}][0]
    got = list(evaluate(onnx_model, {name: x}).values())[0]
    wrapper_cls, teacher = build_wrapper(npz_path)
    with torch.no_grad():
        ref = wrapper_cls(teacher, size[0]).eval()(torch.from_numpy(x)).numpy()
    if got.shape != ref.shape:
        raise MapError(f"output {onnx_model.graph.output[0].name}: shape {list(got.shape)}, the imported network "
                       f"gives {list(ref.shape)} (a different head layout?)")
    return (float(np.abs(got[0, :4] - ref[0, :4]).max()), float(np.abs(got[0, 4:] - ref[0, 4:]).max()),
            float(ref[0, 4:].max()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="Ultralytics YOLOv8 detect ONNX export")
    ap.add_argument("-o", "--output", required=True, help="teacher npz to write")
    ap.add_argument("--names", help="class names, comma-separated, when the file has no names metadata")
    ap.add_argument("--verify-image", default=os.path.join(_common.REPO, "tests", "data", "astronaut.png"),
                    help="sample image for the verification (default: %(default)s)")
    ap.add_argument("--verify-size", type=int, default=0,
                    help="verification input size for a dynamic input (default: imgsz, else 640)")
    ap.add_argument("--box-tol", type=float, default=0.05, help="max abs box difference in px (default 0.05)")
    ap.add_argument("--score-tol", type=float, default=1e-3, help="max abs score difference (default 1e-3)")
    ap.add_argument("--no-verify", action="store_true", help="skip the verification (not recommended)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for the verification (default 2)")
    args = ap.parse_args(argv)

    import onnx
    try:
        model = onnx.load(args.onnx)
    except Exception as e:  # noqa: BLE001  (onnx raises DecodeError and others)
        print(f"import_onnx: {args.onnx}: not an ONNX model: {e}", file=sys.stderr)
        return 2
    opset = model_opset(model)
    try:
        if not 11 <= opset <= 17:
            print(f"import_onnx: warning: opset {opset} is outside the tested 11..17", file=sys.stderr)
        weights, cfg = map_graph(model)
        md = read_metadata(model)
        if "names" in md:
            names = parse_names(md["names"], cfg["nc"])
        elif args.names:
            names = parse_names(json.dumps(args.names.split(",")), cfg["nc"])
        else:
            raise MapError("no names in metadata_props; pass --names")
        if md.get("task", "detect") != "detect":
            raise MapError(f"metadata task {md['task']!r}: only detect models are imported")
        imgsz = parse_imgsz(md.get("imgsz"))
        stride = int(md.get("stride", "32"))
        if stride != 32:
            raise MapError(f"metadata stride {stride}: YOLOv8 has 32")
        dims = [d.dim_value or 0 for d in model.graph.input[0].type.tensor_type.shape.dim]
        dynamic = not (dims[2] and dims[3])
        if not dynamic:
            imgsz = [dims[2], dims[3]]
        # consistency: the project's network has exactly these shapes
        from bitfalcon.yolo import YOLOv8Bit
        net = YOLOv8Bit(nc=cfg["nc"], width=cfg["width"], depth=cfg["depth"], max_channels=cfg["max_channels"])
        want = {k: tuple(v.shape) for k, v in state_dict_to_teacher(net).items()}
        got = {k: tuple(v.shape) for k, v in weights.items()}
        if want != got:
            diff = sorted(set(want.items()) ^ set(got.items()))[:3]
            raise MapError(f"the weights do not fit YOLOv8 at width {cfg['width']} depth {cfg['depth']}: {diff}")
    except MapError as e:
        print(f"import_onnx: {args.onnx}: not a YOLOv8 detect graph BitFalcon can map: {e}", file=sys.stderr)
        return 2
    meta = dict(cfg, format="bitfalcon-teacher", version=1, names=names, imgsz=imgsz or [640, 640], stride=stride,
                source={"file": os.path.basename(args.onnx), "opset": opset, "producer": model.producer_name,
                        "producer_version": model.producer_version, "dynamic": dynamic,
                        "description": md.get("description", "")})
    tmp = args.output + ".unverified.npz"
    write_teacher_npz(tmp, weights, meta)
    try:
        if not args.no_verify:
            vs = args.verify_size or (imgsz[0] if imgsz else 640)
            size = (vs, vs) if dynamic else tuple(imgsz)
            try:
                d_box, d_cls, best = verify(model, tmp, args.verify_image, size, args.threads)
            except MapError as e:
                print(f"import_onnx: {args.onnx}: verification: {e}", file=sys.stderr)
                return 2
            print(f"verify: numpy ONNX evaluator vs the imported network on {os.path.basename(args.verify_image)} "
                  f"at {size[0]}x{size[1]}: max abs diff boxes {d_box:.3g} px, scores {d_cls:.3g} "
                  f"(best score {best:.3f})")
            if not (d_box <= args.box_tol and d_cls <= args.score_tol):
                print(f"import_onnx: {args.onnx}: the imported network does not reproduce the graph "
                      f"(tolerance {args.box_tol} px / {args.score_tol}); nothing written", file=sys.stderr)
                return 1
            meta["verify"] = {"size": size[0], "max_abs_box_px": d_box, "max_abs_score": d_cls}
            write_teacher_npz(tmp, weights, meta)
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {args.output}: YOLOv8 width {cfg['width']} depth {cfg['depth']} max_channels {cfg['max_channels']}, "
          f"{cfg['nc']} classes ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}), imgsz {meta['imgsz']}, "
          f"opset {opset}{', dynamic input' if dynamic else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
