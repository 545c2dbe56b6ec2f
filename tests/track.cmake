# tests/track.cmake - the tracker (src/track/): Kalman filter, assignment,
# ByteTrack on scripted detections (tests/track/test_track.c). The --track
# options of detect and camera are tested through the program in
# tests/video.cmake (video.track, video.track_camera, video.track_options).
if(TARGET bitfalcon_track)
  add_executable(test_track ${CMAKE_CURRENT_SOURCE_DIR}/track/test_track.c)
  target_link_libraries(test_track PRIVATE bitfalcon_track bf_test_common)
  foreach(part kalman assign tracker)
    add_test(NAME track.${part} COMMAND test_track ${part})
    set_tests_properties(track.${part} PROPERTIES LABELS track TIMEOUT 120)
  endforeach()
endif()
