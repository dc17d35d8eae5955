# Every third-party dependency, all from Debian 12 packages (tools/install-deps.sh).

# What libbonafide links: shared with the installed package file (cmake/bonafide-deps.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/bonafide-deps.cmake)
bonafide_find_library_dependencies(REQUIRED WITH_HYPERSCAN ${BONAFIDE_WITH_HYPERSCAN}
  WITH_OPENCV ${BONAFIDE_WITH_OPENCV} MISSING_VAR unused)
# Only the code generator, the CLI and the tests use the rest.
find_package(ICU REQUIRED COMPONENTS uc i18n)  # fold_table_gen (build time only)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::RDKAFKA)
  pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)  # bonafide consume (Kafka)
endif()
# cpp-httplib (libcpp-httplib-dev) is Debian's compiled build, with OpenSSL, zlib and brotli:
# its .pc file adds the matching CPPHTTPLIB_*_SUPPORT definitions, which must be the same
# in every file that includes httplib.h (they change its classes).
if(NOT TARGET PkgConfig::HTTPLIB)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()
find_package(OpenSSL REQUIRED)  # libcrypto's HMAC-SHA256 signs webhooks
if(BONAFIDE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(BONAFIDE_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG REQUIRED)
endif()
if(BONAFIDE_BUILD_BENCHMARKS AND BONAFIDE_WITH_OPENCV)
  # OpenCV's img_hash (libopencv-contrib-dev), the PHash peer of bench/bonafide_image_bench
  # only; made by hand like the modules in bonafide-deps.cmake.
  find_path(BONAFIDE_OPENCV_IMG_HASH_INCLUDE_DIR opencv2/img_hash.hpp PATH_SUFFIXES opencv4
    REQUIRED)
  find_library(BONAFIDE_OPENCV_img_hash_LIBRARY opencv_img_hash REQUIRED)
  if(NOT TARGET OpenCV::img_hash)
    add_library(OpenCV::img_hash UNKNOWN IMPORTED)
    set_target_properties(OpenCV::img_hash PROPERTIES
      IMPORTED_LOCATION ${BONAFIDE_OPENCV_img_hash_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${BONAFIDE_OPENCV_IMG_HASH_INCLUDE_DIR}
      INTERFACE_LINK_LIBRARIES "OpenCV::core;OpenCV::imgproc")
  endif()
endif()
