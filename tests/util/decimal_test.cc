#include "util/decimal.h"

#include <compare>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bonafide {
namespace {

std::strong_ordering CompareOf(const std::vector<double>& lhs, const std::vector<double>& rhs) {
  std::vector<Decimal> a, b;
  for (double v : lhs) a.push_back(ShortestDecimal(v));
  for (double v : rhs) b.push_back(ShortestDecimal(v));
  return CompareProducts(a, b);
}

std::string Fixed(Decimal d, int decimals) {
  std::string out;
  AppendFixed(d, decimals, out);
  return out;
}

std::string Money(double amount, std::string_view currency) {
  std::string out = "[";  // appends, keeping what was there
  AppendMoney(amount, currency, out);
  return out;
}

TEST(ShortestDecimalTest, RecoversTheDecimalThatWasWritten) {
  const Decimal d = ShortestDecimal(111.6);
  EXPECT_EQ(d.significand, 1116u);
  EXPECT_EQ(d.exponent, -1);
  EXPECT_EQ(ShortestDecimal(279).significand, 279u);
  EXPECT_EQ(ShortestDecimal(279).exponent, 0);
  EXPECT_EQ(ShortestDecimal(1200).significand, 12u);
  EXPECT_EQ(ShortestDecimal(1200).exponent, 2);
  EXPECT_EQ(ShortestDecimal(0.0057).significand, 57u);
  EXPECT_EQ(ShortestDecimal(0.0057).exponent, -4);
  // 0.1 + 0.2 is not 0.3 in binary; its shortest decimal says so.
  EXPECT_EQ(ShortestDecimal(0.1 + 0.2).significand, 30000000000000004u);
  EXPECT_EQ(ShortestDecimal(0.1 + 0.2).exponent, -17);
  EXPECT_EQ(ShortestDecimal(0.0).significand, 0u);
  EXPECT_EQ(ShortestDecimal(-0.0).significand, 0u);
}

TEST(ShortestDecimalTest, CoversTheWholeRangeOfDoubles) {
  const Decimal max = ShortestDecimal(std::numeric_limits<double>::max());
  EXPECT_EQ(max.significand, 17976931348623157u);
  EXPECT_EQ(max.exponent, 308 - 16);
  const Decimal min = ShortestDecimal(std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(min.significand, 5u);
  EXPECT_EQ(min.exponent, -324);
}

TEST(CompareProductsTest, DecimalsAtTheBoundaryAreEqualWhereDoublesAreNot) {
  ASSERT_LT(111.6 / 279, 0.4);  // what binary floating point makes of it
  EXPECT_EQ(CompareOf({111.6}, {0.4, 279}), std::strong_ordering::equal);
  EXPECT_EQ(CompareOf({111.59}, {0.4, 279}), std::strong_ordering::less);
  EXPECT_EQ(CompareOf({111.61}, {0.4, 279}), std::strong_ordering::greater);
  // 0.1 + 0.2 computed in double is above 0.3; 0.1 and 0.2 as written add to exactly 0.3
  // (compared here as 3 x 0.1 = 0.3).
  EXPECT_EQ(CompareOf({0.1 + 0.2}, {0.3}), std::strong_ordering::greater);
  EXPECT_EQ(CompareOf({0.1, 3}, {0.3}), std::strong_ordering::equal);
}

TEST(CompareProductsTest, FxConversionBothWays) {
  // A listing in USD against a reference in EUR: 5.00 USD x 0.86 = 0.4 x 10.75 EUR.
  EXPECT_EQ(CompareOf({5.00, 0.86}, {0.4, 10.75, 1}), std::strong_ordering::equal);
  // A listing in EUR against a reference in USD: 4.30 EUR = 0.4 x 12.50 USD x 0.86.
  EXPECT_EQ(CompareOf({4.30, 1}, {0.4, 12.50, 0.86}), std::strong_ordering::equal);
  // Both converted: 13.68 USD x 0.86 = 0.4 x 25.80 GBP x 1.14.
  EXPECT_EQ(CompareOf({13.68, 0.86}, {0.4, 25.80, 1.14}), std::strong_ordering::equal);
  EXPECT_EQ(CompareOf({13.67, 0.86}, {0.4, 25.80, 1.14}), std::strong_ordering::less);
}

TEST(CompareProductsTest, UnitsMultiplyTheReferenceSide) {
  // 1116 EUR for 10 units against 0.4 x 279: 1116 = 0.4 x 279 x 10.
  const Decimal price[] = {ShortestDecimal(1116)};
  const Decimal limit[] = {ShortestDecimal(0.4), ShortestDecimal(279), Decimal{10, 0}};
  EXPECT_EQ(CompareProducts(price, limit), std::strong_ordering::equal);
  // Large unit counts and 17-digit significands on every factor still fit.
  const Decimal big_lhs[] = {{99999999999999999u, 0}, {99999999999999999u, 0}};
  const Decimal big_rhs[] = {{99999999999999999u, 0},
                             {99999999999999999u, 0},
                             {99999999999999999u, 0},
                             {std::numeric_limits<int64_t>::max(), 0}};
  EXPECT_EQ(CompareProducts(big_lhs, big_rhs), std::strong_ordering::less);
  EXPECT_EQ(CompareProducts(big_rhs, big_lhs), std::strong_ordering::greater);
  EXPECT_EQ(CompareProducts(big_rhs, big_rhs), std::strong_ordering::equal);
}

TEST(CompareProductsTest, HugeAndTinyValues) {
  const double max = std::numeric_limits<double>::max();
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(CompareOf({max}, {tiny}), std::strong_ordering::greater);
  EXPECT_EQ(CompareOf({tiny}, {max, max}), std::strong_ordering::less);
  EXPECT_EQ(CompareOf({max, max}, {max, max}), std::strong_ordering::equal);
  EXPECT_EQ(CompareOf({tiny, tiny, tiny}, {tiny, tiny, tiny}), std::strong_ordering::equal);
  // Same magnitude, exponents far apart in their factors: 1e300 x 1e-300 = 1.
  EXPECT_EQ(CompareOf({1e300, 1e-300}, {1}), std::strong_ordering::equal);
  EXPECT_EQ(CompareOf({1e300, 1e-300}, {1.0000000000000002}), std::strong_ordering::less);
  // Same digits, different scale.
  EXPECT_EQ(CompareOf({1.5}, {15}), std::strong_ordering::less);
  EXPECT_EQ(Compare({150, -2}, {15, -1}), std::strong_ordering::equal);
}

TEST(CompareProductsTest, ZeroAndEmptyProducts) {
  EXPECT_EQ(CompareOf({0}, {0.4, 279}), std::strong_ordering::less);
  EXPECT_EQ(CompareOf({0.4, 279}, {0}), std::strong_ordering::greater);
  EXPECT_EQ(CompareOf({0, 5}, {0}), std::strong_ordering::equal);
  EXPECT_EQ(CompareOf({}, {1}), std::strong_ordering::equal);  // an empty product is 1
  EXPECT_EQ(CompareOf({}, {0.5}), std::strong_ordering::greater);
}

TEST(RoundToDecimalsTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(Fixed(ShortestDecimal(2.675), 2), "2.68");  // the binary value is 2.67499...
  EXPECT_EQ(Fixed(ShortestDecimal(2.665), 2), "2.67");
  EXPECT_EQ(Fixed(ShortestDecimal(2.664), 2), "2.66");
  EXPECT_EQ(Fixed(ShortestDecimal(999.995), 2), "1000.00");  // the carry adds a digit
  EXPECT_EQ(Fixed(ShortestDecimal(0.004), 2), "0.00");
  EXPECT_EQ(Fixed(ShortestDecimal(0.005), 2), "0.01");
  EXPECT_EQ(Fixed(ShortestDecimal(1e-300), 2), "0.00");
  const Decimal rounded = RoundToDecimals({123456, -4}, 1);
  EXPECT_EQ(rounded.significand, 123u);
  EXPECT_EQ(rounded.exponent, -1);
  // Already short enough: unchanged.
  EXPECT_EQ(RoundToDecimals({15, -1}, 2).significand, 15u);
}

TEST(AppendFixedTest, WritesPositionalNotationWithExactlyThoseDecimals) {
  EXPECT_EQ(Fixed(ShortestDecimal(111.6), 2), "111.60");
  EXPECT_EQ(Fixed(ShortestDecimal(92.00000000000001), 2), "92.00");  // 100 x 0.92 in double
  EXPECT_EQ(Fixed(ShortestDecimal(1200), 0), "1200");
  EXPECT_EQ(Fixed(ShortestDecimal(1200), 2), "1200.00");
  EXPECT_EQ(Fixed(ShortestDecimal(0.05), 3), "0.050");
  EXPECT_EQ(Fixed(ShortestDecimal(0.005), 3), "0.005");
  EXPECT_EQ(Fixed(ShortestDecimal(0), 2), "0.00");
  EXPECT_EQ(Fixed(ShortestDecimal(0), 0), "0");
  EXPECT_EQ(Fixed(ShortestDecimal(12.5), 0), "13");
  EXPECT_EQ(Fixed(ShortestDecimal(1e20), 0), "100000000000000000000");
}

TEST(CurrencyDecimalsTest, FollowsIso4217MinorUnits) {
  EXPECT_EQ(CurrencyDecimals("EUR"), 2);
  EXPECT_EQ(CurrencyDecimals("USD"), 2);
  EXPECT_EQ(CurrencyDecimals("HUF"), 2);  // ISO says 2, though cash has no fillér
  for (const char* code : {"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"}) {
    EXPECT_EQ(CurrencyDecimals(code), 0) << code;
  }
  for (const char* code : {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}) {
    EXPECT_EQ(CurrencyDecimals(code), 3) << code;
  }
  EXPECT_EQ(CurrencyDecimals("CLF"), 4);
  EXPECT_EQ(CurrencyDecimals("ZZZ"), 2);  // unknown: the common case
  EXPECT_EQ(CurrencyDecimals(""), 2);
}

TEST(AppendMoneyTest, WritesTheAmountWithItsCurrencysDecimalsAndTheCode) {
  EXPECT_EQ(Money(111.5, "EUR"), "[111.50 EUR");
  EXPECT_EQ(Money(12000, "JPY"), "[12000 JPY");
  EXPECT_EQ(Money(11999.6, "JPY"), "[12000 JPY");
  EXPECT_EQ(Money(1.25, "KWD"), "[1.250 KWD");
  EXPECT_EQ(Money(100 * 0.92, "EUR"), "[92.00 EUR");
  EXPECT_EQ(Money(std::numeric_limits<double>::infinity(), "EUR"), "[inf EUR");
}

}  // namespace
}  // namespace bonafide
