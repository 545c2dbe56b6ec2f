#!/usr/bin/python3
"""Writes a YOLOv8n `.bfm` with multi-ternary (n_terms k > 1) layers for the engine tests,
without the teacher or ../shared: random weights, activations calibrated on the given images,
folded by the real exporter (tools/bitfalcon/export.py).

    make_multiterm_model.py OUT.bfm --size 64 IMAGES...

The mix (TERMS below) has k = 1, 2, 3, 4 and 5 layers: the first conv (input zero point -128,
padding, stride 2) with k = 3, stride-2 convs, 1x1 (direct) convs and raw head convs. The
written file is checked against the student: every conv's planes rebuild the integer weights
`int_weights()` gives, n_terms and the bias follow the exporter's formula (bias over q).
Exit 77 (ctest SKIP) when torch, numpy or PIL is missing.

For benchmarks, other mixes: --all-terms K (every conv k = K), --terms-config CONFIG.json
(the "terms" of a training config, e.g. tools/train_configs/v8n_mt32.json; others k = 1).
"""
from __future__ import annotations

import argparse
import sys

from _setup import need

# n_terms per conv (module names as YOLOv8Bit.named_modules()); every other conv stays k = 1
TERMS = {
    "model.0": 3,              # first conv: 3x3 stride 2, zero point -128 on the padding
    "model.1": 2,              # 3x3 stride 2
    "model.2.cv1": 5,          # 1x1 direct
    "model.2.m.0.cv1": 2,
    "model.3": 3,              # stride 2
    "model.4.m.0.cv2": 4,
    "model.7": 2,              # stride 2 at /32
    "model.9.cv2": 3,          # SPPF 1x1 after the concat
    "model.12.cv1": 2,
    "model.19": 3,             # stride-2 downsample in the neck
    "model.22.cv2.0.0": 2,     # head 3x3
    "model.22.cv2.0.2": 3,     # raw box head, stride 8
    "model.22.cv3.1.2": 2,     # raw class head, stride 16
    "model.22.cv3.2.1": 5,
    "model.22.cv2.2.2": 5,     # raw box head, stride 32
}


def build(size: int, images, seed: int = 0, terms=None):
    import torch
    from bitfalcon.letterbox import letterbox, load_rgb
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit
    torch.manual_seed(seed)
    model = YOLOv8Bit(terms=TERMS if terms is None else terms)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, BitConv2d):
                fan_in = mod.weight[0].numel()
                mod.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                mod.bias.normal_(0.0, 0.2)
                mod.init_scale()
    model.eval()
    model.set_quant(weights=True, acts=False)
    model.start_calibration(99.9)
    with torch.no_grad():
        for f in images:
            canvas, _ = letterbox(load_rgb(f), size)
            model(torch.from_numpy(canvas).permute(2, 0, 1)[None].float() / 255.0)
    model.finish_calibration()
    return model


def check_export(model, m, terms=None) -> int:
    """The file's conv layers against the student's integer weights; returns the k > 1 count."""
    terms = TERMS if terms is None else terms
    import numpy as np
    from bitfalcon import format as bfm
    from bitfalcon.nn import BitConv2d
    convs = {n: mod for n, mod in model.named_modules() if isinstance(mod, BitConv2d)}
    multi = 0
    for L in m.layers:
        if L.op != bfm.CONV:
            continue
        name = m.tensors[L.tensors[0]].name[:-len(".weight")]
        mod = convs[name]
        kh, kw, _, _, ic, oc, _, nterms = L.params[:8]
        assert nterms == mod.terms == terms.get(name, 1), (name, nterms, mod.terms)
        q = bfm.unpack_t2_planes(m.tensor_array(L.tensors[0]), nterms, kh * kw * ic)
        want = mod.int_weights()[0].numpy().transpose(0, 2, 3, 1).reshape(oc, -1)
        assert np.array_equal(q, want), f"{name}: planes do not rebuild int_weights()"
        assert np.abs(want).max() <= mod.levels
        zp = m.values[L.inputs[0]].zero_point
        if zp != 0:     # the bias folds -zp * sum(q) (over q, not one plane)
            alpha = mod.int_weights()[1].double().numpy()
            d = (1.0 / 255.0) * np.where(alpha > 0, alpha, 1e-8)
            beta = mod.bias.detach().double().numpy()
            b = np.floor(beta / d + 0.5) - zp * want.sum(axis=1)
            assert np.array_equal(m.tensor_array(L.tensors[1]).astype(np.int64), b.astype(np.int64)), name
        multi += nterms > 1
    return multi


def main(argv=None) -> int:
    need("numpy", "torch", "PIL")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="the .bfm model to write")
    ap.add_argument("images", nargs="+", help="calibration images")
    ap.add_argument("--size", type=int, default=64,
                    help="calibration letterbox size and the file's default input size (default 64)")
    ap.add_argument("--seed", type=int, default=0, help="torch seed of the random weights (default 0)")
    mix = ap.add_mutually_exclusive_group()
    mix.add_argument("--all-terms", type=int, choices=range(1, 6), metavar="K",
                     help="every conv with n_terms K (instead of the test mix)")
    mix.add_argument("--terms-config", metavar="CONFIG.json",
                     help="n_terms from a training config's \"terms\" (other convs k = 1)")
    args = ap.parse_args(argv)

    import json
    import torch
    from bitfalcon import format as bfm
    from bitfalcon.coco import COCO80
    from bitfalcon.export import export_model
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit
    torch.set_num_threads(1)
    terms = TERMS
    if args.all_terms is not None:
        terms = {n: args.all_terms for n, mod in YOLOv8Bit().named_modules() if isinstance(mod, BitConv2d)}
    elif args.terms_config is not None:
        with open(args.terms_config) as f:
            terms = {str(k): int(v) for k, v in json.load(f)["terms"].items()}
    model = build(args.size, args.images, args.seed, terms)
    m, stats = export_model(model, COCO80, args.size)
    n = bfm.write_model(m, args.output)
    m = bfm.read_model(args.output)
    multi = check_export(model, m, terms)
    print(f"wrote {args.output}: {n} bytes, {len(m.layers)} layers, {multi} with n_terms > 1 "
          f"({sorted(set(L.params[7] for L in m.layers if L.op == bfm.CONV))}); {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
