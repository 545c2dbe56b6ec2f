"""Image folders: the one list of image files every tool and the training use (numpy-free)."""
from __future__ import annotations

import os
from typing import List, Sequence, Tuple, TypeVar

IMG_EXT: Tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp")

T = TypeVar("T")


def list_images(d: str, recursive: bool = False, exts: Tuple[str, ...] = IMG_EXT) -> List[str]:
    """Image files in folder d (extension in `exts`, any case) as d-joined paths, sorted.

    With `recursive` also those in its sub-folders (e.g. one per class; symlinked folders are
    followed). A missing folder (or an empty name) gives an empty list.
    """
    if not d or not os.path.isdir(d):
        return []
    if not recursive:
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(exts))
    out: List[str] = []
    for root, _dirs, files in os.walk(d, followlinks=True):
        out += [os.path.join(root, f) for f in files if f.lower().endswith(exts)]
    return sorted(out)


def pick_evenly(files: Sequence[T], n: int) -> List[T]:
    """n items evenly spaced over `files` (all of them when n >= len(files))."""
    if n >= len(files):
        return list(files)
    return [files[(i * len(files)) // n] for i in range(n)]
