// A rule pack compiled for scanning: one Hyperscan database over every text pattern, plus
// the numbers the decision needs (thresholds, reference prices in the base currency, FX).
//
//   BONAFIDE_ASSIGN_OR_RETURN(RulePack pack, LoadRulePack(dir));
//   BONAFIDE_ASSIGN_OR_RETURN(auto rules, CompiledRules::Compile(std::move(pack), {}));
//   BONAFIDE_ASSIGN_OR_RETURN(auto matcher, TextMatcher::Create(*rules));   // per thread
//   matcher->Match(normalised_text, hits);
//
// Compile is slow (Hyperscan compilation: tens to hundreds of milliseconds). With a cache
// directory it stores the serialised databases under a key derived from every pattern, so a
// second start with the same rules deserialises them in about a millisecond.
//
// There are two databases: one for titles with every pattern, and one for descriptions
// without the context phrases (context is read in titles only, and words such as "for",
// "and", "with" are frequent enough in descriptions to cost real time). Neither asks
// Hyperscan for start offsets (SOM mode more than halves its speed); TextMatcher recovers
// the start of each hit from the pattern instead: literal phrases have a fixed length,
// names are walked back over their optional separators, and a cue regex's span comes from
// RE2, once per text.
//
// Patterns, all matched against text normalised by rules/normalize.h:
//   - brand names, aliases and product keywords: whole words; the separators inside them are
//     optional ("air max" matches "airmax", "ga-2100" matches "ga 2100"), and `i`/`l` match
//     each other because leet `1` and `|` are ambiguous between them ("app1e" is "apple");
//   - cue phrases: whole words; cue regexes: as written, case-insensitive, ASCII `\b`;
//   - context phrases (compatibility, accessories, bundle, used, packaging only): whole words.
// "Whole word" puts `\b` at an edge only where the phrase starts or ends with an ASCII
// letter or digit, so CJK phrases match inside running text.
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

struct hs_database;
struct hs_scratch;
namespace re2 {
class RE2;
}

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
};

struct PatternInfo {
  PatternKind kind = PatternKind::kBrand;
  int32_t holder = -1;    // index into CompiledRules::holders() (kBrand, kKeyword)
  int32_t product = -1;   // index into that holder's products (kKeyword)
  int32_t cue = -1;       // index into pack().cues (kCue)
  bool is_regex = false;  // a cue regex (else a literal phrase or a name)
  // The normalised phrase or name (empty for regexes).
  std::string normalized;
  // kBrand/kKeyword: the normalised name with separators removed; a match whose text
  // differs from it (other than by separators) is an evasive spelling ("nlke" for "nike").
  std::string canonical;
  std::string expression;  // the Hyperscan expression compiled
};

// Which database a text is matched against.
enum class MatchScope : uint8_t {
  kTitle,        // every pattern
  kDescription,  // names and cues; no context phrases
};

struct CompiledProduct {
  std::string id;
  double reference_price_base = 0;  // in the policy's base currency; 0 = no price rule
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

struct CompileOptions {
  // Directory for serialised Hyperscan databases ("" disables the cache). Created when
  // missing; a cache that cannot be read or written only costs a recompilation.
  std::string cache_dir;
};

// Immutable after Compile; thread-safe. Not copyable; share it as
// std::shared_ptr<const CompiledRules>.
class CompiledRules {
 public:
  // Compiles `pack`. Returns InvalidArgument naming the rule (`file:line:column: rule
  // "cue.x": hyperscan: ...`) when a pattern cannot be compiled.
  static absl::StatusOr<std::shared_ptr<const CompiledRules>> Compile(
      RulePack pack, const CompileOptions& options);

  ~CompiledRules();
  CompiledRules(const CompiledRules&) = delete;
  CompiledRules& operator=(const CompiledRules&) = delete;

  const RulePack& pack() const { return pack_; }
  const std::vector<PatternInfo>& patterns() const { return patterns_; }
  const std::vector<CompiledHolder>& holders() const { return holders_; }

  // Returns base-currency units per unit of `currency`, or 0 when the policy has no rate.
  double FxToBase(std::string_view currency) const;

  // True when the database came from the cache rather than a compilation.
  bool loaded_from_cache() const { return loaded_from_cache_; }

  const hs_database* database(MatchScope scope) const {
    return scope == MatchScope::kTitle ? title_database_ : description_database_;
  }
  // The RE2 form of cue regex `pattern`, or null for other patterns.
  const re2::RE2* regex(uint32_t pattern) const { return regexes_[pattern].get(); }

 private:
  CompiledRules() = default;

  RulePack pack_;
  std::vector<PatternInfo> patterns_;
  std::vector<CompiledHolder> holders_;
  // Base-currency units per unit, by 3-letter code packed into 24 bits; sorted. Looked up
  // twice per listing, so a few compares rather than hashing a string.
  std::vector<std::pair<uint32_t, double>> fx_;
  bool loaded_from_cache_ = false;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;  // by pattern index
  hs_database* title_database_ = nullptr;
  hs_database* description_database_ = nullptr;
};

// The characters that separate the words of a brand name or keyword; optional in matches.
inline bool IsNameSeparator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '_' || c == '/';
}

// Where the hit of a name or phrase `pattern` that ends at `end` in `text` starts: a
// phrase has a fixed length; a name is walked back, each run of separators in it having
// matched zero or one separator in the text, every other character exactly one (i and l
// alike). Both text backends report this start. Not for cue regexes.
uint32_t HitStart(const PatternInfo& pattern, std::string_view text, uint32_t end);

// Finds patterns in normalised text. One per thread (owns a Hyperscan scratch); keeps a
// reference to the CompiledRules, which must outlive it.
class TextMatcher {
 public:
  static absl::StatusOr<std::unique_ptr<TextMatcher>> Create(const CompiledRules& rules);
  ~TextMatcher();
  TextMatcher(const TextMatcher&) = delete;
  TextMatcher& operator=(const TextMatcher&) = delete;

  // At most this many hits are kept per Match call; a text with more (hostile input) keeps
  // the first ones.
  static constexpr size_t kMaxHits = 1024;

  // Replaces `hits` with every occurrence in `text` of every pattern of `scope` (in
  // Hyperscan's report order: by end offset). REQUIRES: `text` is valid UTF-8
  // (NormalizedText always is).
  absl::Status Match(std::string_view text, MatchScope scope, std::vector<TextHit>& hits);

 private:
  explicit TextMatcher(const CompiledRules& rules) : rules_(rules) {}

  const CompiledRules& rules_;
  hs_scratch* scratch_ = nullptr;
  // Spans of the cue regexes found in the current text (pattern, from, to).
  std::vector<TextHit> regex_spans_;
};

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_COMPILED_RULES_H_
