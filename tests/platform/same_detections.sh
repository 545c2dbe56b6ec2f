#!/bin/sh
# same_detections.sh HOST_BITFALCON TARGET_BITFALCON MODEL SOURCE_DIR WORK
#
# A cross build's detections equal the host's, byte for byte: `bitfalcon
# detect --json` over assets/ (the command scripts/setup.sh runs) by the host
# program and by the target program (under the emulator), at the default
# input size 640 and at 320 with 2 threads and conf 0.01 (many more boxes,
# each a float printed to the last digit), and the JSON files compared with
# cmp. Both run from SOURCE_DIR with the relative path `assets`, so the
# "file" fields match too. Exits 77 (skipped) without a host program or model.
set -u
HOST=$1 TARGET=$2 MODEL=$3 SRC=$4 WORK=$5
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$HOST" ] || { echo "SKIP: no host bitfalcon at '$HOST' (configure with -DBF_HOST_BITFALCON=...)"; exit 77; }
[ -f "$MODEL" ] || { echo "SKIP: no model at $MODEL"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
cd "$SRC" || fail "cannot cd to $SRC"
for run in "640:" "320:--size 320 --threads 2 --conf 0.01"; do
    name=${run%%:*} opts=${run#*:}
    # shellcheck disable=SC2086  # opts is a list of options
    "$HOST" detect -m "$MODEL" $opts --json "$WORK/host-$name.json" assets || fail "host detect ($name)"
    # shellcheck disable=SC2086
    "$TARGET" detect -m "$MODEL" $opts --json "$WORK/target-$name.json" assets || fail "target detect ($name)"
    n=$(grep -o '"class"' "$WORK/host-$name.json" | wc -l)
    [ "$n" -gt 0 ] || fail "no detections at all on assets/ ($name): nothing to compare"
    if ! cmp "$WORK/host-$name.json" "$WORK/target-$name.json"; then
        diff "$WORK/host-$name.json" "$WORK/target-$name.json" | head -20
        fail "detections differ between host and target ($name)"
    fi
    echo "$name: $n detections, JSON identical ($(wc -c < "$WORK/host-$name.json") bytes)"
done
rm -rf "$WORK"
