#!/bin/sh
# Builds BitFalcon (Release, and an ASan+UBSan build) and runs the whole test
# suite on both. Run from the repository root after ./scripts/setup.sh:  ./scripts/test.sh
set -eu
cd "$(dirname "$0")/.."
jobs="$(nproc)"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBITFALCON_SANITIZE=ON
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE no-sanitizer

# Raspberry Pi / aarch64: cross-build the engine and kernels, run the kernel
# tests and the end-to-end bit-exact tests under qemu (NEON and NEON-dot paths),
# the multi-ternary model against simulate.py included.
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-aarch64-static >/dev/null 2>&1; then
    cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DBITFALCON_BUILD_APPS=OFF
    cmake --build build-arm -j"$jobs"
    ctest --test-dir build-arm --output-on-failure -j"$jobs" --timeout 1800 \
        -R 'kernels_|engine_heads_exact$|engine_letterbox_exact|engine_boxes_match_python|engine_ops_vs_naive|engine_graph_vs_naive|engine_multiterm_vs_simulate'
else
    echo "test.sh: aarch64 cross compiler or qemu-aarch64-static missing: Arm tests not run" >&2
fi
