# `bitfalcon bench --json`: runs 3 timed runs and checks the JSON's fields
# and their consistency (never the speed), at 320 with 1 and 2 threads.
# The requant paths it may report come from their enumerator, never a list
# written here: every name in i32-requant.inc (any architecture) and "ref".
if(BITFALCON_BUILD_APPS AND BF_PYTHON)
  file(STRINGS ${PROJECT_SOURCE_DIR}/kernels/i32-requant/i32-requant.inc bf_requant_lines REGEX "^BF_I32_REQUANT\\(")
  set(bf_requant_isas ref)
  foreach(line ${bf_requant_lines})
    string(REGEX REPLACE "^BF_I32_REQUANT\\([a-z0-9]+, *([a-z0-9_]+),.*$" "\\1" isa "${line}")
    list(APPEND bf_requant_isas ${isa})
  endforeach()
  string(REPLACE ";" "," bf_requant_isas "${bf_requant_isas}")
  foreach(t 1 2)
    add_test(NAME bench.json_threads${t} COMMAND ${BF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench/check_bench_json.py
      --requant-isas ${bf_requant_isas} ${BF_RUN_BITFALCON} ${BF_MODEL} 320 ${t} ${BF_TEST_DATA}/astronaut.png)
    set_tests_properties(bench.json_threads${t} PROPERTIES LABELS "bench;apps" TIMEOUT 600)
  endforeach()
endif()
