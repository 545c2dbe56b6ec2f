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
bf_apps_test(test_image)
bf_apps_test(test_draw)
bf_apps_test(test_files)
