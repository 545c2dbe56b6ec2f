# Cross build for 64-bit Arm Linux with Debian's gcc-aarch64-linux-gnu; tests
# run under qemu user-mode emulation.
#
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DBITFALCON_BUILD_APPS=OFF
#   cmake --build build-arm -j2 && ctest --test-dir build-arm -L kernels
#
# ctest prefixes every test program with CMAKE_CROSSCOMPILING_EMULATOR:
# qemu-aarch64-static -cpu max (Armv8.x with the dot-product extension, so
# the neondot path runs) -L <sysroot> (the aarch64 loader and libc).
# tests/kernels.cmake also runs a few tests on -cpu cortex-a53 (no dot
# product) to check that neondot is refused and auto falls back to neon.
#
# Libraries are searched only in the aarch64 sysroot, and pkg-config only in
# its pkgconfig folders: host (x86-64) libraries are never picked up. A
# library the cross environment lacks (libturbojpeg) is then simply not found.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(BF_AARCH64_TRIPLE aarch64-linux-gnu)
set(BF_AARCH64_SYSROOT /usr/${BF_AARCH64_TRIPLE} CACHE PATH "aarch64 target root (loader and libc) for qemu -L")

set(CMAKE_C_COMPILER ${BF_AARCH64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BF_AARCH64_TRIPLE}-g++)

set(CMAKE_FIND_ROOT_PATH ${BF_AARCH64_SYSROOT} /usr/lib/${BF_AARCH64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the target's .pc files
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${BF_AARCH64_TRIPLE}/pkgconfig:${BF_AARCH64_SYSROOT}/lib/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

find_program(BF_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 NO_CMAKE_FIND_ROOT_PATH)
if(BF_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${BF_QEMU_AARCH64} -cpu max -L ${BF_AARCH64_SYSROOT})
endif()
