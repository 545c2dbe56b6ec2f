"""The exact integer letterbox of docs/model-format.md (numpy, vectorized).

Half-pixel-centred bilinear resize with 11-bit weights into an S x S canvas of
grey 114, aspect ratio kept, image centred. The C engine computes the same bytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Tuple

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LetterboxParams:
    size: int      # S
    width: int     # source w
    height: int    # source h
    r: float       # min(S / w, S / h)
    nw: int
    nh: int
    left: int
    top: int


def letterbox_params(width: int, height: int, size: int) -> LetterboxParams:
    if width < 1 or height < 1 or size < 1:
        raise ValueError("bad sizes")
    r = min(size / width, size / height)
    nw = max(1, math.floor(width * r + 0.5))
    nh = max(1, math.floor(height * r + 0.5))
    return LetterboxParams(size, width, height, r, nw, nh, (size - nw) // 2, (size - nh) // 2)


def _taps(n_dst: int, n_src: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index pair and 11-bit weight for each destination coordinate."""
    x = np.arange(n_dst, dtype=np.int64)
    num = (2 * x + 1) * n_src - n_dst
    f = np.where(num > 0, num * 2048 // (2 * n_dst), 0)
    i0 = np.minimum(f >> 11, n_src - 1)
    a = f & 2047
    i1 = np.minimum(i0 + 1, n_src - 1)
    return i0, i1, a


def resize_bilinear(img: np.ndarray, nw: int, nh: int) -> np.ndarray:
    """The doc's integer bilinear resize of an HxWxC uint8 image to nh x nw."""
    h, w = img.shape[:2]
    x0, x1, ax = _taps(nw, w)
    y0, y1, ay = _taps(nh, h)
    p = img.astype(np.int64)
    ax = ax[None, :, None]
    ay = ay[:, None, None]
    r0 = p[y0]                 # rows y0: nh x w x C
    r1 = p[y1]
    top = r0[:, x0] * (2048 - ax) + r0[:, x1] * ax
    bot = r1[:, x0] * (2048 - ax) + r1[:, x1] * ax
    return ((top * (2048 - ay) + bot * ay + (1 << 21)) >> 22).astype(np.uint8)


def letterbox(img: np.ndarray, size: int) -> Tuple[np.ndarray, LetterboxParams]:
    """Letterboxes an HxWx3 uint8 RGB image to size x size; returns (canvas uint8, params)."""
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError("letterbox wants an HxWxC uint8 image")
    h, w = img.shape[:2]
    lp = letterbox_params(w, h, size)
    out = np.full((size, size, img.shape[2]), 114, dtype=np.uint8)
    out[lp.top:lp.top + lp.nh, lp.left:lp.left + lp.nw] = resize_bilinear(img, lp.nw, lp.nh)
    return out, lp


def letterboxed(path: str, size: int) -> Tuple["torch.Tensor", LetterboxParams]:
    """An image file as the float network's input: [1, 3, S, S] float32 RGB / 255 (torch), letterboxed."""
    import torch
    canvas, lp = letterbox(load_rgb(path), size)
    return torch.from_numpy(canvas).permute(2, 0, 1)[None].float() / 255.0, lp


def displayed(im):
    """A JPEG turned by its EXIF orientation into the frame a viewer shows, as the C
    program decodes it (src/io/orient.c; `--no-exif` there = not calling this). Only JPEGs,
    as the program: PIL would also turn other formats that carry EXIF."""
    if getattr(im, "format", None) == "JPEG":
        from PIL import ImageOps
        return ImageOps.exif_transpose(im)
    return im


def load_rgb(path: str, exif: bool = True) -> np.ndarray:
    """Decodes an image file to HxWx3 uint8 RGB with PIL (JPEGs in their EXIF orientation)."""
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray((displayed(im) if exif else im).convert("RGB"), dtype=np.uint8)


def network_input(canvas: np.ndarray) -> np.ndarray:
    """The network's int8 input value: q = pixel - 128 (zero point -128, scale 1/255)."""
    return (canvas.astype(np.int16) - 128).astype(np.int8)
