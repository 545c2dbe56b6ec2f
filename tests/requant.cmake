# The requant epilogue kernels (kernels/i32-requant/) against their reference.
set(BF_REQUANT_DIR ${CMAKE_CURRENT_SOURCE_DIR}/requant)

add_executable(requant_test_kernels ${BF_REQUANT_DIR}/test_requant.c)
target_link_libraries(requant_test_kernels PRIVATE bf_engine_testutil bitfalcon_static)
add_test(NAME kernels.requant_vs_ref COMMAND requant_test_kernels)
set_tests_properties(kernels.requant_vs_ref PROPERTIES LABELS "requant;kernels")
