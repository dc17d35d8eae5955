// The RE2 backend of rules/text_matcher.h: the same patterns and the same hits as the
// Hyperscan backend, found with RE2 only. It is what a build without Hyperscan
// (BONAFIDE_WITH_HYPERSCAN=OFF) matches with, and the benchmarks' peer; it links RE2, not
// Hyperscan.
//
//   BONAFIDE_ASSIGN_OR_RETURN(auto database, Re2SetDatabase::Compile(rules));
//   BONAFIDE_ASSIGN_OR_RETURN(auto matcher, database->NewMatcher());  // per thread
//
// How: one RE2::Set per scope tells which patterns occur in the text (one DFA pass, the
// classic prefilter); then, for each of those only, a per-pattern RE2 walks the match
// starts left to right and, from each start, lists every end (longest first, then shorter
// ones). The ends of all patterns are merged and sorted by end offset, then pattern index,
// which is the order text_matcher.h promises.
//
// RE2 objects are thread-safe, but their DFA caches sit behind a mutex, so every matcher
// compiles its own RE2 objects (a few milliseconds for the bundled rules); the database only
// checks once that RE2 accepts every pattern. RE2::Set::Match allocates a small set for a
// text that matches something, so this backend is not allocation-free per text.
//
// Syntax: names and phrases are compiled as written in PatternInfo::expression (escaped
// ASCII punctuation, `\b`, `[ \-._/]?`, raw UTF-8: all the same in RE2). Cue regexes are
// RE2 syntax already (the rule loader requires it) and are wrapped in `(?i:...)`, as
// Hyperscan's HS_FLAG_CASELESS (both fold non-ASCII letters too).
//
// Known differences from the Hyperscan backend (tests/rules/text_matcher_test.cc pins them
// down):
//   - Hits that end at the same offset ("apple watch series 9" and "watch series 9") come
//     in pattern order here. Hyperscan's order among them is internal, not part of its API,
//     and changes with the surrounding text: on 3,000 generated listings it differed from
//     pattern order in 8 runs out of about 10,900 hits.
//   - Hyperscan's `\s` also matches \v and its `$` also matches before a final \n; RE2's
//     do not. Normalised text cannot show either: normalisation turns every run of white
//     space into one space and trims the ends.
#ifndef BONAFIDE_RULES_RE2_SET_MATCHER_H_
#define BONAFIDE_RULES_RE2_SET_MATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "rules/compiled_rules.h"
#include "rules/text_matcher.h"

namespace bonafide::rules {

// The RE2 forms of the patterns of one CompiledRules. Immutable after Compile; thread-safe.
// Not copyable; share it as std::shared_ptr<const Re2SetDatabase>.
class Re2SetDatabase final : public MatcherDatabase {
 public:
  // Checks that RE2 compiles every pattern of `rules`, alone and in each scope's RE2::Set.
  // Returns InvalidArgument naming the pattern's rule (`file:line:column: rule "cue.x":
  // re2 cannot compile "...": ...`) when RE2 rejects one, ResourceExhausted when a scope's
  // RE2::Set does not fit RE2's memory budget. REQUIRES: `rules` is not null.
  static absl::StatusOr<std::shared_ptr<const Re2SetDatabase>> Compile(
      std::shared_ptr<const CompiledRules> rules);

  // Returns a matcher with its own RE2 objects. Errors as Compile (which has already seen
  // them succeed for these patterns).
  absl::StatusOr<std::unique_ptr<TextMatcher>> NewMatcher() const override;
  bool loaded_from_cache() const override { return false; }

 private:
  explicit Re2SetDatabase(std::shared_ptr<const CompiledRules> rules);

  std::vector<std::string> expressions_;  // RE2 form, by pattern index
};

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_RE2_SET_MATCHER_H_
