# examples/ (built in-tree when BITFALCON_BUILD_EXAMPLES, against the
# bitfalcon::bitfalcon alias), run on assets/ and compared with
# `bitfalcon detect --json` (tests/examples/check_examples.py); and the
# installed tree consumed from outside (tests/examples/installed_tree.sh).
if(TARGET detect_buffer AND TARGET detect_image AND TARGET bitfalcon AND BF_PYTHON)
  # PPMs for detect_buffer, decoded by the program's own image code.
  bf_add_test_program(bf_to_ppm ${CMAKE_CURRENT_SOURCE_DIR}/examples/to_ppm.c)
  bf_runnable(BF_RUN_TO_PPM bf_to_ppm)
  bf_runnable(BF_RUN_DETECT_IMAGE detect_image)
  bf_runnable(BF_RUN_DETECT_BUFFER detect_buffer)
  file(GLOB BF_EXAMPLE_ASSETS ${PROJECT_SOURCE_DIR}/assets/*.jpg)

  add_test(NAME examples.same_as_cli
           COMMAND ${BF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/examples/check_examples.py
                   --bitfalcon ${BF_RUN_BITFALCON} --model ${BF_MODEL} --to-ppm ${BF_RUN_TO_PPM}
                   --work ${CMAKE_CURRENT_BINARY_DIR}/examples-same-as-cli.work
                   --detect-image ${BF_RUN_DETECT_IMAGE} --detect-buffer ${BF_RUN_DETECT_BUFFER}
                   ${BF_EXAMPLE_ASSETS})
  set_tests_properties(examples.same_as_cli PROPERTIES LABELS examples SKIP_RETURN_CODE 77 TIMEOUT 600)

  # `cmake --install` of this build into a temporary prefix, examples/ built
  # against it by find_package and by pkg-config. Not in a cross build: the
  # consumer would be built for the target by a host toolchain it has no
  # file for, and ldd cannot read aarch64 programs (the in-tree examples
  # above still run there, under qemu).
  find_program(BF_PKG_CONFIG_EXE pkg-config)
  if(NOT CMAKE_CROSSCOMPILING AND BF_PKG_CONFIG_EXE AND BITFALCON_INSTALL)
    if(BITFALCON_SANITIZE)
      set(BF_CONSUMER_FLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined")
    else()
      set(BF_CONSUMER_FLAGS "")
    endif()
    add_test(NAME examples.installed_tree
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/examples/installed_tree.sh ${PROJECT_BINARY_DIR}
                     ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/examples-installed-tree.work
                     ${CMAKE_C_COMPILER} "${BF_CONSUMER_FLAGS}" ${BF_PYTHON} ${BF_RUN_BITFALCON}
                     ${BF_RUN_TO_PPM} ${BF_EXAMPLE_ASSETS})
    set_tests_properties(examples.installed_tree PROPERTIES LABELS examples TIMEOUT 900)
  endif()

  # BitFalcon inside another project (add_subdirectory, as FetchContent does),
  # with pkg-config off: it compiles the engine again (about a minute on two
  # loaded cores), so only in a native build without sanitizers: what it
  # checks is the build system, which the sanitizers do not see.
  if(NOT CMAKE_CROSSCOMPILING AND NOT BITFALCON_SANITIZE)
    add_test(NAME examples.subproject
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/examples/subproject.sh ${PROJECT_SOURCE_DIR}
                     ${CMAKE_CURRENT_BINARY_DIR}/examples-subproject.work ${CMAKE_C_COMPILER} ""
                     ${BF_PYTHON} ${BF_RUN_BITFALCON} ${BF_RUN_TO_PPM} ${BF_MODEL} ${BF_EXAMPLE_ASSETS})
    set_tests_properties(examples.subproject PROPERTIES LABELS examples TIMEOUT 900)
  endif()
endif()
