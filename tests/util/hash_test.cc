#include "util/hash.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bonafide {
namespace {

std::string HexOf(const std::vector<std::string>& fields) {
  Hasher128 h;
  for (const auto& f : fields) h.Add(f);
  return h.Hex();
}

// Expected values from an independent Python implementation of the definition in hash.h.
TEST(Hasher128Test, MatchesTheDocumentedDefinition) {
  EXPECT_EQ(HexOf({}), "a8a7aef515ba25d38d8c0f1935b22218");
  EXPECT_EQ(HexOf({""}), "6b9dc9fa4d987ef43f2109df974bb37f");
  EXPECT_EQ(HexOf({"abc"}), "3fbc0d8a6452e990e603a13ce53d6cbf");
  EXPECT_EQ(HexOf({"seller-7", "0.75", "[]", "{}"}), "e9ddc54c2f5ac33f8062da2dd8ad4448");
  // Several whole words then a partial one; bytes above 0x7f.
  EXPECT_EQ(HexOf({R"({"signal":"cue","rule":"cue.replica"})", "\xc3\xbf\xc2\x80 bytes past 127"}),
            "1be0ec021f32f0292b30ea31e5ef9d4f");
}

TEST(Hasher128Test, FieldBoundariesMatter) {
  EXPECT_EQ(HexOf({"ab", "c"}), "bb81b50c0155e2f3d56d6cb0b53a3510");
  EXPECT_EQ(HexOf({"a", "bc"}), "8508874d423558904f840477a36ed588");
  EXPECT_NE(HexOf({"abc"}), HexOf({"abc", ""}));
}

TEST(Hasher128Test, Hex64IsTheFirstHalf) {
  Hasher128 h;
  h.Add("abc");
  EXPECT_EQ(h.Hex64(), "3fbc0d8a6452e990");
}

}  // namespace
}  // namespace bonafide
