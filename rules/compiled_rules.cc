#include "rules/compiled_rules.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

#include "rules/normalize.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::rules {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void AppendEscaped(char c, std::string& out) {
  if (static_cast<unsigned char>(c) >= 0x80 || IsAsciiAlnum(c) || c == ' ') {
    out.push_back(c);
  } else {
    out.push_back('\\');
    out.push_back(c);
  }
}

std::string WithWordBoundaries(std::string_view normalized, const std::string& body) {
  std::string out;
  if (IsAsciiAlnum(normalized.front())) out.append("\\b");
  out.append(body);
  if (IsAsciiAlnum(normalized.back())) out.append("\\b");
  return out;
}

// A brand name, alias or product keyword (docs/matching.md, "Patterns"): separators
// optional; i and l alike everywhere. In a word of letters only, the two letters at each
// end also match the digits and symbols that stand for them: the normaliser reads leet
// inside a word, but leaves it at a word's ends, where it cannot tell it from a number
// ("bage1", "7esla", "ug9"; decision.cc caps how many a mention may hold). The middle of a
// longer word stays literal, which keeps Hyperscan on its fast literal matcher. In a word
// with digits (a model number), one space may come between any two characters
// ("4 2 1 1 5", "5 5 0 v 2"), and no letter stands for a digit.
std::string NameExpression(std::string_view normalized) {
  std::string body;
  size_t word_begin = 0;
  for (size_t i = 0; i < normalized.size(); ++i) {
    const char c = normalized[i];
    if (IsNameSeparator(c)) {
      while (i + 1 < normalized.size() && IsNameSeparator(normalized[i + 1])) ++i;
      body.append("[ \\-._/]?");
      word_begin = i + 1;
      continue;
    }
    size_t word_end = i;
    while (word_end < normalized.size() && !IsNameSeparator(normalized[word_end])) ++word_end;
    if (NameWordHasDigit(normalized, i)) {
      AppendEscaped(c, body);
      if (i + 1 < word_end) body.append(" ?");
      continue;
    }
    std::string look_alikes;
    if (i < word_begin + 2 || i + 2 >= word_end) look_alikes = LookAlikesOf(c);
    if (c == 'i' || c == 'l') look_alikes.insert(0, 1, c == 'i' ? 'l' : 'i');
    if (look_alikes.empty()) {
      AppendEscaped(c, body);
    } else {
      body.push_back('[');
      body.push_back(c);
      body.append(look_alikes);
      body.push_back(']');
    }
  }
  return WithWordBoundaries(normalized, body);
}

// A cue or context phrase: the normalised words, literally.
std::string PhraseExpression(std::string_view normalized) {
  std::string body;
  for (char c : normalized) AppendEscaped(c, body);
  return WithWordBoundaries(normalized, body);
}

std::string WithoutSeparators(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!IsNameSeparator(c)) out.push_back(c);
  }
  return out;
}

// A 3-letter currency code as a number (0 for anything else).
uint32_t PackCurrency(std::string_view code) {
  if (code.size() != 3) return 0;
  return static_cast<uint32_t>(static_cast<uint8_t>(code[0])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(code[1])) << 8 | static_cast<uint8_t>(code[2]);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledRules>> CompiledRules::Compile(RulePack pack) {
  std::shared_ptr<CompiledRules> rules(new CompiledRules());
  rules->pack_ = std::move(pack);
  const RulePack& p = rules->pack_;

  for (const auto& [currency, rate] : p.policy.fx) {
    rules->fx_.emplace_back(PackCurrency(currency), rate);  // codes are validated: 3 letters
  }
  std::sort(rules->fx_.begin(), rules->fx_.end());

  auto add_pattern = [&](PatternInfo info, std::string_view text, std::string where,
                         bool is_name) -> absl::Status {
    const std::string normalized = Normalize(text);
    std::string_view trimmed = normalized;
    while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
    if (trimmed.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": phrase \"", ToAbsl(text), "\" is empty after normalisation"));
    }
    info.expression = is_name ? NameExpression(trimmed) : PhraseExpression(trimmed);
    info.normalized = std::string(trimmed);
    if (is_name) info.canonical = WithoutSeparators(trimmed);
    info.where = std::move(where);
    rules->patterns_.push_back(std::move(info));
    return absl::OkStatus();
  };

  for (size_t h = 0; h < p.rights_holders.size(); ++h) {
    const RightsHolder& holder = p.rights_holders[h];
    CompiledHolder compiled;
    compiled.id = holder.id;
    compiled.threshold = holder.threshold.value_or(p.policy.threshold);
    compiled.authorized_sellers.insert(holder.authorized_sellers.begin(),
                                       holder.authorized_sellers.end());
    for (const Brand& brand : holder.brands) {
      PatternInfo info;
      info.kind = PatternKind::kBrand;
      info.holder = static_cast<int32_t>(h);
      const std::string where = FormatLocation(brand.location);
      BONAFIDE_RETURN_IF_ERROR(add_pattern(info, brand.name, where, true));
      for (const auto& alias : brand.aliases) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, alias, where, true));
      }
      info.kind = PatternKind::kExclude;
      for (const auto& phrase : brand.exclude) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, phrase, where + ": exclude", false));
      }
    }
    for (size_t k = 0; k < holder.products.size(); ++k) {
      const Product& product = holder.products[k];
      CompiledProduct cp;
      cp.id = product.id;
      if (product.reference_price && product.min_price_ratio > 0) {
        const double fx = rules->FxToBase(product.reference_price->currency);
        if (fx <= 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(FormatLocation(product.location), ": product \"", product.id,
                           "\": reference currency not in policy fx"));
        }
        cp.reference_price = *product.reference_price;
        cp.reference_fx = fx;
        cp.reference_price_base = product.reference_price->amount * fx;
        cp.min_price_ratio = product.min_price_ratio;
      }
      compiled.products.push_back(std::move(cp));

      PatternInfo info;
      info.kind = PatternKind::kKeyword;
      info.holder = static_cast<int32_t>(h);
      info.product = static_cast<int32_t>(k);
      const std::string where =
          absl::StrCat(FormatLocation(product.location), ": product \"", product.id, "\"");
      // A product without keywords is recognised by its name.
      if (product.keywords.empty()) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, product.name, where, true));
      }
      for (const auto& keyword : product.keywords) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, keyword, where, true));
      }
      PatternInfo exclude;
      exclude.kind = PatternKind::kExclude;
      exclude.holder = static_cast<int32_t>(h);
      for (const auto& phrase : product.exclude) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(exclude, phrase, where + ": exclude", false));
      }
    }
    rules->holders_.push_back(std::move(compiled));
  }

  for (size_t c = 0; c < p.cues.size(); ++c) {
    const CueRule& cue = p.cues[c];
    if (cue.mode == RuleMode::kOff) continue;
    PatternInfo info;
    info.kind = PatternKind::kCue;
    info.cue = static_cast<int32_t>(c);
    const std::string where = absl::StrCat(FormatLocation(cue.location), ": rule \"", cue.id, "\"");
    for (const auto& phrase : cue.phrases) {
      BONAFIDE_RETURN_IF_ERROR(add_pattern(info, phrase, where, false));
    }
    if (!cue.regex.empty()) {
      info.expression = cue.regex;
      info.is_regex = true;
      info.where = where;
      rules->patterns_.push_back(std::move(info));
    }
  }

  const Context& ctx = p.context;
  const std::string ctx_where = FormatLocation(ctx.location);
  const std::pair<PatternKind, const std::vector<std::string>*> context_lists[] = {
      {PatternKind::kCompatibility, &ctx.compatibility},
      {PatternKind::kAccessory, &ctx.accessories},
      {PatternKind::kBundle, &ctx.bundle},
      {PatternKind::kUsed, &ctx.used},
      {PatternKind::kPackagingOnly, &ctx.packaging_only},
  };
  for (const auto& [kind, phrases] : context_lists) {
    for (const auto& phrase : *phrases) {
      PatternInfo info;
      info.kind = kind;
      BONAFIDE_RETURN_IF_ERROR(add_pattern(info, phrase, ctx_where, false));
    }
  }

  if (rules->patterns_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.directory, ": the rules contain no pattern to match"));
  }
  return std::shared_ptr<const CompiledRules>(std::move(rules));
}

double CompiledRules::FxToBase(std::string_view currency) const {
  const uint32_t key = PackCurrency(currency);
  const auto it = std::lower_bound(fx_.begin(), fx_.end(), std::make_pair(key, 0.0));
  return key != 0 && it != fx_.end() && it->first == key ? it->second : 0;
}

std::string_view LookAlikesOf(char letter) {
  switch (letter) {
    case 'a':
      return "4@";
    case 'b':
      return "8";
    case 'e':
      return "3";
    case 'g':
      return "9";
    case 'i':
      return "1!|";
    case 'l':
      return "1|";
    case 'o':
      return "0";
    case 's':
      return "5$";
    case 't':
      return "7";
    default:
      return "";
  }
}

bool NameWordHasDigit(std::string_view name, size_t i) {
  size_t b = i, e = i;
  while (b > 0 && !IsNameSeparator(name[b - 1])) --b;
  while (e < name.size() && !IsNameSeparator(name[e])) ++e;
  for (size_t k = b; k < e; ++k) {
    if (name[k] >= '0' && name[k] <= '9') return true;
  }
  return false;
}

uint32_t HitStart(const PatternInfo& p, std::string_view text, uint32_t end) {
  const std::string& name = p.normalized;
  if (p.kind != PatternKind::kBrand && p.kind != PatternKind::kKeyword) {
    return end >= name.size() ? static_cast<uint32_t>(end - name.size()) : 0;
  }
  // NameExpression backwards: a name character per text character, an optional separator
  // for a run of separators, an optional space inside a model number.
  uint32_t i = end;
  for (size_t j = name.size(); j > 0 && i > 0;) {
    if (IsNameSeparator(name[j - 1])) {
      while (j > 0 && IsNameSeparator(name[j - 1])) --j;
      if (IsNameSeparator(text[i - 1])) --i;
    } else {
      --j;
      --i;
      if (j > 0 && i > 0 && text[i - 1] == ' ' && !IsNameSeparator(name[j - 1]) &&
          NameWordHasDigit(name, j - 1)) {
        --i;
      }
    }
  }
  return i;
}

}  // namespace bonafide::rules
