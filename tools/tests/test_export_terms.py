#!/usr/bin/python3
"""tools/export.py --terms CONFIG: a checkpoint's weights projected onto another plane mix
before export (the plane-mix table of docs/training.md). A random student with learned scales
(no teacher, no ../shared) saved as a checkpoint, exported through the real CLI with a config
that raises, lowers and leaves layers: every conv of the file has the config's n_terms (missing
= 1), a raised layer's planes rebuild exactly 3^dk times its old integer weights, and a lowered
one fits its smaller grid. A config naming a layer the model lacks, or a k outside 1..5, is
refused (exit 2, the option named). torch + numpy only; exit 77 otherwise.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _setup import REPO, TOOLS, need

START = {"model.0": 2, "model.2.cv1": 3, "model.9.cv2": 3, "model.22.cv3.0.2": 2}
TARGET = {"model.0": 3,            # 2 -> 3: exact, 3q
          "model.2.cv1": 2,        # 3 -> 2: least-squares scale on the coarser grid
          "model.9.cv2": 3,        # unchanged
          "model.3": 2}            # 1 -> 2; model.22.cv3.0.2 is missing: 2 -> 1


def main() -> int:
    need("torch", "numpy")
    import numpy as np
    import torch
    from bitfalcon import format as bfm
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit

    torch.manual_seed(0)
    model = YOLOv8Bit(nc=80, terms=START)
    convs = {n: c for n, c in model.named_modules() if isinstance(c, BitConv2d)}
    with torch.no_grad():
        for c in convs.values():
            c.weight.normal_(0.0, (2.0 / c.weight[0].numel()) ** 0.5)
            c.bias.normal_(0.0, 0.2)
            c.init_scale()
            c.learn_scale = True
    q_before = {n: convs[n].int_weights()[0].numpy().copy() for n in START}

    def file_weights(m):
        """conv name -> (n_terms, integer weights [oc, kh, kw, ic] rebuilt from the planes)."""
        out = {}
        for L in m.layers:
            if L.op != bfm.CONV:
                continue
            kh, kw, _, _, ic, oc, _, k = L.params[:8]
            q = bfm.unpack_t2_planes(m.tensor_array(L.tensors[0]), k, kh * kw * ic)
            out[m.tensors[L.tensors[0]].name[:-len(".weight")]] = (k, q.reshape(oc, kh, kw, ic))
        return out

    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "student.pt")
        torch.save({"model": model.state_dict(), "config": model.config, "learn_scale": True}, ck)
        cfg = os.path.join(tmp, "mix.json")
        with open(cfg, "w") as f:
            json.dump({"name": "mix", "terms": TARGET}, f)
        out = os.path.join(tmp, "mix.bfm")
        cmd = [sys.executable, os.path.join(TOOLS, "export.py"), "--checkpoint", ck, "--terms", cfg,
               "--calib", os.path.join(REPO, "assets"), "--calib-images", "2", "--size", "64",
               "--threads", "1", "-o", out]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        assert r.returncode == 0, f"export.py --terms: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        assert "projected 4 layers" in r.stdout, r.stdout
        got = file_weights(bfm.read_model(out))
        assert set(got) == set(convs), sorted(set(got) ^ set(convs))
        for name, (k, q) in got.items():
            want_k = TARGET.get(name, 1)
            assert k == want_k, f"{name}: n_terms {k} in the file, the config says {want_k}"
            assert int(np.abs(q).max()) <= (3 ** k - 1) // 2, f"{name}: weights outside k = {k}'s levels"
        q0 = got["model.0"][1].transpose(0, 3, 1, 2)     # back to [oc, ic, kh, kw]
        assert np.array_equal(q0, 3 * q_before["model.0"]), "model.0 (k 2 -> 3) is not 3q"
        q9 = got["model.9.cv2"][1].transpose(0, 3, 1, 2)
        assert np.array_equal(q9, q_before["model.9.cv2"]), "model.9.cv2 (k unchanged) moved"
        lowered = got["model.2.cv1"][1]
        assert int(np.abs(lowered).max()) == 4 and np.count_nonzero(lowered) > lowered.size // 4, \
            "model.2.cv1 (k 3 -> 2) does not use its 9 levels"

        bad = [({"terms": {"model.99": 2}}, "no such layers"), ({"terms": {"model.0": 6}}, "k in 1..5"),
               ({"name": "no terms"}, "k in 1..5")]
        for body, words in bad:
            with open(cfg, "w") as f:
                json.dump(body, f)
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
            assert r.returncode == 2 and "--terms" in r.stderr and words in r.stderr, \
                f"{body}: exit {r.returncode}, {r.stderr!r}"
    print(f"export.py --terms: {len(got)} convs at the config's k; 2 -> 3 gives 3q, unchanged kept, "
          f"3 -> 2 on 9 levels; {len(bad)} bad configs refused (exit 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
