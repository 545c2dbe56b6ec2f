# cmake/video.cmake - video files and network streams through FFmpeg's
# libraries (src/video/), for `bitfalcon detect` on videos and
# `bitfalcon camera --source`.
#
# BITFALCON_VIDEO defaults to ON when pkg-config finds libavformat, libavcodec,
# libswscale and libavutil (Debian: libavformat-dev libavcodec-dev
# libswscale-dev libavutil-dev). Without them everything else builds:
# BF_HAVE_VIDEO stays undefined and the commands say that videos need it.
# Included by the top-level CMakeLists.txt after bitfalcon_io exists.

if(NOT DEFINED BF_VIDEO_CONFIGURED)
  set(BF_VIDEO_CONFIGURED ON)
  pkg_check_modules(FFMPEG IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
  option(BITFALCON_VIDEO "Video files and streams through FFmpeg (libavformat, libavcodec, libswscale)" ${FFMPEG_FOUND})
  set(BF_VIDEO_AVAILABLE OFF)
  if(BITFALCON_VIDEO AND TARGET bitfalcon_io)
    if(NOT FFMPEG_FOUND)
      message(FATAL_ERROR "BITFALCON_VIDEO is ON but pkg-config finds no libavformat libavcodec "
                          "libswscale libavutil (apt-get install libavformat-dev libavcodec-dev "
                          "libswscale-dev libavutil-dev, or -DBITFALCON_VIDEO=OFF)")
    endif()
    set(BF_VIDEO_AVAILABLE ON)
    file(GLOB BF_VIDEO_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/video/*.c)
    add_library(bitfalcon_video STATIC ${BF_VIDEO_SOURCES})
    target_include_directories(bitfalcon_video PUBLIC ${PROJECT_SOURCE_DIR}/src/video)
    target_link_libraries(bitfalcon_video PUBLIC bitfalcon_io PkgConfig::FFMPEG Threads::Threads m)
    target_compile_definitions(bitfalcon_video PUBLIC BF_HAVE_VIDEO=1)
    # The folder walk takes video names too (src/io/video_names.c).
    set_source_files_properties(${PROJECT_SOURCE_DIR}/src/io/video_names.c PROPERTIES
                                COMPILE_DEFINITIONS BF_HAVE_VIDEO=1)
    message(STATUS "bitfalcon: video input/output through FFmpeg ${FFMPEG_libavformat_VERSION}")
  else()
    message(STATUS "bitfalcon: no video support (BITFALCON_VIDEO off or FFmpeg's libraries not found)")
  endif()
endif()

if(TARGET bitfalcon AND BF_VIDEO_AVAILABLE AND NOT BF_VIDEO_LINKED)
  set(BF_VIDEO_LINKED ON)
  target_link_libraries(bitfalcon PRIVATE bitfalcon_video)
endif()
