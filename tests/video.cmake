# tests/video.cmake - videos in `bitfalcon detect` and streams in `bitfalcon
# camera --source` (tests/video/video_tests.py). The clips and the stream
# server are made by the tests with the ffmpeg program; without it, or without
# the model, they skip (77). Only built with video support (BITFALCON_VIDEO).

if(TARGET bitfalcon AND BF_VIDEO_AVAILABLE AND BF_PYTHON)
  set(BF_VIDEO_DETECT_TESTS formats draw stride walk damaged hostile track track_options mot_multi resume)
  set(BF_VIDEO_STREAM_TESTS)
  if(BF_CAMERA_AVAILABLE)
    # rtsp needs GStreamer's RTSP server bindings (gir1.2-gst-rtsp-server-1.0, python3-gi:
    # scripts/setup.sh's TEST_PACKAGES); without them it skips (77).
    set(BF_VIDEO_STREAM_TESTS stream http reconnect hls stream_track reconnect_growth rtsp)
    list(APPEND BF_VIDEO_DETECT_TESTS track_camera track_window)
  endif()
  foreach(t ${BF_VIDEO_DETECT_TESTS} ${BF_VIDEO_STREAM_TESTS})
    add_test(NAME video.${t}
             COMMAND ${BF_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/video/video_tests.py
                     --exe $<TARGET_FILE:bitfalcon> --model ${BF_MODEL} --assets ${PROJECT_SOURCE_DIR}/assets
                     --work ${CMAKE_CURRENT_BINARY_DIR}/video.work ${t})
    set_tests_properties(video.${t} PROPERTIES SKIP_RETURN_CODE 77 LABELS video TIMEOUT 600)
  endforeach()
  # Through the stand-in camera these count frames that detection keeps pace
  # with: under emulation (tests/CMakeLists.txt, BF_USER_EMULATED) it keeps
  # 6 of 25, so they are `timing` tests there like the camera ones.
  if(BF_CAMERA_AVAILABLE)
    set_property(TEST video.track_camera video.track_options APPEND PROPERTY LABELS timing)
  endif()
  # The stream tests listen on 127.0.0.1 ports and take real time: one at a time.
  foreach(t ${BF_VIDEO_STREAM_TESTS})
    set_tests_properties(video.${t} PROPERTIES RESOURCE_LOCK bf_video_stream)
  endforeach()
endif()

# The video fuzz target (fuzz/fuzz_video.c) with a plain main (fuzz/replay.c):
# its seed clips (fuzz/corpus/video, made with fuzz/corpus/video/README) are
# replayed in every build, the sanitizer build included.
if(BF_VIDEO_AVAILABLE)
  bf_add_test_program(fuzz_replay_video ${PROJECT_SOURCE_DIR}/fuzz/fuzz_video.c ${PROJECT_SOURCE_DIR}/fuzz/replay.c)
  target_link_libraries(fuzz_replay_video PRIVATE bitfalcon_video)
  add_test(NAME video.fuzz_replay COMMAND fuzz_replay_video ${PROJECT_SOURCE_DIR}/fuzz/corpus/video)
  set_tests_properties(video.fuzz_replay PROPERTIES LABELS "video;hostile")
endif()
