"""Float post-processing of the head outputs, exactly as docs/model-format.md says.

DFL decode (softmax over 16 bins dotted with 0..15, sides l, t, r, b, channel
side * reg_max + bin), anchors at cell centres, best class per cell kept when its
sigmoid score >= conf, class-aware greedy NMS (suppress IoU > thr), at most
max_det boxes, then back to original image pixels and clipped. numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .letterbox import LetterboxParams


@dataclass
class Detection:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    class_id: int


@dataclass
class Level:
    """One stride's head outputs as float logits, NHWC without the batch: [H, W, C]."""
    stride: int
    box: np.ndarray      # [H, W, 4 * reg_max]
    cls: np.ndarray      # [H, W, num_classes]


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-x))


def dfl_decode(box_logits: np.ndarray, reg_max: int = 16) -> np.ndarray:
    """[..., 4 * reg_max] logits -> [..., 4] distances (l, t, r, b) in grid units."""
    z = np.asarray(box_logits, dtype=np.float64).reshape(*box_logits.shape[:-1], 4, reg_max)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    return (p * np.arange(reg_max, dtype=np.float64)).sum(axis=-1)


def decode_level(level: Level, conf: float, reg_max: int = 16) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of one level: boxes [N, 4] (x0, y0, x1, y1 in input pixels), scores, classes."""
    h, w, nc = level.cls.shape
    cls = level.cls.reshape(-1, nc)
    best = np.argmax(cls, axis=1)                       # ties: lowest class index
    score = sigmoid(cls[np.arange(cls.shape[0]), best])
    keep = np.nonzero(score >= conf)[0]
    if keep.size == 0:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
    d = dfl_decode(level.box.reshape(-1, 4 * reg_max)[keep], reg_max)
    gy, gx = np.divmod(keep, w)
    ax, ay = gx + 0.5, gy + 0.5
    s = level.stride
    boxes = np.stack([(ax - d[:, 0]) * s, (ay - d[:, 1]) * s, (ax + d[:, 2]) * s, (ay + d[:, 3]) * s], axis=1)
    return boxes, score[keep], best[keep].astype(np.int64)


MULTI_LABEL_MAX_NMS = 30000   # ultralytics non_max_suppression's max_nms (BF_MULTI_LABEL_MAX_NMS)


def decode_level_multi(level: Level, conf: float, reg_max: int = 16) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-label candidates (yolo val): every (cell, class) scoring >= conf, cell-major."""
    h, w, nc = level.cls.shape
    score = sigmoid(level.cls.reshape(-1, nc))
    cell, cls = np.nonzero(score >= conf)
    if cell.size == 0:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
    d = dfl_decode(level.box.reshape(-1, 4 * reg_max)[cell], reg_max)
    gy, gx = np.divmod(cell, w)
    ax, ay = gx + 0.5, gy + 0.5
    s = level.stride
    boxes = np.stack([(ax - d[:, 0]) * s, (ay - d[:, 1]) * s, (ax + d[:, 2]) * s, (ay + d[:, 3]) * s], axis=1)
    return boxes, score[cell, cls], cls.astype(np.int64)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one box a [4] against boxes b [N, 4]."""
    ix0 = np.maximum(a[0], b[:, 0])
    iy0 = np.maximum(a[1], b[:, 1])
    ix1 = np.minimum(a[2], b[:, 2])
    iy1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_thr: float = 0.7,
        max_det: int = 300) -> np.ndarray:
    """Class-aware greedy NMS: highest score first (ties: earlier candidate first); a box is
    suppressed by a kept box of the same class with IoU > iou_thr. Returns kept indices."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    suppressed = np.zeros(len(order), dtype=bool)
    keep: List[int] = []
    for oi, i in enumerate(order):
        if suppressed[oi]:
            continue
        keep.append(int(i))
        if len(keep) >= max_det:
            break
        rest = order[oi + 1:]
        same = (classes[rest] == classes[i]) & ~suppressed[oi + 1:]
        if np.any(same):
            iou = box_iou(boxes[i], boxes[rest])
            suppressed[oi + 1:] |= same & (iou > iou_thr)
    return np.asarray(keep, dtype=np.int64)


def unletterbox(boxes: np.ndarray, lp: LetterboxParams) -> np.ndarray:
    """Input-pixel boxes -> original image pixels, clipped to [0, w] x [0, h]."""
    b = np.asarray(boxes, dtype=np.float64).copy()
    b[:, [0, 2]] = np.clip((b[:, [0, 2]] - lp.left) / lp.r, 0, lp.width)
    b[:, [1, 3]] = np.clip((b[:, [1, 3]] - lp.top) / lp.r, 0, lp.height)
    return b


def postprocess(levels: Sequence[Level], lp: Optional[LetterboxParams], conf: float = 0.25,
                iou: float = 0.7, max_det: int = 300, reg_max: int = 16,
                multi_label: bool = False) -> List[Detection]:
    """Decode all levels (in the given order), NMS, un-letterbox (when lp is given).
    multi_label: every class >= conf per cell is a candidate, the MULTI_LABEL_MAX_NMS best
    (stable by score) go to the NMS, as the C engine's bf_options.multi_label."""
    parts = [(decode_level_multi if multi_label else decode_level)(L, conf, reg_max) for L in levels]
    boxes = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 4))
    scores = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    classes = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    if multi_label and len(scores) > MULTI_LABEL_MAX_NMS:
        top = np.sort(np.argsort(-scores, kind="stable")[:MULTI_LABEL_MAX_NMS])
        boxes, scores, classes = boxes[top], scores[top], classes[top]
    keep = nms(boxes, scores, classes, iou, max_det)
    b = boxes[keep]
    if lp is not None and len(b):
        b = unletterbox(b, lp)
    return [Detection(float(x[0]), float(x[1]), float(x[2]), float(x[3]), float(s), int(c))
            for x, s, c in zip(b, scores[keep], classes[keep])]


def levels_from_int(outputs: Sequence[Tuple[int, int, np.ndarray, np.ndarray]]) -> List[Level]:
    """Pairs the integer head outputs [(kind, stride, int32 [H,W,C], dequant [C]), ...]
    (box, class per stride) into float Levels: logit = q * dequant[c]."""
    by_stride = {}
    for kind, stride, q, dq in outputs:
        by_stride.setdefault(stride, {})[kind] = q.astype(np.float64) * dq.astype(np.float64)
    return [Level(s, d[0], d[1]) for s, d in sorted(by_stride.items())]
