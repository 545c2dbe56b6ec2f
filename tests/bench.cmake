# `bitfalcon bench --json`: runs 3 timed runs and checks the JSON's fields
# and their consistency (never the speed), at 320 with 1 and 2 threads.
if(BITFALCON_BUILD_APPS AND BF_PYTHON)
  foreach(t 1 2)
    add_test(NAME bench.json_threads${t} COMMAND ${BF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench/check_bench_json.py
      ${BF_RUN_BITFALCON} ${BF_MODEL} 320 ${t} ${BF_TEST_DATA}/astronaut.png)
    set_tests_properties(bench.json_threads${t} PROPERTIES LABELS "bench;apps" TIMEOUT 600)
  endforeach()
endif()
