// Helpers shared by the GoogleTest tests: temporary directories (tests/temp_dir.h) and
// whole-file reads that fail the test.
#ifndef BONAFIDE_TESTS_TEST_UTIL_H_
#define BONAFIDE_TESTS_TEST_UTIL_H_

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace bonafide::testing {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_TEST_UTIL_H_
