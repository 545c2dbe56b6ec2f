# Python checks of the tools (tools/): format round trip, letterbox and head fixtures,
# post-processing units, teacher reproduction. They need /usr/bin/python3 with numpy (+PIL,
# + torch and ../shared/data for the teacher); a missing prerequisite makes the script exit
# 77, which ctest reports as SKIPPED.
if(BF_PYTHON)
  set(BF_TOOLS ${PROJECT_SOURCE_DIR}/tools)
  add_test(NAME tools.format_roundtrip COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_format.py)
  add_test(NAME tools.format_zstd COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_format_zstd.py)
  add_test(NAME tools.letterbox_fixture COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_letterbox.py)
  add_test(NAME tools.postprocess_units COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_postprocess.py)
  # The function-size bar of issue 14: no function in src/ or apps/ over 119
  # lines (tools/function_sizes.py, a brace-matching scan; its own test first).
  add_test(NAME tools.function_sizes COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_function_sizes.py)
  add_test(NAME tools.function_sizes_bar COMMAND ${BF_PYTHON} ${BF_TOOLS}/function_sizes.py --top 5 --max 119
                                           ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/apps)
  add_test(NAME tools.heads_fixture COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_fixtures.py ${BF_MODEL})
  add_test(NAME tools.teacher_reproduces_readme
           COMMAND ${BF_PYTHON} ${BF_TOOLS}/teacher_check.py --expect-teacher-readme
                   --teacher ${BF_SHARED_DATA}/teacher/yolov8n_coco.npz
                   ${BF_SHARED_DATA}/samples/bus.jpg ${BF_SHARED_DATA}/samples/zidane.jpg)
  # The tools as a package (issue 14 part 7): every option of every tool has help text (ast of each
  # add_argument and each tool's --help); pyflakes + flake8 clean (tools/.flake8) and no test
  # importing a tools/*.py script; tools/pyproject.toml builds a wheel holding all of tools/bitfalcon/.
  add_test(NAME tools.cli_help COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_cli_help.py)
  add_test(NAME tools.lint COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_lint.py)
  add_test(NAME tools.package COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_package.py)
  set_tests_properties(tools.cli_help tools.lint tools.package
                       PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 300)
  # tools/bitfalcon/datayaml.py on the C reader's data.yaml cases (tests/data/yaml), label paths, .txt splits.
  add_test(NAME tools.datayaml COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_datayaml.py)
  set_tests_properties(tools.datayaml PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # The oscillation freezer (tools/bitfalcon/train_osc.py) on one layer driven by hand (torch only).
  add_test(NAME tools.train_osc COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_train_osc.py)
  set_tests_properties(tools.train_osc PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # tools/teacher_labels.py: teacher detections -> YOLO pseudo-labels (normalised, clipped, EXIF).
  add_test(NAME tools.teacher_labels COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_teacher_labels.py)
  set_tests_properties(tools.teacher_labels PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # retarget_terms: raising a trained layer's k keeps its integer weights (3^dk q) and outputs.
  add_test(NAME tools.retarget_terms COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_retarget.py)
  set_tests_properties(tools.retarget_terms PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # k = 1 convs on the LSQ grid path (k1_lsq): q, threshold alpha/2, clipped STE, checkpoint, export.
  add_test(NAME tools.k1_lsq COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_k1_lsq.py)
  set_tests_properties(tools.k1_lsq PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # BatchNorm re-estimation (tools/bn_reestimate.py): integer weights kept, per-channel stats matched (torch).
  add_test(NAME tools.bn_reestimate COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_bn_reestimate.py)
  set_tests_properties(tools.bn_reestimate PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 120)
  # tools/export.py --terms: a checkpoint projected onto another plane mix (raised 3q, lowered, refused).
  add_test(NAME tools.export_terms COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_export_terms.py)
  set_tests_properties(tools.export_terms PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 300)
  # Two training steps, a resumed step and an export on generated images (~75 s; torch + teacher).
  add_test(NAME tools.train_smoke COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_train_smoke.py)
  # tools/import_onnx.py: 3-class YOLOv8n/s exports (fixed, dynamic, opsets 11-17) built by the test,
  # refused graphs; and the COCO teacher through export_onnx + import_onnx = the npz (needs ../shared).
  add_test(NAME tools.import_onnx_custom COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_import_onnx.py custom)
  add_test(NAME tools.import_onnx_coco COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_import_onnx.py coco)
  # A 3-class teacher -> ONNX -> import -> export.py: the program prints its names, --classes, eval --data.
  if(TARGET bitfalcon)
    add_test(NAME tools.import_onnx_bfm
             COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_import_onnx.py bfm ${BF_RUN_BITFALCON})
    set_tests_properties(tools.import_onnx_bfm PROPERTIES SKIP_RETURN_CODE 77 LABELS python TIMEOUT 600)
    # tools/distill.py on that 3-class ONNX and a 4-image data.yaml: every stage, a resumed run,
    # the teacher-vs-student table, the model's names (~1 min; torch, onnx, yaml, ../shared).
    add_test(NAME tools.distill_custom COMMAND ${BF_PYTHON} ${BF_TOOLS}/tests/test_distill.py ${BF_RUN_BITFALCON})
    set_tests_properties(tools.distill_custom PROPERTIES SKIP_RETURN_CODE 77 LABELS "python;no-sanitizer" TIMEOUT 900)
  endif()
  set_tests_properties(tools.format_roundtrip tools.format_zstd tools.letterbox_fixture tools.postprocess_units
                       tools.heads_fixture tools.teacher_reproduces_readme tools.train_smoke
                       tools.import_onnx_custom tools.import_onnx_coco
                       PROPERTIES SKIP_RETURN_CODE 77 LABELS python TIMEOUT 600)
  # tools.heads_fixture runs the C engine on 4 images at 320 and 640: in an
  # arm64 root under qemu-user, beside other work, that took past 600 s (7 of
  # its 8 runs done; session 17), so it gets the Arm step's 1800 s there.
  if(BF_EMULATED)
    set_tests_properties(tools.heads_fixture PROPERTIES TIMEOUT 1800)
  endif()
  # Pure Python (no C code runs in them): the sanitizer build would only repeat them (~8 min).
  set_tests_properties(tools.train_smoke tools.import_onnx_custom tools.import_onnx_coco
                       PROPERTIES LABELS "python;no-sanitizer")
endif()
