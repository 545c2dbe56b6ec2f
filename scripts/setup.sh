#!/bin/sh
# Installs what BitFalcon needs on Debian 12, builds it, and runs detection on
# assets/ with the shipped model. Run from the repository root:  ./scripts/setup.sh
set -eu
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES="build-essential cmake pkg-config libturbojpeg0-dev libjpeg62-turbo-dev libstb-dev libzstd-dev \
libv4l-dev libsdl2-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg"
# Test-only extras (scripts/test.sh): sanitizer runtime, valgrind, Xvfb, numpy
# for the bit-exact check, GNU parallel, GStreamer's RTSP server and its Python
# bindings (video.rtsp serves a clip over RTSP with them; it pulls in
# gstreamer1.0-plugins-base/-good/-bad), gdb (a camera test past its deadline
# prints the hung program's thread stacks). The same on every architecture.
TEST_PACKAGES="clang libclang-rt-14-dev valgrind gdb xvfb python3-numpy python3-pil python3-zstandard parallel \
gir1.2-gst-rtsp-server-1.0 python3-gi"
# On x86-64 only: what test.sh's Arm step needs to build the whole project
# for aarch64 and run its tests under qemu. The cross compiler and qemu, and
# the target's -dev packages from Debian's arm64 architecture (multiarch):
# they are Multi-Arch: same, installed beside the amd64 ones at the same
# version in the same apt-get run, and leave the x86 build untouched. An
# arm64 machine (Raspberry Pi OS, Debian arm64) installs none of this.
CROSS_PACKAGES=""
ARCH="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
if [ "$ARCH" = "amd64" ]; then
    CROSS_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
libturbojpeg0-dev:arm64 libjpeg62-turbo-dev:arm64 libzstd-dev:arm64 libv4l-dev:arm64 libsdl2-dev:arm64"
fi
if [ "${BITFALCON_SKIP_APT:-0}" != "1" ]; then
    if [ -n "$CROSS_PACKAGES" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $SUDO dpkg --add-architecture arm64
    fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES $TEST_PACKAGES $CROSS_PACKAGES
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

mkdir -p out
./build/bitfalcon detect -m models/bitfalcon-v8n.bfm --draw --json out/assets.json -o out assets
echo "annotated images and out/assets.json are in out/"
