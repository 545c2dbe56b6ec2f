"""The fp32 teacher outside the network code: the teacher npz writer (the inverse of
yolo.load_teacher's key mapping) and a teacher's detections on one image.

numpy at import; torch only inside the functions that run a network.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

import numpy as np

from .letterbox import letterbox, load_rgb
from .postprocess import Detection, Level, postprocess

META_KEY = "_bitfalcon_meta"     # = yolo.TEACHER_META_KEY (yolo.py needs torch to import)


def write_teacher_npz(path: str, weights: Dict[str, np.ndarray], meta: Dict) -> None:
    """Writes the teacher npz (atomically: PATH.tmp.npz renamed)."""
    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
    arrays[META_KEY] = np.array(json.dumps(meta, sort_keys=True))
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def state_dict_to_teacher(model) -> Dict[str, np.ndarray]:
    """A YOLOv8Bit's weights in the teacher npz layout (inverse of load_teacher's key mapping)."""
    from .nn import BitConv2d, BitLinear
    res = {}
    for name, mod in model.named_modules():
        if isinstance(mod, BitConv2d):
            pre = name if isinstance(mod, BitLinear) else name + ".conv"
            res[pre + ".weight"] = mod.weight.detach().cpu().numpy().astype(np.float32)
            res[pre + ".bias"] = mod.bias.detach().cpu().numpy().astype(np.float32)
    res["model.22.dfl.conv.weight"] = np.arange(model.reg_max, dtype=np.float32).reshape(1, model.reg_max, 1, 1)
    return res


def run_teacher(model, path: str, size: int, conf: float, iou: float, max_det: int = 300,
                multi_label: bool = False) -> Tuple[np.ndarray, List[Detection]]:
    """(the RGB image, its detections in original pixels) of the float network `model` on one image."""
    import torch
    img = load_rgb(path)
    canvas, lp = letterbox(img, size)
    x = torch.from_numpy(canvas).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        outs = model(x)
    levels = [Level(s, b[0].permute(1, 2, 0).double().numpy(), c[0].permute(1, 2, 0).double().numpy())
              for (b, c), s in zip(outs, (8, 16, 32))]
    return img, postprocess(levels, lp, conf, iou, max_det, model.reg_max, multi_label)
