#!/bin/sh
# Installs what BitFalcon needs on Debian 12, builds it, and runs detection on
# assets/ with the shipped model. Run from the repository root:  ./scripts/setup.sh
set -eu
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES="build-essential cmake pkg-config libturbojpeg0-dev libjpeg62-turbo-dev libstb-dev \
libv4l-dev libsdl2-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg"
# Test-only extras: sanitizer runtime, valgrind, Xvfb, numpy for the bit-exact check.
TEST_PACKAGES="clang libclang-rt-14-dev valgrind xvfb python3-numpy python3-pil parallel gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static"
if [ "${BITFALCON_SKIP_APT:-0}" != "1" ]; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES $TEST_PACKAGES
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

mkdir -p out
./build/bitfalcon detect -m models/bitfalcon-v8n.bfm --draw --json out/assets.json -o out assets
echo "annotated images and out/assets.json are in out/"
