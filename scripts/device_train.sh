#!/bin/sh
# Continues the training run on a lent GPU machine (the device tool), inside its limits:
# one command of at most 10 minutes, a copy of the working tree plus at most 64 MiB of
# carried ignored paths, nothing reachable from there, and only $OUT coming back.
#
#   scripts/device_train.sh stage [INIT.pt]   on this machine: puts what the run needs into
#                                             tools/.cache/device/ (ignored by git, so it is
#                                             carried, never committed): the teacher, the
#                                             checkpoint to continue from, coco/train (never
#                                             val) and photos re-encoded to fit the 64 MiB
#   scripts/device_train.sh run MINUTES       on the device: trains MINUTES from the staged
#                                             checkpoint on the GPU, writes to $OUT the small
#                                             checkpoint (v8n-device.pt) and the log
#
# The device call (one prepared command; 8 minutes of training leave time for start-up):
#   run(command="sh scripts/device_train.sh run 8", carry=["tools/.cache/device"], timeout_s=600)
# Then, here: tools/export.py --checkpoint <files_at>/v8n-device.pt -o /tmp/d.bfm and
# bitfalcon eval as in docs/training.md; ship by the usual rule (>= +0.005 at 640).
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
stage="$repo/tools/.cache/device"
py=/usr/bin/python3
[ -x "$py" ] || py=python3

case "${1:-}" in
stage)
    # default: the newest committed checkpoint (the run's latest)
    init="${2:-$(ls -t "$repo"/models/checkpoints/*.pt 2>/dev/null | head -1)}"
    shared="$repo/../shared/data"
    [ -f "$shared/teacher/yolov8n_coco.npz" ] || { echo "device_train: no $shared/teacher/yolov8n_coco.npz" >&2; exit 1; }
    [ -f "$init" ] || { echo "device_train: no checkpoint $init" >&2; exit 1; }
    rm -rf "$stage"
    mkdir -p "$stage/teacher" "$stage/coco/images" "$stage/coco/labels" "$stage/photos"
    cp "$shared/teacher/yolov8n_coco.npz" "$stage/teacher/"
    cp "$init" "$stage/init.pt"
    cp -r "$shared/coco/images/train" "$stage/coco/images/train"
    cp -r "$shared/coco/labels/train" "$stage/coco/labels/train"
    used=$(du -sk "$stage" | cut -f1)
    budget_kb=$((62 * 1024 - used))
    # Photos re-encoded at 512 px on the long side (training letterboxes to 320-640 anyway),
    # as many as the rest of the budget holds, spread evenly over the folder.
    "$py" - "$shared/photos" "$stage/photos" "$budget_kb" <<'EOF'
import os
import sys
from PIL import Image, ImageOps
src, dst, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]) * 1024
names = sorted(n for n in os.listdir(src) if n.lower().endswith((".jpg", ".jpeg", ".png")))
used = 0
kept = 0
for i, n in enumerate(names):
    if used > budget - 200 * 1024:
        break
    try:
        im = ImageOps.exif_transpose(Image.open(os.path.join(src, n))).convert("RGB")
    except OSError:
        continue
    im.thumbnail((512, 512))
    out = os.path.join(dst, os.path.splitext(n)[0] + ".jpg")
    im.save(out, quality=85)
    used += os.path.getsize(out)
    kept += 1
print(f"device_train: {kept} of {len(names)} photos, {used >> 20} MB")
EOF
    du -sh "$stage"
    ;;
run)
    minutes="${2:?usage: device_train.sh run MINUTES}"
    out="${OUT:?device_train.sh run: \$OUT is not set (run it through the device tool)}"
    [ -f "$stage/init.pt" ] || { echo "device_train: nothing staged in $stage (scripts/device_train.sh stage, then carry it)" >&2; exit 1; }
    # BF_DEVICE_TRAIN_CHECK=1: one step on the CPU, to check the staged files and the
    # command line here before device time is spent on them.
    device=cuda extra=""
    if [ "${BF_DEVICE_TRAIN_CHECK:-0}" = 1 ]; then
        device=cpu extra="--max-steps 1 --set batch_320=2" minutes=15
    elif ! "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
        echo "device_train: no torch with CUDA on this machine: $("$py" -c 'import torch; print(torch.__version__)' 2>&1 | tail -1)" >&2
        nvidia-smi -L >&2 || true
        exit 1
    fi
    [ "$device" = cuda ] && { nvidia-smi -L || true; }
    # The session-4 recipe (v8n_mt32_b.json) with a GPU's batch; no validation there (the
    # engine that scores it is built here), the small checkpoint every 2 minutes so that a
    # run cut short still brings one back.
    timeout $((minutes * 60 + 60)) "$py" "$repo/tools/train.py" --config "$repo/tools/train_configs/v8n_mt32_b.json" \
        --init "$stage/init.pt" --teacher "$stage/teacher/yolov8n_coco.npz" \
        --coco "$stage/coco" --photos "$stage/photos" --device "$device" --threads 8 --workers 8 \
        --out "$out/run" --export-dir "$out" --no-val \
        --set name='"v8n-device"' --set total="$minutes" --set batch_320=64 $extra \
        --set ckpt_minutes=2 --set export_minutes=2 || echo "device_train: train.py exited $?" >&2
    cp "$out/run/log.csv" "$out/v8n-device.log.csv" 2>/dev/null || true
    rm -f "$out/run/last.pt" # 50 MB: the small checkpoint is what comes back
    ls -la "$out"
    ;;
*)
    sed -n '2,20p' "$0"
    exit 2
    ;;
esac
