# Kernel tests (kernels/): every GEMM path bit-exact against its oracle, the
# dispatch contract, and the microbenchmark program bf_kernel_bench (bench/).
#
# These programs link only bitfalcon_static (and bitfalcon_b1 for the popcount
# family; no bitfalcon_io), so they also
# build in a cross build (cmake/aarch64-linux-gnu.cmake), where ctest runs them
# under CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64-static -cpu max). A path
# this CPU (or emulated CPU) lacks skips with 77.
set(BF_KERNEL_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/kernels)

function(bf_kernel_program name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${BF_KERNEL_TEST_DIR} ${PROJECT_SOURCE_DIR}/kernels)
  target_link_libraries(${name} PRIVATE bitfalcon_static bf_test_common)
endfunction()
# The popcount family is a library of its own (bitfalcon_b1, CMakeLists.txt).
function(bf_kernel_program_b1 name)
  bf_kernel_program(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE bitfalcon_b1)
endfunction()

function(bf_kernel_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS kernels)
endfunction()

bf_kernel_program_b1(kernels_test_gemm ${BF_KERNEL_TEST_DIR}/test_gemm.c)
bf_kernel_program_b1(kernels_test_dispatch ${BF_KERNEL_TEST_DIR}/test_dispatch.c)

# The paths come from the enumerators (CMakeLists.txt: BF_T2I8_PATHS ...).
list(GET BF_T2I8_PATHS 0 BF_LADDER_TOP)
list(GET BF_T2I8_FEATURES 0 BF_LADDER_FLAG)

# (The full sweep takes a few seconds per path, under qemu too; --quick
# exists for slower emulators.)
set(BF_KERNEL_TEST_MODE "")

foreach(isa ref ${BF_T2I8_PATHS})
  bf_kernel_test(kernels.t2i8_gemm_${isa} kernels_test_gemm t2i8 ${isa} ${BF_KERNEL_TEST_MODE})
  set_tests_properties(kernels.t2i8_gemm_${isa} PROPERTIES TIMEOUT 900)
endforeach()
foreach(isa ref ${BF_B1_PATHS})
  bf_kernel_test(kernels.b1_gemm_${isa} kernels_test_gemm b1 ${isa} ${BF_KERNEL_TEST_MODE})
  set_tests_properties(kernels.b1_gemm_${isa} PROPERTIES TIMEOUT 900)
endforeach()

bf_kernel_test(kernels.dispatch kernels_test_dispatch)

# The direct 3-channel conv (the stem, kernels/i8c3-conv/): each path bit for
# bit against the test's naive oracle.
bf_kernel_program(kernels_test_i8c3 ${BF_KERNEL_TEST_DIR}/test_i8c3.c)
foreach(isa ref ${BF_I8C3_PATHS})
  bf_kernel_test(kernels.i8c3_conv_${isa} kernels_test_i8c3 ${isa})
endforeach()
# The letterbox's vertical blend (kernels/u8-letterbox/): each path bit for bit
# against the reference (one test per .inc line, though the lines share one
# config today).
bf_kernel_program(kernels_test_u8_letterbox ${BF_KERNEL_TEST_DIR}/test_u8_letterbox.c)
foreach(isa ref ${BF_U8_LETTERBOX_PATHS})
  bf_kernel_test(kernels.u8_letterbox_${isa} kernels_test_u8_letterbox ${isa})
endforeach()
# The ladder, walked down with the test hook that forces CPU features off:
# with the features of every wider rung off, auto must pick each rung in turn
# (skips where this CPU lacks the rung itself); with a rung's own feature
# off, naming it must fail.
set(BF_LADDER_OFF "")
list(LENGTH BF_T2I8_PATHS BF_N_RUNGS)
math(EXPR BF_LAST_RUNG "${BF_N_RUNGS} - 1")
foreach(i RANGE ${BF_LAST_RUNG})
  list(GET BF_T2I8_PATHS ${i} isa)
  list(GET BF_T2I8_FEATURES ${i} feature)
  bf_kernel_test(kernels.dispatch_ladder_${isa} kernels_test_dispatch auto ${isa})
  set_tests_properties(kernels.dispatch_ladder_${isa} PROPERTIES
    ENVIRONMENT "BITFALCON_CPU_DISABLE=${BF_LADDER_OFF};BITFALCON_ISA=")
  bf_kernel_test(kernels.dispatch_lacks_${isa} kernels_test_dispatch lacks ${isa})
  set_tests_properties(kernels.dispatch_lacks_${isa} PROPERTIES ENVIRONMENT "BITFALCON_CPU_DISABLE=${feature}")
  string(APPEND BF_LADDER_OFF "${feature},")
endforeach()
bf_kernel_test(kernels.dispatch_ladder_ref kernels_test_dispatch auto ref)
set_tests_properties(kernels.dispatch_ladder_ref PROPERTIES ENVIRONMENT "BITFALCON_CPU_DISABLE=all;BITFALCON_ISA=")
# BITFALCON_ISA naming an unknown path: NULL and a message, never a fallback.
bf_kernel_test(kernels.dispatch_env_bogus kernels_test_dispatch env-error)
set_tests_properties(kernels.dispatch_env_bogus PROPERTIES ENVIRONMENT "BITFALCON_ISA=bogus")
bf_kernel_test(kernels.dispatch_env_lacking kernels_test_dispatch env-error)
set_tests_properties(kernels.dispatch_env_lacking PROPERTIES
  ENVIRONMENT "BITFALCON_ISA=${BF_LADDER_TOP};BITFALCON_CPU_DISABLE=${BF_LADDER_FLAG}")

# Under qemu, a real CPU model without the dot-product extension (no test
# hook): neondot must be refused with a clear error, and auto must pick neon.
if(CMAKE_CROSSCOMPILING AND BF_QEMU_AARCH64 AND BF_AARCH64_SYSROOT)
  add_test(NAME kernels.dispatch_qemu_a53_lacks_neondot
           COMMAND ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_dispatch> lacks neondot)
  add_test(NAME kernels.dispatch_qemu_a53_auto_neon
           COMMAND ${CMAKE_COMMAND} -E env BITFALCON_ISA= ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_dispatch> auto neon)
  add_test(NAME kernels.t2i8_gemm_neon_on_a53
           COMMAND ${BF_QEMU_AARCH64} -cpu cortex-a53 -L ${BF_AARCH64_SYSROOT}
                   $<TARGET_FILE:kernels_test_gemm> t2i8 neon --quick)
  set_tests_properties(kernels.dispatch_qemu_a53_lacks_neondot kernels.dispatch_qemu_a53_auto_neon
                       kernels.t2i8_gemm_neon_on_a53 PROPERTIES SKIP_RETURN_CODE 77 LABELS kernels)
endif()

# --- microbenchmarks (bench/): a program, not a test; one smoke run ----------
bf_kernel_program_b1(bf_kernel_bench ${PROJECT_SOURCE_DIR}/bench/bf_kernel_bench.c)
target_include_directories(bf_kernel_bench PRIVATE ${PROJECT_SOURCE_DIR}/bench)
target_link_libraries(bf_kernel_bench PRIVATE m)
if(NOT CMAKE_CROSSCOMPILING)
  bf_kernel_test(kernels.bench_smoke bf_kernel_bench --smoke)
  # The line comes only when every path's result equals the first path's (exit 0); a
  # mismatch prints MISMATCH and exits 1.
  set_tests_properties(kernels.bench_smoke PROPERTIES
    PASS_REGULAR_EXPRESSION "# check: [1-9][0-9]* paths equal [a-z0-9-]+ on the first rows of all 3 GEMMs"
    FAIL_REGULAR_EXPRESSION "MISMATCH")
endif()
# The requant epilogue paths (bench/bf_epilogue_bench.c): requant + SiLU, CONCAT's lut8, ADD.
bf_kernel_program(bf_epilogue_bench ${PROJECT_SOURCE_DIR}/bench/bf_epilogue_bench.c)
target_include_directories(bf_epilogue_bench PRIVATE ${PROJECT_SOURCE_DIR}/bench)
bf_kernel_test(kernels.epilogue_bench_smoke bf_epilogue_bench --smoke)
set_tests_properties(kernels.epilogue_bench_smoke PROPERTIES
  PASS_REGULAR_EXPRESSION "# check: [1-9][0-9]* paths equal ref on all 3 workloads"
  FAIL_REGULAR_EXPRESSION "MISMATCH")
