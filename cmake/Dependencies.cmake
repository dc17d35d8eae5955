# Every third-party dependency, all from Debian 12 packages (tools/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(TBB CONFIG REQUIRED)
# OpenCV: only the three modules the image side needs (Debian's libopencv-{core,imgproc,
# imgcodecs}-dev). Their CMake package file ships with the libopencv-dev metapackage, which
# pulls in every module (and VTK), so the imported targets are made here instead.
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
foreach(module core imgproc imgcodecs)
  find_library(OPENCV_${module}_LIBRARY opencv_${module} REQUIRED)
  add_library(OpenCV::${module} UNKNOWN IMPORTED)
  set_target_properties(OpenCV::${module} PROPERTIES
    IMPORTED_LOCATION ${OPENCV_${module}_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${OPENCV_INCLUDE_DIR})
endforeach()
find_package(simdjson CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(Threads REQUIRED)
# Debian's RE2, Hyperscan and zstd ship only pkg-config files.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
if(BONAFIDE_WITH_HYPERSCAN)
  pkg_check_modules(HS REQUIRED IMPORTED_TARGET libhs)
endif()
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)  # the PostgreSQL outbox
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)  # bonafide consume (Kafka)
# cpp-httplib (libcpp-httplib-dev) is Debian's compiled build, with OpenSSL, zlib and brotli:
# its .pc file adds the matching CPPHTTPLIB_*_SUPPORT definitions, which must be the same
# in every file that includes httplib.h (they change its classes).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(OpenSSL REQUIRED)  # libcrypto's HMAC-SHA256 signs webhooks
if(BONAFIDE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(BONAFIDE_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG REQUIRED)
  # OpenCV's img_hash (libopencv-contrib-dev), the PHash peer of bench/bonafide_image_bench
  # only; made by hand like the modules above.
  find_path(OPENCV_IMG_HASH_INCLUDE_DIR opencv2/img_hash.hpp PATH_SUFFIXES opencv4 REQUIRED)
  find_library(OPENCV_img_hash_LIBRARY opencv_img_hash REQUIRED)
  add_library(OpenCV::img_hash UNKNOWN IMPORTED)
  set_target_properties(OpenCV::img_hash PROPERTIES
    IMPORTED_LOCATION ${OPENCV_img_hash_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${OPENCV_IMG_HASH_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES "OpenCV::core;OpenCV::imgproc")
endif()
