#include "util/strings.h"

#include <gtest/gtest.h>

namespace bonafide {
namespace {

TEST(JsonStringTest, EscapesQuotesControlsAndInvalidUtf8) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01\xff\xc3\xa9", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xC3\xA9\"");
}

TEST(JsonObjectTest, WritesCompactObjectsWithNestingAndRawValues) {
  std::string out;
  JsonObject json(out);
  json.String("a", "x\"y").Int("n", -7);
  json.Object("inner").String("k", "v").Close();
  json.Raw("list", "[1,2]").Close();
  EXPECT_EQ(out, R"({"a":"x\"y","n":-7,"inner":{"k":"v"},"list":[1,2]})");
  std::string empty;
  JsonObject(empty).Close();
  EXPECT_EQ(empty, "{}");
}

TEST(FormatDecimalTest, WritesTheShortestExactDecimal) {
  EXPECT_EQ(FormatDecimal(1.0), "1");
  EXPECT_EQ(FormatDecimal(1.5), "1.5");
  EXPECT_EQ(FormatDecimal(0.1), "0.1");
  EXPECT_EQ(FormatDecimal(0.1 + 0.2), "0.30000000000000004");  // exact, not rounded
  EXPECT_EQ(FormatDecimal(-0.0), "0");
  EXPECT_EQ(FormatDecimal(1e-7), "1e-07");
}

TEST(CountByteTest, CountsSparseAndDenseOccurrences) {
  EXPECT_EQ(CountByte("", '\n'), 0u);
  EXPECT_EQ(CountByte("abc", '\n'), 0u);
  EXPECT_EQ(CountByte("\n\n\n", '\n'), 3u);
  EXPECT_EQ(CountByte(std::string(1000, 'x') + "\n" + std::string(999, 'y') + "\n", '\n'), 2u);
}

TEST(Utf8Test, AcceptsWellFormedAndRejectsOverlongAndSurrogates) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xE9\xAB\x98\xE4\xBB\xBF"));  // 高仿
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                 // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));             // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE9\xAB"));                 // truncated
}

TEST(Utf8PrefixLengthTest, NeverSplitsACharacter) {
  EXPECT_EQ(Utf8PrefixLength("abc", 3), 3u);
  EXPECT_EQ(Utf8PrefixLength("abcd", 3), 3u);
  EXPECT_EQ(Utf8PrefixLength("ab\xc3\xa9", 3), 2u);     // é straddles
  EXPECT_EQ(Utf8PrefixLength("a\xe2\x82\xac", 3), 1u);  // € straddles
  EXPECT_EQ(Utf8PrefixLength("\xe2\x82\xac"
                             "b",
                             3),
            3u);                                             // € ends at the cut
  EXPECT_EQ(Utf8PrefixLength("ab\xf0\x9f\x98\x80", 3), 2u);  // 4-byte character
  EXPECT_EQ(Utf8PrefixLength("\xf0\x9f\x98\x80", 1), 0u);
  EXPECT_EQ(Utf8PrefixLength("\xc3\xa9", 0), 0u);
}

TEST(Utf8PrefixLengthTest, BacksOffAtMostThreeBytesOnInvalidText) {
  // Five continuation bytes: no character can be that long, so the cut stops 3 bytes back.
  EXPECT_EQ(Utf8PrefixLength("a\x80\x80\x80\x80\x80", 5), 2u);
}

TEST(CurrencyCodeTest, AcceptsThreeUpperCaseAsciiLetters) {
  EXPECT_TRUE(IsCurrencyCode("EUR"));
  EXPECT_TRUE(IsCurrencyCode("XXX"));
  EXPECT_FALSE(IsCurrencyCode("eur"));
  EXPECT_FALSE(IsCurrencyCode("EU"));
  EXPECT_FALSE(IsCurrencyCode("EURO"));
  EXPECT_FALSE(IsCurrencyCode("E1R"));
  EXPECT_FALSE(IsCurrencyCode("EU\xc3\x89"));
  EXPECT_FALSE(IsCurrencyCode(""));
}

}  // namespace
}  // namespace bonafide
