#!/bin/sh
# Consumes an installed BitFalcon the way a user would, outside the source tree:
# `cmake --install` into WORK/prefix, then a copy of examples/ built against it
# through find_package(bitfalcon) (shared and static) and through pkg-config
# (shared and static), each program run on assets/ by check_examples.py and
# compared with `bitfalcon detect --json`; bf_version() against the header
# macros, bitfalcon.pc and bitfalconConfigVersion.cmake, which must refuse a
# request for another minor version; LICENSE and the notices installed beside
# the model.
#
#   installed_tree.sh BUILD SRC WORK CC "EXTRA_FLAGS" PYTHON BITFALCON TO_PPM IMAGE...
#
# EXTRA_FLAGS: compile and link flags the consumer needs too (the sanitizer
# build's -fsanitize=...: its libbitfalcon.a is instrumented).
set -eu
build=$1 src=$2 work=$3 cc=$4 extra=$5 python=$6 bitfalcon=$7 to_ppm=$8
shift 8

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

# Where GNUInstallDirs put the library (lib, lib64 or lib/<multiarch>).
pc=$(find "$prefix" -name bitfalcon.pc)
config=$(find "$prefix" -name bitfalconConfig.cmake)
[ -n "$pc" ] && [ -n "$config" ] || { echo "FAIL: no bitfalcon.pc or bitfalconConfig.cmake under $prefix"; exit 1; }
cmakedir=$(dirname "$config")
for f in bitfalconConfigVersion.cmake bitfalconTargets.cmake; do
    [ -f "$cmakedir/$f" ] || { echo "FAIL: $cmakedir/$f missing"; exit 1; }
done
for h in bitfalcon.h bitfalcon_profile.h; do
    [ -f "$prefix/include/$h" ] || { echo "FAIL: no include/$h"; exit 1; }
done
model=$prefix/share/bitfalcon/models/bitfalcon-v8n.bfm
[ -f "$model" ] || { echo "FAIL: no installed model $model"; exit 1; }
# The model's terms go with it (THIRD_PARTY_NOTICES.md: AGPL-3.0, from Ultralytics YOLOv8n).
for f in LICENSE THIRD_PARTY_NOTICES.md; do
    [ -f "$prefix/share/doc/bitfalcon/$f" ] || { echo "FAIL: no share/doc/bitfalcon/$f"; exit 1; }
done

# The examples, copied away from the source tree: they must need nothing from it.
cp -R "$src/examples" "$work/examples"

check() { # check DIR IMAGE...: run and compare the two programs built in DIR
    d=$1
    shift
    "$python" "$src/tests/examples/check_examples.py" --bitfalcon "$bitfalcon" --model "$model" \
        --to-ppm "$to_ppm" --work "$d/check" --detect-image "$d/detect_image" \
        --detect-buffer "$d/detect_buffer" "$@" >"$d/check.log" 2>&1 || {
        cat "$d/check.log"; echo "FAIL: $d"; exit 1; }
    tail -n 1 "$d/check.log"
}
needs_so() { # needs_so PROGRAM yes|no: does it load libbitfalcon.so from the prefix?
    if ldd "$1" | grep -q "libbitfalcon\.so.*=> $prefix"; then got=yes; else got=no; fi
    [ "$got" = "$2" ] || { ldd "$1"; echo "FAIL: $1 loads the installed libbitfalcon.so: $got, expected $2"; exit 1; }
}

# --- find_package(bitfalcon) --------------------------------------------------
for kind in shared static; do
    static=OFF
    [ "$kind" = static ] && static=ON
    dir=$work/cmake-$kind
    cmake -S "$work/examples" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
        -DBITFALCON_EXAMPLES_STATIC=$static >"$dir.log" 2>&1 || { cat "$dir.log"; echo "FAIL: configure $kind"; exit 1; }
    cmake --build "$dir" >>"$dir.log" 2>&1 || { cat "$dir.log"; echo "FAIL: build $kind"; exit 1; }
    [ "$kind" = shared ] && needs_so "$dir/detect_buffer" yes || needs_so "$dir/detect_buffer" no
    printf 'find_package, %s: ' "$kind"
    check "$dir" "$@"
done

# --- pkg-config ---------------------------------------------------------------
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
libdir=$(pkg-config --variable=libdir bitfalcon)
dir=$work/pkgconfig-shared
mkdir -p "$dir"
# shellcheck disable=SC2046,SC2086 # pkg-config's output is meant to be split
{
    "$cc" $extra "$work/examples/detect_buffer.c" -o "$dir/detect_buffer" $(pkg-config --cflags --libs bitfalcon) \
        -Wl,-rpath,"$libdir" &&
    "$cc" $extra "$work/examples/detect_image.c" -o "$dir/detect_image" \
        $(pkg-config --cflags --libs bitfalcon libturbojpeg) -Wl,-rpath,"$libdir"
} || { echo "FAIL: pkg-config shared build"; exit 1; }
needs_so "$dir/detect_buffer" yes
printf 'pkg-config, shared: '
check "$dir" "$@"

dir=$work/pkgconfig-static
mkdir -p "$dir"
# The line detect_buffer.c's comment gives for a static build.
# shellcheck disable=SC2046,SC2086
{
    "$cc" $extra "$work/examples/detect_buffer.c" -o "$dir/detect_buffer" $(pkg-config --cflags bitfalcon) \
        "$libdir/libbitfalcon.a" -lzstd -lpthread -lm &&
    "$cc" $extra "$work/examples/detect_image.c" -o "$dir/detect_image" $(pkg-config --cflags bitfalcon libturbojpeg) \
        "$libdir/libbitfalcon.a" $(pkg-config --libs libturbojpeg) -lzstd -lpthread -lm
} || { echo "FAIL: pkg-config static build"; exit 1; }
needs_so "$dir/detect_buffer" no
printf 'pkg-config, static: '
check "$dir" "$@"

# --- versions: bf_version(), the header's macros, bitfalcon.pc, the CMake package ---
cat >"$work/version.c" <<'C'
#include <bitfalcon.h>
#include <stdio.h>
int main(void)
{
    printf("%s %d.%d.%d %d\n", bf_version(), BITFALCON_VERSION_MAJOR, BITFALCON_VERSION_MINOR,
           BITFALCON_VERSION_PATCH, BITFALCON_VERSION);
    return 0;
}
C
# shellcheck disable=SC2046,SC2086
"$cc" $extra "$work/version.c" -o "$work/version" $(pkg-config --cflags --libs bitfalcon) -Wl,-rpath,"$libdir"
set -- $("$work/version")
pcver=$(pkg-config --modversion bitfalcon)
major=${pcver%%.*} rest=${pcver#*.}
minor=${rest%%.*} patch=${rest#*.}
want_num=$((major * 10000 + minor * 100 + patch))
[ "$1" = "$pcver" ] && [ "$2" = "$pcver" ] && [ "$3" = "$want_num" ] ||
    { echo "FAIL: bf_version $1, macros $2 ($3), bitfalcon.pc $pcver ($want_num)"; exit 1; }
for req in "$major.$minor" "$major.$((minor + 1))"; do
    d=$work/version-$req
    mkdir -p "$d"
    printf 'cmake_minimum_required(VERSION 3.20)\nproject(v LANGUAGES C)\nfind_package(bitfalcon %s REQUIRED)\nmessage(STATUS "found bitfalcon ${bitfalcon_VERSION}")\n' \
        "$req" >"$d/CMakeLists.txt"
    if cmake -S "$d" -B "$d/b" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >"$d.log" 2>&1; then rc=0; else rc=1; fi
    if [ "$req" = "$major.$minor" ]; then
        [ $rc = 0 ] && grep -q "found bitfalcon $pcver" "$d.log" || { cat "$d.log"; echo "FAIL: find_package(bitfalcon $req)"; exit 1; }
    else
        [ $rc = 1 ] || { cat "$d.log"; echo "FAIL: find_package(bitfalcon $req) accepted $pcver"; exit 1; }
    fi
done
echo "versions: bf_version() $1 = macros = bitfalcon.pc = package; find_package($major.$((minor + 1))) refused"
# --- the profiling API (bitfalcon_profile.h) from the installed library ------------
# The three stages give exactly bf_detector_run's boxes; the layer table and the
# per-layer timing cover the network; the kernel paths name the one in use.
cat >"$work/profile.c" <<'C'
#include <bitfalcon.h>
#include <bitfalcon_profile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    bf_model *m = NULL;
    bf_detector *d = NULL;
    bf_options o;
    bf_options_default(&o);
    o.input_size = 320;
    o.threads = 1;
    if (argc < 2 || bf_model_open(argv[1], &m, NULL) != BF_OK || bf_detector_create(m, &o, &d, NULL) != BF_OK)
        return 2;
    enum { W = 200, H = 150 };
    static unsigned char px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        px[i] = (unsigned char)((i * 7919u) >> 5);
    size_t n1 = 0, n2 = 0;
    if (bf_detector_run(d, px, W, H, W * 3, BF_PIXEL_RGB, NULL) != BF_OK)
        return 3;
    bf_detection *a = malloc(sizeof *a * 301);
    memcpy(a, bf_detector_results(d, &n1), sizeof *a * n1);
    const int layers = bf_detector_num_layers(d);
    unsigned long long *ns = calloc((size_t)layers, sizeof *ns);
    bf_detector_profile(d, (uint64_t *)ns);
    if (bf_detector_preprocess(d, px, W, H, W * 3, BF_PIXEL_RGB, NULL) != BF_OK)
        return 4;
    bf_detector_run_network(d);
    bf_detector_postprocess(d);
    bf_detector_profile(d, NULL);
    const bf_detection *b = bf_detector_results(d, &n2);
    int convs = 0, timed = 0;
    for (int i = 0; i < layers; i++) {
        bf_layer_info li;
        if (bf_detector_layer_info(d, i, &li) != 0)
            return 5;
        convs += li.op == BF_LAYER_CONV && li.ops > 0 && strcmp(bf_layer_op_name(li.op), "conv") == 0;
        timed += ns[i] > 0;
    }
    bf_layer_info none;
    char cpu[256];
    bf_peak p;
    bf_measure_peak(0.001, &p);
    printf("stages %s; %d layers, %d convs, %d timed; isa %s in [%s]; requant %s; threads %d; peak %s; cpu %s\n",
           n1 == n2 && memcmp(a, b, sizeof *a * n1) == 0 ? "same" : "DIFFER", layers, convs, timed,
           bf_detector_isa(d), bf_isa_available(), bf_detector_requant_isa(d), bf_detector_threads(d),
           p.loop, bf_cpu_features(cpu, sizeof cpu));
    const int ok = n1 == n2 && memcmp(a, b, sizeof *a * n1) == 0 && layers > 0 && convs > 0 && timed == layers &&
                   bf_detector_layer_info(d, layers, &none) == -1 &&
                   strstr(bf_isa_available(), bf_detector_isa(d)) != NULL && bf_detector_threads(d) == 1;
    free(ns);
    free(a);
    bf_detector_destroy(d);
    bf_model_close(m);
    return ok ? 0 : 1;
}
C
# shellcheck disable=SC2046,SC2086
"$cc" $extra "$work/profile.c" -o "$work/profile" $(pkg-config --cflags --libs bitfalcon) -Wl,-rpath,"$libdir"
"$work/profile" "$model" || { echo "FAIL: the profiling API through the installed library"; exit 1; }
echo "installed_tree: ok"
