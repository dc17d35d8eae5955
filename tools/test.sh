#!/usr/bin/env bash
# The project's one test command (what CI runs):
#   1. install the dependencies (tools/install-deps.sh; needs root when something is missing);
#   2. every C++ file formatted as .clang-format says (tools/format.sh --check);
#   3. the `ci` workflow: configure, build everything with warnings as errors, run every
#      test (labels unit, api, e2e, relay, browser = the portal page in headless Chromium,
#      postgresql = the outbox tests again on a PostgreSQL server each test starts,
#      kafka = `bonafide consume` against librdkafka's in-process mock cluster,
#      package = the installed library built into a small program, slow = fuzz corpus
#      replays, photos = the labelled photo set, bench-smoke); then clang-tidy with the checks of
#      .clang-tidy over the libraries and the CLI;
#   4. an AddressSanitizer + UndefinedBehaviorSanitizer build (`asan` preset, benchmarks
#      off) running the `unit` and `slow` tests, so that every unit test and every fuzz
#      corpus replay also runs under the sanitizers.
#
# Usage: bash tools/test.sh [--skip-deps] [--skip-ci] [--skip-asan]
# Exits non-zero at the first failing step. About 15 minutes on 2 cores from scratch with
# the packages installed (ci build 3, ci tests 2, lint 4, asan build 4, asan tests 1);
# rebuilds are incremental (build/ci, build/asan).
set -euo pipefail
cd "$(dirname "$0")/.."

skip_deps=0 skip_ci=0 skip_asan=0
for arg in "$@"; do
  case "$arg" in
    --skip-deps) skip_deps=1 ;;
    --skip-ci) skip_ci=1 ;;
    --skip-asan) skip_asan=1 ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "test.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

jobs=$(nproc 2>/dev/null || echo 2)
start=$SECONDS
step() {  # step NAME COMMAND...: runs the command and reports its duration
  local name=$1 t0=$SECONDS
  shift
  echo "==> test.sh: $name"
  "$@"
  echo "==> test.sh: $name done in $((SECONDS - t0)) s"
}

if ((!skip_deps)); then
  step "dependencies" bash tools/install-deps.sh
fi

step "format check (clang-format)" bash tools/format.sh --check

if ((!skip_ci)); then
  # Tests that need a service (Chromium, a Slurm cluster, a PostgreSQL server) skip
  # themselves where it is missing; here it was installed, so a missing one is a failure.
  export BONAFIDE_REQUIRE_SERVICES=1
  step "ci workflow (configure, build, all tests)" cmake --workflow --preset ci
  step "lint (clang-tidy, the checks of .clang-tidy)" bash tools/lint.sh build/ci
fi

if ((!skip_asan)); then
  # ASAN_OPTIONS: fail on the first report; detect_leaks stays on (the default).
  export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  step "asan configure" cmake --preset asan
  step "asan build" cmake --build --preset asan -- -j"$jobs"
  step "asan tests (unit, slow)" \
    ctest --test-dir build/asan -L 'unit|slow' --output-on-failure -j"$jobs" --timeout 300
fi

echo "==> test.sh: all steps passed in $((SECONDS - start)) s"
