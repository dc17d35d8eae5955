#include "rules/price.h"

#include <array>
#include <charconv>
#include <string_view>

namespace bonafide::rules {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Words before a number: "lot of 10".
constexpr std::array<std::string_view, 4> kCountNouns = {"lot", "pack", "set", "box"};
// Words after a number: "10 pcs", or glued to it: "10pcs".
constexpr std::array<std::string_view, 10> kUnitWords = {
    "pcs", "pc", "pieces", "piece", "pairs", "pair", "units", "pack", "stuck", "stk"};

bool IsUnitWord(std::string_view w) {
  for (std::string_view u : kUnitWords) {
    if (w == u) return true;
  }
  return false;
}
bool IsCountNoun(std::string_view w) {
  for (std::string_view u : kCountNouns) {
    if (w == u) return true;
  }
  return false;
}

int64_t ParseCount(std::string_view digits) {
  int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return 0;
  return n >= 2 && n <= kMaxUnitsInTitle ? n : 0;
}

}  // namespace

int64_t UnitsInTitle(std::string_view title) {
  // The last three words seen, as views into `title`.
  std::string_view w2, w1;
  int64_t best = 1;
  size_t i = 0;
  auto consider = [&](int64_t n) {
    if (n > best) best = n;
  };
  while (i < title.size()) {
    if (!IsWordChar(title[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < title.size() && IsWordChar(title[j])) ++j;
    const std::string_view word = title.substr(i, j - i);
    // "lot of 10"
    if (IsDigit(word.front()) && w1 == "of" && IsCountNoun(w2)) consider(ParseCount(word));
    // "10 pcs", "6-pack"
    if (!w1.empty() && IsDigit(w1.front()) && IsUnitWord(word)) consider(ParseCount(w1));
    // "10pcs"
    size_t d = 0;
    while (d < word.size() && IsDigit(word[d])) ++d;
    if (d > 0 && d < word.size() && IsUnitWord(word.substr(d))) {
      consider(ParseCount(word.substr(0, d)));
    }
    w2 = w1;
    w1 = word;
    i = j;
  }
  return best;
}

}  // namespace bonafide::rules
