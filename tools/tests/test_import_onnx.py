#!/usr/bin/python3
"""tools/import_onnx.py on YOLOv8 exports built here (ctest tools.import_onnx_*).

    test_import_onnx.py custom   3-class YOLOv8n and YOLOv8s (random weights, tools/export_onnx.py,
                                 Ultralytics metadata), fixed and dynamic input: import, verify, npz
                                 metadata, build_teacher; refused graphs (YOLOv5 6x6 stem, a
                                 segmentation-like second output, a rewired neck concat, a quantized
                                 export) with the node named in the message
    test_import_onnx.py bfm EXE  a 3-class teacher through export_onnx, import_onnx and export.py: the
                                 C program prints its names, --classes, eval --data table, COCO JSON
    test_import_onnx.py coco     the COCO teacher through export_onnx.py + import_onnx.py gives the same
                                 detect_teacher.py detections as the npz (skips without ../shared)
Exit 77 = skipped (no torch/onnx, or no ../shared for `coco`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from _setup import REPO, SKIP, TOOLS, need

PY = sys.executable
NAMES3 = ["cat", "dog", "traffic cone"]


def run(args, expect_rc=0):
    p = subprocess.run([PY] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    out = p.stdout.decode()
    if p.returncode != expect_rc:
        print(out)
        raise AssertionError(f"{args[0]}: exit {p.returncode}, expected {expect_rc}")
    return out


def random_teacher(path: str, nc: int, width: float, seed: int) -> None:
    import torch
    from bitfalcon.teacher import state_dict_to_teacher, write_teacher_npz
    from bitfalcon.nn import BitConv2d
    from bitfalcon.yolo import YOLOv8Bit
    torch.manual_seed(seed)
    m = YOLOv8Bit(nc=nc, width=width)
    for mod in m.modules():
        if isinstance(mod, BitConv2d):
            fan = mod.weight[0].numel()
            with torch.no_grad():
                mod.weight.normal_(0, 1.6 / fan ** 0.5)
                mod.bias.normal_(0, 0.1)
    meta = {"format": "bitfalcon-teacher", "version": 1, "nc": nc, "width": width, "depth": 0.33,
            "max_channels": 1024, "reg_max": 16, "names": NAMES3[:nc], "imgsz": [320, 320], "stride": 32}
    write_teacher_npz(path, state_dict_to_teacher(m), meta)


def check_import(onnx_path: str, npz: str, nc: int, width: float, dynamic: bool) -> None:
    import numpy as np
    from bitfalcon.yolo import build_teacher, teacher_meta, teacher_names
    out = run([os.path.join(TOOLS, "import_onnx.py"), onnx_path, "-o", npz])
    print(out.strip())
    assert "verify: " in out and "max abs diff" in out, out
    meta = teacher_meta(npz)
    assert meta["nc"] == nc and meta["width"] == width and meta["depth"] == 0.33, meta
    assert meta["names"] == NAMES3[:nc] and teacher_names(npz) == NAMES3[:nc]
    assert meta["imgsz"] == [320, 320] and meta["source"]["dynamic"] == dynamic, meta
    assert meta["verify"]["max_abs_score"] <= 1e-3 and meta["verify"]["max_abs_box_px"] <= 0.05
    m = build_teacher(npz)
    assert m.nc == nc and m.model[0].weight.shape[0] == int(64 * width)
    d = np.load(npz)
    assert d["model.22.cv3.0.2.weight"].shape[0] == nc


def refused(onnx_path: str, want: str) -> None:
    out = run([os.path.join(TOOLS, "import_onnx.py"), onnx_path, "-o", onnx_path + ".npz"], expect_rc=2)
    print(out.strip())
    assert "not a YOLOv8 detect graph" in out and want in out, (want, out)
    assert not os.path.exists(onnx_path + ".npz")


def yolov5_like(path: str) -> None:
    """YOLOv5 v6 stem: Conv 6x6 stride 2 pad 2 + SiLU, then a 3x3 stride-2 conv."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    r = np.random.default_rng(0)
    inits = [numpy_helper.from_array(r.normal(size=(16, 3, 6, 6)).astype(np.float32), "model.0.conv.weight"),
             numpy_helper.from_array(np.zeros(16, np.float32), "model.0.conv.bias")]
    nodes = [helper.make_node("Conv", ["images", "model.0.conv.weight", "model.0.conv.bias"], ["c0"],
                              name="/model.0/conv/Conv", kernel_shape=[6, 6], strides=[2, 2], pads=[2, 2, 2, 2]),
             helper.make_node("Sigmoid", ["c0"], ["s0"], name="/model.0/act/Sigmoid"),
             helper.make_node("Mul", ["c0", "s0"], ["output0"], name="/model.0/act/Mul")]
    g = helper.make_graph(nodes, "yolov5",
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 320, 320])],
                          [helper.make_tensor_value_info("output0", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)])
    onnx.save(m, path)


def second_output(src: str, path: str) -> None:
    import onnx
    m = onnx.load(src)
    t = [n for n in m.graph.node if n.op_type == "Mul"][10].output[0]
    m.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    m.graph.output[1].name = t
    onnx.save(m, path)


def rewired_neck(src: str, path: str) -> None:
    """Neck concat 14 takes layer 2's output instead of layer 4's (a modified neck)."""
    import onnx
    m = onnx.load(src)
    cats = [n for n in m.graph.node if n.op_type == "Concat" and "model.14" in n.name]
    assert cats, "no /model.14 concat in the export"
    c2f2 = [n for n in m.graph.node if n.name.endswith("model.2/cv2/Mul")][0]
    cats[0].input[1] = c2f2.output[0]
    onnx.save(m, path)


def test_custom(tmp: str) -> None:
    cases = [("n3", 3, 0.25, False, 12), ("s3", 3, 0.5, False, 13), ("n3dyn", 3, 0.25, True, 17),
             ("n1", 1, 0.25, False, 11)]
    for tag, nc, width, dyn, opset in cases:
        npz = os.path.join(tmp, f"{tag}_src.npz")
        random_teacher(npz, nc, width, seed=len(tag) + nc)
        onnx_path = os.path.join(tmp, f"{tag}.onnx")
        args = [os.path.join(TOOLS, "export_onnx.py"), "--teacher", npz, "--size", "320", "-o", onnx_path,
                "--opset", str(max(opset, 12)), "--no-check"]
        if dyn:
            args.append("--dynamic")
        run(args)
        if opset == 11:     # torch exports opset 11 too (Split/Slice/Softmax/Resize of that opset)
            import onnx
            import torch  # noqa: F401
            from bitfalcon.onnx_export import build_wrapper
            wcls, teacher = build_wrapper(npz)
            import torch as T
            T.onnx.export(wcls(teacher, 320).eval(), T.zeros(1, 3, 320, 320), onnx_path, opset_version=11,
                          input_names=["images"], output_names=["output0"])
            m = onnx.load(onnx_path)
            for k, v in (("names", repr({i: n for i, n in enumerate(NAMES3[:nc])})), ("imgsz", "[320, 320]"),
                         ("stride", "32"), ("task", "detect")):
                p = m.metadata_props.add()
                p.key, p.value = k, v
            onnx.save(m, onnx_path)
        print(f"== {tag}: nc {nc} width {width} {'dynamic' if dyn else 'fixed'} opset {opset}")
        check_import(onnx_path, os.path.join(tmp, f"{tag}.npz"), nc, width, dyn)
    n3 = os.path.join(tmp, "n3.onnx")
    bad = os.path.join(tmp, "yolov5.onnx")
    yolov5_like(bad)
    refused(bad, "node /model.0/conv/Conv (Conv): expected model.0 (stem: conv 3x3 stride 2)")
    second_output(n3, os.path.join(tmp, "seg.onnx"))
    refused(os.path.join(tmp, "seg.onnx"), "expected one output")
    rewired_neck(n3, os.path.join(tmp, "neck.onnx"))
    refused(os.path.join(tmp, "neck.onnx"), "model.14")
    int8 = os.path.join(REPO, "..", "shared", "data", "teacher", "yolov8n_int8.onnx")
    if os.path.exists(int8):
        refused(int8, "a quantized export")


def test_coco(tmp: str) -> None:
    teacher = os.path.join(REPO, "..", "shared", "data", "teacher", "yolov8n_coco.npz")
    samples = os.path.join(REPO, "..", "shared", "data", "samples")
    if not os.path.exists(teacher) or not os.path.isdir(samples):
        print("SKIP: ../shared/data (teacher, samples) absent")
        sys.exit(SKIP)
    onnx_path = os.path.join(tmp, "coco640.onnx")
    run([os.path.join(TOOLS, "export_onnx.py"), "-o", onnx_path, "--size", "640", "--no-check"])
    npz = os.path.join(tmp, "coco_imported.npz")
    print(run([os.path.join(TOOLS, "import_onnx.py"), onnx_path, "-o", npz]).strip())
    res = []
    for t in (teacher, npz):
        out = os.path.join(tmp, os.path.basename(t) + ".json")
        run([os.path.join(TOOLS, "detect_teacher.py"), "--teacher", t, "--images", samples, "--size", "640",
             "--limit", "3", "-o", out])
        with open(out) as f:
            res.append(json.load(f))
    assert res[0], "no detections"
    assert res[0] == res[1], "imported teacher's detections differ from the npz teacher's"
    print(f"same {len(res[0])} detections on 3 images of {samples}")


def test_bfm(tmp: str) -> None:
    """A 3-class teacher (the COCO teacher's first 3 class channels, names of its own) through
    export_onnx -> import_onnx -> export.py (ternarized, 4 calibration images): the C program
    prints its names, --classes takes them, eval --data prints them in the per-class table."""
    from coco3 import three_class_onnx
    exe = sys.argv[2] if len(sys.argv) > 2 else ""
    names = ["worker", "bike", "auto rickshaw"]
    onnx_path = three_class_onnx(tmp, names) if os.access(exe, os.X_OK) else None
    if onnx_path is None:
        print("SKIP: ../shared/data/teacher or the bitfalcon program absent")
        sys.exit(SKIP)
    npz, bfm = (os.path.join(tmp, n) for n in ("t3.npz", "t3.bfm"))
    print(run([os.path.join(TOOLS, "import_onnx.py"), onnx_path, "-o", npz]).strip())
    calib = os.path.join(tmp, "calib")
    os.makedirs(calib)
    for f in sorted(os.listdir(os.path.join(REPO, "tests", "data"))):
        if f.endswith(".png"):
            os.symlink(os.path.join(REPO, "tests", "data", f), os.path.join(calib, f))
    run([os.path.join(TOOLS, "export.py"), "--teacher", npz, "--calib", calib, "--calib-images", "4", "--size", "320",
         "-o", bfm])
    img = os.path.join(REPO, "tests", "data", "astronaut.png")

    def bf(args, rc=0):
        p = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
        assert p.returncode == rc, (args, p.returncode, p.stderr.decode())
        return p.stdout.decode(), p.stderr.decode()

    out, _ = bf(["detect", "-m", bfm, "--conf", "0.001", "--max-det", "50", img])
    seen = {line.split(": ", 1)[1].rsplit(" ", 5)[0] for line in out.splitlines() if " x=" in line}
    print(f"detect names: {sorted(seen)}")
    assert seen and seen <= set(names), out
    out, _ = bf(["detect", "-m", bfm, "--conf", "0.001", "--classes", "auto rickshaw,1", img])
    kept = {line.split(": ", 1)[1].rsplit(" ", 5)[0] for line in out.splitlines() if " x=" in line}
    assert kept <= {"bike", "auto rickshaw"}, out
    _, err = bf(["detect", "-m", bfm, "--classes", "person", img], rc=2)
    assert "'person' is not a class of the model (3 classes: worker, bike, ...)" in err, err
    ds = os.path.join(tmp, "ds")
    os.makedirs(os.path.join(ds, "images", "val"))
    os.makedirs(os.path.join(ds, "labels", "val"))
    os.symlink(img, os.path.join(ds, "images", "val", "astronaut.png"))
    with open(os.path.join(ds, "labels", "val", "astronaut.txt"), "w") as f:
        f.write("0 0.5 0.5 0.6 0.9\n")
    with open(os.path.join(ds, "data.yaml"), "w") as f:
        f.write("path: .\ntrain: images/val\nval: images/val\nnames:\n  0: worker\n  1: bike\n  2: auto rickshaw\n")
    out, _ = bf(["eval", "-m", bfm, "--data", os.path.join(ds, "data.yaml"), "--size", "320",
                 "--save-json", os.path.join(tmp, "r.json")])
    print(out)
    assert any(line.split()[:1] == ["all"] for line in out.splitlines()), out
    assert any(line.split()[:1] == ["worker"] for line in out.splitlines()), out
    with open(os.path.join(tmp, "r.json")) as f:
        res = json.load(f)
    assert res and {r["category_id"] for r in res} <= {1, 2, 3} and all(r["image_id"] == "astronaut" for r in res)


def main() -> int:
    need("numpy", "torch", "onnx")
    which = sys.argv[1] if len(sys.argv) > 1 else "custom"
    with tempfile.TemporaryDirectory(prefix="bf_import_") as tmp:
        {"custom": test_custom, "coco": test_coco, "bfm": test_bfm}[which](tmp)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
