// A temporary directory for tests, fuzz targets and benchmarks. Needs no GoogleTest, so the
// fuzz targets and bench/ use it too.
//
//   testing::TempDir dir;
//   const std::string rules = dir.Write("rules/policy.yaml", "currency: EUR\n");
//   ... LoadRulePack(dir.Join("rules")) ...
//
// A directory that cannot be made or a file that cannot be written aborts the process with
// a message on stderr: nothing can be tested without them.
#ifndef BONAFIDE_TESTS_TEMP_DIR_H_
#define BONAFIDE_TESTS_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace bonafide::testing {

// A fresh directory under $TMPDIR (bonafide-test-XXXXXX), removed with everything in it on
// destruction. Not copyable or movable: it owns the directory. Thread-compatible.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bonafide-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Die("cannot create a directory", pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const { return path_ + "/" + std::string(name); }

  // Writes `contents` to `name` (replacing it, creating parent directories); returns the
  // full path.
  std::string Write(std::string_view name, std::string_view contents) const {
    const std::string full = Join(name);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path(), ec);
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) Die("cannot write", full);
    return full;
  }

 private:
  [[noreturn]] static void Die(const char* what, const std::string& path) {
    std::fprintf(stderr, "TempDir: %s %s\n", what, path.c_str());
    std::abort();
  }

  std::string path_;
};

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_TEMP_DIR_H_
