#!/usr/bin/python3
"""tools/bitfalcon/datayaml.py (ctest tools.datayaml): the data.yaml files of tests/data/yaml,
which the C reader (src/io/datayaml.c) is tested on, accepted and refused alike, with the same
names; Ultralytics' images -> labels path rule; a split given as a .txt list; a class id
outside the names refused with the label file named. Exit 77 = skipped (no PyYAML)."""
from __future__ import annotations

import os
import sys
import tempfile

from _setup import REPO, need

YAML_DIR = os.path.join(REPO, "tests", "data", "yaml")
NAMES = {"ok_block_list.yaml": None, "ok_dict_block.yaml": ["person", "bicycle", "traffic light"],
         "ok_flow_list.yaml": None}


def main() -> int:
    need("yaml", "numpy", "PIL")
    from bitfalcon import datayaml as D
    for f in sorted(os.listdir(YAML_DIR)):
        path = os.path.join(YAML_DIR, f)
        if f.startswith("ok_"):
            d = D.read_data_yaml(path)
            assert d.names and all(d.names), (f, d.names)
            if NAMES.get(f):
                assert d.names == NAMES[f], (f, d.names)
            assert d.val and d.val[0].endswith(os.path.join("images", "val")), d.val
            print(f"{f}: {len(d.names)} names, val {d.val[0]}")
        else:
            try:
                D.read_data_yaml(path)
            except D.DataYamlError as e:
                assert path in str(e), e
                print(f"{f}: refused: {e}")
            else:
                raise AssertionError(f"{f} was accepted")
    d = D.read_data_yaml(os.path.join(YAML_DIR, "ok_dict_block.yaml"))
    assert d.root == os.path.normpath(os.path.join(YAML_DIR, "..", "datasets", "coco8")), d.root
    assert D.label_path("/d/images/train/images/a.jpg") == "/d/images/train/labels/a.txt"
    assert D.label_path("/d/images/val/x.PNG") == "/d/labels/val/x.txt"

    with tempfile.TemporaryDirectory() as tmp:
        for sub in ("images/a", "labels/a"):
            os.makedirs(os.path.join(tmp, sub))
        src = os.path.join(REPO, "tests", "data", "astronaut.png")
        for stem in ("p", "q"):
            os.symlink(src, os.path.join(tmp, "images", "a", stem + ".png"))
        with open(os.path.join(tmp, "labels", "a", "p.txt"), "w") as fh:
            fh.write("1 0.5 0.5 0.2 0.2\n0 0.3 0.3 0.1 0.1\n")
        with open(os.path.join(tmp, "list.txt"), "w") as fh:
            fh.write("images/a/p.png\n./images/a/q.png\n")
        yml = os.path.join(tmp, "d.yaml")
        with open(yml, "w") as fh:
            fh.write("train: list.txt\nval: images/a\nnames: [a, b]\n")
        d = D.read_data_yaml(yml)
        items = D.split_items(d, "train")
        assert [os.path.basename(i.path) for i in items] == ["p.png", "q.png"], items
        assert items[0].labels.shape == (2, 5) and items[0].labels[0, 0] == 1 and len(items[1].labels) == 0
        assert D.val_dirs(d) == (os.path.join(tmp, "images", "a"), os.path.join(tmp, "labels", "a"))
        with open(yml, "w") as fh:
            fh.write("train: list.txt\nnames: [a]\n")
        try:
            D.split_items(D.read_data_yaml(yml), "train")
        except D.DataYamlError as e:
            assert "p.txt" in str(e) and "class id 1" in str(e), e
        else:
            raise AssertionError("class 1 of a 1-class yaml was accepted")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
