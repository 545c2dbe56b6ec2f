#!/bin/sh
# cli_detect.sh BITFALCON MODEL ASSETS TESTDATA WORKDIR [PYTHON]
#
# `bitfalcon detect` and `bitfalcon eval -m` end to end. Needs the model:
# exits 77 (skipped) while MODEL does not exist. Runs at a small input size
# and a low confidence threshold: this checks files, formats and failure
# handling (the untrained model's boxes are whatever they are), quickly.
set -u
BF=$1 MODEL=$2 ASSETS=$3 TESTDATA=$4 WORK=$5 PY=${6:-}
[ -f "$MODEL" ] || { echo "skipped: no model at $MODEL"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
SIZE="--size 160 --conf 0.001 --max-det 20"
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
cd "$WORK" || exit 1

# Checks that a detections file is valid JSON in our format, naming only the
# given files; prints the number of detections. Python if there is one, else
# our own reader (eval --detections refuses a malformed file with exit 2).
check_json() {
    file=$1; shift
    if [ -n "$PY" ]; then
        "$PY" - "$file" "$@" <<'PYEOF' || fail "$file does not check out"
import json, sys
d = json.load(open(sys.argv[1]))
allowed = set(sys.argv[2:])
assert isinstance(d, list)
for e in d:
    assert set(e) == {"file", "class", "name", "score", "bbox"}, e
    assert e["file"] in allowed, e["file"]
    assert isinstance(e["class"], int) and 0 <= e["class"] < 80
    assert isinstance(e["name"], str) and e["name"]
    assert 0 <= e["score"] <= 1
    assert len(e["bbox"]) == 4 and e["bbox"][2] >= 0 and e["bbox"][3] >= 0
print(len(d))
PYEOF
    else
        mkdir -p jsoncheck/images jsoncheck/labels
        "$BF" eval --detections "$file" --images "$ASSETS" --labels jsoncheck/labels >/dev/null 2>&1
        [ $? -ne 2 ] || fail "$file is not a valid detections file"
        echo "?"
    fi
}
is_jpeg() { [ "$(od -An -tx1 -N3 "$1" | tr -d ' ')" = "ffd8ff" ]; }
no_temps() { [ -z "$(find "$1" -name '*.tmp-*')" ] || fail "temporary files left in $1: $(find "$1" -name '*.tmp-*')"; }

# 1. --draw --json on the assets: annotated JPEGs and a JSON array.
"$BF" detect -m "$MODEL" $SIZE --draw --json out1/dets.json -o out1 "$ASSETS"/*.jpg 2>err1.txt
rc=$?
[ $rc -eq 0 ] || fail "detect on assets: exit $rc: $(cat err1.txt)"
[ ! -s err1.txt ] || fail "unexpected stderr: $(cat err1.txt)"
for n in astronaut chelsea coffee rocket; do
    is_jpeg "out1/$n.jpg" || fail "out1/$n.jpg is not a JPEG"
done
n=$(check_json out1/dets.json "$ASSETS/astronaut.jpg" "$ASSETS/chelsea.jpg" "$ASSETS/coffee.jpg" "$ASSETS/rocket.jpg")
echo "assets: $n detections"
[ "$n" = "?" ] || [ "$n" -gt 0 ] || fail "no detections at conf 0.001"
no_temps out1

# 2. A folder with good images and broken files: each broken one reported
#    with its cause, the good ones written, exit 1.
mkdir -p mixed/sub
cp "$ASSETS/coffee.jpg" mixed/good1.jpg
cp "$TESTDATA/chelsea.png" mixed/sub/good2.png
head -c 3000 "$ASSETS/rocket.jpg" > mixed/truncated.jpg
: > mixed/empty.jpg
echo "not an image" > mixed/text.jpg
echo "ignored: not an image name" > mixed/notes.txt
"$BF" detect -m "$MODEL" $SIZE --draw --txt --json out2/dets.json -o out2 mixed 2>err2.txt
rc=$?
cat err2.txt
[ $rc -eq 1 ] || fail "mixed folder: exit $rc, expected 1"
grep -q '^bitfalcon: mixed/truncated.jpg: JPEG is truncated or corrupt: ' err2.txt || fail "truncated not reported"
grep -q '^bitfalcon: mixed/empty.jpg: empty file (0 bytes)$' err2.txt || fail "empty not reported"
grep -q '^bitfalcon: mixed/text.jpg: not a JPEG, PNG or BMP image' err2.txt || fail "text not reported"
[ "$(wc -l < err2.txt)" -eq 3 ] || fail "expected exactly 3 lines on stderr"
for f in out2/good1.jpg out2/sub/good2.jpg; do is_jpeg "$f" || fail "$f missing or not a JPEG"; done
for f in out2/good1.txt out2/sub/good2.txt; do [ -f "$f" ] || fail "$f missing"; done
[ -z "$(ls out2 | grep -E 'truncated|empty|text')" ] || fail "outputs written for broken inputs"
check_json out2/dets.json mixed/good1.jpg mixed/sub/good2.png >/dev/null
# YOLO txt: "class cx cy w h conf", 6 numbers, normalised
awk 'NF != 6 || $2 < 0 || $2 > 1 || $6 > 1 { bad = 1 } END { exit bad }' out2/good1.txt || fail "bad txt line"
no_temps out2

# 3. Same names in different folders keep their relative paths; two inputs
#    that would write the same output are refused, not overwritten.
mkdir -p same/a same/b
cp "$ASSETS/coffee.jpg" same/a/x.jpg
cp "$ASSETS/rocket.jpg" same/b/x.jpg
"$BF" detect -m "$MODEL" $SIZE --draw -o out3 same 2>err3.txt || fail "same names: $(cat err3.txt)"
is_jpeg out3/a/x.jpg && is_jpeg out3/b/x.jpg || fail "same names: outputs missing"
cp "$TESTDATA/coffee.png" same/a/x.png
"$BF" detect -m "$MODEL" $SIZE --draw -o out4 same 2>err4.txt
[ $? -eq 1 ] || fail "collision: expected exit 1"
grep -q '^bitfalcon: same/a/x.png: its outputs out4/a/x.\* would overwrite those of same/a/x.jpg; skipped$' err4.txt || fail "collision message: $(cat err4.txt)"

# 4. Text on stdout when no output is asked for.
"$BF" detect -m "$MODEL" $SIZE "$ASSETS/chelsea.jpg" > out5.txt 2>&1 || fail "stdout mode"
grep -q "^$ASSETS/chelsea.jpg: " out5.txt || fail "stdout mode: $(cat out5.txt)"

# 5. Failure exits: a missing model or bad options -> 2; a JSON path that is a
#    folder -> 2 with the cause, before any work; a missing input -> 1.
"$BF" detect -m missing.bfm "$ASSETS/chelsea.jpg" 2>err6.txt; [ $? -eq 2 ] || fail "missing model: not 2"
grep -q "missing.bfm" err6.txt || fail "missing model message"
"$BF" detect -m "$MODEL" --conf 2 "$ASSETS/chelsea.jpg" 2>/dev/null; [ $? -eq 2 ] || fail "bad --conf: not 2"
"$BF" detect -m "$MODEL" 2>/dev/null; [ $? -eq 2 ] || fail "no inputs: not 2"
mkdir -p adir
"$BF" detect -m "$MODEL" $SIZE --json adir "$ASSETS/chelsea.jpg" 2>err7.txt; [ $? -eq 2 ] || fail "json onto a folder: not 2"
grep -q '^bitfalcon: adir: is a folder, not a file' err7.txt || fail "json onto a folder message: $(cat err7.txt)"
"$BF" detect -m "$MODEL" $SIZE nothing.jpg 2>err8.txt; [ $? -eq 1 ] || fail "missing input: not 1"
grep -q '^bitfalcon: nothing.jpg: No such file or directory$' err8.txt || fail "missing input message"
no_temps .

# 6. eval -m on a tiny labeled set whose labels are the model's own
#    detections (detect --txt at the same settings): every detection finds
#    its twin, IoU ~1 (the labels are printed with %g), so mAP ~ 1. The same
#    detections through --json and eval --detections score the same way.
#    (--single-label: the candidates detect --txt wrote; multi-label eval
#    adds other classes at the same anchors, false positives here.)
mkdir -p ev/images
cp "$ASSETS"/*.jpg ev/images/
EV="--size 160 --conf 0.001 --max-det 100"
"$BF" detect -m "$MODEL" $EV --txt --json ev/dets.json -o ev/labels ev/images 2>&1 || fail "eval set"
out=$("$BF" eval -m "$MODEL" --size 160 --single-label --images ev/images --labels ev/labels --json) || fail "eval -m: exit $?"
echo "eval -m: $out"
echo "$out" | grep -Eq '^\{"map": 0\.99[0-9]*|^\{"map": 1\.0+, "map50": 1\.0+, "images": 4\}$' || fail "eval -m: $out"
echo "$out" | grep -q '"images": 4}$' || fail "eval -m image count: $out"
out=$("$BF" eval --detections ev/dets.json --images ev/images --labels ev/labels --json) || fail "eval --detections: exit $?"
echo "eval --detections: $out"
echo "$out" | grep -Eq '^\{"map": (0\.99|1\.0)' || fail "eval --detections: $out"
no_temps .

cd / && rm -rf "$WORK"
echo "cli_detect: ok"
