#!/bin/sh
# Builds the libFuzzer targets with clang into BUILD (default build-fuzz/):
#   fuzz_model   the .bfm loader/validator (from memory), then a detector run
#   fuzz_image   image decoding by content (JPEG/PNG/BMP)
#   fuzz_camera  the camera's MJPEG/YUYV frame conversion
#   fuzz_datayaml the data.yaml reader of eval --data
#   fuzz_journal  the --resume journal reader of detect
# The engine and io libraries are built by the project's own CMake with clang
# and -fsanitize=fuzzer-no-link,address,undefined (coverage + sanitizers, no
# main); the targets add -fsanitize=fuzzer. The build type "Fuzz" has no
# flags of its own: -O1 -g from here, and assert() stays on (no NDEBUG).
# Usage: fuzz/build.sh [BUILD]
# Exit 77 when clang or its libFuzzer runtime is missing.
set -eu
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$src/build-fuzz}"
CC="${CC:-clang}"
jobs="${BF_FUZZ_JOBS:-2}"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz/build.sh: $CC not found" >&2
    exit 77
fi
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    >"$probe/p.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
    echo "fuzz/build.sh: $CC cannot link -fsanitize=fuzzer (libclang-rt-*-dev missing?)" >&2
    exit 77
fi

mkdir -p "$build"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S "$src" -B "$build/lib" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Fuzz \
    -DBITFALCON_BUILD_TESTS=OFF -DBITFALCON_BUILD_APPS=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san" >"$build/cmake.log" 2>&1 ||
    { cat "$build/cmake.log" >&2; exit 1; }
cmake --build "$build/lib" -j"$jobs" --target bitfalcon_static bitfalcon_io >"$build/make.log" 2>&1 ||
    { cat "$build/make.log" >&2; exit 1; }

# libzstd where the engine's CMake found it by the same pkg-config (compressed models)
zstd_libs=""
if pkg-config --exists libzstd; then zstd_libs="$(pkg-config --libs libzstd)"; fi
libs="$build/lib/libbitfalcon_io.a $build/lib/libbitfalcon.a $(pkg-config --libs libturbojpeg) $zstd_libs -lm -lpthread"
inc="-I$src/include -I$src/src/core -I$src/src/io -I$src/src/capture -I$src/kernels"
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -fsanitize=fuzzer $san $inc"
for t in model image camera datayaml journal; do
    extra=""
    [ "$t" = camera ] && extra="$src/src/capture/convert.c"
    # shellcheck disable=SC2086
    "$CC" $cflags "$src/fuzz/fuzz_$t.c" $extra $libs -o "$build/fuzz_$t.new"
    mv "$build/fuzz_$t.new" "$build/fuzz_$t"
done
echo "fuzz/build.sh: built $build/fuzz_model $build/fuzz_image $build/fuzz_camera $build/fuzz_datayaml $build/fuzz_journal"
