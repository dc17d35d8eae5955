#include "tools/bonafide/money.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <iterator>

namespace bonafide::cli {
namespace {

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

int CurrencyDecimals(std::string_view currency) {
  const auto it = std::lower_bound(
      std::begin(kMinorUnits), std::end(kMinorUnits), currency,
      [](const MinorUnit& u, std::string_view code) { return std::string_view(u.code) < code; });
  return it != std::end(kMinorUnits) && std::string_view(it->code) == currency ? it->decimals : 2;
}

void AppendAmount(double amount, std::string_view currency, std::string& out) {
  assert(std::isfinite(amount));
  const int decimals = CurrencyDecimals(currency);
  // The shortest positional form that reads back as `amount` ("2.675", "12000"), which is
  // what the listing said; rounding its digits avoids the binary value's bias.
  char buf[400];
  const auto end =
      std::to_chars(buf, buf + sizeof(buf), std::fabs(amount), std::chars_format::fixed).ptr;
  const std::string_view text(buf, static_cast<size_t>(end - buf));
  const size_t point = std::min(text.find('.'), text.size());
  std::string digits(text.substr(0, point));  // integer digits, then `decimals` more
  const std::string_view fraction = point < text.size() ? text.substr(point + 1) : "";
  digits.append(fraction.substr(0, std::min<size_t>(fraction.size(), decimals)));
  digits.append(decimals - std::min<size_t>(fraction.size(), decimals), '0');
  if (fraction.size() > static_cast<size_t>(decimals) && fraction[decimals] >= '5') {
    // Half away from zero: carry the 1 up through the nines.
    size_t i = digits.size();
    while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
    if (i == 0) {
      digits.insert(digits.begin(), '1');
    } else {
      ++digits[i - 1];
    }
  }
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  if (amount < 0 && !zero) out.push_back('-');
  const size_t integer_digits = digits.size() - decimals;
  out.append(digits, 0, integer_digits);
  if (decimals > 0) {
    out.push_back('.');
    out.append(digits, integer_digits, std::string::npos);
  }
}

void AppendMoney(double amount, std::string_view currency, std::string& out) {
  AppendAmount(amount, currency, out);
  out.push_back(' ');
  out.append(currency);
}

}  // namespace bonafide::cli
