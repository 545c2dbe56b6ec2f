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
# LeakSanitizer stops the program's threads through ptrace, which qemu-user
# does not emulate: in an arm64 Debian root under qemu (the check of a Pi
# user's two commands from x86, docs/raspberry-pi.md) it aborts every program
# with "LeakSanitizer has encountered a fatal error". Probe it with the program
# just built; where it cannot run, this stage runs with ASan and UBSan but
# without leak checks (the x86 suite and a real Pi still run them), and says so.
leaks=1
if ASAN_OPTIONS=detect_leaks=1 build-asan/bitfalcon --help 2>&1 >/dev/null |
   grep -q "LeakSanitizer has encountered a fatal error"; then
    leaks=0
    echo "test.sh: LeakSanitizer cannot run here (user-mode emulation?): sanitizer stage without leak checks" >&2
fi
ASAN_OPTIONS=detect_leaks=$leaks:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE no-sanitizer

# Raspberry Pi / aarch64, from x86-64: the whole project (apps, camera, the
# stand-in V4L2 device, every test) cross-built against Debian's arm64
# packages (scripts/setup.sh installs them), and its test suite run under
# qemu-aarch64 (-cpu max: NEON and the dot product) through
# CMAKE_CROSSCOMPILING_EMULATOR, Release flags as on a Pi. Left out there:
# the tools.* tests (host Python on host tools, run above) and
# hostile.fuzz_smoke (it builds host clang fuzzers) and the camera tests
# labelled `timing` (they assert native speed), hostile.careless_default_model
# (it copies the program into an install tree to find the model beside it; the
# copy is the qemu wrapper, whose program stays in build-arm); valgrind tests are not
# defined in a cross build, and the hostile batches are smaller there. platform.assets_json_same_as_host compares the
# Arm detections on assets/ with build/bitfalcon's, byte for byte.
# On an arm64 machine the builds above are already native Arm ones.
if [ "$(uname -m)" = "x86_64" ] && command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 &&
   command -v qemu-aarch64-static >/dev/null 2>&1 && [ -f /usr/lib/aarch64-linux-gnu/pkgconfig/libturbojpeg.pc ]; then
    arm_start=$(date +%s)
    cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
        -DBF_HOST_BITFALCON="$PWD/build/bitfalcon"
    cmake --build build-arm -j"$jobs"
    ctest --test-dir build-arm --output-on-failure -j"$jobs" --timeout 1800 -E '^tools\.|^hostile\.fuzz_smoke$|^hostile\.careless_default_model$' -LE timing
    echo "test.sh: Arm step (cross build + ctest under qemu) took $(( $(date +%s) - arm_start )) s"
else
    echo "test.sh: not x86-64, or the aarch64 cross environment is missing: Arm cross tests not run" >&2
fi
