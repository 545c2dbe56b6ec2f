# Hostile inputs (fuzz/, docs/batch.md): a short libFuzzer run of each fuzz
# target, and `bitfalcon detect` batches: thousands of images with hostile
# files mixed in, SIGKILL + --resume, --shard through GNU parallel.
#
# Labels: hostile; fuzz_smoke also no-sanitizer (it builds its own clang
# ASan+UBSan+libFuzzer binaries) and skips (77) without clang/libFuzzer;
# the big batch is also `slow`. The batch tests skip (77) without the model or
# Python, the shard test also without GNU parallel.
set(BF_HOSTILE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/hostile)

add_test(NAME hostile.fuzz_smoke
         COMMAND sh ${BF_HOSTILE_DIR}/fuzz_smoke.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/fuzz 20)
set_tests_properties(hostile.fuzz_smoke PROPERTIES LABELS "hostile;no-sanitizer;fuzz"
                     SKIP_RETURN_CODE 77 TIMEOUT 900 RUN_SERIAL ON)
if(BF_EMULATED)
  # LeakSanitizer cannot stop the world under qemu-user: any ASan program ends
  # with "LeakSanitizer has encountered a fatal error" and exit 1, leak or not
  # (an aarch64 ASan hello-world under qemu-aarch64-static does it; with
  # detect_leaks=0 it exits 0). The fresh arm64 root's fuzz_model "exit 1 after
  # DONE" (docs/raspberry-pi.md). Leaks are checked by the native builds.
  set_tests_properties(hostile.fuzz_smoke PROPERTIES
                       ENVIRONMENT "BF_FUZZ_ARGS=-detect_leaks=0;ASAN_OPTIONS=detect_leaks=0")
endif()

# The fuzz targets with a plain main() (fuzz/replay.c), built by the normal
# compiler: the seed corpora and fuzz/regressions/ (inputs that once failed)
# are replayed in every build, sanitizer build included, clang or not.
set(BF_FUZZ_DIR ${PROJECT_SOURCE_DIR}/fuzz)
foreach(t model image camera datayaml journal)
  set(extra "")
  if(t STREQUAL "camera")
    set(extra ${PROJECT_SOURCE_DIR}/src/capture/convert.c)
  endif()
  bf_add_test_program(fuzz_replay_${t} ${BF_FUZZ_DIR}/fuzz_${t}.c ${BF_FUZZ_DIR}/replay.c ${extra})
  target_include_directories(fuzz_replay_${t} PRIVATE ${PROJECT_SOURCE_DIR}/src/capture)
  add_test(NAME hostile.fuzz_replay_${t}
           COMMAND fuzz_replay_${t} ${BF_FUZZ_DIR}/corpus/${t} ${BF_FUZZ_DIR}/regressions/${t})
  set_tests_properties(hostile.fuzz_replay_${t} PROPERTIES LABELS hostile)
endforeach()

bf_add_test_program(hostile_mkimage ${BF_HOSTILE_DIR}/mkimage.c)

bf_add_test_program(hostile_test_atomic ${BF_HOSTILE_DIR}/test_atomic.c)
add_test(NAME hostile.atomic_file_writer COMMAND hostile_test_atomic)
set_tests_properties(hostile.atomic_file_writer PROPERTIES LABELS hostile)

bf_add_test_program(hostile_test_regressions ${BF_HOSTILE_DIR}/test_regressions.c)
add_test(NAME hostile.fuzz_fixes COMMAND hostile_test_regressions ${BF_TEST_DATA}/chelsea.png)
set_tests_properties(hostile.fuzz_fixes PROPERTIES LABELS hostile)

if(TARGET bitfalcon AND BF_PYTHON)
  # Sizes that keep each test within a few minutes on 2 cores: the sanitizer
  # and Debug builds run the reference kernels unoptimised (about 10x slower);
  # under emulation (BF_EMULATED) every image runs under qemu (about 80x slower).
  if(BITFALCON_SANITIZE OR CMAKE_BUILD_TYPE STREQUAL "Debug" OR BF_EMULATED)
    set(BF_HOSTILE_BATCH 100 --no-rss-check) # ASan's quarantine holds freed memory
    set(BF_HOSTILE_SMALL 60 --no-rss-check)
  else()
    set(BF_HOSTILE_BATCH 2000)
    set(BF_HOSTILE_SMALL 300)
  endif()
  bf_runnable(BF_RUN_MKIMAGE hostile_mkimage)
  set(BF_HOSTILE_ARGS --bitfalcon ${BF_RUN_BITFALCON} --mkimage ${BF_RUN_MKIMAGE}
      --model ${BF_MODEL} --assets ${PROJECT_SOURCE_DIR}/assets --size 320)
  add_test(NAME hostile.batch
           COMMAND ${BF_PYTHON} ${BF_HOSTILE_DIR}/batch.py batch ${BF_HOSTILE_ARGS}
                   --count ${BF_HOSTILE_BATCH} --work ${CMAKE_CURRENT_BINARY_DIR}/hostile-batch.work)
  add_test(NAME hostile.resume_after_sigkill
           COMMAND ${BF_PYTHON} ${BF_HOSTILE_DIR}/batch.py resume ${BF_HOSTILE_ARGS}
                   --count ${BF_HOSTILE_SMALL} --work ${CMAKE_CURRENT_BINARY_DIR}/hostile-resume.work)
  add_test(NAME hostile.shard_parallel
           COMMAND ${BF_PYTHON} ${BF_HOSTILE_DIR}/batch.py shard ${BF_HOSTILE_ARGS}
                   --count ${BF_HOSTILE_SMALL} --work ${CMAKE_CURRENT_BINARY_DIR}/hostile-shard.work)
  set_tests_properties(hostile.batch PROPERTIES LABELS "hostile;slow" SKIP_RETURN_CODE 77 TIMEOUT 600)
  set_tests_properties(hostile.resume_after_sigkill hostile.shard_parallel PROPERTIES
                       LABELS hostile SKIP_RETURN_CODE 77 TIMEOUT 600)
  if(BF_EMULATED)
    # Under qemu-user every one of these tests' ~16 program starts pays the
    # emulator's and (in the sanitizer stage) ASan's start-up, and the three
    # shards share two cores: hostile.shard_parallel ran out of its 600 s in
    # the arm64 root's ASan stage (docs/raspberry-pi.md) with nothing failed.
    set_tests_properties(hostile.batch hostile.resume_after_sigkill hostile.shard_parallel
                         PROPERTIES TIMEOUT 1800)
  endif()
endif()

# Careless use, through the program on files the test makes (issue 12,
# docs/batch.md "What happens when"): one test per behaviour. Each skips (77)
# without the model or Python; the device-node one also when not root.
if(TARGET bitfalcon AND BF_PYTHON)
  foreach(case json_symlink json_full_disk json_device_node json_fifo_stdout refuse_draw_onto_inputs
               refuse_json_onto_image json_dir_target output_folder_skipped model_rewritten
               closed_fds fifo_inputs signals messages default_model
               exif_orientation non_utf8_names eval_same_errors label_values unsupported_inputs)
    add_test(NAME hostile.careless_${case}
             COMMAND sh ${BF_HOSTILE_DIR}/careless.sh ${case} ${BF_RUN_BITFALCON} ${BF_MODEL}
                     ${PROJECT_SOURCE_DIR}/assets ${CMAKE_CURRENT_BINARY_DIR}/careless-${case}.work
                     ${BF_PYTHON})
    set_tests_properties(hostile.careless_${case} PROPERTIES LABELS "hostile;careless"
                         SKIP_RETURN_CODE 77 TIMEOUT 900)
  endforeach()
endif()
