#include "util/sort.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace bonafide {
namespace {

// Against std::sort, on both sides of the radix threshold, with repeats and with keys that
// differ only in their high or only in their low 16 bits.
TEST(SortUint64Test, SortsLikeStdSort) {
  std::mt19937_64 random(7);
  for (const size_t n :
       {size_t{0}, size_t{1}, size_t{1000}, size_t{65535}, size_t{65536}, size_t{300000}}) {
    std::vector<uint64_t> v(n);
    for (size_t i = 0; i < n; ++i) {
      switch (i % 4) {
        case 0:
          v[i] = random();
          break;
        case 1:
          v[i] = random() << 48;
          break;
        case 2:
          v[i] = random() & 0xffff;
          break;
        default:
          v[i] = i > 0 ? v[i - 1] : 0;
          break;  // a repeat
      }
    }
    std::vector<uint64_t> expected = v;
    std::sort(expected.begin(), expected.end());
    SortUint64(v);
    EXPECT_EQ(v, expected) << n;
  }
}

}  // namespace
}  // namespace bonafide
