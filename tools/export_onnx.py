#!/usr/bin/python3
"""Exports the fp32 YOLOv8n teacher as a standard YOLOv8n ONNX (for peer benchmarks).

    /usr/bin/python3 tools/export_onnx.py -o tools/.cache/yolov8n_fp32_640.onnx --size 640
    /usr/bin/python3 tools/export_onnx.py -o out.onnx --size 320 --check-image tests/data/astronaut.png

The network is tools/bitfalcon/yolo.py with quantization off (the fp32 teacher),
weights from ../shared/data/teacher/yolov8n_coco.npz (BatchNorm folded), exported
with torch.onnx (opset 12 by default), the same interface as Ultralytics' export:

    input   images   float32 [1, 3, S, S]   RGB / 255, letterboxed (grey 114 padding)
    output  output0  float32 [1, 84, N]     N = (S/8)^2 + (S/16)^2 + (S/32)^2 anchors
                                            (8400 at 640, 2100 at 320):
            rows 0..3   x_center, y_center, width, height in input pixels
                        (DFL: softmax over 16 bins . arange(16), dist2bbox, x stride)
            rows 4..83  sigmoid class scores (80 COCO classes)

Anchors are at cell centres (gx + 0.5, gy + 0.5) of each stride's grid, in
stride order 8, 16, 32, row-major, like Ultralytics. The size is fixed (no
dynamic axes), as Ultralytics exports by default; --dynamic makes batch, height
and width dynamic (anchors computed in the graph, as Ultralytics' dynamic export).

Any teacher npz loads: an imported one (tools/import_onnx.py) brings its own
classes, names and scale (rows 4..4+nc-1 are then its classes). Ultralytics'
metadata_props are written: description, stride, task, batch, imgsz, names
(the Python dict literal Ultralytics writes), so the file is in Ultralytics'
export layout for tools/import_onnx.py.

Checks after export: onnx.checker, and (with --check-image, or by default
tests/data/astronaut.png) torch's output vs onnxruntime's on one letterboxed
image: through onnxruntime (Python) when installed, else onnxruntime-node
(tools/.cache/ort, installed by tools/vs_onnxruntime.sh) through node. Prints
the max abs differences of scores and boxes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import _common  # noqa: F401  (puts tools/ on sys.path)
from bitfalcon.onnx_export import build_wrapper

ORT_DIR = os.path.join(_common.TOOLS, ".cache", "ort")


def letterboxed_input(image: str, size: int):
    """[1, 3, S, S] float32 RGB/255 through the project's exact letterbox."""
    import numpy as np
    from bitfalcon.letterbox import letterbox, load_rgb
    canvas, _ = letterbox(load_rgb(image), size)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)


def run_ort_python(path: str, x):
    import onnxruntime as ort  # noqa: F401
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(["output0"], {"images": x})[0]


def run_ort_node(path: str, x):
    """Runs the model in onnxruntime-node from tools/.cache/ort; returns [1, 84, N]."""
    import numpy as np
    if not os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        raise RuntimeError("onnxruntime-node not installed in %s (tools/vs_onnxruntime.sh installs it)" % ORT_DIR)
    script = r"""
const ort = require(process.argv[2]);
const fs = require('fs');
(async () => {
  const buf = fs.readFileSync(process.argv[4]);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const s = Math.round(Math.sqrt(x.length / 3));
  const sess = await ort.InferenceSession.create(process.argv[3], {executionProviders: ['cpu']});
  const out = await sess.run({images: new ort.Tensor('float32', x, [1, 3, s, s])});
  const y = out.output0;
  fs.writeFileSync(process.argv[5], Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify(y.dims));
})().catch(e => { console.error(e); process.exit(1); });
"""
    with tempfile.TemporaryDirectory() as tmp:
        js, xin, yout = (os.path.join(tmp, n) for n in ("run.js", "x.f32", "y.f32"))
        with open(js, "w") as f:
            f.write(script)
        x.astype("<f4").tofile(xin)
        dims = subprocess.run(["node", js, os.path.join(ORT_DIR, "node_modules", "onnxruntime-node"), path, xin, yout],
                              check=True, stdout=subprocess.PIPE).stdout.decode()
        return np.fromfile(yout, dtype="<f4").reshape(json.loads(dims))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True, help="ONNX file to write")
    ap.add_argument("--size", type=int, default=640, help="input size S, a multiple of 32 (default 640)")
    ap.add_argument("--opset", type=int, default=12, help="ONNX opset, 12..17 (default 12)")
    ap.add_argument("--dynamic", action="store_true",
                    help="dynamic batch, height and width (anchors computed in the graph)")
    ap.add_argument("--teacher", default=_common.DEFAULT_TEACHER, help="teacher npz (default: %(default)s)")
    ap.add_argument("--check-image", default=os.path.join(_common.REPO, "tests", "data", "astronaut.png"),
                    help="image for the onnxruntime comparison (default: %(default)s)")
    ap.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    args = ap.parse_args(argv)
    if args.size % 32 or args.size < 32:
        ap.error("--size must be a positive multiple of 32")
    if args.opset < 12:
        ap.error("--opset must be 12 or later")
    if not os.path.exists(args.teacher):
        print("export_onnx: teacher weights %s not found" % args.teacher, file=sys.stderr)
        return 2

    import numpy as np
    import onnx
    import torch
    torch.set_num_threads(2)
    wrapper_cls, teacher = build_wrapper(args.teacher)
    from bitfalcon.yolo import teacher_names
    names = teacher_names(args.teacher)
    model = wrapper_cls(teacher, args.size, args.dynamic).eval()
    dummy = torch.zeros(1, 3, args.size, args.size)
    dyn = {"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch", 2: "anchors"}} \
        if args.dynamic else None
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    tmp = args.output + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, dummy, tmp, opset_version=args.opset, input_names=["images"],
                          output_names=["output0"], do_constant_folding=True, dynamic_axes=dyn)
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    meta = m.metadata_props.add()
    meta.key = "description"
    meta.value = "BitFalcon fp32 teacher (YOLOv8, %d classes), Ultralytics-style output0 [1,%d,N]" % (
        len(names), 4 + len(names))
    for k, v in (("stride", "32"), ("task", "detect"), ("batch", "1"), ("imgsz", json.dumps([args.size, args.size])),
                 ("names", repr({i: n for i, n in enumerate(names)}))):
        meta = m.metadata_props.add()
        meta.key, meta.value = k, v
    onnx.save(m, tmp)
    os.replace(tmp, args.output)
    dims_in = [d.dim_value or d.dim_param for d in m.graph.input[0].type.tensor_type.shape.dim]
    dims_out = [d.dim_value or d.dim_param for d in m.graph.output[0].type.tensor_type.shape.dim]
    print("wrote %s: opset %d, %s %s -> %s %s, %d nodes; onnx.checker ok" % (
        args.output, args.opset, m.graph.input[0].name, dims_in, m.graph.output[0].name, dims_out, len(m.graph.node)))

    if args.no_check:
        return 0
    x = letterboxed_input(args.check_image, args.size)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    try:
        got, how = run_ort_python(args.output, x), "onnxruntime (python)"
    except ImportError:
        try:
            got, how = run_ort_node(args.output, x), "onnxruntime-node"
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            print("export_onnx: no onnxruntime to check with: %s" % e, file=sys.stderr)
            return 0
    if got.shape != ref.shape:
        print("export_onnx: shape mismatch %s vs torch %s" % (got.shape, ref.shape), file=sys.stderr)
        return 1
    d_box = float(np.abs(got[0, :4] - ref[0, :4]).max())
    d_cls = float(np.abs(got[0, 4:] - ref[0, 4:]).max())
    best = ref[0, 4:].max()
    print("%s vs torch on %s at %d: max abs diff xywh %.3g px, scores %.3g (best score %.3f)" % (
        how, os.path.basename(args.check_image), args.size, d_box, d_cls, best))
    if d_box > 0.05 or d_cls > 1e-3:
        print("export_onnx: onnxruntime and torch disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
