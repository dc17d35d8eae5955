# The third-party libraries that libbonafide itself links, and their imported targets.
#
# One definition for two callers: cmake/Dependencies.cmake (building bonafide) and the
# installed bonafideConfig.cmake (a project linking it; this file is installed beside it).
# A static libbonafide lists these targets as link-only dependencies, so a consumer must
# recreate exactly the same names: PkgConfig::RE2, PkgConfig::HS, PkgConfig::ZSTD,
# PkgConfig::LIBPQ (Debian ships only .pc files for them) and OpenCV::core, imgproc,
# imgcodecs, features2d, calib3d (made by hand: OpenCV's own package file needs the
# libopencv-dev metapackage, which pulls in every module). A target that already exists is
# left alone, so a project that defined its own OpenCV::core (or runs
# pkg_check_modules(RE2 ...)) works.
# libpq and OpenCV are not linked but loaded at their first use (OpenCV through the OpenCV
# module that libbonafide carries; docs/design.md, "Start-up"); they are looked for all
# the same, so that a missing one is said here, at configure time, rather than by the
# first connection or photo.
#
# bonafide_find_library_dependencies(
#   WITH_HYPERSCAN <bool> WITH_OPENCV <bool>   # what this build of bonafide links
#   [REQUIRED]                                  # stop at the first missing one (in-tree)
#   MISSING_VAR <var>)                          # set to the missing ones ("" = all found)
function(bonafide_find_library_dependencies)
  cmake_parse_arguments(ARG "REQUIRED" "WITH_HYPERSCAN;WITH_OPENCV;MISSING_VAR" "" ${ARGN})
  if(ARG_REQUIRED)
    set(mode REQUIRED)
  else()
    set(mode QUIET)
  endif()
  set(missing "")

  foreach(package absl TBB simdjson yaml-cpp)
    find_package(${package} CONFIG ${mode})
    if(NOT ${package}_FOUND)
      list(APPEND missing ${package})
    endif()
  endforeach()
  if(NOT TARGET SQLite::SQLite3)
    find_package(SQLite3 ${mode})
    if(NOT SQLite3_FOUND)
      list(APPEND missing SQLite3)
    endif()
  endif()
  if(NOT TARGET Threads::Threads)
    find_package(Threads ${mode})
    if(NOT Threads_FOUND)
      list(APPEND missing Threads)
    endif()
  endif()
  if(NOT TARGET ZLIB::ZLIB)
    find_package(ZLIB ${mode})
    if(NOT ZLIB_FOUND)
      list(APPEND missing ZLIB)
    endif()
  endif()

  # Debian's RE2, Hyperscan, zstd and libpq ship only pkg-config files. re2.pc says
  # Version: 0.0.0, so no version constraint.
  set(modules RE2=re2 ZSTD=libzstd LIBPQ=libpq)
  if(ARG_WITH_HYPERSCAN)
    list(APPEND modules HS=libhs)  # libvectorscan-dev ships a libhs.pc at the same path
  endif()
  find_package(PkgConfig ${mode})
  foreach(module IN LISTS modules)
    string(REPLACE "=" ";" module "${module}")
    list(GET module 0 prefix)
    list(GET module 1 pc_name)
    if(NOT TARGET PkgConfig::${prefix})
      if(PkgConfig_FOUND)
        pkg_check_modules(${prefix} ${mode} IMPORTED_TARGET ${pc_name})
      endif()
      if(NOT TARGET PkgConfig::${prefix})
        list(APPEND missing ${pc_name})
      endif()
    endif()
  endforeach()

  # OpenCV: only the modules the image stage uses, decoding (Debian's
  # libopencv-{core,imgproc,imgcodecs}-dev) and the local-feature stage, ORB and RANSAC
  # homographies (libopencv-{features2d,calib3d}-dev). In this tree the OpenCV module and
  # the tests link them; libbonafide does not (models/opencv_module.h).
  if(ARG_WITH_OPENCV)
    find_path(BONAFIDE_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 ${mode})
    foreach(module core imgproc imgcodecs features2d calib3d)
      if(TARGET OpenCV::${module})
        continue()
      endif()
      find_library(BONAFIDE_OPENCV_${module}_LIBRARY opencv_${module} ${mode})
      if(NOT BONAFIDE_OPENCV_INCLUDE_DIR OR NOT BONAFIDE_OPENCV_${module}_LIBRARY)
        list(APPEND missing opencv_${module})
        continue()
      endif()
      add_library(OpenCV::${module} UNKNOWN IMPORTED)
      set_target_properties(OpenCV::${module} PROPERTIES
        IMPORTED_LOCATION ${BONAFIDE_OPENCV_${module}_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${BONAFIDE_OPENCV_INCLUDE_DIR})
    endforeach()
  endif()

  set(${ARG_MISSING_VAR} "${missing}" PARENT_SCOPE)
endfunction()
