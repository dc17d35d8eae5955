#include "rules/re2_set_matcher.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include <re2/re2.h>
#include <re2/set.h>

#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::rules {
namespace {

// The RE2::Set's DFA sees every pattern of a scope at once; give it room so that it does
// not thrash its cache on long descriptions (allocated lazily, per matcher).
constexpr int64_t kSetMaxMemBytes = 64 << 20;

// Literal patterns are case-sensitive, as in Hyperscan (the text is already folded);
// regexes carry their own (?i:...).
RE2::Options Options(bool longest_match) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(true);
  options.set_longest_match(longest_match);
  return options;
}

std::string Re2Expression(const PatternInfo& pattern) {
  return pattern.is_regex ? absl::StrCat("(?i:", ToAbsl(pattern.expression), ")")
                          : pattern.expression;
}

absl::Status CannotCompile(const PatternInfo& pattern, std::string_view expression,
                           std::string_view error) {
  return absl::InvalidArgumentError(absl::StrCat(pattern.where, ": re2 cannot compile \"",
                                                 ToAbsl(expression), "\": ", ToAbsl(error)));
}

// Whether a match of `p` from a given start can end at more than one offset. Phrases have
// a fixed length; a name's optional separators are decided by the text (a separator there
// must be taken, since the name goes on with a letter or digit), except a trailing one.
bool MayEndTwice(const PatternInfo& p) {
  if (p.is_regex) return true;
  const bool name = p.kind == PatternKind::kBrand || p.kind == PatternKind::kKeyword;
  return name && IsNameSeparator(p.normalized.back());
}

size_t NextCharacter(std::string_view text, size_t pos) {
  ++pos;
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

// The RE2 objects of one matcher.
struct Compiled {
  struct Scope {
    std::unique_ptr<RE2::Set> set;
    std::vector<uint32_t> patterns;  // set index -> pattern index
  };
  Scope scopes[2];  // by MatchScope
  // By pattern index: the leftmost-first form finds the next start; the longest-match form
  // lists the ends from one start, for the patterns that can have several (else null).
  std::vector<std::unique_ptr<RE2>> first;
  std::vector<std::unique_ptr<RE2>> longest;
};

// Compiles `expressions` (the RE2 forms of `patterns`) into a Compiled.
absl::StatusOr<std::unique_ptr<Compiled>> CompileAll(const std::vector<PatternInfo>& patterns,
                                                     const std::vector<std::string>& expressions) {
  auto compiled = std::make_unique<Compiled>();
  for (uint32_t i = 0; i < patterns.size(); ++i) {
    compiled->first.push_back(std::make_unique<RE2>(expressions[i], Options(false)));
    compiled->longest.push_back(
        MayEndTwice(patterns[i]) ? std::make_unique<RE2>(expressions[i], Options(true)) : nullptr);
    if (!compiled->first[i]->ok()) {
      return CannotCompile(patterns[i], expressions[i], compiled->first[i]->error());
    }
  }
  for (MatchScope scope : {MatchScope::kTitle, MatchScope::kDescription}) {
    Compiled::Scope& s = compiled->scopes[static_cast<int>(scope)];
    RE2::Options options = Options(false);
    options.set_max_mem(kSetMaxMemBytes);
    s.set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    for (uint32_t i = 0; i < patterns.size(); ++i) {
      if (!InScope(patterns[i], scope)) continue;
      std::string error;
      if (s.set->Add(expressions[i], &error) < 0) {
        return CannotCompile(patterns[i], expressions[i], error);
      }
      s.patterns.push_back(i);
    }
    if (!s.set->Compile()) {
      return absl::ResourceExhaustedError("re2: the pattern set exceeds RE2's memory budget");
    }
  }
  return compiled;
}

class Re2SetMatcher final : public TextMatcher {
 public:
  Re2SetMatcher(const CompiledRules& rules, std::unique_ptr<Compiled> compiled)
      : rules_(rules), compiled_(std::move(compiled)) {}

  absl::Status Match(std::string_view text, MatchScope scope, std::vector<TextHit>& hits) override;

 private:
  // Appends to ends_ the end offsets of every match of `pattern` in `text`.
  void FindEnds(uint32_t pattern, std::string_view text);

  // A match end: sorts by end offset, then pattern.
  struct End {
    uint32_t to;
    uint32_t pattern;
    bool operator<(const End& o) const { return to != o.to ? to < o.to : pattern < o.pattern; }
    bool operator==(const End& o) const { return to == o.to && pattern == o.pattern; }
  };

  const CompiledRules& rules_;
  std::unique_ptr<Compiled> compiled_;
  // Per-call buffers, kept for their capacity.
  std::vector<int> candidates_;
  std::vector<End> ends_;
  std::vector<TextHit> regex_spans_;
};

absl::Status Re2SetMatcher::Match(std::string_view text, MatchScope scope,
                                  std::vector<TextHit>& hits) {
  hits.clear();
  ends_.clear();
  regex_spans_.clear();
  if (text.empty()) return absl::OkStatus();
  const Compiled::Scope& s = compiled_->scopes[static_cast<int>(scope)];
  candidates_.clear();
  const re2::StringPiece piece(text.data(), text.size());
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  // Most texts match nothing. Asking only whether anything matches allocates nothing and
  // stops early; asking which patterns match allocates a set on every call.
  if (!s.set->Match(piece, nullptr, &error) && error.kind == RE2::Set::kNoError) {
    return absl::OkStatus();
  }
  if (error.kind != RE2::Set::kNoError || !s.set->Match(piece, &candidates_, &error)) {
    // The DFA gave up (memory): try every pattern of the scope; slower, same hits.
    candidates_.resize(s.patterns.size());
    for (size_t i = 0; i < candidates_.size(); ++i) candidates_[i] = static_cast<int>(i);
  }
  for (int c : candidates_) FindEnds(s.patterns[c], text);

  std::sort(ends_.begin(), ends_.end());
  ends_.erase(std::unique(ends_.begin(), ends_.end()), ends_.end());
  if (ends_.size() > kMaxHits) ends_.resize(kMaxHits);
  for (const End& e : ends_) {
    if (!rules_.patterns()[e.pattern].is_regex) {
      hits.push_back(TextHit{e.pattern, HitStart(rules_.patterns()[e.pattern], text, e.to), e.to});
      continue;
    }
    // Every hit of a regex carries its leftmost match's span.
    for (const TextHit& span : regex_spans_) {
      if (span.pattern == e.pattern) hits.push_back(span);
    }
  }
  return absl::OkStatus();
}

void Re2SetMatcher::FindEnds(uint32_t pattern, std::string_view text) {
  const RE2& first = *compiled_->first[pattern];
  const RE2* longest = compiled_->longest[pattern].get();
  // RE2 reads the text outside [startpos, endpos) as context, so `\b` at either edge of a
  // window sees the real neighbours, as Hyperscan does.
  const re2::StringPiece piece(text.data(), text.size());
  const size_t begin = ends_.size();
  re2::StringPiece match;
  for (size_t pos = 0; pos < text.size();) {
    if (!first.Match(piece, pos, text.size(), RE2::UNANCHORED, &match, 1)) break;
    const auto start = static_cast<uint32_t>(match.data() - text.data());
    if (pos == 0 && rules_.patterns()[pattern].is_regex) {
      regex_spans_.push_back(TextHit{pattern, start, static_cast<uint32_t>(start + match.size())});
    }
    if (longest == nullptr) {
      ends_.push_back(End{static_cast<uint32_t>(start + match.size()), pattern});
    } else {
      // Every end of a match from `start`: the longest, then the longest short of it, ...
      for (size_t endpos = text.size(); endpos > start;) {
        if (!longest->Match(piece, start, endpos, RE2::ANCHOR_START, &match, 1) || match.empty()) {
          break;
        }
        const auto end = static_cast<uint32_t>(start + match.size());
        ends_.push_back(End{end, pattern});
        endpos = end - 1;
      }
    }
    // Hostile text: once kMaxHits ends lie before this start, later ones cannot be kept.
    if (ends_.size() - begin >= kMaxHits &&
        std::count_if(ends_.begin() + begin, ends_.end(), [&](const End& e) {
          return e.to <= start;
        }) >= static_cast<ptrdiff_t>(kMaxHits)) {
      break;
    }
    pos = NextCharacter(text, start);
  }
}

}  // namespace

Re2SetDatabase::Re2SetDatabase(std::shared_ptr<const CompiledRules> rules)
    : MatcherDatabase(std::move(rules)) {}

absl::StatusOr<std::shared_ptr<const Re2SetDatabase>> Re2SetDatabase::Compile(
    std::shared_ptr<const CompiledRules> rules) {
  std::shared_ptr<Re2SetDatabase> db(new Re2SetDatabase(std::move(rules)));
  for (const PatternInfo& pattern : db->rules().patterns()) {
    db->expressions_.push_back(Re2Expression(pattern));
  }
  BONAFIDE_RETURN_IF_ERROR(CompileAll(db->rules().patterns(), db->expressions_).status());
  return std::shared_ptr<const Re2SetDatabase>(std::move(db));
}

absl::StatusOr<std::unique_ptr<TextMatcher>> Re2SetDatabase::NewMatcher() const {
  BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Compiled> compiled,
                            CompileAll(rules().patterns(), expressions_));
  return std::unique_ptr<TextMatcher>(
      std::make_unique<Re2SetMatcher>(rules(), std::move(compiled)));
}

}  // namespace bonafide::rules
