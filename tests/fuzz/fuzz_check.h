// Shared by the fuzz targets: a check that aborts (so that libFuzzer and the replay driver
// both report the input) and a per-process scratch directory.
#ifndef BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_
#define BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "tests/temp_dir.h"

// Aborts with a message when `cond` is false. Active in every build type (not assert()).
#define BONAFIDE_FUZZ_CHECK(cond, ...)                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                            \
      std::fprintf(stderr, "\n");                                                   \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace bonafide::fuzz {

// A directory under $TMPDIR for this process, created on first use and removed at exit.
inline const testing::TempDir& ScratchDir() {
  static const testing::TempDir dir;
  return dir;
}

}  // namespace bonafide::fuzz

#endif  // BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_
