#!/bin/sh
# BitFalcon vs onnxruntime on this CPU, in one interleaved run.
#
#   tools/vs_onnxruntime.sh [--size 320|640] [--threads N] [--runs N] [--rounds R]
#                           [--image FILE] [--bitfalcon EXE] [--json-out FILE]
#
# 1. Installs onnxruntime-node into tools/.cache/ort (npm install --ignore-scripts;
#    the package ships its own libonnxruntime.so) when it is missing.
# 2. Exports the fp32 teacher as a standard YOLOv8n ONNX for the size
#    (tools/export_onnx.py -> tools/.cache/yolov8n_fp32_S.onnx) when missing;
#    that needs /usr/bin/python3 with torch and onnx.
# 3. Letterboxes the image with the project's exact integer letterbox
#    (tools/bitfalcon/letterbox.py, the same pixels BitFalcon computes) into
#    the float input [1,3,S,S] RGB/255.
# 4. Times, interleaved in rounds (tools/vs_onnxruntime.mjs): onnxruntime on
#    the fp32 ONNX, on ../shared/data/teacher/yolov8n_int8.onnx (its input is
#    fixed at 640: timed only at --size 640; absent without ../shared), and
#    `bitfalcon bench` at the same size and thread count. onnxruntime:
#    intraOpNumThreads = N, interOpNumThreads = 1, sequential.
#
# Defaults: --size 640 --threads 1 --runs 20 --rounds 5 --image tests/data/astronaut.png,
# --bitfalcon: build-bench/bitfalcon, else build/bitfalcon.
set -eu
cd "$(dirname "$0")/.."
size=640 threads=1 runs=20 rounds=5 image=tests/data/astronaut.png bitfalcon="" json_out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --size) size="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --bitfalcon) bitfalcon="$2"; shift 2 ;;
    --json-out) json_out="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "vs_onnxruntime: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$bitfalcon" ]; then
    for b in build-bench/bitfalcon build/bitfalcon; do
        if [ -x "$b" ]; then bitfalcon="$b"; break; fi
    done
fi
[ -n "$bitfalcon" ] && [ -x "$bitfalcon" ] || { echo "vs_onnxruntime: no bitfalcon binary (build it, or pass --bitfalcon)" >&2; exit 2; }
command -v node >/dev/null || { echo "vs_onnxruntime: node is needed" >&2; exit 2; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3

cache=tools/.cache
ort="$cache/ort"
if [ ! -d "$ort/node_modules/onnxruntime-node" ]; then
    echo "installing onnxruntime-node into $ort ..." >&2
    mkdir -p "$ort"
    [ -f "$ort/package.json" ] || echo '{"name": "bitfalcon-ort-bench", "private": true}' > "$ort/package.json"
    (cd "$ort" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node >&2)
fi

fp32="$cache/yolov8n_fp32_$size.onnx"
if [ ! -f "$fp32" ]; then
    if "$py" -c "import torch, onnx" 2>/dev/null; then
        "$py" tools/export_onnx.py -o "$fp32" --size "$size" >&2
    else
        echo "vs_onnxruntime: $fp32 is missing and exporting it needs torch and onnx ($py has not both)" >&2
        exit 2
    fi
fi

int8=../shared/data/teacher/yolov8n_int8.onnx
if [ ! -f "$int8" ]; then
    echo "note: ../shared is absent ($int8): timing the fp32 model only" >&2
    int8=""
elif [ "$size" != 640 ]; then
    echo "note: $int8 has a fixed 640x640 input: compared at --size 640 only" >&2
    int8=""
fi

input="$cache/input_$(basename "$image" | tr -c 'A-Za-z0-9._\n' _)_$size.f32"
"$py" - "$image" "$size" "$input" <<'EOF'
import sys
sys.path.insert(0, "tools")
import numpy as np
from bitfalcon.letterbox import letterbox, load_rgb
canvas, _ = letterbox(load_rgb(sys.argv[1]), int(sys.argv[2]))
x = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
x.astype("<f4").tofile(sys.argv[3])
EOF

set -- --ort "$ort" --input "$input" --size "$size" --threads "$threads" --runs "$runs" --rounds "$rounds" \
    --fp32 "$fp32" --bitfalcon "$bitfalcon" --model models/bitfalcon-v8n.bfm --image "$image"
[ -n "$int8" ] && set -- "$@" --int8 "$int8"
[ -n "$json_out" ] && set -- "$@" --json-out "$json_out"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" 
exec node tools/vs_onnxruntime.mjs "$@"
