#!/bin/sh
# engine.heads_vs_simulate: the C engine's head outputs against the numpy
# integer simulation, element by element.
#
#   heads_vs_simulate.sh PYTHON SOURCE_DIR MODEL DUMP_TOOL OUT_DIR SIZES IMAGES...
#
# For each size in SIZES (comma-separated): bf_dump_heads writes
# OUT_DIR/<stem>.<size>.out<i>.i32, then tools/simulate.py --compare checks
# them (exit 0 = every element equal). Exits 77 (skipped) when python3,
# numpy/PIL, the model or tools/simulate.py is missing.
set -u
PY=$1 SRC=$2 MODEL=$3 DUMP=$4 OUT=$5 SIZES=$6
shift 6
if [ ! -x "$PY" ]; then echo "SKIP: $PY not found"; exit 77; fi
if ! "$PY" -c "import numpy, PIL" 2>/dev/null; then echo "SKIP: numpy or PIL does not import in $PY"; exit 77; fi
if [ ! -f "$MODEL" ]; then echo "SKIP: model $MODEL does not exist yet"; exit 77; fi
if [ ! -f "$SRC/tools/simulate.py" ]; then echo "SKIP: $SRC/tools/simulate.py does not exist yet"; exit 77; fi
rm -rf "$OUT"
mkdir -p "$OUT" || exit 1
for S in $(echo "$SIZES" | tr ',' ' '); do
    echo "== size $S: C engine"
    "$DUMP" -m "$MODEL" --size "$S" -o "$OUT" "$@" || { echo "bf_dump_heads failed"; exit 1; }
    echo "== size $S: tools/simulate.py --compare"
    "$PY" "$SRC/tools/simulate.py" -m "$MODEL" --size "$S" --compare "$OUT" "$@" || {
        echo "MISMATCH at size $S: rerun bf_dump_heads with --values to dump every intermediate value"
        exit 1
    }
done
rm -rf "$OUT"
echo "all head outputs equal"
