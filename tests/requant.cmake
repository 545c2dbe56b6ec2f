# The requant epilogue kernels (kernels/i32-requant/) against their reference,
# and the thread pool: head outputs and detections identical for threads
# 1, 2, 3, 5 on every kernel path this CPU runs, and equal to the Python
# integer simulation's fixture digests (tests/data/heads_expected.txt).
set(BF_REQUANT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/requant)

add_executable(requant_test_kernels ${BF_REQUANT_DIR}/test_requant.c)
target_link_libraries(requant_test_kernels PRIVATE bf_engine_testutil bitfalcon_static)
add_test(NAME requant_kernels_vs_ref COMMAND requant_test_kernels)
set_tests_properties(requant_kernels_vs_ref PROPERTIES LABELS "requant;kernels")

add_executable(requant_test_threads ${BF_REQUANT_DIR}/test_threads.c)
target_link_libraries(requant_test_threads PRIVATE bf_engine_testutil bitfalcon_static)
# The reference path is ~50x slower than the SIMD ones (~3 s per image at
# 320 in Release): it runs every thread count on the first image only.
add_test(NAME threads_heads_identical COMMAND requant_test_threads ${BF_MODEL}
  ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes 320 --threads 1,2,3,5 --ref-images 1)
set_tests_properties(threads_heads_identical PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800
  LABELS "requant;engine;fixtures")
