#include "util/decimal.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <system_error>

namespace bonafide {
namespace {

// An unsigned 256-bit integer in 32-bit limbs (little-endian), so that every step fits a
// uint64_t without compiler extensions. Products of four 64-bit significands fit.
class Uint256 {
 public:
  explicit Uint256(uint64_t v) {
    limbs_[0] = static_cast<uint32_t>(v);
    limbs_[1] = static_cast<uint32_t>(v >> 32);
  }

  // *this *= m. REQUIRES: the product fits 256 bits.
  void Multiply(uint64_t m) {
    const uint64_t m_lo = static_cast<uint32_t>(m);
    const uint64_t m_hi = m >> 32;
    std::array<uint32_t, kLimbs> product{};
    for (int part = 0; part < 2; ++part) {
      const uint64_t factor = part == 0 ? m_lo : m_hi;
      if (factor == 0) continue;
      uint64_t carry = 0;
      for (int i = 0; i + part < kLimbs; ++i) {
        // limb * factor + product + carry < 2^64: (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1.
        const uint64_t t = limbs_[i] * factor + product[i + part] + carry;
        product[i + part] = static_cast<uint32_t>(t);
        carry = t >> 32;
      }
      assert(carry == 0 && "product does not fit 256 bits");
    }
    limbs_ = product;
  }

  // *this /= d; returns the remainder. REQUIRES: 0 < d < 2^32.
  uint32_t Divide(uint32_t d) {
    uint64_t remainder = 0;
    for (int i = kLimbs - 1; i >= 0; --i) {
      const uint64_t t = (remainder << 32) | limbs_[i];
      limbs_[i] = static_cast<uint32_t>(t / d);
      remainder = t % d;
    }
    return static_cast<uint32_t>(remainder);
  }

  bool IsZero() const {
    return std::all_of(limbs_.begin(), limbs_.end(), [](uint32_t l) { return l == 0; });
  }

  // Returns the number of decimal digits (0 for zero).
  int Digits() const {
    Uint256 rest = *this;
    int digits = 0;
    while (!rest.IsZero()) {
      rest.Divide(10);
      ++digits;
    }
    return digits;
  }

  friend std::strong_ordering operator<=>(const Uint256& a, const Uint256& b) {
    for (int i = kLimbs - 1; i >= 0; --i) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
    }
    return std::strong_ordering::equal;
  }

 private:
  static constexpr int kLimbs = 8;
  std::array<uint32_t, kLimbs> limbs_{};
};

// The product of `factors` as significand x 10^exponent.
struct WideDecimal {
  Uint256 significand{1};
  int64_t exponent = 0;
};

WideDecimal Multiply(std::span<const Decimal> factors) {
  assert(factors.size() <= 4);
  WideDecimal product;
  for (const Decimal& f : factors) {
    product.significand.Multiply(f.significand);
    product.exponent += f.exponent;
  }
  return product;
}

// 10^k for k in [0, 19] (10^19 < 2^64).
uint64_t PowerOfTen(int k) {
  uint64_t p = 1;
  for (int i = 0; i < k; ++i) p *= 10;
  return p;
}

// ISO 4217 minor units other than 2, sorted by code.
struct MinorUnit {
  char code[4];
  int decimals;
};
constexpr MinorUnit kMinorUnits[] = {
    {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"IQD", 3},
    {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3},
    {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0}, {"UYI", 0}, {"UYW", 4},
    {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0},
};

}  // namespace

Decimal ShortestDecimal(double value) {
  assert(value >= 0);
  if (value == 0) return {};  // also -0, which to_chars would sign
  // Scientific form of the shortest round trip: "1.116e+02", "5e-324".
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific).ptr;
  Decimal d;
  const char* p = buf;
  int fraction_digits = 0;
  bool in_fraction = false;
  for (; p < end && *p != 'e'; ++p) {
    if (*p == '.') {
      in_fraction = true;
      continue;
    }
    d.significand = d.significand * 10 + static_cast<uint64_t>(*p - '0');
    if (in_fraction) ++fraction_digits;
  }
  ++p;  // 'e'
  const bool negative = *p == '-';
  ++p;  // the exponent's sign, always written
  int exponent = 0;
  for (; p < end; ++p) exponent = exponent * 10 + (*p - '0');
  d.exponent = (negative ? -exponent : exponent) - fraction_digits;
  return d;
}

std::strong_ordering CompareProducts(std::span<const Decimal> lhs, std::span<const Decimal> rhs) {
  WideDecimal a = Multiply(lhs);
  WideDecimal b = Multiply(rhs);
  const bool a_zero = a.significand.IsZero();
  const bool b_zero = b.significand.IsZero();
  if (a_zero || b_zero) return b_zero <=> a_zero;
  // A number of d digits times 10^e lies in [10^(d+e-1), 10^(d+e)): different magnitudes
  // decide alone, whatever the exponents (which may be hundreds apart).
  const int a_digits = a.significand.Digits();
  const int b_digits = b.significand.Digits();
  const int64_t a_magnitude = a_digits + a.exponent;
  const int64_t b_magnitude = b_digits + b.exponent;
  if (a_magnitude != b_magnitude) return a_magnitude <=> b_magnitude;
  // Same magnitude: scaling the one with the larger exponent to the other's exponent gives it
  // the other's digit count, so it still fits.
  for (; a.exponent > b.exponent; --a.exponent) a.significand.Multiply(10);
  for (; b.exponent > a.exponent; --b.exponent) b.significand.Multiply(10);
  return a.significand <=> b.significand;
}

Decimal RoundToDecimals(Decimal value, int decimals) {
  assert(decimals >= 0 && decimals <= 1000);
  if (value.exponent >= -decimals) return value;
  const int64_t dropped = static_cast<int64_t>(-decimals) - value.exponent;  // digits to drop
  // A significand below 2^64 < 1.9 x 10^19 rounds to 0 when 20 or more digits go.
  if (dropped >= 20) return {0, -decimals};
  const uint64_t unit = PowerOfTen(static_cast<int>(dropped));
  const uint64_t remainder = value.significand % unit;
  uint64_t quotient = value.significand / unit;
  if (remainder >= unit - remainder) ++quotient;  // half away from zero
  return {quotient, -decimals};
}

void AppendFixed(Decimal value, int decimals, std::string& out) {
  const Decimal rounded = RoundToDecimals(value, decimals);
  // The digits of rounded x 10^decimals, an integer.
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof(buf), rounded.significand).ptr;
  std::string_view digits(buf, static_cast<size_t>(end - buf));
  const size_t zeros =
      rounded.significand == 0 ? 0 : static_cast<size_t>(rounded.exponent + decimals);
  const size_t total = digits.size() + zeros;
  const size_t udecimals = static_cast<size_t>(decimals);
  if (total <= udecimals) {  // 0.xx: pad with leading zeros
    out.append("0");
    if (decimals > 0) out.push_back('.');
    out.append(udecimals - total, '0');
    out.append(digits);
    out.append(zeros, '0');
    return;
  }
  const size_t integer_digits = total - udecimals;
  // Write digits then zeros, with the point after `integer_digits` characters.
  size_t written = 0;
  auto put = [&](char c) {
    if (written == integer_digits) out.push_back('.');
    out.push_back(c);
    ++written;
  };
  for (char c : digits) put(c);
  for (size_t i = 0; i < zeros; ++i) put('0');
}

int CurrencyDecimals(std::string_view currency) {
  const auto it = std::lower_bound(
      std::begin(kMinorUnits), std::end(kMinorUnits), currency,
      [](const MinorUnit& u, std::string_view code) { return std::string_view(u.code) < code; });
  return it != std::end(kMinorUnits) && std::string_view(it->code) == currency ? it->decimals : 2;
}

void AppendMoney(double amount, std::string_view currency, std::string& out) {
  if (!std::isfinite(amount)) {
    out.append(std::isnan(amount) ? "nan" : "inf");  // only for a listing Scan refuses
  } else {
    AppendFixed(ShortestDecimal(amount), CurrencyDecimals(currency), out);
  }
  out.push_back(' ');
  out.append(currency);
}

Decimal PercentOf(double ratio) {
  Decimal percent = ShortestDecimal(std::max(0.0, ratio));
  percent.exponent += 2;
  return percent;
}

void AppendPercent(Decimal percent, std::string& out) {
  AppendFixed(percent, std::max(0, -percent.exponent), out);
  out.push_back('%');
}

void AppendPercentBelow(double ratio, Decimal limit_percent, std::string& out) {
  const double percent = ratio * 100;
  if (std::isfinite(percent) && percent >= 0) {
    const Decimal exact = ShortestDecimal(percent);
    for (int decimals = 0; decimals <= 12; ++decimals) {
      const Decimal shown = RoundToDecimals(exact, decimals);
      if (std::is_lt(Compare(shown, limit_percent))) {
        AppendFixed(shown, decimals, out);
        out.push_back('%');
        return;
      }
    }
  }
  out.append("just under ");
  AppendPercent(limit_percent, out);
}

}  // namespace bonafide
