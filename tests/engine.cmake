# Engine tests (src/core): op, loader, graph, post-processing, API and
# allocation-failure tests on synthetic models, plus bit-exactness against the
# Python integer simulation when models/bitfalcon-v8n.bfm and the fixtures in
# tests/data/ exist (those skip with code 77 otherwise).
set(BF_ENGINE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/engine)

add_library(bf_engine_testutil STATIC
  ${BF_ENGINE_DIR}/test_util.c ${BF_ENGINE_DIR}/model_builder.c ${BF_ENGINE_DIR}/naive_ref.c)
target_include_directories(bf_engine_testutil PUBLIC
  ${BF_ENGINE_DIR} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src/core ${PROJECT_SOURCE_DIR}/kernels)
target_link_libraries(bf_engine_testutil PUBLIC bitfalcon_static bf_test_common m)

# Engine test programs link only the engine (not bitfalcon_io): they decode
# PNGs with their own static stb_image instance.
function(bf_engine_program name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE bf_engine_testutil bitfalcon_static)
endfunction()

function(bf_engine_test name)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS engine)
endfunction()

bf_engine_program(engine_test_graph ${BF_ENGINE_DIR}/test_graph.c)
bf_engine_test(engine.graph_vs_naive engine_test_graph)

bf_engine_program(engine_test_ops ${BF_ENGINE_DIR}/test_ops.c)
bf_engine_test(engine.ops_vs_naive engine_test_ops)

bf_engine_program(engine_test_letterbox ${BF_ENGINE_DIR}/test_letterbox.c)
bf_engine_test(engine.letterbox_vs_naive engine_test_letterbox)

bf_engine_program(engine_test_loader ${BF_ENGINE_DIR}/test_loader.c)
bf_engine_test(engine.loader_robustness engine_test_loader)

if(BF_HAVE_ZSTD)
  bf_engine_program(engine_test_model_zstd ${BF_ENGINE_DIR}/test_model_zstd.c)
  target_link_libraries(engine_test_model_zstd PRIVATE ${BF_ZSTD_LIBRARY})
  bf_engine_test(engine.loader_zstd engine_test_model_zstd)
endif()

bf_engine_program(engine_test_postprocess ${BF_ENGINE_DIR}/test_postprocess.c)
bf_engine_test(engine.postprocess_vs_naive engine_test_postprocess)

bf_engine_program(engine_test_api ${BF_ENGINE_DIR}/test_api.c)
bf_engine_test(engine.api engine_test_api)

# Every engine allocation fails in turn: the allocator is wrapped at link time.
bf_engine_program(engine_test_nomem ${BF_ENGINE_DIR}/test_nomem.c)
target_link_options(engine_test_nomem PRIVATE
  "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free")
bf_engine_test(engine.alloc_failures engine_test_nomem)

# Tools: head dumps for tools/simulate.py --compare, and the latency benchmark.
bf_engine_program(bf_dump_heads ${BF_ENGINE_DIR}/bf_dump_heads.c)
bf_engine_program(bf_bench_engine ${BF_ENGINE_DIR}/bf_bench_engine.c)

bf_engine_program(engine_test_fixtures ${BF_ENGINE_DIR}/test_fixtures.c)

# Bit-exactness against the Python integer simulation. The sanitizer and
# Debug builds run the reference kernels unoptimised, about 10x slower: they
# check input size 320 only; Release checks 320 and 640.
if(BITFALCON_SANITIZE OR CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(BF_ENGINE_FIXTURE_SIZES 320)
else()
  set(BF_ENGINE_FIXTURE_SIZES 320,640)
endif()
set(BF_ENGINE_IMAGES ${BF_TEST_DATA}/astronaut.png ${BF_TEST_DATA}/chelsea.png
  ${BF_TEST_DATA}/coffee.png ${BF_TEST_DATA}/rocket.png)
bf_engine_test(engine.letterbox_exact engine_test_fixtures letterbox ${BF_MODEL}
  ${BF_TEST_DATA}/letterbox_expected.txt ${BF_TEST_DATA} --sizes ${BF_ENGINE_FIXTURE_SIZES})
bf_engine_test(engine.heads_exact engine_test_fixtures heads ${BF_MODEL}
  ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes ${BF_ENGINE_FIXTURE_SIZES})
bf_engine_test(engine.boxes_match_python engine_test_fixtures boxes ${BF_MODEL}
  ${BF_TEST_DATA}/boxes_expected.txt ${BF_TEST_DATA} --sizes ${BF_ENGINE_FIXTURE_SIZES})
# The plain C reference kernels too (slow: input size 320 only).
bf_engine_test(engine.heads_exact_ref engine_test_fixtures heads ${BF_MODEL}
  ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes 320 --isa ref)
# The top rung with the indirect GEMM off (BITFALCON_IGEMM=0): its im2col +
# GEMM path, which a conv whose kernel rows are not whole 4-byte groups takes.
bf_engine_test(engine.heads_exact_im2col engine_test_fixtures heads ${BF_MODEL}
  ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes 320)
set_tests_properties(engine.heads_exact_im2col PROPERTIES ENVIRONMENT "BITFALCON_IGEMM=0" TIMEOUT 1800
  LABELS "engine;fixtures")
# Every other rung of the ladder by name (the enumerator's paths, CMakeLists.txt
# BF_T2I8_PATHS; the first is what auto runs above), input size 320; a path
# this CPU lacks skips.
set(BF_ENGINE_LOWER_PATHS ${BF_T2I8_PATHS})
if(BF_ENGINE_LOWER_PATHS)
  list(REMOVE_AT BF_ENGINE_LOWER_PATHS 0)
endif()
foreach(isa ${BF_ENGINE_LOWER_PATHS})
  bf_engine_test(engine.heads_exact_${isa} engine_test_fixtures heads ${BF_MODEL}
    ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes 320 --isa ${isa})
  set_tests_properties(engine.heads_exact_${isa} PROPERTIES TIMEOUT 1800 LABELS "engine;fixtures")
endforeach()
if(BF_PYTHON)
  set(BF_ENGINE_PY ${BF_PYTHON})
else()
  set(BF_ENGINE_PY /usr/bin/python3)
endif()
bf_runnable(BF_RUN_DUMP_HEADS bf_dump_heads)
bf_engine_test(engine.heads_vs_simulate sh ${BF_ENGINE_DIR}/heads_vs_simulate.sh ${BF_ENGINE_PY}
  ${PROJECT_SOURCE_DIR} ${BF_MODEL} ${BF_RUN_DUMP_HEADS} ${CMAKE_CURRENT_BINARY_DIR}/engine-heads-dump
  ${BF_ENGINE_FIXTURE_SIZES} ${BF_ENGINE_IMAGES})
set_tests_properties(engine.letterbox_exact engine.heads_exact engine.boxes_match_python engine.heads_exact_ref
  engine.heads_vs_simulate
  PROPERTIES TIMEOUT 1800 LABELS "engine;fixtures")

# Multi-ternary layers (CONV n_terms 1..5) end to end: a YOLOv8n model made
# from random weights by the real exporter (needs torch; skips without it),
# the engine on every kernel path with 1 and 2 threads against simulate.py.
# In a cross build bf_dump_heads runs under the emulator.
bf_engine_test(engine.multiterm_vs_simulate sh ${BF_ENGINE_DIR}/multiterm_vs_simulate.sh ${BF_ENGINE_PY}
  ${PROJECT_SOURCE_DIR} $<TARGET_FILE:bf_dump_heads> ${CMAKE_CURRENT_BINARY_DIR}/engine-multiterm-dump 64,96
  ${BF_ENGINE_IMAGES})
set_tests_properties(engine.multiterm_vs_simulate PROPERTIES TIMEOUT 900 LABELS "engine;python")
if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
  string(REPLACE ";" " " BF_RUN_PREFIX "${CMAKE_CROSSCOMPILING_EMULATOR}")
  set_tests_properties(engine.multiterm_vs_simulate PROPERTIES ENVIRONMENT "BF_RUN_PREFIX=${BF_RUN_PREFIX}")
endif()

# The whole-graph test under valgrind too (not in the sanitizer build: the
# two do not mix; scripts/test.sh runs that build with -LE no-sanitizer; nor
# under emulation (BF_EMULATED): the host valgrind cannot run aarch64
# programs, and valgrind on qemu runs past any timeout).
find_program(BF_VALGRIND valgrind)
if(BF_VALGRIND AND NOT BITFALCON_SANITIZE AND NOT BF_EMULATED)
  bf_engine_test(engine.graph_valgrind ${BF_VALGRIND} --error-exitcode=1 --leak-check=full
    --errors-for-leak-kinds=definite,indirect $<TARGET_FILE:engine_test_graph>)
  set_tests_properties(engine.graph_valgrind PROPERTIES LABELS "engine;no-sanitizer" TIMEOUT 900)
endif()

# Every public function is exported by the shared library.
add_executable(engine_test_shared ${BF_ENGINE_DIR}/test_shared.c)
target_link_libraries(engine_test_shared PRIVATE bitfalcon_shared)
bf_engine_test(engine.shared_library_api engine_test_shared ${BF_MODEL})

# The thread pool itself: every unit run exactly once, shares
# claimed front to back by their owner and back to front by others, a
# held-up worker's share finished by the rest, many small jobs back to back.
bf_engine_program(engine_test_threadpool ${BF_ENGINE_DIR}/test_threadpool.c)
bf_engine_test(engine.threadpool engine_test_threadpool)
# The same under ThreadSanitizer (the pool's claims are lock-free): the pool
# and the test alone, natively (TSan runs neither beside ASan nor under qemu).
if(NOT BITFALCON_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=thread)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=thread)
  check_c_source_compiles("int main(void) { return 0; }" BF_HAVE_TSAN)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(BF_HAVE_TSAN)
    add_executable(engine_test_threadpool_tsan ${BF_ENGINE_DIR}/test_threadpool.c
      ${PROJECT_SOURCE_DIR}/src/core/threadpool.c ${PROJECT_SOURCE_DIR}/src/core/error.c
      ${PROJECT_SOURCE_DIR}/tests/common/check.c)
    target_include_directories(engine_test_threadpool_tsan PRIVATE ${BF_ENGINE_DIR}
      ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src/core ${PROJECT_SOURCE_DIR}/tests/common)
    target_compile_options(engine_test_threadpool_tsan PRIVATE -fsanitize=thread -g -O1)
    target_link_options(engine_test_threadpool_tsan PRIVATE -fsanitize=thread)
    find_package(Threads REQUIRED)
    target_link_libraries(engine_test_threadpool_tsan PRIVATE Threads::Threads)
    add_test(NAME engine.threadpool_tsan COMMAND engine_test_threadpool_tsan --quick)
    set_tests_properties(engine.threadpool_tsan PROPERTIES LABELS "engine;no-sanitizer"
      ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1")
  endif()
endif()

# The thread pool: head outputs and detections identical for threads 1, 2, 3, 5
# on every kernel path this CPU runs, and equal to the Python integer
# simulation's fixture digests (tests/data/heads_expected.txt).
add_executable(engine_test_threads ${BF_ENGINE_DIR}/test_threads.c)
target_link_libraries(engine_test_threads PRIVATE bf_engine_testutil bitfalcon_static)
# The reference path is ~50x slower than the SIMD ones (~3 s per image at
# 320 in Release): it runs every thread count on the first image only.
add_test(NAME engine.threads_heads_identical COMMAND engine_test_threads ${BF_MODEL}
  ${BF_TEST_DATA}/heads_expected.txt ${BF_TEST_DATA} --sizes 320 --threads 1,2,3,5 --ref-images 1)
set_tests_properties(engine.threads_heads_identical PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800
  LABELS "engine;fixtures")
