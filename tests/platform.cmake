# Cross-platform checks (issue 16). In a cross build (cmake/aarch64-linux-gnu.cmake)
# the target program's detections on assets/ must equal the host's byte for
# byte: configure with -DBF_HOST_BITFALCON=<a host build's bitfalcon>
# (scripts/test.sh passes build/bitfalcon); without it the test skips (77).
if(CMAKE_CROSSCOMPILING AND TARGET bitfalcon)
  set(BF_HOST_BITFALCON "" CACHE FILEPATH "a host build's bitfalcon, to compare a cross build's detections with")
  add_test(NAME platform.assets_json_same_as_host
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/platform/same_detections.sh "${BF_HOST_BITFALCON}"
                   ${BF_RUN_BITFALCON} ${BF_MODEL} ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/platform-same-detections.work)
  set_tests_properties(platform.assets_json_same_as_host PROPERTIES LABELS platform SKIP_RETURN_CODE 77 TIMEOUT 900)
endif()
