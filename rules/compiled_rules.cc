#include "rules/compiled_rules.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <hs.h>
#include <re2/re2.h>

#include "rules/hs_status.h"
#include "rules/normalize.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::rules {
namespace {

constexpr unsigned kMode = HS_MODE_BLOCK;
constexpr unsigned kLiteralFlags = HS_FLAG_UTF8;
constexpr unsigned kRegexFlags = HS_FLAG_UTF8 | HS_FLAG_CASELESS;

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

std::string WithWordBoundaries(std::string_view normalized, std::string body) {
  std::string out;
  if (IsAsciiAlnum(normalized.front())) out.append("\\b");
  out.append(body);
  if (IsAsciiAlnum(normalized.back())) out.append("\\b");
  return out;
}

// A brand name, alias or product keyword: separators optional, i/l interchangeable.
std::string NameExpression(std::string_view normalized) {
  std::string body;
  for (size_t i = 0; i < normalized.size(); ++i) {
    const char c = normalized[i];
    if (IsNameSeparator(c)) {
      while (i + 1 < normalized.size() && IsNameSeparator(normalized[i + 1])) ++i;
      body.append("[ \\-._/]?");
    } else if (c == 'i' || c == 'l') {
      body.append("[il]");
    } else {
      AppendEscaped(c, body);
    }
  }
  return WithWordBoundaries(normalized, std::move(body));
}

// A cue or context phrase: the normalised words, literally.
std::string PhraseExpression(std::string_view normalized) {
  std::string body;
  for (char c : normalized) AppendEscaped(c, body);
  return WithWordBoundaries(normalized, std::move(body));
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

std::string Where(const SourceLocation& at) {
  return absl::StrFormat("%s:%d:%d", at.file, at.line, at.column);
}

// Hasher128 with numbers written out exactly, for cache keys.
class Fingerprint {
 public:
  void Add(std::string_view s) { hasher_.Add(s); }
  void Add(double d) { hasher_.Add(absl::StrFormat("%.17g", d)); }
  std::string Hex128() const { return hasher_.Hex(); }

 private:
  Hasher128 hasher_;
};

struct PatternSource {
  std::string where;  // "file:line:column: rule \"id\"" for errors
  unsigned flags = kLiteralFlags;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

void MakeDirectories(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos == dir.size() || dir[pos] == '/') {
      ::mkdir(dir.substr(0, pos).c_str(), 0755);
    }
  }
}

int HsMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int /*flags*/,
            void* context) {
  auto* hits = static_cast<std::vector<TextHit>*>(context);
  if (hits->size() < TextMatcher::kMaxHits) {
    hits->push_back(TextHit{id, static_cast<uint32_t>(from), static_cast<uint32_t>(to)});
  }
  return 0;
}

// Compiles (or loads from `cache_dir`) a database of the patterns `members` of `rules`.
absl::Status BuildDatabase(const CompiledRules& rules, const std::vector<PatternSource>& sources,
                           const std::vector<uint32_t>& members, const std::string& directory,
                           const std::string& cache_dir, hs_database_t** out, bool* cached) {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  Fingerprint cache_key;
  cache_key.Add(hs_version());
  for (uint32_t i : members) {
    expressions.push_back(rules.patterns()[i].expression.c_str());
    flags.push_back(sources[i].flags);
    cache_key.Add(rules.patterns()[i].expression);
    cache_key.Add(static_cast<double>(sources[i].flags));
    cache_key.Add(static_cast<double>(i));
  }
  std::string cache_path;
  if (!cache_dir.empty()) {
    cache_path = absl::StrCat(cache_dir, "/hs-", cache_key.Hex128(), ".db");
    if (auto bytes = ReadFile(cache_path); bytes.ok()) {
      if (hs_deserialize_database(bytes->data(), bytes->size(), out) == HS_SUCCESS) {
        *cached = true;
        return absl::OkStatus();
      }
    }
  }
  hs_compile_error_t* error = nullptr;
  const hs_error_t rc =
      hs_compile_multi(expressions.data(), flags.data(), members.data(),
                       static_cast<unsigned>(expressions.size()), kMode, nullptr, out, &error);
  if (rc != HS_SUCCESS) {
    std::string message = error != nullptr ? error->message : "unknown error";
    std::string where = directory;
    std::string expression;
    if (error != nullptr && error->expression >= 0 &&
        static_cast<size_t>(error->expression) < members.size()) {
      const uint32_t pattern = members[error->expression];
      where = sources[pattern].where;
      expression = rules.patterns()[pattern].expression;
    }
    hs_free_compile_error(error);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": hyperscan cannot compile \"", expression, "\": ", message));
  }
  if (!cache_path.empty()) {
    char* bytes = nullptr;
    size_t length = 0;
    if (hs_serialize_database(*out, &bytes, &length) == HS_SUCCESS) {
      MakeDirectories(cache_dir);
      WriteFileAtomically(cache_path, std::string_view(bytes, length));
      std::free(bytes);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledRules>> CompiledRules::Compile(
    RulePack pack, const CompileOptions& options) {
  std::shared_ptr<CompiledRules> rules(new CompiledRules());
  rules->pack_ = std::move(pack);
  const RulePack& p = rules->pack_;
  std::vector<PatternSource> sources;

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
    rules->patterns_.push_back(std::move(info));
    sources.push_back(PatternSource{std::move(where), kLiteralFlags});
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
      const std::string where = Where(brand.location);
      BONAFIDE_RETURN_IF_ERROR(add_pattern(info, brand.name, where, true));
      for (const auto& alias : brand.aliases) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, alias, where, true));
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
              absl::StrCat(Where(product.location), ": product \"", product.id,
                           "\": reference currency not in policy fx"));
        }
        cp.reference_price_base = product.reference_price->amount * fx;
        cp.min_price_ratio = product.min_price_ratio;
      }
      compiled.products.push_back(std::move(cp));

      PatternInfo info;
      info.kind = PatternKind::kKeyword;
      info.holder = static_cast<int32_t>(h);
      info.product = static_cast<int32_t>(k);
      const std::string where =
          absl::StrCat(Where(product.location), ": product \"", product.id, "\"");
      // A product without keywords is recognised by its name.
      if (product.keywords.empty()) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, product.name, where, true));
      }
      for (const auto& keyword : product.keywords) {
        BONAFIDE_RETURN_IF_ERROR(add_pattern(info, keyword, where, true));
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
    const std::string where = absl::StrCat(Where(cue.location), ": rule \"", cue.id, "\"");
    for (const auto& phrase : cue.phrases) {
      BONAFIDE_RETURN_IF_ERROR(add_pattern(info, phrase, where, false));
    }
    if (!cue.regex.empty()) {
      info.expression = cue.regex;
      info.is_regex = true;
      rules->patterns_.push_back(std::move(info));
      sources.push_back(PatternSource{where, kRegexFlags});
    }
  }

  const Context& ctx = p.context;
  const std::string ctx_where = Where(ctx.location);
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
  RE2::Options re2_options;
  re2_options.set_case_sensitive(false);
  re2_options.set_log_errors(false);
  for (const PatternInfo& info : rules->patterns_) {
    rules->regexes_.push_back(info.is_regex ? std::make_unique<RE2>(info.expression, re2_options)
                                            : nullptr);
  }
  bool from_cache = true;
  auto build = [&](MatchScope scope, hs_database_t** db) -> absl::Status {
    std::vector<uint32_t> members;
    for (uint32_t i = 0; i < rules->patterns_.size(); ++i) {
      const PatternKind kind = rules->patterns_[i].kind;
      const bool context =
          kind != PatternKind::kBrand && kind != PatternKind::kKeyword && kind != PatternKind::kCue;
      if (scope == MatchScope::kTitle || !context) members.push_back(i);
    }
    bool cached = false;
    BONAFIDE_RETURN_IF_ERROR(
        BuildDatabase(*rules, sources, members, p.directory, options.cache_dir, db, &cached));
    from_cache &= cached;
    return absl::OkStatus();
  };
  BONAFIDE_RETURN_IF_ERROR(build(MatchScope::kTitle, &rules->title_database_));
  BONAFIDE_RETURN_IF_ERROR(build(MatchScope::kDescription, &rules->description_database_));
  rules->loaded_from_cache_ = from_cache;
  return std::shared_ptr<const CompiledRules>(std::move(rules));
}

CompiledRules::~CompiledRules() {
  hs_free_database(title_database_);
  hs_free_database(description_database_);
}

double CompiledRules::FxToBase(std::string_view currency) const {
  const uint32_t key = PackCurrency(currency);
  const auto it = std::lower_bound(fx_.begin(), fx_.end(), std::make_pair(key, 0.0));
  return key != 0 && it != fx_.end() && it->first == key ? it->second : 0;
}

absl::StatusOr<std::unique_ptr<TextMatcher>> TextMatcher::Create(const CompiledRules& rules) {
  std::unique_ptr<TextMatcher> matcher(new TextMatcher(rules));
  for (MatchScope scope : {MatchScope::kTitle, MatchScope::kDescription}) {
    // The second call grows the same scratch to fit both databases.
    BONAFIDE_RETURN_IF_ERROR(HsStatus(hs_alloc_scratch(rules.database(scope), &matcher->scratch_),
                                      "allocating scratch"));
  }
  return matcher;
}

TextMatcher::~TextMatcher() { hs_free_scratch(scratch_); }

absl::Status TextMatcher::Match(std::string_view text, MatchScope scope,
                                std::vector<TextHit>& hits) {
  hits.clear();
  regex_spans_.clear();
  if (text.empty()) return absl::OkStatus();
  BONAFIDE_RETURN_IF_ERROR(
      HsStatus(hs_scan(rules_.database(scope), text.data(), static_cast<unsigned>(text.size()), 0,
                       scratch_, HsMatch, &hits),
               "scanning text"));
  for (TextHit& hit : hits) {
    if (rules_.regex(hit.pattern) == nullptr) {
      hit.from = HitStart(rules_.patterns()[hit.pattern], text, hit.to);
      continue;
    }
    // A regex's span comes from RE2's leftmost match, computed once per text.
    auto known = std::find_if(regex_spans_.begin(), regex_spans_.end(),
                              [&](const TextHit& s) { return s.pattern == hit.pattern; });
    if (known == regex_spans_.end()) {
      TextHit span{hit.pattern, hit.to, hit.to};
      re2::StringPiece match;
      if (rules_.regex(hit.pattern)
              ->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                      &match, 1)) {
        span.from = static_cast<uint32_t>(match.data() - text.data());
        span.to = static_cast<uint32_t>(span.from + match.size());
      }
      regex_spans_.push_back(span);
      known = regex_spans_.end() - 1;
    }
    hit.from = known->from;
    hit.to = known->to;
  }
  return absl::OkStatus();
}

uint32_t HitStart(const PatternInfo& p, std::string_view text, uint32_t end) {
  const std::string& name = p.normalized;
  if (p.kind != PatternKind::kBrand && p.kind != PatternKind::kKeyword) {
    return end >= name.size() ? static_cast<uint32_t>(end - name.size()) : 0;
  }
  uint32_t i = end;
  for (size_t j = name.size(); j > 0 && i > 0;) {
    if (IsNameSeparator(name[j - 1])) {
      while (j > 0 && IsNameSeparator(name[j - 1])) --j;
      if (IsNameSeparator(text[i - 1])) --i;
    } else {
      --j;
      --i;
    }
  }
  return i;
}

}  // namespace bonafide::rules
