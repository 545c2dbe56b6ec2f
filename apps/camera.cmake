# apps/camera.cmake - the `bitfalcon camera` live demo (src/capture/).
# Included by the top-level CMakeLists.txt after the `bitfalcon` target exists,
# and by tests/camera.cmake when the apps are not built.
#
# Needs SDL2 (window) and libv4l2 (capture), found with pkg-config. Without
# them the library is not built, BF_HAVE_CAMERA stays undefined and
# apps/cmd_camera.c compiles to a command that says so, so a machine without
# those packages still builds everything else.

if(NOT DEFINED BF_CAMERA_CONFIGURED)
  set(BF_CAMERA_CONFIGURED ON)
  pkg_check_modules(SDL2 IMPORTED_TARGET sdl2)
  pkg_check_modules(LIBV4L2 IMPORTED_TARGET libv4l2)
  if(SDL2_FOUND AND LIBV4L2_FOUND)
    set(BF_CAMERA_AVAILABLE ON)
    file(GLOB BF_CAPTURE_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/capture/*.c)
    add_library(bitfalcon_capture STATIC ${BF_CAPTURE_SOURCES})
    target_include_directories(bitfalcon_capture PUBLIC ${PROJECT_SOURCE_DIR}/src/capture ${PROJECT_SOURCE_DIR}/include)
    target_include_directories(bitfalcon_capture SYSTEM PRIVATE ${STB_INCLUDE_DIR})
    target_link_libraries(bitfalcon_capture PUBLIC bitfalcon_io PkgConfig::SDL2 PkgConfig::LIBV4L2
                          PkgConfig::TURBOJPEG Threads::Threads m)
  else()
    set(BF_CAMERA_AVAILABLE OFF)
    message(WARNING "bitfalcon camera: SDL2 or libv4l2 not found (pkg-config sdl2 libv4l2); "
                    "the camera command is built as a stub")
  endif()
endif()

if(TARGET bitfalcon AND NOT BF_CAMERA_LINKED)
  set(BF_CAMERA_LINKED ON)
  if(BF_CAMERA_AVAILABLE)
    target_compile_definitions(bitfalcon PRIVATE BF_HAVE_CAMERA=1)
    target_link_libraries(bitfalcon PRIVATE bitfalcon_capture)
  endif()
endif()
