# Tests of src/io (image files, drawing, files, JSON, labels, COCO mAP) and of
# the bitfalcon program (apps/). None needs ../shared; the CLI tests that need
# the model skip (exit 77) until models/bitfalcon-v8n.bfm exists.

function(bf_apps_test name)
  bf_add_test_program(${name} apps/${name}.c)
  target_include_directories(${name} SYSTEM PRIVATE ${STB_INCLUDE_DIR})
  add_test(NAME apps.${name} COMMAND ${name} ${ARGN})
  set_tests_properties(apps.${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS apps)
endfunction()

bf_apps_test(test_metrics)
bf_apps_test(test_evalproto)
bf_apps_test(test_datayaml ${PROJECT_SOURCE_DIR}/tests/data/yaml)
bf_apps_test(test_image)
bf_apps_test(test_draw)
bf_apps_test(test_files)
bf_apps_test(test_plots)
bf_apps_test(test_journal)

# The program itself (only when it is built).
if(TARGET bitfalcon)
  add_test(NAME apps.cli_eval_detections
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/apps/cli_eval_detections.sh ${BF_RUN_BITFALCON}
                   ${PROJECT_SOURCE_DIR}/assets ${CMAKE_CURRENT_BINARY_DIR}/cli_eval_detections.work)
  set_tests_properties(apps.cli_eval_detections PROPERTIES LABELS apps)

  # Needs models/bitfalcon-v8n.bfm: skipped (77) until it exists.
  add_test(NAME apps.cli_detect
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/apps/cli_detect.sh ${BF_RUN_BITFALCON} ${BF_MODEL}
                   ${PROJECT_SOURCE_DIR}/assets ${BF_TEST_DATA} ${CMAKE_CURRENT_BINARY_DIR}/cli_detect.work
                   "${BF_PYTHON}")
  set_tests_properties(apps.cli_detect PROPERTIES LABELS apps SKIP_RETURN_CODE 77 TIMEOUT 600)

  # detect --classes (ids and names; unknown ones refused). Needs the model: 77 without it.
  add_test(NAME apps.cli_classes
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/apps/cli_classes.sh ${BF_RUN_BITFALCON} ${BF_MODEL}
                   ${PROJECT_SOURCE_DIR}/assets)
  set_tests_properties(apps.cli_classes PROPERTIES LABELS apps SKIP_RETURN_CODE 77)
endif()
