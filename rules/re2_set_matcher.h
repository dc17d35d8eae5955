// An RE2 backend for the text rules: the same patterns and the same hits as TextMatcher
// (rules/compiled_rules.h), found with RE2 instead of Hyperscan. It exists as a peer for
// the benchmarks (issue 4) and for builds without Hyperscan.
//
//   BONAFIDE_ASSIGN_OR_RETURN(auto rules, CompiledRules::Compile(std::move(pack), {}));
//   BONAFIDE_ASSIGN_OR_RETURN(auto matcher, Re2SetMatcher::Create(*rules));  // per thread
//   BONAFIDE_RETURN_IF_ERROR(matcher->Match(normalised_text, MatchScope::kTitle, hits));
//
// How: one RE2::Set per scope tells which patterns occur in the text (one DFA pass, the
// classic prefilter); then, for each of those only, a per-pattern RE2 walks the match
// starts left to right and, from each start, lists every end (longest first, then shorter
// ones). The ends of all patterns are merged and sorted by end offset, as Hyperscan
// reports them.
//
// What TextMatcher reports, and so what this class reproduces:
//   - one hit per (pattern, end offset) at which some match of the pattern ends, including
//     overlapping matches ("1:1:1" gives two hits of the 1:1 regex) and several ends from
//     one start (regex `fa+` on "faaa" gives three);
//   - hits ordered by end offset;
//   - `from` of a name or phrase as HitStart (compiled_rules.h) recovers it (walking the pattern
//     back from the end), not necessarily the leftmost start of the match;
//   - every hit of a cue regex carries the span of RE2's leftmost match in the text;
//   - at most kMaxHits hits, the first ones in that order.
//
// Syntax: names and phrases are compiled as written in PatternInfo::expression (escaped
// ASCII punctuation, `\b`, `[ \-._/]?`, raw UTF-8: all the same in RE2). Cue regexes are
// RE2 syntax already (the rule loader requires it) and are wrapped in `(?i:...)` for
// Hyperscan's HS_FLAG_CASELESS (both fold non-ASCII letters too).
//
// Known differences (tests/unit/re2_set_matcher_test.cc pins them down):
//   - Hits that end at the same offset ("apple watch series 9" and "watch series 9") come
//     in pattern order here. Hyperscan's order among them is internal, not part of its API,
//     and changes with the surrounding text: on 3,000 generated listings it differed from
//     pattern order in 8 runs out of about 10,900 hits. Callers must not depend on it.
//   - Hyperscan's `\s` also matches \v and its `$` also matches before a final \n; RE2's
//     do not. Normalised text cannot show either: normalisation turns every run of white
//     space into one space and trims the ends.

#ifndef BONAFIDE_RULES_RE2_SET_MATCHER_H_
#define BONAFIDE_RULES_RE2_SET_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "rules/compiled_rules.h"

namespace bonafide::rules {

// Finds patterns in normalised text with RE2. One per thread: RE2 objects are thread-safe,
// but their DFA caches sit behind a mutex, so each thread compiles its own. Not copyable
// or movable. IMPORTANT: keeps a reference to `rules`, which must outlive it.
class Re2SetMatcher {
 public:
  // Compiles every pattern of `rules` for RE2 (a few milliseconds for the bundled rules).
  // Returns InvalidArgument naming the pattern when RE2 rejects one, ResourceExhausted
  // when a scope's RE2::Set does not fit RE2's memory budget.
  static absl::StatusOr<std::unique_ptr<Re2SetMatcher>> Create(const CompiledRules& rules);
  ~Re2SetMatcher();
  Re2SetMatcher(const Re2SetMatcher&) = delete;
  Re2SetMatcher& operator=(const Re2SetMatcher&) = delete;

  // As TextMatcher::kMaxHits.
  static constexpr size_t kMaxHits = TextMatcher::kMaxHits;

  // Replaces `hits` with every occurrence in `text` of every pattern of `scope`, exactly as
  // TextMatcher::Match reports them (see the file comment). Always returns OK; the Status
  // keeps TextMatcher's shape. REQUIRES: `text` is valid UTF-8. Its own buffers are reused,
  // but RE2::Set::Match allocates a small set on every call.
  absl::Status Match(std::string_view text, MatchScope scope, std::vector<TextHit>& hits);

  // Returns the RE2 form of `pattern` (see the file comment).
  static std::string Re2Expression(const PatternInfo& pattern);

 private:
  explicit Re2SetMatcher(const CompiledRules& rules);
  // Appends to ends_ the end offsets of every match of `pattern` in `text`.
  void FindEnds(uint32_t pattern, std::string_view text);

  struct Compiled;  // the RE2 objects (rules/re2_set_matcher.cc keeps RE2 out of here)
  // A match end: sorts into Hyperscan's order (end offset, then pattern).
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

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_RE2_SET_MATCHER_H_
