#!/usr/bin/env bash
# The installed bonafide as a project sees it (label `package`, tests/CMakeLists.txt):
#   1. `cmake --install` the build tree into a fresh prefix; only include/bonafide/ headers,
#      the libraries, the CMake package and bonafide.pc may be there;
#   2. consumer/ (find_package(bonafide CONFIG)) configured, built and run, once per
#      library kind installed, plus bonafide::bonafide;
#   3. the same main.cc built with a plain compiler command from `pkg-config --cflags --libs
#      bonafide` (shared) and `pkg-config --static` (the archive, by -l:libbonafide.a since
#      the linker prefers the .so when both are installed), and run;
#   4. examples/ingest_service built (against the shared library when installed) and run
#      on examples/listings/sample.jsonl: every line judged, cases opened.
# Each program scans a replica listing and a clean one with the example rules and checks
# the cases (consumer/main.cc); the shared ones must need libbonafide.so, the static ones not.
#
# Usage: run_package_test.sh BUILD_DIR SOURCE_DIR WORK_DIR CXX_COMPILER
set -euo pipefail
build=$(realpath "$1") source=$(realpath "$2") work=$(realpath -m "$3") cxx=$4
cmake=${CMAKE:-cmake}
version=$(sed -n 's/^#define BONAFIDE_VERSION_STRING "\(.*\)"$/\1/p' "$build/include/bonafide/version.h")

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
needs_libbonafide() {  # needs_libbonafide BINARY: true when it loads libbonafide.so
  readelf -d "$1" | grep -q 'NEEDED.*\[libbonafide\.so'
}
run_consumer() {  # run_consumer BINARY KIND
  local binary=$1 kind=$2
  if [[ $kind == shared ]]; then
    needs_libbonafide "$binary" || fail "$binary does not load libbonafide.so"
  else
    ! needs_libbonafide "$binary" || fail "$binary loads libbonafide.so; expected the archive"
  fi
  echo "--- $binary ($kind)"
  "$binary" "$source/examples/rules" || fail "$binary failed"
}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
echo "--- cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"

# 1. What is installed.
libdir=$(find "$prefix" -name bonafide.pc -printf '%h\n' | sed 's|/pkgconfig$||')
[[ -n $libdir ]] || fail "no bonafide.pc installed"
for f in include/bonafide/scanner.h include/bonafide/export.h include/bonafide/version.h; do
  [[ -f $prefix/$f ]] || fail "$f not installed"
done
[[ -f $libdir/cmake/bonafide/bonafideConfig.cmake ]] || fail "no bonafideConfig.cmake"
[[ -f $libdir/cmake/bonafide/bonafideConfigVersion.cmake ]] || fail "no bonafideConfigVersion.cmake"
extra=$(cd "$prefix/include" && find . -type f ! -path './bonafide/*.h')
[[ -z $extra ]] || fail "installed headers outside include/bonafide/: $extra"
kinds=()
[[ -f $libdir/libbonafide.a ]] && kinds+=(static)
[[ -f $libdir/libbonafide.so ]] && kinds+=(shared)
((${#kinds[@]})) || fail "neither libbonafide.a nor libbonafide.so installed"
echo "installed: ${kinds[*]} (version $version)"

# 2. find_package(bonafide CONFIG).
"$cmake" -S "$source/tests/packaging/consumer" -B "$work/cmake" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O0 \
  -DCMAKE_PREFIX_PATH="$prefix" -DBONAFIDE_EXPECTED_VERSION="$version" >"$work/cmake.log" ||
  { cat "$work/cmake.log"; fail "consumer configure"; }
"$cmake" --build "$work/cmake" || fail "consumer build"
for kind in "${kinds[@]}"; do
  run_consumer "$work/cmake/bonafide_consumer_$kind" "$kind"
done
[[ -x $work/cmake/bonafide_consumer ]] || fail "no bonafide_consumer (bonafide::bonafide)"
"$work/cmake/bonafide_consumer" "$source/examples/rules" >/dev/null || fail "bonafide_consumer"

# 3. pkg-config and a plain compiler command.
export PKG_CONFIG_PATH=$libdir/pkgconfig
[[ $(pkg-config --modversion bonafide) == "$version" ]] || fail "bonafide.pc version"
main=$source/tests/packaging/consumer/main.cc
for kind in "${kinds[@]}"; do
  out=$work/pkg-config-$kind
  if [[ $kind == shared ]]; then
    # shellcheck disable=SC2046  # the flags are words
    "$cxx" -std=c++20 -O0 "$main" -o "$out" $(pkg-config --cflags --libs bonafide) \
      -Wl,-rpath,"$libdir" || fail "pkg-config shared build"
  else
    # shellcheck disable=SC2046
    "$cxx" -std=c++20 -O0 "$main" -o "$out" $(pkg-config --cflags bonafide) \
      $(pkg-config --static --libs bonafide | sed 's/-lbonafide\b/-l:libbonafide.a/') ||
      fail "pkg-config static build"
  fi
  run_consumer "$out" "$kind"
done
# 4. examples/ingest_service (the reloadable scanner, the listing parser, the batching
#    writer) against the shared library when there is one, on the sample listings.
kind=${kinds[-1]}
use_shared=$([[ $kind == shared ]] && echo ON || echo OFF)
"$cmake" -S "$source/examples/ingest_service" -B "$work/ingest" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O0 \
  -DCMAKE_PREFIX_PATH="$prefix" -Dbonafide_USE_SHARED_LIBS="$use_shared" >"$work/ingest.log" ||
  { cat "$work/ingest.log"; fail "ingest_service configure"; }
"$cmake" --build "$work/ingest" || fail "ingest_service build"
if [[ $kind == shared ]]; then
  needs_libbonafide "$work/ingest/ingest_service" || fail "ingest_service does not load libbonafide.so"
fi
echo "--- ingest_service ($kind) < examples/listings/sample.jsonl"
summary=$("$work/ingest/ingest_service" "$source/examples/rules" "$work/ingest/outbox.db" 2 \
  <"$source/examples/listings/sample.jsonl") || fail "ingest_service failed"
echo "$summary"
[[ $summary =~ ^judged\ ([0-9]+),\ refused\ 0,\ cases\ ([0-9]+), ]] || fail "ingest_service output"
((BASH_REMATCH[1] == $(wc -l <"$source/examples/listings/sample.jsonl"))) ||
  fail "ingest_service judged ${BASH_REMATCH[1]} listings, not every line"
((BASH_REMATCH[2] > 0)) || fail "ingest_service opened no case"
echo "package test passed"
