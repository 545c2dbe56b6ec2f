#!/bin/sh
# BitFalcon as a subproject (tests/examples/subproject/CMakeLists.txt):
# configured with pkg-config switched off, so nothing optional can be found
# (the engine must need none of it), built, and its detect_buffer (shared and
# static) run on a PPM of each image, compared with `bitfalcon detect --json`.
#
#   subproject.sh SRC WORK CC "EXTRA_FLAGS" PYTHON BITFALCON TO_PPM MODEL IMAGE...
set -eu
src=$1 work=$2 cc=$3 extra=$4 python=$5 bitfalcon=$6 to_ppm=$7 model=$8
shift 8

rm -rf "$work"
mkdir -p "$work"
b=$work/build
cmake -S "$src/tests/examples/subproject" -B "$b" -DBITFALCON_SOURCE="$src" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" -DCMAKE_SHARED_LINKER_FLAGS="$extra" \
    -DBF_CONSUMER_BUILD_TYPE= -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; echo "FAIL: configure"; exit 1; }
cmake --build "$b" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: build"; exit 1; }
for kind in "" _static; do
    mkdir -p "$work/run$kind"
    # check_examples.py looks for programs by the names it is given.
    "$python" "$src/tests/examples/check_examples.py" --bitfalcon "$bitfalcon" --model "$model" \
        --to-ppm "$to_ppm" --work "$work/run$kind" --detect-buffer "$b/consumer_detect_buffer$kind" "$@" \
        >"$work/run$kind.log" 2>&1 || { cat "$work/run$kind.log"; echo "FAIL: detect_buffer$kind"; exit 1; }
    printf 'subproject, detect_buffer%s: ' "$kind"
    tail -n 1 "$work/run$kind.log"
done
echo "subproject: ok"
