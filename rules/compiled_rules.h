// A rule pack compiled for matching: every text pattern of the rules (brand names,
// product keywords, cue phrases and regexes, context phrases) with what it belongs to, plus
// the numbers the decision needs (thresholds, reference prices in the base currency, FX).
// No regex engine here: the backends of rules/text_matcher.h compile these patterns.
//
//   BONAFIDE_ASSIGN_OR_RETURN(RulePack pack, LoadRulePack(dir));
//   BONAFIDE_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledRules> rules,
//                             CompiledRules::Compile(std::move(pack)));
//   // then rules/text_matcher.h: a matcher database over `rules`, one matcher per thread.
//
// Patterns, all matched against text normalised by rules/normalize.h:
//   - brand names, aliases and product keywords: whole words; the separators inside them are
//     optional ("air max" matches "airmax", "ga-2100" matches "ga 2100"), and `i`/`l` match
//     each other because leet `1` and `|` are ambiguous between them ("app1e" is "apple");
//   - cue phrases: whole words; cue regexes: as written, case-insensitive, ASCII `\b`;
//   - context phrases (compatibility, accessories, bundle, used, packaging only): whole words.
// "Whole word" puts `\b` at an edge only where the phrase starts or ends with an ASCII
// letter or digit, so CJK phrases match inside running text.
//
// Every text is matched in one of two scopes: titles against every pattern, descriptions
// without the context phrases (context is read in titles only, and words such as "for",
// "and", "with" are frequent enough in descriptions to cost real time).
#ifndef BONAFIDE_RULES_COMPILED_RULES_H_
#define BONAFIDE_RULES_COMPILED_RULES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "rules/rule_pack.h"

namespace bonafide::rules {

enum class PatternKind : uint8_t {
  kBrand,    // brand name or alias of `holder`
  kKeyword,  // keyword of product `product` of `holder`
  kCue,      // phrase or regex of cue rule `cue`
  kCompatibility,
  kAccessory,
  kBundle,
  kUsed,
  kPackagingOnly,
  kExclude,  // an exclude phrase of `holder`: its mentions inside it are not mentions
};

struct PatternInfo {
  PatternKind kind = PatternKind::kBrand;
  int32_t holder = -1;    // index into CompiledRules::holders() (kBrand, kKeyword, kExclude)
  int32_t product = -1;   // index into that holder's products (kKeyword)
  int32_t cue = -1;       // index into pack().cues (kCue)
  bool is_regex = false;  // a cue regex (else a literal phrase or a name)
  // Where the pattern comes from, for errors: `file:line:column` of its rule, and for
  // products and cue rules `: product "id"` / `: rule "id"`.
  std::string where;
  // The normalised phrase or name (empty for regexes).
  std::string normalized;
  // kBrand/kKeyword: the normalised name with separators removed; a match whose text
  // differs from it (other than by separators) is an evasive spelling ("nlke" for "nike").
  std::string canonical;
  // The pattern in regex syntax that both Hyperscan and RE2 read: names and phrases
  // escaped and given their word boundaries, cue regexes as written (matched caseless).
  std::string expression;
};

// Which patterns a text is matched against.
enum class MatchScope : uint8_t {
  kTitle,        // every pattern
  kDescription,  // names and cues; no context phrases
};

// Returns whether `pattern` is matched in `scope`.
inline bool InScope(const PatternInfo& pattern, MatchScope scope) {
  switch (pattern.kind) {
    case PatternKind::kBrand:
    case PatternKind::kKeyword:
    case PatternKind::kCue:
    case PatternKind::kExclude:
      return true;
    default:
      return scope == MatchScope::kTitle;
  }
}

struct CompiledProduct {
  std::string id;
  // The product's price rule, when it has one: the reference price as written (its amount
  // and currency), the FX rate of that currency to the base currency, their product, and
  // the ratio. The decision compares the written decimals exactly at the limit.
  Money reference_price;            // amount 0 = no price rule
  double reference_fx = 0;          // base-currency units per unit of reference_price
  double reference_price_base = 0;  // reference_price.amount x reference_fx
  double min_price_ratio = 0;
};

struct CompiledHolder {
  std::string id;
  double threshold = 1.0;
  absl::flat_hash_set<std::string> authorized_sellers;
  std::vector<CompiledProduct> products;
};

// One occurrence of a pattern: [from, to) in the normalised text.
struct TextHit {
  uint32_t pattern = 0;
  uint32_t from = 0;
  uint32_t to = 0;
};

// Immutable after Compile; thread-safe. Not copyable; share it as
// std::shared_ptr<const CompiledRules>.
class CompiledRules {
 public:
  // Builds the patterns and numbers of `pack` (fast: no regex is compiled here). Returns
  // InvalidArgument naming the rule when a phrase is empty after normalisation, a product's
  // reference currency has no FX rate, or the rules have no pattern at all.
  static absl::StatusOr<std::shared_ptr<const CompiledRules>> Compile(RulePack pack);

  ~CompiledRules() = default;
  CompiledRules(const CompiledRules&) = delete;
  CompiledRules& operator=(const CompiledRules&) = delete;

  const RulePack& pack() const { return pack_; }
  const std::vector<PatternInfo>& patterns() const { return patterns_; }
  const std::vector<CompiledHolder>& holders() const { return holders_; }

  // Returns base-currency units per unit of `currency`, or 0 when the policy has no rate.
  double FxToBase(std::string_view currency) const;

 private:
  CompiledRules() = default;

  RulePack pack_;
  std::vector<PatternInfo> patterns_;
  std::vector<CompiledHolder> holders_;
  // Base-currency units per unit, by 3-letter code packed into 24 bits; sorted. Looked up
  // twice per listing, so a few compares rather than hashing a string.
  std::vector<std::pair<uint32_t, double>> fx_;
};

// The characters that separate the words of a brand name or keyword; optional in matches.
// The digits and symbols that stand for `letter` in evasive spellings ("4@" for 'a'), or ""
// (the look-alike classes of NameExpression; the leet table of normalize.cc reads them the
// other way).
std::string_view LookAlikesOf(char letter);

// True when the word of `name` (separated by IsNameSeparator) holding name[i] contains a
// digit: a model number ("550v2", "ga 2100"), which keeps its letters as written.
bool NameWordHasDigit(std::string_view name, size_t i);

inline bool IsNameSeparator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '_' || c == '/';
}

// Where the hit of a name or phrase `pattern` that ends at `end` in `text` starts: a
// phrase has a fixed length; a name is walked back, each run of separators in it having
// matched zero or one separator in the text, every other character exactly one (i and l
// alike, a look-alike digit for a letter), and a space between two characters of a model
// number being skipped. Every text backend reports this start (Hyperscan is not asked for start
// offsets: SOM mode more than halves its speed). Not for cue regexes.
uint32_t HitStart(const PatternInfo& pattern, std::string_view text, uint32_t end);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_COMPILED_RULES_H_
