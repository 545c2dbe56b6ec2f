# Cross build for 64-bit Arm Linux with Debian's gcc-aarch64-linux-gnu; tests
# run under qemu user-mode emulation. scripts/test.sh does this on x86-64:
#
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DCMAKE_BUILD_TYPE=Release -DBF_HOST_BITFALCON=$PWD/build/bitfalcon
#   cmake --build build-arm -j2 && ctest --test-dir build-arm -j2
#
# The target's libraries come from Debian multiarch: `dpkg --add-architecture
# arm64` and the :arm64 -dev packages (libturbojpeg0-dev:arm64, libv4l-dev:arm64,
# libsdl2-dev:arm64, ...; scripts/setup.sh installs them on x86-64). They live
# in /usr/lib/aarch64-linux-gnu, which the Debian cross compiler searches, and
# pkg-config reads only their .pc files. With them the whole project builds:
# apps, camera, the stand-in V4L2 device and every test. Without them
# (cross compiler only) it builds the engine, the kernels and their tests.
#
# ctest prefixes every test program with CMAKE_CROSSCOMPILING_EMULATOR:
# qemu-aarch64-static -cpu max (Armv8.x with the dot-product extension, so
# the neondot path runs) -L <BF_AARCH64_SYSROOT> (the aarch64 loader and libc,
# see below). Test scripts run the
# programs through wrappers (tests/CMakeLists.txt, bf_runnable).
# tests/kernels.cmake also runs a few tests on -cpu cortex-a53 (no dot
# product) to check that neondot is refused and auto falls back to neon.
#
# Libraries are searched only in the aarch64 sysroot and multiarch folder, and
# pkg-config only in their pkgconfig folders: host (x86-64) libraries are never
# picked up.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(BF_AARCH64_TRIPLE aarch64-linux-gnu)
# The root qemu -L gives the programs (loader and libc). With multiarch
# libc6:arm64 installed (the :arm64 -dev packages pull it in) that must be /:
# the loader reads /etc/ld.so.cache, which then lists
# /usr/lib/aarch64-linux-gnu/libc.so.6, and the cross sysroot's loader with
# multiarch's libc (another glibc build) hangs in pthread_create. Without
# multiarch, the cross sysroot's own loader and libc.
if(EXISTS /lib/ld-linux-aarch64.so.1 AND EXISTS /usr/lib/${BF_AARCH64_TRIPLE}/libc.so.6)
  set(BF_AARCH64_SYSROOT_DEFAULT /)
else()
  set(BF_AARCH64_SYSROOT_DEFAULT /usr/${BF_AARCH64_TRIPLE})
endif()
set(BF_AARCH64_SYSROOT ${BF_AARCH64_SYSROOT_DEFAULT} CACHE PATH "aarch64 target root (loader and libc) for qemu -L")

set(CMAKE_C_COMPILER ${BF_AARCH64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BF_AARCH64_TRIPLE}-g++)

set(CMAKE_FIND_ROOT_PATH /usr/${BF_AARCH64_TRIPLE} /usr/lib/${BF_AARCH64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the target's .pc files
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${BF_AARCH64_TRIPLE}/pkgconfig:/usr/${BF_AARCH64_TRIPLE}/lib/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

find_program(BF_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 NO_CMAKE_FIND_ROOT_PATH)
if(BF_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${BF_QEMU_AARCH64} -cpu max -L ${BF_AARCH64_SYSROOT})
endif()
