// The Hyperscan backend of rules/text_matcher.h: the fast one, and the default.
//
//   BONAFIDE_ASSIGN_OR_RETURN(auto database, HyperscanDatabase::Compile(rules, options));
//   BONAFIDE_ASSIGN_OR_RETURN(auto matcher, database->NewMatcher());  // per thread
//
// Compile builds two block-mode databases (UTF-8; literals case-sensitive since the text is
// folded already, cue regexes caseless): one over every pattern for titles, one without the
// context phrases for descriptions (MatchScope). Compilation takes tens to hundreds of
// milliseconds; with a cache directory the serialised databases are stored under a 128-bit
// key of every expression, its flags and the Hyperscan version, so a second start with the
// same rules deserialises them in about a millisecond.
//
// Neither database asks Hyperscan for start offsets (SOM mode more than halves its speed):
// the matcher recovers the start of a name or phrase with HitStart, and the span of a cue
// regex from RE2, once per text and regex.
//
// Compilation lives in rules/hyperscan_compile.cc, scanning in rules/hyperscan_matcher.cc.
#ifndef BONAFIDE_RULES_HYPERSCAN_MATCHER_H_
#define BONAFIDE_RULES_HYPERSCAN_MATCHER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

#include "rules/compiled_rules.h"
#include "rules/text_matcher.h"
#include "util/huge_page_buffer.h"

struct hs_database;
namespace re2 {
class RE2;
}

namespace bonafide::rules {

// The Hyperscan databases of one CompiledRules. Immutable after Compile; thread-safe. Not
// copyable; share it as std::shared_ptr<const HyperscanDatabase>.
class HyperscanDatabase final : public MatcherDatabase {
 public:
  // Compiles (or loads from options.cache_dir) the databases of `rules`. Returns
  // InvalidArgument naming the rule (`file:line:column: rule "cue.x": hyperscan cannot
  // compile "...": ...`) when Hyperscan rejects a pattern RE2 accepted (e.g. `(?U)`).
  // REQUIRES: `rules` is not null.
  static absl::StatusOr<std::shared_ptr<const HyperscanDatabase>> Compile(
      std::shared_ptr<const CompiledRules> rules, const MatcherOptions& options);

  ~HyperscanDatabase() override;

  // Returns a matcher owning a Hyperscan scratch sized for both databases.
  absl::StatusOr<std::unique_ptr<TextMatcher>> NewMatcher() const override;
  bool loaded_from_cache() const override { return loaded_from_cache_; }

  const hs_database* database(MatchScope scope) const {
    return scope == MatchScope::kTitle ? title_database_ : description_database_;
  }
  // Returns the RE2 form of cue regex `pattern`, or null for other patterns.
  const re2::RE2* regex(uint32_t pattern) const { return regexes_[pattern].get(); }

 private:
  explicit HyperscanDatabase(std::shared_ptr<const CompiledRules> rules);

  bool loaded_from_cache_ = false;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;  // by pattern index
  // The databases, each in memory of its own (hyperscan_compile.cc says why).
  HugePageBuffer title_memory_, description_memory_;
  hs_database* title_database_ = nullptr;
  hs_database* description_database_ = nullptr;
};

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_HYPERSCAN_MATCHER_H_
