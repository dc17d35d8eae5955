#!/usr/bin/env bash
# A build without the image decoder (BONAFIDE_WITH_OPENCV=OFF) links no OpenCV (label
# `package`, tests/CMakeLists.txt), checked without compiling the library a second time:
#   1. such a build is configured (library only): nothing in its build files nor its
#      bonafide.pc names an OpenCV library or header directory;
#   2. LIBRARY, the text-only libbonafide.so that tests/CMakeLists.txt links from this
#      tree's objects with the OpenCV module loader of such a build (and --no-undefined),
#      needs no OpenCV.
#
# Usage: run_without_opencv_test.sh SOURCE_DIR WORK_DIR LIBRARY
set -euo pipefail
source=$(realpath "$1") work=$(realpath -m "$2") library=$3
cmake=${CMAKE:-cmake}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
opencv='-lopencv|libopencv|opencv4|opencv2'

rm -rf "$work"
mkdir -p "$(dirname "$work")"  # its log goes beside it
"$cmake" -S "$source" -B "$work" -G Ninja -DBONAFIDE_WITH_OPENCV=OFF -DBUILD_SHARED_LIBS=ON \
  -DBONAFIDE_BUILD_TESTS=OFF -DBONAFIDE_BUILD_BENCHMARKS=OFF -DBONAFIDE_BUILD_TOOLS=OFF \
  >"$work.log" || { cat "$work.log"; fail "configure with BONAFIDE_WITH_OPENCV=OFF"; }
# Every compile and link command, what pkg-config and find_package give consumers.
files=("$work/build.ninja" "$work/bonafide.pc" "$work"/cmake/bonafide-*-targets.cmake)
if grep -El -e "$opencv" "${files[@]}"; then
  fail "a build with BONAFIDE_WITH_OPENCV=OFF names OpenCV (files above)"
fi
grep -q 'opencv_module_loader\.cc' "$work/build.ninja" ||
  fail "a build with BONAFIDE_WITH_OPENCV=OFF does not compile the OpenCV module loader"
if grep -q 'libbonafide_opencv\.so' "$work/build.ninja"; then
  fail "a build with BONAFIDE_WITH_OPENCV=OFF builds the OpenCV module"
fi

readelf -d "$library" | grep NEEDED
if readelf -d "$library" | grep -q 'NEEDED.*opencv'; then
  fail "$library needs OpenCV"
fi
if nm -DC --undefined-only "$library" | grep -q ' cv::'; then
  fail "$library refers to cv:: symbols"
fi
echo "a build without OpenCV links none"
