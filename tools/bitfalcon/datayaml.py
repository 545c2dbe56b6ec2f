"""Ultralytics data.yaml for the training tools (the subset `bitfalcon eval --data` reads).

    path: ../datasets/mine      # dataset root (optional; relative to the yaml's folder)
    train: images/train         # a folder, a .txt list of images, or a list of those
    val: images/val
    names: [cat, dog]           # a list, or a dict {0: cat, 1: dog} with ids 0..n-1
    nc: 2                       # optional; must match names

Labels follow Ultralytics: an image's label file is its path with the last "images" path
component replaced by "labels" and the extension by ".txt" (ROOT/images/train/a.jpg ->
ROOT/labels/train/a.txt); a missing label file means no objects. Parsed with PyYAML
(Debian's python3-yaml); every error names the file and the key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .images import IMG_EXT, list_images
from .train_data import Item, read_yolo_labels


class DataYamlError(ValueError):
    pass


@dataclass
class DataYaml:
    path: str            # the yaml file
    root: str            # the dataset root (absolute)
    train: List[str]     # entries as written, resolved against root (folders or .txt lists)
    val: List[str]
    names: List[str]


def _entries(raw, root: str, key: str, path: str) -> List[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for it in items:
        if not isinstance(it, str) or not it:
            raise DataYamlError(f"{path}: {key}: expected a path or a list of paths, got {it!r}")
        out.append(os.path.normpath(os.path.join(root, os.path.expanduser(it))))
    return out


def _names(raw, nc, path: str) -> List[str]:
    if isinstance(raw, dict):
        try:
            ids = sorted(int(k) for k in raw)
        except (TypeError, ValueError):
            raise DataYamlError(f"{path}: names: the keys of a names dict are class ids 0..n-1")
        if ids != list(range(len(ids))):
            raise DataYamlError(f"{path}: names: ids must be 0..{len(ids) - 1}, each once (got {ids[:8]}...)")
        names = [raw[k] if k in raw else raw[str(k)] for k in ids]
    elif isinstance(raw, list):
        names = raw
    elif raw is None and isinstance(nc, int) and nc > 0:
        names = [f"class{i}" for i in range(nc)]
    else:
        raise DataYamlError(f"{path}: names: expected a list or a dict of class names")
    names = [str(n) for n in names]
    if not 1 <= len(names) <= 1000:
        raise DataYamlError(f"{path}: names: {len(names)} classes; 1..1000 are supported")
    for i, n in enumerate(names):
        if not n or not n.isprintable():
            raise DataYamlError(f"{path}: names: class {i} ({n!r}) is empty or not printable")
    if nc is not None and nc != len(names):
        raise DataYamlError(f"{path}: nc: {nc} but names has {len(names)} classes")
    return names


def read_data_yaml(path: str) -> DataYaml:
    try:
        import yaml
    except ImportError:
        raise DataYamlError("reading a data.yaml needs PyYAML: apt-get install python3-yaml")
    try:
        with open(path, encoding="utf-8-sig") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise DataYamlError(f"{path}: {e.strerror}")
    except yaml.YAMLError as e:
        raise DataYamlError(f"{path}: not valid YAML: {e}")
    if not isinstance(doc, dict):
        raise DataYamlError(f"{path}: expected a mapping (path:, train:, val:, names:)")
    base = os.path.dirname(os.path.abspath(path))
    root = doc.get("path") or "."
    if not isinstance(root, str):
        raise DataYamlError(f"{path}: path: expected a folder")
    root = os.path.normpath(os.path.join(base, os.path.expanduser(root)))
    nc = doc.get("nc")
    if nc is not None and not isinstance(nc, int):
        raise DataYamlError(f"{path}: nc: expected an integer")
    return DataYaml(path=path, root=root, train=_entries(doc.get("train"), root, "train", path),
                    val=_entries(doc.get("val"), root, "val", path), names=_names(doc.get("names"), nc, path))


def label_path(image: str) -> str:
    """Ultralytics' image -> label path: the last 'images' component becomes 'labels'."""
    parts = os.path.normpath(image).split(os.sep)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    else:
        raise DataYamlError(f"{image}: no 'images' folder in the path, so no labels folder beside it")
    return os.path.splitext(os.sep.join(parts))[0] + ".txt"


def split_images(entries: List[str], key: str) -> List[str]:
    """The images of a split: folders walked recursively, .txt files read as one path a line
    (relative lines against the list's folder, as Ultralytics)."""
    out: List[str] = []
    for e in entries:
        if os.path.isdir(e):
            out += list_images(e, recursive=True)
        elif e.endswith(".txt") and os.path.isfile(e):
            with open(e, encoding="utf-8-sig") as f:
                for line in f:
                    p = line.strip()
                    if p and p.lower().endswith(IMG_EXT):
                        out.append(os.path.normpath(os.path.join(os.path.dirname(e), p)))
        else:
            raise DataYamlError(f"{key}: {e}: no such folder or image list")
    return out


def split_items(d: DataYaml, split: str = "train") -> List[Item]:
    """Labeled items of a split; class ids outside the names are an error naming the file."""
    entries = d.train if split == "train" else d.val
    if not entries:
        raise DataYamlError(f"{d.path}: no {split}: split")
    items = []
    for img in split_images(entries, split):
        lab = read_yolo_labels(label_path(img))
        if len(lab) and (lab[:, 0].min() < 0 or lab[:, 0].max() >= len(d.names)):
            raise DataYamlError(f"{label_path(img)}: class id {int(lab[:, 0].max())} outside 0..{len(d.names) - 1}")
        items.append(Item(img, lab))
    if not items:
        raise DataYamlError(f"{d.path}: {split}: no images in {', '.join(entries)}")
    return items


def val_dirs(d: DataYaml) -> Optional[Tuple[str, str]]:
    """(images folder, labels folder) of the val split, when it is one folder (what
    `bitfalcon eval --images/--labels` and the training run's validation take)."""
    if len(d.val) != 1 or not os.path.isdir(d.val[0]):
        return None
    img = d.val[0]
    return img, os.path.dirname(label_path(os.path.join(img, "x.jpg")))
