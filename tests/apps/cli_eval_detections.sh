#!/bin/sh
# cli_eval_detections.sh BITFALCON ASSETS WORKDIR
#
# `bitfalcon eval --detections` end to end (no model needed): a tiny labeled
# set made here from the repository's assets, detections written by hand in
# the `detect --json` format, and the mAP printed by the program compared with
# the value worked out by hand below.
set -u
BF=$1 ASSETS=$2 WORK=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK/images/sub" "$WORK/labels/sub" || fail "cannot make $WORK"
cp "$ASSETS/coffee.jpg" "$WORK/images/a.jpg"         # 480 x 320
cp "$ASSETS/rocket.jpg" "$WORK/images/sub/b.jpg"     # 480 x 320
cp "$ASSETS/chelsea.jpg" "$WORK/images/c.jpg"        # 480 x 319, no label file: no objects

# One object per labeled image, class 0, centre (240, 160), 120 x 80 pixels:
# corners (180, 120) - (300, 200).
echo "0 0.5 0.5 0.25 0.25" > "$WORK/labels/a.txt"
echo "0 0.5 0.5 0.25 0.25" > "$WORK/labels/sub/b.txt"

# a: exact (score .9). b: same box cut to 48 px high, IoU 48/80 = 0.6 (score .8).
# c: nothing. Plus one detection for an image that is not in the set (ignored).
#   t = .50 .55 .60: both match -> AP 1
#   t = .65 ... .95: a TP, then b FP: tp 1 1, fp 0 1, rc .5 .5, envelope 1 .5
#                    -> r <= .5 (51 points) 1, r > .5 0 -> AP 51/101
#   mAP50-95 = (3 + 7 * 51/101) / 10 = 660/1010 = 0.653465; mAP50 = 1.
cat > "$WORK/dets.json" <<'JSON'
[
  {"file": "somewhere/else/a.jpg", "class": 0, "name": "person", "score": 0.9, "bbox": [180, 120, 120, 80]},
  {"file": "b.jpg", "class": 0, "score": 0.8, "bbox": [180, 120, 120, 48]},
  {"file": "zzz.jpg", "class": 0, "score": 0.99, "bbox": [0, 0, 10, 10]}
]
JSON

out=$("$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json 2>"$WORK/err.txt")
rc=$?
[ $rc -eq 0 ] || fail "eval exit $rc: $(cat "$WORK/err.txt")"
echo "$out"
[ "$out" = '{"map": 0.653465, "map50": 1.000000, "images": 3}' ] || fail "unexpected: $out"
grep -q "1 detections name files that are not among the images" "$WORK/err.txt" || fail "no warning about zzz.jpg"

# Plain text output.
out=$("$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" 2>/dev/null)
echo "$out" | grep -q "^mAP50-95  0.6535$" || fail "text output: $out"
echo "$out" | grep -q "^mAP50     1.0000$" || fail "text output: $out"
echo "$out" | grep -q "^images    3 " || fail "text output: $out"
# The per-class table (yolo val's columns, `all` first; class 0 unnamed in a detections file).
echo "$out" | grep -q "^ *Class  *Images  *Instances  *P  *R  *mAP50  *mAP50-95$" || fail "no table header: $out"
echo "$out" | grep -q "^ *all  *3  *2  *[01].[0-9]*  *[01].[0-9]*  *1.0000  *0.6535$" || fail "table all row: $out"
echo "$out" | grep -q "^ *0  *2  *2  " || fail "table class row: $out"
# COCO results JSON: image_id = the stem (a string here), category_id = class + 1 (not a COCO model).
"$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json \
    --save-json "$WORK/results.json" >/dev/null 2>&1 || fail "--save-json failed"
grep -q '^{"image_id": "a", "category_id": 1, "bbox": \[180.000, 120.000, 120.000, 80.000\], "score": 0.90000},$' \
    "$WORK/results.json" || fail "results.json: $(cat "$WORK/results.json")"
[ "$(head -c1 "$WORK/results.json")" = "[" ] && [ "$(grep -c image_id "$WORK/results.json")" = 2 ] ||
    fail "results.json: $(cat "$WORK/results.json")"
"$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json \
    --save-json "$WORK/results91.json" --coco-ids yes >/dev/null 2>&1 || fail "--coco-ids yes failed"
grep -q '"category_id": 1,' "$WORK/results91.json" || fail "results91.json: $(cat "$WORK/results91.json")"
# --data DATA.yaml: the val split (labels beside images/) and the names, in the table.
printf 'path: .  # root\nval: images\nnames:\n  0: coffee mug\n' > "$WORK/data.yaml"
out=$("$BF" eval --detections "$WORK/dets.json" --data "$WORK/data.yaml" 2>"$WORK/err.txt") ||
    fail "eval --data: $(cat "$WORK/err.txt")"
echo "$out" | grep -q "^mAP50-95  0.6535$" || fail "eval --data: $out"
echo "$out" | grep -q "^ *coffee mug  *2  *2  " || fail "eval --data: no named class row: $out"
printf 'val: images\nnames: [a, a2\n' > "$WORK/bad.yaml"
"$BF" eval --detections "$WORK/dets.json" --data "$WORK/bad.yaml" 2>"$WORK/err.txt" >/dev/null
[ $? -eq 2 ] && grep -q "bad.yaml: line 2: unterminated" "$WORK/err.txt" || fail "bad yaml: $(cat "$WORK/err.txt")"

# A bad label line: that image is reported and left out, exit 1, the metric still printed.
echo "0 0.5 0.5" > "$WORK/labels/sub/b.txt"
out=$("$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json 2>"$WORK/err.txt")
rc=$?
[ $rc -eq 1 ] || fail "bad label: exit $rc"
grep -q "labels/sub/b.txt: line 1" "$WORK/err.txt" || fail "bad label not reported: $(cat "$WORK/err.txt")"
[ "$out" = '{"map": 1.000000, "map50": 1.000000, "images": 2}' ] || fail "after bad label: $out"

# A broken image: reported, left out, exit 1; the others scored as before.
echo "0 0.5 0.5 0.25 0.25" > "$WORK/labels/sub/b.txt"
: > "$WORK/images/broken.jpg"
out=$("$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json 2>"$WORK/err.txt")
rc=$?
[ $rc -eq 1 ] || fail "broken image: exit $rc"
grep -q "images/broken.jpg: empty file (0 bytes)" "$WORK/err.txt" || fail "broken image not reported: $(cat "$WORK/err.txt")"
[ "$out" = '{"map": 0.653465, "map50": 1.000000, "images": 3}' ] || fail "with a broken image: $out"
rm "$WORK/images/broken.jpg"

# --plots DIR: the six PNG files of yolo val (PR, F1, P, R curves, the two confusion
# matrices), each a real PNG; a DIR that cannot be a folder is refused before any work.
"$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" --json \
    --plots "$WORK/plots/new" >/dev/null 2>"$WORK/err.txt" || fail "--plots: exit $? ($(cat "$WORK/err.txt"))"
for f in PR_curve F1_curve P_curve R_curve confusion_matrix confusion_matrix_normalized; do
    [ "$(head -c 8 "$WORK/plots/new/$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "--plots: $f.png is not a PNG"
done
[ "$(ls "$WORK/plots/new" | wc -l)" -eq 6 ] || fail "--plots: $(ls "$WORK/plots/new")"
: > "$WORK/plots/file"
"$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" \
    --plots "$WORK/plots/file" >/dev/null 2>"$WORK/err.txt"
[ $? -eq 2 ] || fail "--plots on a file: not 2"
grep -q "plots/file: not a folder" "$WORK/err.txt" || fail "--plots on a file: $(cat "$WORK/err.txt")"
[ ! -s "$WORK/plots/file" ] || fail "--plots wrote into the file"

# Usage and load errors: exit 2.
"$BF" eval --images "$WORK/images" 2>/dev/null; [ $? -eq 2 ] || fail "missing --labels: not 2"
"$BF" eval -m x.bfm --detections "$WORK/dets.json" --images a --labels b 2>/dev/null; [ $? -eq 2 ] || fail "both sources: not 2"
echo '[{"file": 1}]' > "$WORK/bad.json"
"$BF" eval --detections "$WORK/bad.json" --images "$WORK/images" --labels "$WORK/labels" 2>"$WORK/err.txt"
[ $? -eq 2 ] || fail "bad detections file: not 2"
grep -q 'bad.json: detection 1 (line 1, column 2): "file" must be a non-empty string' "$WORK/err.txt" || fail "bad detections message: $(cat "$WORK/err.txt")"
"$BF" eval --detections "$WORK/missing.json" --images "$WORK/images" --labels "$WORK/labels" 2>/dev/null
[ $? -eq 2 ] || fail "missing detections file: not 2"

# Same stem twice among the images: refused as ambiguous.
cp "$ASSETS/coffee.jpg" "$WORK/images/sub/a.png"
"$BF" eval --detections "$WORK/dets.json" --images "$WORK/images" --labels "$WORK/labels" 2>"$WORK/err.txt"
[ $? -eq 2 ] || fail "ambiguous stems: not 2"
grep -q "same name 'a'" "$WORK/err.txt" || fail "ambiguous message: $(cat "$WORK/err.txt")"

rm -rf "$WORK"
echo "cli_eval_detections: ok"
