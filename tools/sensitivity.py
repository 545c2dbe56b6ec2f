#!/usr/bin/python3
"""Per-layer quantization sensitivity of the student, measured on the teacher's outputs.

    /usr/bin/python3 tools/sensitivity.py --images ../shared/data/photos --n 16 --size 320 -o sens.json

For every conv layer alone (all others full precision) the weights are quantized the way the
student quantizes them (k = 1: absmean ternary with the least-squares scale; k > 1: the
balanced-ternary grid [-L, L] with the MSE-optimal scale) and the head outputs on N images are
compared with the unquantized network:

  cls_kl   mean over anchors and classes of the KL divergence between the teacher's and the
           quantized class probabilities (Bernoulli), x 1000
  box_err  relative squared error of the DFL box logits
  werr     relative squared error of the layer's weights

The JSON lists the layers sorted by cls_kl (most sensitive first) with their parameter counts,
which `tools/train_configs/*.json` use to pick the multi-ternary layers ("terms").
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, List

import _common


def kl_bernoulli(p_t, logit_q):
    import torch
    eps = 1e-7
    p_q = torch.sigmoid(logit_q).clamp(eps, 1 - eps)
    p = p_t.clamp(eps, 1 - eps)
    return (p * torch.log(p / p_q) + (1 - p) * torch.log((1 - p) / (1 - p_q))).mean()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(_common.SHARED_DATA, "photos"), help="image directory")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--n", type=int, default=16, help="images (evenly spaced over the sorted directory)")
    ap.add_argument("--size", type=int, default=320, help="letterbox input size (default 320)")
    ap.add_argument("--terms", type=int, default=1, help="k used for the layer under test")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("-o", "--output", required=True, help="output JSON")
    args = ap.parse_args(argv)

    import torch
    from bitfalcon.nn import BitConv2d
    from bitfalcon.images import list_images
    from bitfalcon.letterbox import letterboxed
    from bitfalcon.yolo import build_teacher
    torch.set_num_threads(args.threads)

    files = list_images(args.images)
    files = [files[(i * len(files)) // args.n] for i in range(min(args.n, len(files)))]
    model = build_teacher(args.teacher).eval()
    xs = torch.cat([letterboxed(f, args.size)[0] for f in files])
    with torch.no_grad():
        ref = model(xs)
    ref_p = [torch.sigmoid(c) for _, c in ref]
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, BitConv2d)]
    rows: List[Dict] = []
    t0 = time.time()
    for i, (name, conv) in enumerate(convs):
        conv.terms = args.terms
        conv.init_scale()
        conv.quant_weights = True
        with torch.no_grad():
            w_q, _ = conv.effective()
            werr = float(((w_q - conv.weight) ** 2).sum() / (conv.weight ** 2).sum())
            out = model(xs)
        conv.quant_weights = False
        conv.terms = 1
        conv._cache_key = None
        cls_kl = float(sum(kl_bernoulli(p, c) for p, (_, c) in zip(ref_p, out)) / len(out)) * 1000
        box = float(sum(((b - rb) ** 2).sum() / (rb ** 2).sum() for (b, _), (rb, _) in zip(out, ref)) / len(out))
        rows.append({"layer": name, "params": conv.weight.numel(), "shape": list(conv.weight.shape),
                     "cls_kl": round(cls_kl, 4), "box_err": round(box, 5), "werr": round(werr, 4)})
        print(f"[{i + 1}/{len(convs)}] {name:22s} {conv.weight.numel():7d} params  cls_kl {cls_kl:8.3f}  "
              f"box_err {box:.4f}  werr {werr:.3f}  ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: -r["cls_kl"])
    res = {"images": len(files), "size": args.size, "terms": args.terms, "layers": rows}
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
