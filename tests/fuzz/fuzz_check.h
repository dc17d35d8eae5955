// Shared by the fuzz targets: a check that aborts (so that libFuzzer and the replay driver
// both report the input) and a per-process scratch directory.
#ifndef BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_
#define BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

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
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bonafide-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    auto* d = new std::string(pattern);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*dir, ec);
    });
    return d;
  }();
  return *dir;
}

}  // namespace bonafide::fuzz

#endif  // BONAFIDE_TESTS_FUZZ_FUZZ_CHECK_H_
