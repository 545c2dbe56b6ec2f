#!/bin/sh
# fuzz_smoke.sh SRC BUILD SECONDS
# Builds the libFuzzer targets (fuzz/build.sh, clang) into BUILD and runs each
# for SECONDS on a fresh copy of its seed corpus. Exits 77 (skipped) when
# clang or its libFuzzer runtime is missing, 1 when a target crashes, leaks,
# times out or runs out of memory (the input is kept in BUILD/run-TARGET/).
set -u
SRC=$1 BUILD=$2 SECS=$3
"$SRC/fuzz/build.sh" "$BUILD"
rc=$?
[ $rc -eq 77 ] && { echo "skipped: no clang with libFuzzer"; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL: fuzz/build.sh exited $rc"; exit 1; }
status=0
for t in model image camera datayaml journal; do
    work="$BUILD/run-$t"
    rm -rf "$work"
    "$SRC/fuzz/run.sh" "$t" "$SECS" "$BUILD" "$work" >"$work.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
    final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work.log" | tail -1)
    echo "fuzz_$t: exit $rc, ${execs:-?} executions in ${SECS}s; ${final:-no final stats}"
    if [ $rc -ne 0 ]; then
        tail -40 "$work.log"
        ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null
        echo "FAIL: fuzz_$t (reproduce: $BUILD/fuzz_$t FILE)"
        status=1
    fi
done
exit $status
