#include "rules/price.h"

#include <gtest/gtest.h>

namespace bonafide::rules {
namespace {

TEST(UnitsInTitleTest, ReadsLotSizes) {
  struct Case {
    const char* title;
    int64_t units;
  };
  const Case cases[] = {
      {"runner 22 lot of 10", 10},
      {"pack of 3 socks", 3},
      {"set of 2", 2},
      {"box of 12 balls", 12},
      {"10 pcs", 10},
      {"10pcs wholesale", 10},
      {"5 pieces", 5},
      {"2 pairs", 2},
      {"6-pack", 6},
      {"4 stuck", 4},
      {"runner 22", 1},
      {"phone 12 pro", 1},
      {"lot of 1", 1},
      {"lot of 99999", 1},
      {"100ml", 1},
      {"64gb 2 pcs and lot of 5", 5},
  };
  for (const Case& c : cases) EXPECT_EQ(UnitsInTitle(c.title), c.units) << c.title;
}

}  // namespace
}  // namespace bonafide::rules
