"""Training data for BitFalcon QAT (torch-free apart from the batch collation).

Images: unlabeled photos (distillation only) and labeled COCO images (distillation + the
YOLOv8 detection loss). Every batch is drawn from a seeded RNG keyed by (seed, rank, step),
so a resumed run continues with new batches without any sampler state.

Augmentation (numpy + PIL): random scale and translate around the letterbox placement,
horizontal flip, HSV jitter, optional 4-image mosaic; multi-scale (one size per batch,
batch shrinks with the square of the size so each step costs about the same).
Boxes are [N, 5] float32: class, x0, y0, x1, y1 in input pixels.
"""
from __future__ import annotations

import os
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from .images import list_images

PAD = 114


def read_yolo_labels(path: str) -> np.ndarray:
    """[N, 5] class, cx, cy, w, h (normalised); empty when the file is missing or empty."""
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 5:
                    rows.append([float(v) for v in p])
    return np.array(rows, dtype=np.float32).reshape(-1, 5)


class Item:
    __slots__ = ("path", "labels")

    def __init__(self, path: str, labels: Optional[np.ndarray]):
        self.path, self.labels = path, labels      # labels None = unlabeled


def labeled_items(images_dir: str, labels_dir: str) -> List[Item]:
    out = []
    for p in list_images(images_dir):
        stem = os.path.splitext(os.path.basename(p))[0]
        out.append(Item(p, read_yolo_labels(os.path.join(labels_dir, stem + ".txt"))))
    return out


def load_image(item: Item, max_side: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(HxWx3 uint8, boxes [N,5] class x0 y0 x1 y1 in pixels of the returned image)."""
    from .letterbox import displayed
    with Image.open(item.path) as im:
        im = displayed(im).convert("RGB")     # EXIF-oriented JPEGs as the program sees them
        if max_side and max(im.size) > max_side:
            r = max_side / max(im.size)
            im = im.resize((max(1, round(im.size[0] * r)), max(1, round(im.size[1] * r))), Image.BILINEAR)
        img = np.asarray(im, dtype=np.uint8)
    h, w = img.shape[:2]
    if item.labels is None or len(item.labels) == 0:
        return img, np.zeros((0, 5), np.float32)
    lab = item.labels
    b = np.stack([lab[:, 0], (lab[:, 1] - lab[:, 3] / 2) * w, (lab[:, 2] - lab[:, 4] / 2) * h,
                  (lab[:, 1] + lab[:, 3] / 2) * w, (lab[:, 2] + lab[:, 4] / 2) * h], axis=1).astype(np.float32)
    return img, b


def _clip_boxes(b: np.ndarray, size: int, min_px: float = 2.0, orig_area: Optional[np.ndarray] = None,
                min_vis: float = 0.25) -> np.ndarray:
    if len(b) == 0:
        return b
    b = b.copy()
    b[:, 1:] = np.clip(b[:, 1:], 0, size)
    w, h = b[:, 3] - b[:, 1], b[:, 4] - b[:, 2]
    keep = (w >= min_px) & (h >= min_px)
    if orig_area is not None:
        keep &= (w * h) >= min_vis * np.maximum(orig_area, 1e-6)
    return b[keep]


def place(img: np.ndarray, boxes: np.ndarray, canvas: np.ndarray, r: float, ox: float, oy: float) -> np.ndarray:
    """Resizes img by r and pastes it with its top-left at (ox, oy) (may be partly outside)."""
    h, w = img.shape[:2]
    nw, nh = max(1, int(round(w * r))), max(1, int(round(h * r)))
    im = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    ox, oy = int(round(ox)), int(round(oy))
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + nw, W), min(oy + nh, H)
    if x1 > x0 and y1 > y0:
        canvas[y0:y1, x0:x1] = im[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    if len(boxes) == 0:
        return boxes
    b = boxes.copy()
    b[:, [1, 3]] = b[:, [1, 3]] * (nw / w) + ox
    b[:, [2, 4]] = b[:, [2, 4]] * (nh / h) + oy
    return b


def hsv_jitter(img: np.ndarray, rng: np.random.Generator, gains: Sequence[float]) -> np.ndarray:
    hg, sg, vg = gains
    if hg == 0 and sg == 0 and vg == 0:
        return img
    r = rng.uniform(-1, 1, 3) * np.array([hg, sg, vg]) + np.array([0.0, 1.0, 1.0])
    hsv = np.asarray(Image.fromarray(img).convert("HSV")).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + r[0] * 255.0) % 256.0
    hsv[..., 1] = np.clip(hsv[..., 1] * r[1], 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * r[2], 0, 255)
    return np.asarray(Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB"))


def augment_single(img: np.ndarray, boxes: np.ndarray, size: int, rng: np.random.Generator,
                   cfg: Dict) -> Tuple[np.ndarray, np.ndarray]:
    """Letterbox placement with random scale (1 +- scale) and translate (+- translate * size)."""
    h, w = img.shape[:2]
    r = size / max(h, w) * rng.uniform(1 - cfg.get("scale", 0.0), 1 + cfg.get("scale", 0.0))
    nw, nh = w * r, h * r
    t = cfg.get("translate", 0.0) * size
    ox = (size - nw) / 2 + rng.uniform(-t, t)
    oy = (size - nh) / 2 + rng.uniform(-t, t)
    canvas = np.full((size, size, 3), PAD, np.uint8)
    area = (boxes[:, 3] - boxes[:, 1]) * (boxes[:, 4] - boxes[:, 2]) * r * r if len(boxes) else None
    b = place(img, boxes, canvas, r, ox, oy)
    return canvas, _clip_boxes(b, size, orig_area=area)


def augment_mosaic(samples: List[Tuple[np.ndarray, np.ndarray]], size: int, rng: np.random.Generator,
                   cfg: Dict) -> Tuple[np.ndarray, np.ndarray]:
    """4 images around a random centre, each scaled to a random fraction of the canvas."""
    canvas = np.full((size, size, 3), PAD, np.uint8)
    xc, yc = rng.uniform(0.3, 0.7) * size, rng.uniform(0.3, 0.7) * size
    out = []
    for k, (img, boxes) in enumerate(samples[:4]):
        h, w = img.shape[:2]
        r = size / max(h, w) * rng.uniform(0.45, 0.85)
        nw, nh = w * r, h * r
        ox = xc - nw if k in (0, 2) else xc
        oy = yc - nh if k in (0, 1) else yc
        area = (boxes[:, 3] - boxes[:, 1]) * (boxes[:, 4] - boxes[:, 2]) * r * r if len(boxes) else None
        b = place(img, boxes, canvas, r, ox, oy)
        out.append(_clip_boxes(b, size, orig_area=area))
    return canvas, np.concatenate(out) if out else np.zeros((0, 5), np.float32)


def hflip(img: np.ndarray, boxes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    img = img[:, ::-1].copy()
    if len(boxes):
        W = img.shape[1]
        boxes = boxes.copy()
        x0 = W - boxes[:, 3]
        boxes[:, 3] = W - boxes[:, 1]
        boxes[:, 1] = x0
    return img, boxes


def batch_shape(rng: np.random.Generator, cfg: Dict) -> Tuple[int, int]:
    """(size, batch) for one step: size from cfg sizes (weights), batch = batch_320 * (320/size)^2."""
    sizes = cfg.get("sizes", [320])
    wts = np.array(cfg.get("size_weights", [1] * len(sizes)), dtype=np.float64)
    size = int(sizes[rng.choice(len(sizes), p=wts / wts.sum())])
    b = max(1, int(round(cfg.get("batch_320", 8) * (320.0 / size) ** 2)))
    return size, b


class BatchMaker:
    """Builds batch `step` deterministically from (seed, rank, step)."""

    def __init__(self, photos: List[Item], labeled: List[Item], cfg: Dict, seed: int = 0, rank: int = 0):
        self.photos, self.labeled, self.cfg, self.seed, self.rank = photos, labeled, cfg, seed, rank
        if not photos and not labeled:
            raise ValueError("no training images")

    def _pick(self, rng: np.random.Generator) -> Item:
        cf = self.cfg.get("coco_frac", 0.25) if self.photos else 1.0
        pool = self.labeled if (self.labeled and rng.random() < cf) else self.photos
        return pool[int(rng.integers(len(pool)))]

    def make(self, step: int) -> Dict:
        cfg = self.cfg
        rng = np.random.default_rng([self.seed, self.rank, step])
        size, bs = batch_shape(rng, cfg)
        imgs, targets, has_gt = [], [], []
        for _ in range(bs):
            if rng.random() < cfg.get("mosaic", 0.0):
                items = [self._pick(rng) for _ in range(4)]
                img, b = augment_mosaic([load_image(it, size) for it in items], size, rng, cfg)
                lab = all(it.labels is not None for it in items)
            else:
                it = self._pick(rng)
                img, b = augment_single(*load_image(it, 0), size, rng, cfg)
                lab = it.labels is not None
            if rng.random() < cfg.get("hflip", 0.5):
                img, b = hflip(img, b)
            img = hsv_jitter(img, rng, cfg.get("hsv", [0.0, 0.0, 0.0]))
            imgs.append(img)
            targets.append(b)
            has_gt.append(lab)
        return {"images": np.stack(imgs), "boxes": targets, "has_gt": np.array(has_gt), "size": size, "step": step}


def to_torch(batch: Dict, device="cpu"):
    """images -> float [B,3,S,S] in [0,1]; boxes -> padded [B, M, 5] and mask [B, M]."""
    import torch
    x = torch.from_numpy(batch["images"]).permute(0, 3, 1, 2).float().div_(255.0).to(device)
    M = max([len(b) for b in batch["boxes"]] + [1])
    gt = torch.zeros(len(batch["boxes"]), M, 5)
    mask = torch.zeros(len(batch["boxes"]), M, dtype=torch.bool)
    for i, b in enumerate(batch["boxes"]):
        if len(b):
            gt[i, :len(b)] = torch.from_numpy(b)
            mask[i, :len(b)] = True
    has = torch.from_numpy(batch["has_gt"].astype(np.bool_))
    return x, gt.to(device), mask.to(device), has.to(device)


class BatchStream:
    """Iterable over steps start..; one background worker process prepares batches."""

    def __init__(self, maker: BatchMaker, start_step: int, workers: int = 1):
        self.maker, self.start, self.workers = maker, start_step, workers

    def __iter__(self) -> Iterator[Dict]:
        if self.workers <= 0:
            s = self.start
            while True:
                yield self.maker.make(s)
                s += 1
        import torch.utils.data as tud

        maker, start = self.maker, self.start

        class _DS(tud.IterableDataset):
            def __iter__(self_inner):
                s = start
                while True:
                    yield maker.make(s)
                    s += 1

        dl = tud.DataLoader(_DS(), batch_size=None, num_workers=1, prefetch_factor=4,
                            collate_fn=_identity, worker_init_fn=_limit_threads)
        yield from dl


def _identity(x):
    return x


def _limit_threads(_worker_id: int = 0) -> None:
    try:
        import torch
        torch.set_num_threads(1)
    except Exception:
        pass
