# Kernel tests (kernels/): every GEMM path bit-exact against its oracle, the
# dispatch contract, and the microbenchmark program bf_kernel_bench (bench/).
#
# These programs link only bitfalcon_static (no bitfalcon_io), so they also
# build in a cross build (cmake/aarch64-linux-gnu.cmake), where ctest runs them
# under CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64-static -cpu max). A path
# this CPU (or emulated CPU) lacks skips with 77.
set(BF_KERNEL_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/kernels)

function(bf_kernel_program name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${BF_KERNEL_TEST_DIR} ${CMAKE_SOURCE_DIR}/kernels)
  target_link_libraries(${name} PRIVATE bitfalcon_static)
endfunction()

function(bf_kernel_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS kernels)
endfunction()

bf_kernel_program(kernels_test_gemm ${BF_KERNEL_TEST_DIR}/test_gemm.c)
bf_kernel_program(kernels_test_dispatch ${BF_KERNEL_TEST_DIR}/test_dispatch.c)

if(BF_ARCH_ARM64 OR CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BF_T2I8_PATHS ref neon neondot)
  set(BF_B1_PATHS ref neon)
  set(BF_LADDER_TOP neondot)
  set(BF_LADDER_FLAG dotprod)
  set(BF_LADDER_NEXT neon)
else()
  set(BF_T2I8_PATHS ref avx2 avx512vnni)
  set(BF_B1_PATHS ref avx512)
  set(BF_LADDER_TOP avx512vnni)
  set(BF_LADDER_FLAG avx512vnni)
  set(BF_LADDER_NEXT avx2)
endif()

# (The full sweep takes a few seconds per path, under qemu too; --quick
# exists for slower emulators.)
set(BF_KERNEL_TEST_MODE "")

foreach(isa ${BF_T2I8_PATHS})
  bf_kernel_test(kernels_t2i8_gemm_${isa} kernels_test_gemm t2i8 ${isa} ${BF_KERNEL_TEST_MODE})
  set_tests_properties(kernels_t2i8_gemm_${isa} PROPERTIES TIMEOUT 900)
endforeach()
foreach(isa ${BF_B1_PATHS})
  bf_kernel_test(kernels_b1_gemm_${isa} kernels_test_gemm b1 ${isa} ${BF_KERNEL_TEST_MODE})
  set_tests_properties(kernels_b1_gemm_${isa} PROPERTIES TIMEOUT 900)
endforeach()

bf_kernel_test(kernels_dispatch kernels_test_dispatch)
# The ladder, walked down with the test hook that forces CPU features off.
bf_kernel_test(kernels_dispatch_ladder_next kernels_test_dispatch auto ${BF_LADDER_NEXT})
set_tests_properties(kernels_dispatch_ladder_next PROPERTIES ENVIRONMENT "BITFALCON_CPU_DISABLE=${BF_LADDER_FLAG};BITFALCON_ISA=")
bf_kernel_test(kernels_dispatch_ladder_ref kernels_test_dispatch auto ref)
set_tests_properties(kernels_dispatch_ladder_ref PROPERTIES ENVIRONMENT "BITFALCON_CPU_DISABLE=all;BITFALCON_ISA=")
bf_kernel_test(kernels_dispatch_lacks_top kernels_test_dispatch lacks ${BF_LADDER_TOP})
set_tests_properties(kernels_dispatch_lacks_top PROPERTIES ENVIRONMENT "BITFALCON_CPU_DISABLE=${BF_LADDER_FLAG}")
# BITFALCON_ISA naming an unknown path: NULL and a message, never a fallback.
bf_kernel_test(kernels_dispatch_env_bogus kernels_test_dispatch env-error)
set_tests_properties(kernels_dispatch_env_bogus PROPERTIES ENVIRONMENT "BITFALCON_ISA=bogus")
bf_kernel_test(kernels_dispatch_env_lacking kernels_test_dispatch env-error)
set_tests_properties(kernels_dispatch_env_lacking PROPERTIES
  ENVIRONMENT "BITFALCON_ISA=${BF_LADDER_TOP};BITFALCON_CPU_DISABLE=${BF_LADDER_FLAG}")

# Under qemu, a real CPU model without the dot-product extension (no test
# hook): neondot must be refused with a clear error, and auto must pick neon.
if(CMAKE_CROSSCOMPILING AND BF_QEMU_AARCH64 AND BF_AARCH64_SYSROOT)
  add_test(NAME kernels_dispatch_qemu_a53_lacks_neondot
           COMMAND ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_dispatch> lacks neondot)
  add_test(NAME kernels_dispatch_qemu_a53_auto_neon
           COMMAND ${CMAKE_COMMAND} -E env BITFALCON_ISA= ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_dispatch> auto neon)
  add_test(NAME kernels_t2i8_gemm_neon_on_a53
           COMMAND ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_gemm> t2i8 neon --quick)
  set_tests_properties(kernels_dispatch_qemu_a53_lacks_neondot kernels_dispatch_qemu_a53_auto_neon
                       kernels_t2i8_gemm_neon_on_a53 PROPERTIES SKIP_RETURN_CODE 77 LABELS kernels)
endif()

# --- microbenchmarks (bench/): a program, not a test; one smoke run ----------
bf_kernel_program(bf_kernel_bench ${CMAKE_SOURCE_DIR}/bench/bf_kernel_bench.c)
target_include_directories(bf_kernel_bench PRIVATE ${CMAKE_SOURCE_DIR}/bench)
target_link_libraries(bf_kernel_bench PRIVATE m)
if(NOT CMAKE_CROSSCOMPILING)
  bf_kernel_test(kernels_bench_smoke bf_kernel_bench --smoke)
endif()
