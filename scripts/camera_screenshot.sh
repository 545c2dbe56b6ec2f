#!/bin/sh
# Makes docs/camera.png: the `bitfalcon camera` window with the real engine and
# the shipped model tracking objects (--track: "#ID name score", boxes coloured
# by ID) in a video file, rendered by SDL's X11 driver under Xvfb.
#
#   ./scripts/camera_screenshot.sh [BUILD_DIR [OUT.png]]     (defaults: build, docs/camera.png)
#
# Needs: the bitfalcon program built with FFmpeg, SDL2 and libv4l2 (camera
# --source takes the clip), the ffmpeg program, xvfb-run (Debian: xvfb).
#
# The clip: assets/ photos in a 2x2 grid (cat, cup on a table, astronaut, the
# cat mirrored), 720x540, seen through a 640x480 window that pans 80x60 px over
# 4 s at 30 fps, so the boxes move and the tracker has something to follow.
# The window is 800x600; --screenshot saves it (BMP) at exit with the last
# detected frame; ffmpeg turns it into a 256-colour PNG (palettegen +
# paletteuse) to keep the file small. The detector runs as fast as the
# machine lets it: which frame is the last one detected, the fps and latency
# in the status line depend on the machine and its load.
set -eu
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
OUT="${2:-docs/camera.png}"
EXE="$BUILD/bitfalcon"
MODEL=models/bitfalcon-v8n.bfm
for tool in ffmpeg xvfb-run; do
    command -v "$tool" >/dev/null 2>&1 || { echo "camera_screenshot.sh: $tool is needed" >&2; exit 1; }
done
[ -x "$EXE" ] || { echo "camera_screenshot.sh: no $EXE (build first)" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "camera_screenshot.sh: no $MODEL" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
A=assets
cell="scale=360:270:force_original_aspect_ratio=increase,crop=360:270"
ffmpeg -hide_banner -loglevel error -y \
    -loop 1 -i $A/chelsea.jpg -loop 1 -i $A/coffee.jpg -loop 1 -i $A/astronaut.jpg \
    -filter_complex "[0]$cell[a];[1]$cell[b];[2]scale=360:360,crop=360:270:0:10[c];[0]hflip,$cell[d];\
[a][b]hstack[top];[c][d]hstack[bot];[top][bot]vstack,crop=640:480:x='80*t/4':y='60*t/4',format=yuv420p[v]" \
    -map "[v]" -t 4 -r 30 -c:v libx264 -g 30 -crf 20 "$TMP/clip.mp4"

# --json: the same frames' JSON lines, to say what the picture shows.
xvfb-run -a -s "-screen 0 1024x768x24" \
    "$EXE" camera -m "$MODEL" --source "$TMP/clip.mp4" --track --frames 60 --window 800x600 \
    --json --screenshot "$TMP/shot.bmp" >"$TMP/lines.jsonl"

ffmpeg -hide_banner -loglevel error -y -i "$TMP/shot.bmp" \
    -vf "split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=floyd_steinberg" \
    -frames:v 1 "$TMP/shot.png"
mv "$TMP/shot.png" "$OUT"
echo "camera_screenshot.sh: wrote $OUT ($(wc -c <"$OUT") bytes); the last detected frame:"
tail -n 1 "$TMP/lines.jsonl"
