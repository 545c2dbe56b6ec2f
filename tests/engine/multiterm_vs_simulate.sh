#!/bin/sh
# engine.multiterm_vs_simulate: a YOLOv8n model with multi-ternary layers
# (CONV n_terms 1..5, made by tools/tests/make_multiterm_model.py from random
# weights through the real exporter; no teacher, no ../shared) run by the C
# engine on every kernel path this CPU has, with 1 and 2 threads, against the
# numpy integer simulation, element by element. Each path runs its planes
# folded as it allows (one GEMM per layer where exact), then one GEMM per
# plane (BITFALCON_MAX_TERMS=1, 1 thread) and at most two planes per GEMM
# (BITFALCON_MAX_TERMS=2, 2 threads).
#
#   multiterm_vs_simulate.sh PYTHON SOURCE_DIR DUMP_TOOL OUT_DIR SIZES IMAGES...
#
# For each path P (bf_dump_heads --list-isas), thread count T (and fold cap)
# and size S in SIZES (comma-separated): bf_dump_heads --isa P --threads T writes the head
# outputs, tools/simulate.py --compare checks them (exit 0 = every element
# equal). BF_RUN_PREFIX (e.g. the qemu command of a cross build) is put in
# front of DUMP_TOOL. Exits 77 (skipped) without python3 + numpy/PIL/torch.
set -u
PY=$1 SRC=$2 DUMP=$3 OUT=$4 SIZES=$5
shift 5
RUN=${BF_RUN_PREFIX:-}
if [ ! -x "$PY" ]; then echo "SKIP: $PY not found"; exit 77; fi
if ! "$PY" -c "import numpy, PIL" 2>/dev/null; then echo "SKIP: numpy or PIL does not import in $PY"; exit 77; fi
rm -rf "$OUT"
mkdir -p "$OUT" || exit 1
MODEL=$OUT/multiterm.bfm
"$PY" "$SRC/tools/tests/make_multiterm_model.py" "$MODEL" --size 64 "$@"
rc=$?
if [ $rc -eq 77 ]; then exit 77; fi
if [ $rc -ne 0 ]; then echo "make_multiterm_model.py failed ($rc)"; exit 1; fi
# shellcheck disable=SC2086  # BF_RUN_PREFIX is a command line
ISAS=$($RUN "$DUMP" --list-isas) || { echo "bf_dump_heads --list-isas failed"; exit 1; }
if [ -z "$ISAS" ]; then echo "no kernel path"; exit 1; fi
echo "kernel paths: $(echo $ISAS)"
for S in $(echo "$SIZES" | tr ',' ' '); do
    for P in $ISAS; do
        # threads:BITFALCON_MAX_TERMS (empty = the path's own fold)
        for TC in 1: 2: 1:1 2:2; do
            T=${TC%%:*} C=${TC#*:}
            D=$OUT/$P.$T.$C
            echo "== size $S, $P, $T thread(s)${C:+, BITFALCON_MAX_TERMS=$C}"
            # shellcheck disable=SC2086
            BITFALCON_MAX_TERMS=$C $RUN "$DUMP" -m "$MODEL" --size "$S" --isa "$P" --threads "$T" -o "$D" "$@" ||
                { echo "bf_dump_heads failed"; exit 1; }
            "$PY" "$SRC/tools/simulate.py" -m "$MODEL" --size "$S" --compare "$D" -q "$@" || {
                echo "MISMATCH at size $S on $P with $T thread(s)${C:+, BITFALCON_MAX_TERMS=$C} (model kept in" \
                     "$MODEL; bf_dump_heads --values dumps every intermediate value)"
                exit 1
            }
            rm -rf "$D"
        done
    done
done
rm -rf "$OUT"
echo "all head outputs equal"
