// Decimal numbers as people write them (prices, FX rates, ratios): recovered from the
// doubles they were parsed into, compared exactly, and printed as money with a currency's
// decimals.
//
//   // Is 111.6 EUR below 0.4 x 279 EUR? In binary floating point 111.6 / 279 < 0.4;
//   // in decimals the two are equal.
//   const Decimal price[] = {ShortestDecimal(111.6)};
//   const Decimal limit[] = {ShortestDecimal(0.4), ShortestDecimal(279)};
//   bool below = std::is_lt(CompareProducts(price, limit));  // false
//
//   std::string text;
//   AppendMoney(111.6, "EUR", text);  // "111.60 EUR"
//
// Why it is exact: a double parsed with correct rounding (std::from_chars, simdjson,
// strtod) from a decimal of at most 15 significant digits gives that same decimal back
// through ShortestDecimal(), and CompareProducts() multiplies decimals in integers. Nothing
// here allocates except the Append functions' growth of their output.
#ifndef BONAFIDE_UTIL_DECIMAL_H_
#define BONAFIDE_UTIL_DECIMAL_H_

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bonafide {

// A non-negative decimal number: significand x 10^exponent. Plain value. Not normalised:
// 1.5 may be {15, -1} or {150, -2}; compare values with CompareProducts().
struct Decimal {
  uint64_t significand = 0;
  int32_t exponent = 0;
};

// Returns the shortest decimal that reads back as exactly `value` (std::to_chars' shortest
// round trip): 0.1 gives {1, -1}, 0.1 + 0.2 gives {30000000000000004, -17}, -0 gives 0.
// At most 17 significant digits. REQUIRES: `value` is finite and >= 0.
Decimal ShortestDecimal(double value);

// Compares the product of `lhs` with the product of `rhs`, exactly (an empty product is
// 1). REQUIRES: at most 4 factors on each side, so that each product of significands fits
// the 256-bit integer it is computed in.
std::strong_ordering CompareProducts(std::span<const Decimal> lhs, std::span<const Decimal> rhs);

// Compares two decimals exactly.
inline std::strong_ordering Compare(const Decimal& a, const Decimal& b) {
  return CompareProducts(std::span<const Decimal>(&a, 1), std::span<const Decimal>(&b, 1));
}

// Returns `value` rounded half away from zero to `decimals` digits after the point (its
// exponent is then >= -decimals). REQUIRES: 0 <= decimals <= 1000.
Decimal RoundToDecimals(Decimal value, int decimals);

// Appends `value` rounded half away from zero to exactly `decimals` digits after the point,
// in positional notation: "111.60", "12000", "0.005". REQUIRES: 0 <= decimals <= 1000.
void AppendFixed(Decimal value, int decimals, std::string& out);

// Returns how many digits after the point amounts of `currency` are written with: its ISO
// 4217 minor unit, 0 for JPY, KRW, VND, CLP, ISK, PYG, UGX, XAF, XOF, ...; 3 for BHD, IQD,
// JOD, KWD, LYD, OMR, TND; 4 for CLF and UYW; 2 for every other code, unknown ones
// included. This table is the one place the project keeps minor units.
int CurrencyDecimals(std::string_view currency);

// Appends `amount` as money: the amount's shortest decimal rounded half away from zero to
// the currency's decimals, a space, the code ("111.60 EUR", "12000 JPY", "1.250 KWD").
// Rounding the decimal rather than the binary value writes 2.675 as "2.68", as a person
// would. An infinite amount (a product that overflowed) is written "inf", NaN "nan". REQUIRES:
// `amount` >= 0.
void AppendMoney(double amount, std::string_view currency, std::string& out);

// Returns `ratio` as a percentage, exactly as written in the rules: 0.4 gives 40, where
// 0.4 * 100 in double is 40.00000000000001. A negative ratio counts as 0.
Decimal PercentOf(double ratio);

// Appends `percent` with as many decimals as it has ("40%", "33.3%").
void AppendPercent(Decimal percent, std::string& out);

// Appends `ratio` (a flagged unit price over its reference) as a percentage that reads
// below `limit_percent`: rounded to the fewest decimals, up to 12, that do ("39.96%", never
// "40%" for 0.3996 against 40%); "just under 40%" when the ratio is closer to the limit
// than that (only the exact decimal comparison tells such a price from one at the limit).
void AppendPercentBelow(double ratio, Decimal limit_percent, std::string& out);

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_DECIMAL_H_
