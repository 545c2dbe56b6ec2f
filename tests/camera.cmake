# tests/camera.cmake - tests of `bitfalcon camera` without a camera.
#
# A stand-in V4L2 device (tests/camera/fake_v4l2.c, loaded with LD_PRELOAD)
# serves frames made from assets/*.jpg; see tests/camera/README in docs/camera.md.
# Tests that need the engine and model skip (exit 77) until they exist; the
# window tests use SDL's offscreen video driver (no X server needed).

if(NOT TARGET bitfalcon_capture)
  include(${PROJECT_SOURCE_DIR}/apps/camera.cmake)
endif()

if(BF_CAMERA_AVAILABLE)
  set(BF_CAM_DIR ${CMAKE_CURRENT_SOURCE_DIR}/camera)

  # --- the stand-in device -----------------------------------------------------
  add_library(fake_v4l2 SHARED ${BF_CAM_DIR}/fake_v4l2.c)
  target_compile_definitions(fake_v4l2 PRIVATE BF_FAKE_V4L2_DEFAULT_ASSETS="${PROJECT_SOURCE_DIR}/assets")
  target_compile_options(fake_v4l2 PRIVATE -fvisibility=hidden)
  target_link_libraries(fake_v4l2 PRIVATE PkgConfig::TURBOJPEG ${CMAKE_DL_LIBS} Threads::Threads)
  set(BF_CAM_PRELOAD "LD_PRELOAD=$<TARGET_FILE:fake_v4l2>")

  # --- src/capture driven directly ---------------------------------------------
  add_executable(test_capture ${BF_CAM_DIR}/test_capture.c)
  target_include_directories(test_capture PRIVATE ${BF_CAM_DIR})
  target_link_libraries(test_capture PRIVATE bitfalcon_capture bf_test_common ${CMAKE_DL_LIBS})

  # --- the camera command with a stand-in detector (no engine or model needed) --
  add_executable(camera_stub ${PROJECT_SOURCE_DIR}/apps/cmd_camera.c ${PROJECT_SOURCE_DIR}/apps/args.c
                 ${PROJECT_SOURCE_DIR}/apps/track_opts.c ${PROJECT_SOURCE_DIR}/apps/camera_app.c
                 ${BF_CAM_DIR}/stub_backend.c ${BF_CAM_DIR}/stub_main.c)
  target_include_directories(camera_stub PRIVATE ${PROJECT_SOURCE_DIR}/apps ${BF_CAM_DIR})
  target_compile_definitions(camera_stub PRIVATE BF_HAVE_CAMERA=1)
  target_link_libraries(camera_stub PRIVATE bitfalcon_capture ${CMAKE_DL_LIBS})

  set(BF_CAMERA_TESTS "")
  macro(bf_camera_test name)
    add_test(NAME ${name} COMMAND ${ARGN})
    # Generous: the tests wait for counts (frames, lines, messages), each with its
    # own deadline below this one (test_capture 90 s, camera_tests.py 240 s), so a
    # loaded machine only makes them slower; they take 1-10 s (valgrind up to ~60 s).
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS camera TIMEOUT 300)
    list(APPEND BF_CAMERA_TESTS ${name})
  endmacro()
  macro(bf_camera_env name)
    set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT "${BF_CAM_PRELOAD};${ARGN}")
  endmacro()

  bf_camera_test(camera.convert test_capture convert)

  bf_camera_test(camera.capture_mjpeg test_capture formats MJPG 640 480 12)
  bf_camera_env(camera.capture_mjpeg "BF_FAKE_V4L2_FPS=0")
  bf_camera_test(camera.capture_yuyv test_capture formats YUYV 320 240 12)
  bf_camera_env(camera.capture_yuyv "BF_FAKE_V4L2_FORMATS=yuyv;BF_FAKE_V4L2_FPS=0")
  bf_camera_test(camera.capture_negotiate test_capture negotiate)
  bf_camera_env(camera.capture_negotiate "BF_FAKE_V4L2_FPS=0")
  foreach(kind missing notv4l2)
    bf_camera_test(camera.refuse_${kind} test_capture refuse ${kind})
    bf_camera_env(camera.refuse_${kind} "BF_FAKE_V4L2_FPS=0")
  endforeach()
  bf_camera_test(camera.refuse_nostreaming test_capture refuse nostreaming)
  bf_camera_env(camera.refuse_nostreaming "BF_FAKE_V4L2_NO_STREAMING=1")
  bf_camera_test(camera.refuse_onebuffer test_capture refuse onebuffer)
  bf_camera_env(camera.refuse_onebuffer "BF_FAKE_V4L2_MAX_BUFFERS=1")
  bf_camera_test(camera.corrupt_mjpeg test_capture corrupt 5)
  bf_camera_env(camera.corrupt_mjpeg "BF_FAKE_V4L2_FPS=200;BF_FAKE_V4L2_CORRUPT_EVERY=5")
  bf_camera_test(camera.vanish test_capture vanish)
  bf_camera_env(camera.vanish "BF_FAKE_V4L2_FPS=100;BF_FAKE_V4L2_VANISH_AFTER=10;BF_FAKE_V4L2_VANISH_MS=700")

  # --- the camera command end to end (Python 3 drives it; standard library only) --
  add_executable(camera_refimg ${BF_CAM_DIR}/refimg.c)
  target_include_directories(camera_refimg SYSTEM PRIVATE ${STB_INCLUDE_DIR})
  target_link_libraries(camera_refimg PRIVATE bitfalcon_capture)
  add_executable(camera_check_screenshot ${BF_CAM_DIR}/check_screenshot.c)
  target_link_libraries(camera_check_screenshot PRIVATE bitfalcon_capture)
  if(BF_PYTHON)
    bf_runnable(BF_RUN_CAM_CHECKER camera_check_screenshot)
    bf_runnable(BF_RUN_CAM_REFIMG camera_refimg)
    bf_runnable(BF_RUN_CAM_STUB camera_stub)
    set(BF_CAM_PY ${BF_PYTHON} ${BF_CAM_DIR}/camera_tests.py --shim $<TARGET_FILE:fake_v4l2>
        --checker ${BF_RUN_CAM_CHECKER} --refimg ${BF_RUN_CAM_REFIMG})
    set(BF_CAM_WORK ${CMAKE_CURRENT_BINARY_DIR}/camera-work)
    # with the stand-in detector: the loop, threads, JSON, window, keys' plumbing
    set(BF_CAM_STUB ${BF_CAM_PY} --exe ${BF_RUN_CAM_STUB})
    bf_camera_test(camera.headless_mjpeg ${BF_CAM_STUB} --work ${BF_CAM_WORK}/h-mjpeg headless MJPG 20)
    bf_camera_test(camera.headless_yuyv ${BF_CAM_STUB} --work ${BF_CAM_WORK}/h-yuyv headless YUYV 20)
    bf_camera_test(camera.headless_corrupt ${BF_CAM_STUB} --work ${BF_CAM_WORK}/corrupt corrupt)
    bf_camera_test(camera.headless_vanish ${BF_CAM_STUB} --work ${BF_CAM_WORK}/vanish vanish)
    bf_camera_test(camera.sigint ${BF_CAM_STUB} --work ${BF_CAM_WORK}/sigint signal SIGINT)
    bf_camera_test(camera.sigterm ${BF_CAM_STUB} --work ${BF_CAM_WORK}/sigterm signal SIGTERM)
    bf_camera_test(camera.latest_frame_wins ${BF_CAM_STUB} --work ${BF_CAM_WORK}/latest latest)
    bf_camera_test(camera.record ${BF_CAM_STUB} --work ${BF_CAM_WORK}/record record)
    bf_camera_test(camera.window_offscreen ${BF_CAM_STUB} --work ${BF_CAM_WORK}/win --window 800x450 window)
    bf_camera_test(camera.keys ${BF_CAM_STUB} --work ${BF_CAM_WORK}/keys keys)
    bf_camera_test(camera.window_disconnected ${BF_CAM_STUB} --work ${BF_CAM_WORK}/gone disconnected)
    bf_camera_test(camera.window_reconnect_resize ${BF_CAM_STUB} --work ${BF_CAM_WORK}/resize resize)
    # Xvfb started by the test itself on a display it picks (-displayfd): concurrent
    # suites never race for a display number as `xvfb-run -a` does.
    find_program(BF_XVFB Xvfb)
    if(BF_XVFB)
      bf_camera_test(camera.window_xvfb ${BF_CAM_STUB} --work ${BF_CAM_WORK}/win-x11
                     --xvfb ${BF_XVFB} --window 512x512 window)
    endif()
    # with the engine and the model (skip, 77, until the model exists)
    if(TARGET bitfalcon)
      set(BF_CAM_REAL ${BF_CAM_PY} --exe ${BF_RUN_BITFALCON} --sub camera --model ${BF_MODEL})
      bf_camera_test(camera.vs_detect_mjpeg_640 ${BF_CAM_REAL} --work ${BF_CAM_WORK}/vs-mjpeg --frames 8
                     vsdetect MJPEG 640)
      bf_camera_test(camera.vs_detect_yuyv_320 ${BF_CAM_REAL} --work ${BF_CAM_WORK}/vs-yuyv --frames 8
                     vsdetect YUYV 320)
      bf_camera_test(camera.window_engine ${BF_CAM_REAL} --work ${BF_CAM_WORK}/win-engine --frames 10
                     --input-size 320 --assets ${PROJECT_SOURCE_DIR}/assets/chelsea.jpg --window 960x540 window)
      set_tests_properties(camera.vs_detect_mjpeg_640 camera.vs_detect_yuyv_320 camera.window_engine
                           PROPERTIES TIMEOUT 900)
    endif()
  endif()

  # Timing assertions calibrated for native speed (frame pacing, how soon a
  # key, an unplug or a resize takes effect): under qemu, 50-80x slower, they
  # measure the emulator. The cross build's run in scripts/test.sh leaves the
  # label out (-LE timing); the x86 builds run them.
  if(TARGET camera_stub AND BF_PYTHON)
    set_property(TEST camera.latest_frame_wins camera.keys camera.window_disconnected
                 camera.window_reconnect_resize APPEND PROPERTY LABELS timing)
  endif()

  # Leaks under valgrind: the capture layer through an unplug/replug, and the
  # whole command (capture, detection and window threads) headless with an
  # unplug and with the window. ASan builds (BITFALCON_SANITIZE) cover the
  # same tests with LeakSanitizer instead. Not in a cross build: the host
  # valgrind cannot run aarch64 programs, nor valgrind on qemu within any
  # timeout (BF_EMULATED; the x86 build runs these).
  find_program(BF_VALGRIND valgrind)
  if(BF_VALGRIND AND NOT BITFALCON_SANITIZE AND NOT BF_EMULATED)
    set(BF_CAM_VG ${BF_VALGRIND} --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect
        --error-exitcode=1 --num-callers=50 --suppressions=${BF_CAM_DIR}/valgrind.supp)
    bf_camera_test(camera.vanish_valgrind ${BF_CAM_VG} $<TARGET_FILE:test_capture> vanish)
    bf_camera_env(camera.vanish_valgrind "BF_FAKE_V4L2_FPS=50;BF_FAKE_V4L2_VANISH_AFTER=10;BF_FAKE_V4L2_VANISH_MS=700")
    bf_camera_test(camera.headless_valgrind ${BF_CAM_VG} $<TARGET_FILE:camera_stub>
                   --device /dev/video-bitfalcon-test --headless --frames 30 --record ${CMAKE_CURRENT_BINARY_DIR}/camera-work/vg-rec)
    bf_camera_env(camera.headless_valgrind "BF_FAKE_V4L2_FPS=30;BF_FAKE_V4L2_VANISH_AFTER=10;BF_FAKE_V4L2_VANISH_MS=600;BF_FAKE_V4L2_CORRUPT_EVERY=7")
    bf_camera_test(camera.window_valgrind ${BF_CAM_VG} $<TARGET_FILE:camera_stub>
                   --device /dev/video-bitfalcon-test --frames 10 --screenshot ${CMAKE_CURRENT_BINARY_DIR}/camera-work/vg.bmp)
    bf_camera_env(camera.window_valgrind "BF_FAKE_V4L2_FPS=30;SDL_VIDEODRIVER=offscreen;BF_CAMERA_KEYS=+,-,space,space")
    set_tests_properties(camera.vanish_valgrind camera.headless_valgrind camera.window_valgrind PROPERTIES TIMEOUT 600)
  endif()
  if(BITFALCON_SANITIZE)
    # The shim is preloaded before libasan. LeakSanitizer cannot see through
    # SDL's unloaded driver libraries without slow unwinding (which makes Mesa
    # crawl), so the window tests run without it here; their leak check is
    # camera.window_valgrind in a normal build (valgrind.supp).
    #
    # These options are appended to the ASAN_OPTIONS ctest was started with,
    # never put in its place: scripts/test.sh sets abort_on_error=1, and
    # detect_leaks=0 where LeakSanitizer cannot run (an arm64 root under
    # qemu-user, which has no ptrace for it). Replacing the variable made all
    # 20 camera tests fail there with "LeakSanitizer has encountered a fatal
    # error" (docs/raspberry-pi.md). ASan reads its options left to right, so
    # an appended value wins; under emulation leak checks stay off whatever
    # the caller asked.
    foreach(t ${BF_CAMERA_TESTS})
      set(bf_cam_asan "verify_asan_link_order=0")
      if(t MATCHES "window|keys" OR BF_EMULATED)
        string(APPEND bf_cam_asan ":detect_leaks=0")
      endif()
      if(BF_EMULATED AND t MATCHES "window")
        # Mesa's llvmpipe JITs its shaders; under qemu-user ASan's memcpy
        # interceptor then faults checking the shadow of the JIT's section
        # (a SEGV inside llvm::RuntimeDyldImpl::emitSection, seen in the arm64
        # root). softpipe is Mesa's renderer without a JIT: the window, SDL and
        # the X11 path are the same.
        set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "GALLIUM_DRIVER=softpipe")
      endif()
      if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.22)
        set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT_MODIFICATION "ASAN_OPTIONS=string_append::${bf_cam_asan}")
      else()
        set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "ASAN_OPTIONS=abort_on_error=1:${bf_cam_asan}")
      endif()
    endforeach()
  endif()
endif()
